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
from index.zh import CJK_UNIFIED_RANGE, FULL_NAMES, QUESTION_END

from .analysis import QuestionAnalysis, QuestionPart
from .answer_model import AnswerModel
from .evidence import SentenceEvidence
from .models import AnswerStatus, Filters
from .ranking import RELATED_MIN
from .text import char_bigrams
from .writers.base import REFUSAL_PHRASE

MAX_LIST_SENTENCES = 6
MAX_RELATED = 3
MIN_RELATED_CHARS = 12
MIN_RELATED_FOCUS = 0.2  # 相关内容 shares some of the asked item's words (meaning alone does not make it related)
MAX_SOURCES = 3  # a broad answer quotes at most this many passage bodies (the rest one click away)
MAX_BODY_CHARS = 600  # … each up to about this long
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_BROAD = re.compile(r"部署|任务|措施|举措|安排|如何|怎么|怎样|哪些方面|做了什么|做了哪些|干点?啥|干什么|有啥|用于|用途|重点|规划|打算")
_VALUE_TYPES = frozenset({"number", "date", "person", "place", "org"})
NO_ANSWER = "已收录文件中没有能回答这个问题的内容"
# Characters that continue a word of the asked item (not a function word, an interrogative or a scope word).
_PHRASE_CHAR = re.compile(rf"[{CJK_UNIFIED_RANGE}A-Za-z0-9.％%](?<![的是有在了和与对向从把被将及或吗呢吧啊多几什哪怎如为谁何要年月日号])")


@dataclass
class Decision:
    status: AnswerStatus
    chosen: list[SentenceEvidence] = field(default_factory=list)  # the answer's windows, the lead first
    missing: list[str] = field(default_factory=list)
    message: str = ""  # the not_found text
    related: list[SentenceEvidence] = field(default_factory=list)
    score: float = 0.0
    confidence: float = 0.0  # calibrated: P(answered correctly), or P(no answer) for a refusal


def is_broad(analysis: QuestionAnalysis, part: QuestionPart | None = None) -> bool:
    """A broad question (…有哪些重点任务？ …如何部署？ …采取了哪些措施？) is answered with the body of the
    matching section, not with single sentences."""
    kind = part.answer_type if part is not None else analysis.answer_type
    if kind in _VALUE_TYPES:
        return False
    text = part.text if part is not None else analysis.question
    return kind in ("list", "explanation") or _BROAD.search(text) is not None


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


def _scope_label(analysis: QuestionAnalysis) -> str:
    """How the question's scope reads in a fixed sentence: 《named document》, or the years and regions."""
    if analysis.target_docs and analysis.document_label:
        return f"《{analysis.document_label}》"
    bits = []
    if analysis.years:
        bits.append("、".join(f"{y}年" for y in analysis.years))
    regions = [FULL_NAMES.get(r, r) for r in analysis.regions if r != "国家"]
    if regions:
        bits.append("、".join(regions))
    return "".join(bits)


def missing_text(analysis: QuestionAnalysis, part: QuestionPart, scoped_out: Sequence[SentenceEvidence],
                 multi: bool = False) -> str:
    """Chinese, in one of a few fixed forms: what the documents lack for ``part`` (never words glued
    together: the named document, year or region, or the part's own words quoted whole)."""
    label = _scope_label(analysis)
    issues = {w.scope_issue for w in scoped_out}
    if multi:
        asked = part.text.rstrip(QUESTION_END + " ")
        if 2 <= len(asked) <= 40 and asked in analysis.question and not is_instruction_like(asked):
            return f"已收录文件中没有关于“{asked}”的内容"
    phrase = key_phrase(analysis, part)
    if label and analysis.target_docs:
        return f"{label}中没有关于“{phrase}”的内容" if phrase else f"{label}中没有能回答这个问题的内容"
    if "year" in issues and analysis.years:
        return f"已收录文件中没有{label}的相关内容，只有其他年份的（见相关内容）"
    if "region" in issues and label:
        return f"已收录文件中没有{label}的相关内容，只有其他地区的（见相关内容）"
    if label:
        return f"已收录的{label}文件中没有能回答这个问题的内容"
    if phrase:
        return f"已收录文件中没有关于“{phrase}”的内容"
    return NO_ANSWER


def key_phrase(analysis: QuestionAnalysis, part: QuestionPart, limit: int = 14) -> str:
    """The question's own words naming the asked item, quoted verbatim: the stretch of the question from
    its first to its last focus word (empty when they are not in the question as written, or too far apart)."""
    question = analysis.question
    spots = [(question.find(w), w) for w in (part.focus or analysis.focus) if len(w) >= 2 and w in question]
    if not spots:
        return ""
    start = min(p for p, _w in spots)
    end = max(p + len(w) for p, w in spots)
    # Whole words: stretch to the word boundaries jieba may have cut inside (京雄|快线, 赤字|率).
    while (start > 0 and _PHRASE_CHAR.match(question[start - 1]) and end - start < limit
           and question[max(0, start - 2)] not in "哪几么少"):  # 哪次|会议: the measure word stays out
        start -= 1
    while end < len(question) and _PHRASE_CHAR.match(question[end]) and end - start < limit:
        end += 1
    for place in analysis.places:  # 雄安新区的常住人口: the place it belongs to reads with it
        for joint in (place + "的", place):
            if question[max(0, start - len(joint)):start] == joint:
                start -= len(joint)
                break
    phrase = question[start:end]
    if len(phrase) > limit + 6 or is_instruction_like(phrase) or not re.search(rf"[{CJK_UNIFIED_RANGE}]{{2}}", phrase):
        return ""
    return phrase


