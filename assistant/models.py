"""Typed data models of the answering stage: hits, citations, answers, stream events."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from index.models import Chunk

from .filters import Filters

__all__ = ["Answer", "AnswerSection", "Citation", "Facets", "Filters", "Hit", "StreamEvent", "Suggestion"]


@dataclass
class Hit:
    """A retrieved passage with its scores from each retriever and the fused score."""

    chunk: Chunk
    score: float  # fused score used for ranking
    dense_score: float | None = None  # cosine similarity, if the dense retriever found it
    keyword_score: float | None = None  # BM25 score, if the keyword retriever found it
    rerank_score: float | None = None
    dense_rank: int | None = None
    keyword_rank: int | None = None
    pinned: bool = False  # added by a rule (a named document's header or closing article), not retrieved

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id


@dataclass
class Facets:
    """What the indexed documents can be filtered by (the choices a surface offers; ``Assistant.facets``)."""

    regions: list[str] = field(default_factory=list)  # every region a filter accepts
    years: list[str] = field(default_factory=list)  # newest first
    kinds: list[str] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (label, doc_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    """One numbered source of an answer: the exact passage and the span that supports the claim."""

    n: int
    doc_id: str
    title: str
    source: str
    section: str
    page: int | None
    text: str  # the passage
    quote: str  # exact span of ``text`` supporting the sentence(s) that cite it
    start: int  # offsets of the passage in the loaded document text
    end: int
    score: float
    quote_start: int = 0  # offsets of the quote in the loaded document text
    quote_end: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Suggestion:
    """A close document offered when the assistant refuses."""

    doc_id: str
    title: str
    source: str
    score: float
    section: str = ""


AnswerStatus = Literal["answered", "partial", "not_found"]
AnswerLayout = Literal["plain", "timeline", "comparison"]
SectionStatus = Literal["answered", "not_found"]


@dataclass
class AnswerSection:
    """One row of a timeline (a year) or of a side-by-side comparison (a region or a document).

    ``citations``: the numbers ``n`` of this row's markers in ``Answer.citations``; ``status``:
    ``answered`` (the row's document has something on the topic) or ``not_found`` (it has not:
    ``text`` then says so, e.g. 报告未提及). ``doc_id`` is the row's cited document (the one it is
    scoped to when there is no citation; "" when no indexed document is in the row)."""

    label: str  # 2016年 / 北京 / 十九大报告
    doc_id: str
    title: str
    year: int | None
    region: str | None
    text: str  # the row's answer with its (global) markers, one line
    citations: list[int] = field(default_factory=list)
    status: SectionStatus = "answered"


@dataclass
class Answer:
    """What ``Assistant.ask`` returns.

    ``status``: ``answered`` (every part of the question answered from the documents), ``partial``
    (some part answered, the rest named in ``missing``) or ``not_found``. ``refused`` is true
    exactly for ``not_found``. ``related`` holds verified passages shown apart as 相关内容 when
    the asked item is missing: never part of the answer. ``analysis`` is the question analysis
    (``QuestionAnalysis.to_dict()``).
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    suggestions: list[Suggestion] = field(default_factory=list)
    rewritten_question: str | None = None
    unsupported: list[str] = field(default_factory=list)  # sentences with no verified support
    writer: str = "extractive"
    notice: str | None = None  # e.g. LLM fallback notice shown to the user (Chinese)
    evidence_score: float = 0.0
    # Calibrated probability (0–1) that the answer is right: that its lead windows answer the question,
    # or, for a refusal, that the documents hold no answer (the trained answer model's estimate).
    confidence: float | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    status: AnswerStatus = "answered"
    missing: list[str] = field(default_factory=list)  # Chinese: what the documents lack (partial / not_found)
    related: list[Citation] = field(default_factory=list)  # 相关内容, shown apart from the answer
    analysis: dict[str, Any] = field(default_factory=dict)  # QuestionAnalysis.to_dict()
    # The llm writer fell back to the extractive answer: "unavailable" | "garbage" | "declined" |
    # "unsupported" (a draft sentence not supported by its cited passage); None otherwise.
    fallback_reason: str | None = None
    # The llm writer's draft and its cost (first_token_s, tokens, tokens_per_s, sentences,
    # unsupported: the draft's sentences verification could not support); empty otherwise.
    llm: dict[str, Any] = field(default_factory=dict)
    # "timeline" (rows = years) or "comparison" (rows = regions or documents): ``sections`` holds the
    # rows, ``text`` the same rows one line each (so plain clients read it whole); "plain" otherwise.
    layout: AnswerLayout = "plain"
    sections: list[AnswerSection] = field(default_factory=list)
    lead: str = ""  # timeline/comparison: an optional one-sentence lead made of the rows' verified quotes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        data = dict(data)
        data["citations"] = [Citation(**c) for c in data.get("citations", [])]
        data["suggestions"] = [Suggestion(**s) for s in data.get("suggestions", [])]
        data["related"] = [Citation(**c) for c in data.get("related", [])]
        data["sections"] = [s if isinstance(s, AnswerSection) else AnswerSection(**s) for s in data.get("sections", [])]
        return cls(**data)


@dataclass
class StreamEvent:
    """What ``Assistant.stream`` yields: text deltas, then one final event carrying the Answer."""

    type: Literal["delta", "reset", "final"]  # reset: discard the deltas so far (a writer fell back)
    text: str = ""
    answer: Answer | None = None
