"""Typed data models of the answering stage: hits, citations, answers, stream events."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from index.models import Chunk


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
class Filters:
    """Narrow retrieval by metadata. Empty fields do not filter."""

    region: list[str] = field(default_factory=list)  # 北京/天津/河北/国家
    year: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)  # 工作报告/条例/规定/…
    doc_id: list[str] = field(default_factory=list)

    @classmethod
    def coerce(cls, value: Filters | dict[str, Any] | None) -> Filters:
        if value is None:
            return cls()
        if isinstance(value, Filters):
            return value

        def as_list(v: Any) -> list[Any]:
            if v is None or v == "":
                return []
            return list(v) if isinstance(v, (list, tuple, set)) else [v]

        return cls(
            region=[str(v) for v in as_list(value.get("region"))],
            year=[int(v) for v in as_list(value.get("year"))],
            kind=[str(v) for v in as_list(value.get("kind"))],
            doc_id=[str(v) for v in as_list(value.get("doc_id") or value.get("document") or value.get("doc"))],
        )

    @classmethod
    def parse(cls, region: Any = None, year: Any = None, kind: Any = None, doc_id: Any = None) -> Filters:
        """Filters from what a surface collects: each field a list of values, or one string of values
        separated by commas (``"北京,天津"``, full-width ``，`` too), or empty. A year that is not a
        number is left out (as the web page and the HTTP endpoint always did); everything else is
        validated (``validate_filters``: ``InvalidFiltersError`` with a Chinese reason)."""
        from .validation import validate_filters

        def values(value: Any) -> list[Any]:
            if value is None or value == "":
                return []
            if isinstance(value, str):
                return [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
            if isinstance(value, (list, tuple, set)):
                return [v for v in value if v is not None and v != ""]
            return [value]

        years = [y for y in values(year) if isinstance(y, int) or str(y).strip().isdigit()]
        return validate_filters({"region": values(region), "year": [int(y) for y in years],
                                 "kind": values(kind), "doc_id": values(doc_id)})

    def is_empty(self) -> bool:
        return not (self.region or self.year or self.kind or self.doc_id)

    def matches(self, meta: dict[str, Any]) -> bool:
        if self.region and meta.get("region") not in self.region:
            return False
        if self.year and meta.get("year") not in self.year:
            return False
        if self.kind and meta.get("kind") not in self.kind:
            return False
        return not (self.doc_id and meta.get("doc_id") not in self.doc_id)

    def to_chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        for key, values in (("region", self.region), ("year", self.year), ("kind", self.kind), ("doc_id", self.doc_id)):
            if values:
                clauses.append({key: {"$in": list(values)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


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
        return cls(**data)


@dataclass
class StreamEvent:
    """What ``Assistant.stream`` yields: text deltas, then one final event carrying the Answer."""

    type: Literal["delta", "reset", "final"]  # reset: discard the deltas so far (a writer fell back)
    text: str = ""
    answer: Answer | None = None