def _choose_value(good: Sequence[SentenceEvidence], limit: int, chosen: list[SentenceEvidence]) -> int:
    """A value question: the window holding the value leads; only windows that add to it follow."""
    candidates = [w for w in good if w.kind != "body"] or list(good)
    lead = candidates[0]
    if lead.kind == "sentence" and lead.text.rstrip().endswith(("；", ";", "：", ":")):
        # a clause that runs on (“六链”即……；“五群”即……): the pair that finishes it leads instead
        pair = next((w for w in good if w.kind == "pair" and w.hit == lead.hit and w.start == lead.start), None)
        if pair is not None:
            candidates = [pair, *[w for w in candidates if w is not pair]]
    best = candidates[0].prob
    picked = 0
    for w in candidates:
        if picked >= limit or w.prob < w.gate.follow_ratio * best:
            break
        if _near_duplicate(w, chosen):
            continue
        chosen.append(w)
        picked += 1
    return picked


def _body_of(w: SentenceEvidence, windows: Sequence[SentenceEvidence]) -> SentenceEvidence:
    """The body unit of ``w``'s passage (the paragraph under its heading), when it is not too long."""
    if w.kind == "body":
        return w
    for other in windows:
        if (other.kind == "body" and other.hit == w.hit and other.part == w.part and other.start <= w.start
                and other.end >= w.end and len(other.text) <= MAX_BODY_CHARS and other.scope_ok):
            return other
    return w


def _choose_broad(good: Sequence[SentenceEvidence], mine: Sequence[SentenceEvidence],
                  chosen: list[SentenceEvidence]) -> int:
    """A broad question: the body of each matching passage, quoted whole, at most ``MAX_SOURCES``."""
    best = good[0].prob
    picked = 0
    for w in good:
        if picked >= MAX_SOURCES or w.prob < w.gate.follow_ratio * best:
            break
        unit = _body_of(w, mine)
        if any(c.hit == unit.hit for c in chosen) or _near_duplicate(unit, chosen):
            continue
        chosen.append(unit)
        picked += 1
    return picked


def decide(analysis: QuestionAnalysis, windows: Sequence[SentenceEvidence], max_sentences: int = 4,
           model: AnswerModel | None = None) -> Decision:
    """Each part is answered when the question model's calibrated probability for it reaches its
    threshold (without a model: when a window's probability reaches the window threshold); its
    windows are those the answer model accepts (``SentenceEvidence.answers``). The status follows
    (answered | partial | not_found); the confidence is the calibrated probability of the weakest
    answered part (for a refusal: that nothing answers)."""
    parts = analysis.parts or [QuestionPart(analysis.question, analysis.answer_type, analysis.unit, analysis.focus)]
    limit = MAX_LIST_SENTENCES if analysis.answer_type == "list" or analysis.comparison else max_sentences
    chosen: list[SentenceEvidence] = []
    missing: list[str] = []
    best_probs: list[float] = []
    answered = 0
    multi = len(parts) > 1
    for p_index, part in enumerate(parts):
        mine = [w for w in windows if w.part == p_index]
        good = [w for w in mine if w.answers]
        if model is not None:
            q_score = model.question_score(mine, [w.eligible for w in mine])
            q_prob = model.confidence(q_score)
            if q_score < (mine[0].gate.question_threshold if mine else 1.0):
                good = []
        else:
            q_prob = max((w.prob for w in mine if w.eligible), default=0.0)
        best_probs.append(q_prob)
        if not good:
            out_of_scope = [w for w in mine if not w.scope_ok and w.prob >= w.gate.threshold]
            missing.append(missing_text(analysis, part, out_of_scope, multi))
            continue
        answered += 1
        per_part = limit if not multi else max(1, limit // len(parts))
        # One window per named document first (comparisons answer side by side).
        if analysis.comparison and len(analysis.target_docs) > 1:
            for doc in analysis.target_docs:
                first = next((w for w in good if w.doc_id == doc and not _near_duplicate(w, chosen)), None)
                if first is not None:
                    chosen.append(first)
        if is_broad(analysis, part):
            _choose_broad(good, mine, chosen)
        else:
            _choose_value(good, per_part, chosen)
    score = max((w.score for w in windows), default=0.0)
    if answered == 0:
        best = max(best_probs, default=0.0)
        text = "；".join(dict.fromkeys(missing)) if multi else missing[0]
        return Decision("not_found", missing=missing, message=f"{REFUSAL_PHRASE}。{text}。",
                        related=related_windows(windows), score=score, confidence=round(1.0 - best, 4))
    answered_probs = [p for p in best_probs if p > 0]
    confidence = min(answered_probs) if answered_probs else 0.0
    return Decision("answered" if not missing else "partial", chosen=chosen, missing=missing, score=score,
                    confidence=round(confidence, 4))


def related_windows(windows: Sequence[SentenceEvidence], n: int = MAX_RELATED) -> list[SentenceEvidence]:
    """The nearest windows, one per passage, best first, for 相关内容."""
    out: list[SentenceEvidence] = []
    seen: set[int] = set()
    for w in windows:
        if w.heading or w.kind == "body" or w.focus < MIN_RELATED_FOCUS or w.score < RELATED_MIN or w.hit in seen or len(w.text) < MIN_RELATED_CHARS or _near_duplicate(w, out):
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
