"""The extractive writer: answers with the source's own sentences, so it is faithful by construction.

Sentences of the top passages are scored by IDF-weighted coverage of the question's terms, a
bonus when the question asks for a number and the sentence has one, and the passage's rank;
the best few are de-duplicated, grouped per document in reading order and attributed
(根据《…》：…[n]).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from index.zh import CJK_UNIFIED_RANGE, CN_NUMERALS, SENTENCE_END, sentence_spans

from ..models import Hit
from ..ranking import SentenceEvidence, period_years
from ..ranking import heading_line as is_heading
from ..text import TermWeights, char_bigrams, coverage
from .base import REFUSAL_PHRASE, AnswerWriter, History

_WORD_START = re.compile(rf"[{CJK_UNIFIED_RANGE}（(第{CN_NUMERALS}0-9A-Za-z“]")
_ASKS_NUMBER = re.compile(r"多少|几[个项条年次家所座%]|几|比例|增长|下降|目标|规模|金额|数量|总量|率")
_HAS_NUMBER = re.compile(rf"\d|[{CN_NUMERALS}百千万亿]+[个项条家所座万亿%]")
_ASKS_LIST = re.compile(r"哪些|哪几|有什么|包括|措施|举措|任务")


def section_label(hit: Hit) -> str:
    """The heading a passage sits under (the last part of its heading path), without source lines."""
    section = hit.chunk.section.split("›")[-1].strip() if hit.chunk.section else ""
    if not section or section.startswith(("来源", "作者", "责任编辑")) or not _WORD_START.match(section):
        return ""
    if section.count("《") != section.count("》") or "【" in section or "】" in section:
        return ""  # a broken heading path (a line cut inside a quotation) labels nothing
    return section[:40]


def period_labels(chosen: Sequence[SentenceEvidence], passages: Sequence[Hit]) -> dict[int, str]:
    """Labels for windows of work reports when the chosen windows speak of different years: a report of
    year N reviews N−1 and plans N (``ranking.period_years``)."""
    periods: dict[int, int] = {}
    for w in chosen:
        years = period_years(passages[w.hit], w.text)
        if len(years) == 1:
            periods[id(w)] = next(iter(years))
    if len(set(periods.values())) < 2:
        return {}
    out = {}
    for w in chosen:
        year = periods.get(id(w))
        meta_year = (passages[w.hit].chunk.metadata or {}).get("year")
        if year is None or not isinstance(meta_year, int):
            continue
        out[id(w)] = f"回顾{year}年：" if year < meta_year else f"{year}年目标："
    return out


def _is_heading_line(text: str, start: int, end: int) -> bool:
    """A whole short line without end punctuation is a heading, not an answer."""
    whole_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    return whole_line and end - start <= 40 and text[end - 1] not in SENTENCE_END


@dataclass
class _Candidate:
    passage: int  # 1-based passage number
    start: int
    end: int
    text: str
    score: float


class ExtractiveWriter(AnswerWriter):
    name = "extractive"

    def __init__(self, weights: TermWeights, max_sentences: int = 4, min_relative: float = 0.55) -> None:
        self.weights = weights
        self.max_sentences = max_sentences
        self.min_relative = min_relative

    def select(self, question: str, passages: Sequence[Hit]) -> list[_Candidate]:
        terms = self.weights.weighted_terms(question)
        wants_number = bool(_ASKS_NUMBER.search(question))
        wants_list = bool(_ASKS_LIST.search(question))
        candidates: list[_Candidate] = []
        for n, hit in enumerate(passages, start=1):
            text = hit.chunk.text
            context = f"{hit.chunk.title} {hit.chunk.section}"
            rank_prior = 1.0 / (1.0 + 0.15 * (n - 1))
            for start, end in sentence_spans(text):
                sentence = text[start:end]
                if len(sentence) < 6 or _is_heading_line(text, start, end):
                    continue
                score = coverage(terms, sentence) + 0.25 * coverage(terms, context)
                if wants_number and _HAS_NUMBER.search(sentence):
                    score += 0.15
                if wants_list and ("、" in sentence or "；" in sentence):
                    score += 0.05
                if len(sentence) > 220:
                    score -= 0.1  # prefer concise sentences
                candidates.append(_Candidate(n, start, end, sentence, score * rank_prior))
        if not candidates:
            return []
        candidates.sort(key=lambda c: c.score, reverse=True)
        best = candidates[0].score
        chosen: list[_Candidate] = []
        for cand in candidates:
            if cand.score < best * self.min_relative or len(chosen) >= self.max_sentences:
                break
            grams = char_bigrams(cand.text)
            if any(len(grams & char_bigrams(c.text)) > 0.6 * max(1, len(grams)) for c in chosen):
                continue  # near-duplicate of a chosen sentence (overlapping chunks, repeated reports)
            chosen.append(cand)
        return chosen

    def compose(self, chosen: Sequence[SentenceEvidence], passages: Sequence[Hit]) -> str:
        """The answer from the decide stage's windows: the lead window (the asked item) first, then
        the rest grouped per document in reading order, each sentence with its passage marker.

        A passage body (a broad question's unit) is quoted whole under its heading, which labels it
        and is never itself an answer sentence. Where a work report's windows speak of two periods
        (the year reviewed and the year planned), each is labelled (回顾2024年： / 2025年目标：)."""
        if not chosen:
            return REFUSAL_PHRASE + "。"
        lead, rest = chosen[0], list(chosen[1:])
        order: list[str] = [passages[lead.hit].chunk.doc_id]
        groups: dict[str, list[SentenceEvidence]] = {order[0]: []}
        for w in rest:
            doc = passages[w.hit].chunk.doc_id
            if doc not in groups:
                order.append(doc)
                groups[doc] = []
            groups[doc].append(w)
        labels = period_labels(chosen, passages)
        lines = []
        emitted: set[str] = set()  # a sentence shared by two windows (overlapping passages) is written once
        for i, doc in enumerate(order):
            items = sorted(groups[doc], key=lambda w: (passages[w.hit].chunk.start + w.start))
            if i == 0:
                items = [lead, *items]
            title = passages[items[0].hit].chunk.title
            head = f"根据《{title}》" if i == 0 else f"此外，《{title}》"
            parts: list[str] = []
            for w in items:
                label = labels.get(id(w), "")
                heading = section_label(passages[w.hit]) if w.kind == "body" else ""
                if heading and not parts:
                    head += f"【{heading}】部分"
                elif heading:
                    parts.append(f"【{heading}】部分：")
                if label:
                    parts.append(label)
                for start, end in sentence_spans(w.text) or [(0, len(w.text))]:  # a marker after every sentence
                    sentence = w.text[start:end]
                    body = sentence.rstrip(SENTENCE_END)
                    if body in emitted or is_heading(w.text, start, end):
                        continue
                    emitted.add(body)
                    parts.append(f"{body}[{w.hit + 1}]{sentence[len(body):] or '。'}")
            if any("[" in p for p in parts):
                lines.append(head + ("：" if i == 0 else "提出：") + "".join(parts))
        return "\n".join(lines) + "\n"

    def stream(self, question: str, passages: Sequence[Hit], history: History = (),
               evidence: Sequence[SentenceEvidence] | None = None) -> Iterator[str]:
        if evidence:
            yield self.compose(evidence, passages)
            return
        chosen = self.select(question, passages)
        if not chosen:
            yield REFUSAL_PHRASE + "。"
            return
        # Group by document in order of the best sentence, then reading order inside a document.
        order: list[str] = []
        groups: dict[str, list[_Candidate]] = {}
        for cand in chosen:
            doc = passages[cand.passage - 1].chunk.doc_id
            if doc not in groups:
                order.append(doc)
                groups[doc] = []
            groups[doc].append(cand)
        for i, doc in enumerate(order):
            items = sorted(groups[doc], key=lambda c: (passages[c.passage - 1].chunk.start + c.start))
            title = passages[items[0].passage - 1].chunk.title
            lead = "根据" if i == 0 else "此外，"
            parts = [f"{lead}《{title}》：" if i == 0 else f"{lead}《{title}》提出："]
            for cand in items:
                body = cand.text.rstrip(SENTENCE_END)
                parts.append(f"{body}[{cand.passage}]{cand.text[len(body):] or '。'}")
            yield "".join(parts) + "\n"
