"""Strip HTML markup from a question before it is analysed.

A question pasted from a web page or a document (``<b>雄安新区</b>有哪些举措？``) must be answered
like the same words without tags. Only things that look like HTML are removed: tags with a letter
after ``<`` (``<b>``, ``</p>``, ``<br/>``, ``<span class="x">``), comments, and the contents of
``<script>``/``<style>`` elements; then character references (``&amp;``, ``&nbsp;``, ``&#x4eac;``) are
decoded and runs of whitespace folded. Text such as ``a<b`` or ``GDP<5%`` or ``《规划》`` is kept.
The result is plain text: callers still escape it when they render it.
"""

from __future__ import annotations

import html
import re

_HIDDEN = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_BLOCK = re.compile(r"</?(?:p|div|br|li|ul|ol|tr|td|th|h[1-6]|table|section|article)\b[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def strip_markup(text: str) -> str:
    """``text`` without HTML tags, comments and script/style contents; entities decoded; whitespace folded."""
    if not text:
        return ""
    if "<" not in text and "&" not in text:
        return _NEWLINES.sub("\n", _SPACES.sub(" ", text)).strip()
    out = _HIDDEN.sub(" ", text)
    out = _COMMENT.sub(" ", out)
    out = _BLOCK.sub("\n", out)
    out = _TAG.sub("", out)
    out = html.unescape(out)
    out = _SPACES.sub(" ", out)
    return _NEWLINES.sub("\n", out).strip()
