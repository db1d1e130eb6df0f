"""The decide stage: answer, answer in part, or say exactly what is missing.

Given the question's analysis and the scored windows of the second ranking stage, each part of
the question is answered when some window of its scope holds its focus together with the asked
type (``SentenceEvidence.answers``). Parts with no such window are named in Chinese; the nearest
windows are kept as 相关内容, shown apart from the answer and never as it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from index.injection import is_instruction_like

from .analysis import QuestionAnalysis, QuestionPart
from .models import AnswerStatus, Filters
from .ranking import RELATED_MIN, SentenceEvidence
from .text import char_bigrams
from .writers.base import REFUSAL_PHRASE

_WHAT = {
    "number": "具体数据", "date": "具体时间", "person": "人员信息", "place": "具体地点", "org": "相关机构或会议的信息",
    "list": "具体内容", "yesno": "相关说法", "explanation": "相关说明", "fact": "相关内容",
}  # fmt: skip
MAX_LIST_SENTENCES = 6
MAX_RELATED = 3
MIN_RELATED_CHARS = 12
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class Decision:
    status: AnswerStatus
    chosen: list[SentenceEvidence] = field(default_factory=list)  # the answer's windows, the lead first
    missing: list[str] = field(default_factory=list)
    message: str = ""  # the not_found text
    related: list[SentenceEvidence] = field(default_factory=list)
    score: float = 0.0


def _subject(analysis: QuestionAnalysis, part: QuestionPart) -> str:
    topic = analysis.topic if part.topic is None else part.topic
    words = [w for w in topic if w not in ("去年", "今年", "明年")][:2] + (part.focus or analysis.focus)[:3]
    return "".join(dict.fromkeys(words)) or part.text.rstrip("？?")


def _year_label(years: Sequence[int]) -> str:
    return "、".join(f"{y}年" for y in years)


def _near_duplicate(a: SentenceEvidence, chosen: Sequence[SentenceEvidence]) -> bool:
    """Overlapping windows of one passage, or the same sentence again (repeated reports, overlapping
    chunks). Sentences that state different figures or dates are never duplicates."""
    grams = char_bigrams(a.text)
    numbers = set(_DIGITS.findall(a.text))
    for c in chosen:
        if c.hit == a.hit and not (a.end <= c.start or a.start >= c.end):
            return True  # overlapping windows of one passage
        if a.text in c.text or c.text in a.text:
            return True  # one window holds the other (a sentence and the pair around it)
        if numbers != set(_DIGITS.findall(c.text)):
            continue
        other = char_bigrams(c.text)
        if len(grams & other) > 0.6 * max(1, min(len(grams), len(other))):
            return True
    return False


def missing_text(analysis: QuestionAnalysis, part: QuestionPart, scoped_out: Sequence[SentenceEvidence]) -> str:
    """Chinese: what the documents lack for ``part`` (and what they have instead, if out of scope)."""
    subject = _subject(analysis, part)
    what = _WHAT.get(part.answer_type, "相关内容")
    years = [e for e in scoped_out if e.scope_issue == "year"]
    regions = [e for e in scoped_out if e.scope_issue == "region"]
    if analysis.years and years:
        return f"已收录文件中没有{_year_label(analysis.years)}{subject}的{what}，只有其他年份的相关内容（见相关内容）"
    if analysis.regions and regions:
        asked = "、".join(r for r in analysis.regions if r != "国家")
        return f"已收录文件中没有{asked}{subject}的{what}，只有其他地区的相关内容（见相关内容）"
    if part.answer_type in ("yesno", "explanation", "fact"):
        asked = part.text.rstrip("？?。")
        if len(asked) > 40 or is_instruction_like(asked):  # never echo a long or instruction-like question
            return f"已收录文件中没有关于{subject}的说法" if subject != part.text.rstrip("？?") else "已收录文件中没有相关说法"
        return f"已收录文件中没有关于“{asked}”的说法"
    return f"已收录文件中没有{subject}的{what}"


def decide(analysis: QuestionAnalysis, windows: Sequence[SentenceEvidence], max_sentences: int = 4) -> Decision:
    parts = analysis.parts or [QuestionPart(analysis.question, analysis.answer_type, analysis.unit, analysis.focus)]
    limit = MAX_LIST_SENTENCES if analysis.answer_type == "list" or analysis.comparison else max_sentences
    chosen: list[SentenceEvidence] = []
    missing: list[str] = []
    answered = 0
    for p_index, part in enumerate(parts):
        mine = [w for w in windows if w.part == p_index]
        good = [w for w in mine if w.answers]
        if not good:
            out_of_scope = [w for w in mine if not w.scope_ok and w.type_ok and w.focus >= w.gate.min_focus
                            and w.places_ok and w.topic >= w.gate.min_topic]
            missing.append(missing_text(analysis, part, out_of_scope))
            continue
        answered += 1
        best = good[0].score
        picked = 0
        per_part = limit if len(parts) == 1 else max(1, limit // len(parts))
        # One window per named document first (comparisons answer side by side).
        if analysis.comparison and len(analysis.target_docs) > 1:
            for doc in analysis.target_docs:
                first = next((w for w in good if w.doc_id == doc and not _near_duplicate(w, chosen)), None)
                if first is not None:
                    chosen.append(first)
                    picked += 1
        for w in good:
            if picked >= per_part or w.score < 0.8 * best:
                break
            if _near_duplicate(w, chosen):
                continue
            chosen.append(w)
            picked += 1
    score = max((w.score for w in windows), default=0.0)
    if answered == 0:
        return Decision("not_found", missing=missing, message=f"{REFUSAL_PHRASE}。" + "；".join(missing) + "。",
                        related=related_windows(windows), score=score)
    return Decision("answered" if not missing else "partial", chosen=chosen, missing=missing, score=score)


def related_windows(windows: Sequence[SentenceEvidence], n: int = MAX_RELATED) -> list[SentenceEvidence]:
    """The nearest windows, one per passage, best first, for 相关内容."""
    out: list[SentenceEvidence] = []
    seen: set[int] = set()
    for w in windows:
        if w.score < RELATED_MIN or w.hit in seen or len(w.text) < MIN_RELATED_CHARS or _near_duplicate(w, out):
            continue
        seen.add(w.hit)
        out.append(w)
        if len(out) >= n:
            break
    return out


def filters_label(filters: Filters) -> str:
    bits = []
    if filters.region:
        bits.append("地区：" + "、".join(filters.region))
    if filters.year:
        bits.append("年份：" + "、".join(str(y) for y in filters.year))
    if filters.kind:
        bits.append("类型：" + "、".join(filters.kind))
    if filters.doc_id:
        bits.append("文件：" + "、".join(filters.doc_id[:3]))
    return "，".join(bits)
