"""Checks and clean-up of what the model writes: citation markers normalised (also across streamed
deltas), degenerate or non-Chinese drafts, drafts that decline, and the rewrite of a follow-up."""

from __future__ import annotations

import re
import zlib
from collections import Counter

from index.zh import CJK_UNIFIED_RE, SENTENCE_BREAK_RE

from ..base import REFUSAL_PHRASE, is_bare_refusal

_MARKER = re.compile(r"[\[【［]\s*(?:资料|编号|来源)?\s*(\d{1,2}(?:\s*[,，、]\s*(?:资料|编号)?\s*\d{1,2})*)\s*[\]】］]")
_OPEN_BRACKETS = "[【［"
_QUESTION = re.compile(r"[？?]|什么|多少|哪|怎么|怎样|如何|是否|吗|呢|几|为何|为什么|有无|能否|可否")
_MAX_PENDING = 16
_DECLINE = re.compile(
    r"未在已收录文件中找到|(?:资料|文件|材料)(?:中|里)?(?:没有|并未|未)(?:提到|提及|给出|说明|涉及|包含|提供)"
    r"|无法(?:回答|根据|确定|提供)|不能回答|没有(?:相关|足够)(?:的)?(?:信息|资料|内容)|抱歉"
)


def normalise_markers(text: str) -> str:
    """``【1】``, ``[资料1]``, ``[1,2]`` … → ``[1]``, ``[1][2]``."""

    def repl(m: re.Match[str]) -> str:
        return "".join(f"[{int(d)}]" for d in re.findall(r"\d+", m.group(1)))

    return _MARKER.sub(repl, text)


class MarkerStream:
    """Normalise markers across streamed deltas: hold back a short unfinished ``[…`` tail."""

    def __init__(self) -> None:
        self.pending = ""

    def feed(self, delta: str) -> str:
        text = self.pending + delta
        cut = max(text.rfind(c) for c in _OPEN_BRACKETS)
        if cut >= 0 and not any(c in text[cut:] for c in "]】］") and len(text) - cut <= _MAX_PENDING:
            self.pending, text = text[cut:], text[:cut]
        else:
            self.pending = ""
        return normalise_markers(text)

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return normalise_markers(text)


def looks_like_garbage(text: str) -> bool:
    """True for a draft the service should not show: empty, no Chinese, or degenerate repetition."""
    stripped = text.strip()
    if not stripped:
        return True
    if not CJK_UNIFIED_RE.search(stripped):
        return True
    if is_bare_refusal(stripped):
        return False
    body = re.sub(r"\[\d+\]|\s", "", stripped)
    if len(body) >= 40:
        # The same sentence three times or more.
        sentences = [s for s in SENTENCE_BREAK_RE.split(body) if len(s) >= 6]
        if sentences and Counter(sentences).most_common(1)[0][1] >= 3:
            return True
        # Few distinct 4-grams, or text that compresses far too well.
        grams = [body[i : i + 4] for i in range(len(body) - 3)]
        if len(set(grams)) / len(grams) < 0.35:
            return True
        raw = body.encode("utf-8")
        if len(raw) >= 300 and len(zlib.compress(raw)) / len(raw) < 0.15:
            return True
    return False


def declined(text: str) -> bool:
    """True when a draft declines or says the material lacks the answer (the evidence gate has
    already decided there is one: such a draft is not trusted)."""
    return _DECLINE.search(text) is not None


def clean_rewrite(text: str, question: str) -> str | None:
    """The first line of the model's rewrite without labels/quotes, or None when unusable."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    line = re.sub(r"^(?:改写后的问题|改写后|完整问题|问题|追问)\s*[:：]\s*", "", lines[0])
    line = line.strip(" \"'“”‘’「」")
    if not line or not CJK_UNIFIED_RE.search(line) or REFUSAL_PHRASE in line:
        return None
    # An answer instead of a question (markers, no question form) is not a rewrite.
    if re.search(r"\[\d+\]", line) or not _QUESTION.search(line):
        return None
    if len(line) > max(3 * len(question) + 60, 200):
        return None
    return line
