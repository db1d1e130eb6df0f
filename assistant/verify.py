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
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from index.zh import SENTENCE_END

from .models import Citation, Hit
from .text import MARKER, char_bigrams, sentence_spans

# "根据《…》，" / "《…》指出：" attribution prefixes are the writer's words, not the source's.
_ATTRIBUTION = re.compile(r"^(?:另外|此外|同时)?[，,]?(?:根据|据|依据|按照)?《[^》]{1,80}》(?:“[^”]{1,40}”部分)?(?:第[^，：,:]{1,12}条)?(?:指出|提出|规定|明确|显示|中|要求)?[，,：:]?")
# Labels the extractive writer puts before a quote: a section heading, the period a work report speaks of.
_LABEL = re.compile(r"^(?:“[^”]{1,40}”部分：)?(?:回顾\d{4}年：|\d{4}年目标：)?")
_ENDS = re.escape(SENTENCE_END + ".")
_CLAIM = re.compile(rf"[^\[]*?(?:\[\d{{1,2}}\])+[{_ENDS}]?|[^\[]+$")


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


def find_support(claim: str, passage: str, threshold: float = 0.5,
                 given: frozenset[str] = frozenset(), known: frozenset[str] = frozenset()) -> Support | None:
    """The span of ``passage`` that supports ``claim`` (markers already removed); ``given``: the
    question's bigrams (``question_grams``), left out of the overlap; ``known``: numbers the
    passage's document states of itself (its title, its year: "2026年" of a report saying 今年)."""
    body = _LABEL.sub("", _ATTRIBUTION.sub("", claim.strip()).strip(" ，,：:")).strip(" ，,：:")
    core = body.rstrip(SENTENCE_END + ". ")
    if not core:
        return None
    pos = passage.find(core)
    if pos >= 0:
        return Support(core, pos, pos + len(core), 1.0)
    claim_grams = char_bigrams(core) - given
    if not claim_grams:
        return None
    numbers = _numbers(core) - known
    best: Support | None = None
    spans = sentence_spans(passage)
    # Single sentences and adjacent pairs (an LLM often fuses two source sentences).
    candidates = spans + [(a[0], b[1]) for a, b in itertools.pairwise(spans)]
    for start, end in candidates:
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


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    unsupported: list[str]


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
    for line in draft.splitlines() or [draft]:
        out = []
        for sentence, numbers in split_claims(line):
            markers: list[int] = []
            for n in dict.fromkeys(numbers):
                if not 1 <= n <= len(passages):
                    continue  # a marker that points nowhere
                hit = passages[n - 1]
                support = find_support(sentence, hit.chunk.text, threshold, given, _document_numbers(hit))
                if support is None:
                    continue
                key = (n, support.start, support.end)
                if key not in citations:
                    chunk = hit.chunk
                    citations[key] = Citation(
                        n=len(citations) + 1,
                        doc_id=chunk.doc_id,
                        title=chunk.title,
                        source=chunk.source,
                        section=chunk.section,
                        page=chunk.page,
                        text=chunk.text,
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
        out_lines.append("".join(out))
    return Verified("\n".join(out_lines).strip(), list(citations.values()), unsupported)
