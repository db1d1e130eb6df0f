"""Citation verification, shared by every writer.

For each answer sentence and each passage it cites, find the supporting span in the passage:
the exact sentence text if it occurs verbatim, else the passage sentence with the highest
character-bigram overlap above a threshold. Markers that point nowhere are dropped; markers
without support are dropped too and their sentence is reported in ``Answer.unsupported``.

Two rules make the overlap fair to a writer that restates the question ("2026年河北省的经济增长目标
是地区生产总值增长5%以上"): the question's own character bigrams without digits are not claims of the
source, so they are left out of the recall (a sentence that only restates the question is not
supported), and every number of the sentence must occur in the supporting span (or be one the
cited document states of itself: a year of its title or metadata), so a changed figure, or one
taken from the question, is never waved through.
Citations are renumbered 1..n in order of first use.

Instruction-like text (``index.injection``: a document telling the assistant what to do, handing
out a password, asking readers to contact a private address) is never cited, whatever the writer:
a quote may not touch a flagged sentence of its passage, and an answer sentence that is itself
instruction-like, or that copies a flagged sentence, is dropped from the answer (it is not even
listed as unsupported). In the passage shown with a citation, flagged sentences are replaced by
a placeholder (``redact_flagged``); quotes and their offsets are unchanged.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from index.injection import flagged_spans, is_instruction_like, overlaps_flagged, redact_flagged
from index.zh import SENTENCE_END, sentence_spans

from .models import Citation, Hit
from .text import MARKER, char_bigrams

# "根据《…》，" / "《…》指出：" attribution prefixes are the writer's words, not the source's.
_ATTRIBUTION = re.compile(r"^(?:另外|此外|同时)?[，,]?(?:根据|据|依据|按照)?《[^》]{1,80}》(?:【[^】]{1,60}】部分)?(?:第[^，：,:]{1,12}条)?(?:指出|提出|规定|明确|显示|中|要求)?[，,：:]?")
# Labels the extractive writer puts before a quote: a section heading, the period a work report speaks of.
_LABEL = re.compile(r"^(?:【[^】]{1,60}】部分：)?(?:回顾\d{4}年：|\d{4}年目标：)?")
_ENDS = re.escape(SENTENCE_END + ".")
_CLAIM = re.compile(rf"[^\[]*?(?:\[\d{{1,2}}\])+[{_ENDS}]?|[^\[]+$")


class _Window(Protocol):
    hit: int
    start: int
    end: int


W = TypeVar("W", bound=_Window)


@dataclass
class Support:
    quote: str
    start: int  # offsets of the quote inside the passage text
    end: int
    score: float


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def question_grams(question: str) -> frozenset[str]:
    """The question's character bigrams that hold no digit: restating them claims nothing."""
    return frozenset(g for g in char_bigrams(question) if not any(ch.isdigit() for ch in g))


def _numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(unicodedata.normalize("NFKC", text)))


def _core(claim: str) -> str:
    body = _LABEL.sub("", _ATTRIBUTION.sub("", claim.strip()).strip(" ，,：:")).strip(" ，,：:")
    return body.rstrip(SENTENCE_END + ". ")


def copies_flagged(claim: str, passage: str, flagged: list[tuple[int, int]] | None = None) -> bool:
    """Whether ``claim`` occurs in ``passage`` only inside instruction-like sentences."""
    core = _core(claim)
    spans = flagged_spans(passage) if flagged is None else flagged
    if not core or not spans:
        return False
    positions = [m.start() for m in re.finditer(re.escape(core), passage)]
    return bool(positions) and all(overlaps_flagged(spans, p, p + len(core)) for p in positions)


def find_support(claim: str, passage: str, threshold: float = 0.5,
                 given: frozenset[str] = frozenset(), known: frozenset[str] = frozenset(),
                 flagged: list[tuple[int, int]] | None = None) -> Support | None:
    """The span of ``passage`` that supports ``claim`` (markers already removed); ``given``: the
    question's bigrams (``question_grams``), left out of the overlap; ``known``: numbers the
    passage's document states of itself (its title, its year: "2026年" of a report saying 今年).
    No span touching an instruction-like sentence (``flagged``: ``flagged_spans(passage)``,
    computed when not given) is ever returned."""
    core = _core(claim)
    if not core:
        return None
    bad = flagged_spans(passage) if flagged is None else flagged
    for m in re.finditer(re.escape(core), passage):
        if not overlaps_flagged(bad, m.start(), m.end()):
            return Support(core, m.start(), m.end(), 1.0)
    claim_grams = char_bigrams(core) - given
    if not claim_grams:
        return None
    numbers = _numbers(core) - known
    best: Support | None = None
    spans = sentence_spans(passage)
    # Single sentences and adjacent pairs (an LLM often fuses two source sentences).
    candidates = spans + [(a[0], b[1]) for a, b in itertools.pairwise(spans)]
    for start, end in candidates:
        if overlaps_flagged(bad, start, end):
            continue
        text = passage[start:end]
        recall = len(claim_grams & char_bigrams(text)) / len(claim_grams)
        if recall >= threshold and (best is None or recall > best.score + 1e-9) and numbers <= _numbers(text):
            best = Support(text, start, end, recall)
    return best


