"""Rule-based rewriting of follow-up questions into self-contained ones (the extractive path).

Handles the follow-ups officials actually type: a swapped region or year (那天津呢？ 2024年呢？),
an ordinal pointing into the previous answer (第二点具体怎么说？), and short or pronoun-led
questions (这项政策的目标是什么？), which inherit the previous question's topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.zh import (
    CN_ORDINAL_VALUES,
    CN_SMALL_NUMBERS,
    JJJ_FULL_NAMES,
    REGION_MENTIONS,
    YEAR_MENTION_RE,
    sentence_spans,
)

from .text import MARKER

_REGION = re.compile("|".join(sorted(map(re.escape, REGION_MENTIONS), key=len, reverse=True)))
_ORDINAL = re.compile(rf"第([{CN_SMALL_NUMBERS}\d]{{1,2}})(?:点|条|项|个|部分|句)")
_PRONOUN = re.compile(r"^(?:那|这|它|其|该|此|上述|前面|刚才|这些|那些|这项|这个|那个|他们|它们)")
_FOLLOW_TAIL = re.compile(r"(?:呢|吗|怎么样|如何)[？?]?$")


def _ordinal(text: str) -> int | None:
    match = _ORDINAL.search(text)
    if not match:
        return None
    raw = match.group(1)
    return int(raw) if raw.isdigit() else CN_ORDINAL_VALUES.get(raw)


def _previous_points(answer: str) -> list[str]:
    clean = MARKER.sub("", answer)
    clean = re.sub(r"^(?:根据|此外，)《[^》]+》(?:提出)?：", "", clean, flags=re.M)
    return [clean[s:e] for s, e in sentence_spans(clean)]


def _same_form(new: str, old: str) -> str:
    """天津 replacing 北京市 becomes 天津市; 天津市 replacing 北京 becomes 天津."""
    short = new[:-1] if new[:-1] in JJJ_FULL_NAMES and new[-1] in "市省" else new
    if old[-1:] in ("市", "省") and old[:-1] in JJJ_FULL_NAMES:
        return JJJ_FULL_NAMES.get(short, new)
    return short


def is_followup(question: str) -> bool:
    q = question.strip()
    return bool(
        _ORDINAL.search(q) or _PRONOUN.match(q) or (len(q) <= 12 and _FOLLOW_TAIL.search(q)) or len(q) <= 6
    )


def rewrite_followup(question: str, history: Sequence[tuple[str, str]]) -> str:
    q = question.strip()
    if not history or not is_followup(q):
        return q
    prev_q, prev_a = history[-1]
    prev_q = prev_q.strip()

    n = _ordinal(q)
    if n is not None:
        points = _previous_points(prev_a)
        if 1 <= n <= len(points):
            return f"{prev_q} {points[n - 1]}"

    core = _FOLLOW_TAIL.sub("", re.sub(r"^(?:那么|那)", "", q)).strip(" ，,？?")
    new_region = _REGION.search(core)
    new_year = YEAR_MENTION_RE.search(core)
    rewritten = prev_q
    old_region = _REGION.search(prev_q)
    if new_region and old_region:
        rewritten = _REGION.sub(_same_form(new_region.group(), old_region.group()), rewritten, count=1)
    if new_year and YEAR_MENTION_RE.search(prev_q):
        year = new_year.group()
        rewritten = YEAR_MENTION_RE.sub(year if year.endswith("年") else year + "年", rewritten, count=1)
    if rewritten != prev_q:
        rest = YEAR_MENTION_RE.sub("", _REGION.sub("", core)).strip(" ，,的")
        return rewritten if not rest else f"{rewritten} {rest}"
    return f"{prev_q} {core}" if core else prev_q
