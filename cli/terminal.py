"""Timelines and comparisons laid out for a terminal: labels in one column, each row's text wrapped under
its own column (CJK and full-width characters take two columns)."""

from __future__ import annotations

import re
import shutil
import unicodedata

from assistant.models import Answer
from index.zh import MARKER_TRAILING_PUNCT_CN

# A marker [n] and the punctuation after it: never split from what they follow.
_TOKEN = re.compile(rf"\[\d{{1,2}}\][{MARKER_TRAILING_PUNCT_CN}]*|.")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (CJK and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrap(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` columns; a marker [n] and the punctuation after it
    are never split from what they follow."""
    tokens = _TOKEN.findall(text)
    lines, current, used = [], "", 0
    for token in tokens:
        w = display_width(token)
        if current and used + w > width and not token.startswith("["):
            lines.append(current)
            current, used = "", 0
        current += token
        used += w
    if current:
        lines.append(current)
    return lines or [""]


def aligned_rows(answer: Answer, width: int | None = None) -> str:
    """A timeline or comparison for the terminal: the lead, then one row per year or region, the labels
    in one column and each row's text wrapped under its own column."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    label_w = max(display_width(s.label) for s in answer.sections) + 2
    text_w = max(20, width - label_w)
    out = []
    if answer.refused:
        out.append(answer.text.splitlines()[0])
    elif answer.lead:
        out.append(answer.lead)
    for section in answer.sections:
        lines = _wrap(section.text, text_w)
        out.append(section.label + " " * (label_w - display_width(section.label)) + lines[0])
        out += [" " * label_w + line for line in lines[1:]]
    return "\n".join(out)