def split_claims(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into (sentence without markers, cited passage numbers)."""
    claims: list[tuple[str, list[int]]] = []
    for line in text.splitlines():
        for match in _CLAIM.finditer(line):
            piece = match.group()
            if not piece.strip():
                continue
            numbers = [int(n) for n in MARKER.findall(piece)]
            sentence = MARKER.sub("", piece).strip()
            if sentence:
                claims.append((sentence, numbers))
    return claims


def without_flagged(windows: Sequence[W], passages: Sequence[Hit]) -> list[W]:
    """The candidate windows (anything with ``hit``, ``start``, ``end`` offsets into a passage) that
    touch no instruction-like sentence of their passage (``index.injection.flagged_spans``)."""
    spans: dict[int, list[tuple[int, int]]] = {}
    kept = []
    for w in windows:
        if 0 <= w.hit < len(passages):
            if w.hit not in spans:
                spans[w.hit] = flagged_spans(passages[w.hit].chunk.text)
            if overlaps_flagged(spans[w.hit], w.start, w.end):
                continue
        kept.append(w)
    return kept


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    unsupported: list[str]
    dropped: int = 0  # instruction-like sentences removed from the answer (never shown)


def _document_numbers(hit: Hit) -> frozenset[str]:
    year = hit.chunk.metadata.get("year")
    return frozenset(_numbers(hit.chunk.title) | ({str(year)} if year else set()))


def verify(draft: str, passages: Sequence[Hit], threshold: float = 0.5, question: str = "") -> Verified:
    """Rebuild the answer text with verified, renumbered markers and build the citations
    (``question``: the question answered, whose restated words need no support)."""
    given = question_grams(question) if question else frozenset()
    citations: dict[tuple[int, int, int], Citation] = {}
    by_passage: dict[int, int] = {}
    unsupported: list[str] = []
    out_lines: list[str] = []
    dropped = 0
    flagged: dict[int, list[tuple[int, int]]] = {}

    def spans(n: int) -> list[tuple[int, int]]:
        if n not in flagged:
            flagged[n] = flagged_spans(passages[n - 1].chunk.text)
        return flagged[n]

    for line in draft.splitlines() or [draft]:
        out = []
        claims = split_claims(line)
        for sentence, numbers in claims:
            valid = [n for n in dict.fromkeys(numbers) if 1 <= n <= len(passages)]
            if is_instruction_like(sentence) or any(copies_flagged(sentence, passages[n - 1].chunk.text, spans(n))
                                                    for n in valid):
                dropped += 1  # a document's instruction: never part of an answer
                continue
            markers: list[int] = []
            for n in valid:
                hit = passages[n - 1]
                support = find_support(sentence, hit.chunk.text, threshold, given, _document_numbers(hit), spans(n))
                if support is None:
                    continue
                key = (n, support.start, support.end)
                if key not in citations:
                    chunk = hit.chunk
                    citations[key] = Citation(
                        n=len(citations) + 1,
                        doc_id=chunk.doc_id,
                        title=chunk.doc_id if is_instruction_like(chunk.title) else chunk.title,
                        source=chunk.source,
                        section="" if is_instruction_like(chunk.section) else chunk.section,
                        page=chunk.page,
                        text=redact_flagged(chunk.text) if spans(n) else chunk.text,
                        quote=support.quote,
                        start=chunk.start,
                        end=chunk.end,
                        score=round(hit.score, 6),
                        quote_start=chunk.start + support.start,
                        quote_end=chunk.start + support.end,
                        metadata=dict(chunk.metadata),
                    )
                    by_passage.setdefault(n, citations[key].n)
                markers.append(citations[key].n)
            if not markers:
                unsupported.append(sentence)
            tail = "".join(f"[{m}]" for m in dict.fromkeys(markers))
            end = re.search(rf"[{_ENDS}]$", sentence)
            out.append(sentence[:-1] + tail + sentence[-1] if end else sentence + tail)
        if out or not claims:
            out_lines.append("".join(out))
    return Verified("\n".join(out_lines).strip(), list(citations.values()), unsupported, dropped)
