"""Retrieve → fuse → merge: dense (Chroma) and keyword (BM25) hits fused into one ranked list."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from index.embedder_base import Embedder
from index.keyword import KeywordIndex
from index.models import Chunk
from index.store import Store

from .models import Filters, Hit

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "keyword"]


class Retriever(ABC):
    """One abstract base for the retrieval stage, so each strategy can be swapped and tested alone."""

    @abstractmethod
    def retrieve(self, question: str, k: int, filters: Filters | None = None) -> list[Hit]: ...


def _allowed(chunk: Chunk, filters: Filters | None, allowed_ids: set[str] | None) -> bool:
    if allowed_ids is not None and chunk.chunk_id not in allowed_ids:
        return False
    if filters is None or filters.is_empty():
        return True
    return filters.matches({**chunk.metadata, "doc_id": chunk.doc_id})


class HybridRetriever(Retriever):
    """Reciprocal-rank (or weighted) fusion of dense and BM25 results.

    ``allowed_ids`` (the manifest's chunk ids) hides chunks of documents that are not fully
    indexed, e.g. after a killed indexing run.
    """

    def __init__(
        self,
        embedder: Embedder,
        store: Store,
        keyword: KeywordIndex,
        allowed_ids: set[str] | None,
        dense_k: int = 30,
        keyword_k: int = 30,
        fusion: str = "rrf",
        rrf_k: int = 60,
        dense_weight: float = 1.0,
        keyword_weight: float = 1.0,
        mode: Mode = "hybrid",
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.keyword = keyword
        self.allowed_ids = allowed_ids
        self.dense_k = dense_k
        self.keyword_k = keyword_k
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.keyword_weight = keyword_weight
        self.mode = mode

    def dense(self, question: str, k: int, filters: Filters | None) -> list[tuple[Chunk, float]]:
        vector = self.embedder.embed_query(question)
        where = filters.to_chroma_where() if filters else None
        # Ask for more than k: some results may belong to not-yet-complete documents.
        results = self.store.query(vector, k + 10, where)
        # A chunk another process deleted meanwhile may come back without text: skip it (and any
        # chunk outside the manifest), never crash on it.
        return [(c, s) for c, s in results if _usable(c) and _allowed(c, filters, self.allowed_ids)][:k]

    def sparse(self, question: str, k: int, filters: Filters | None) -> list[tuple[Chunk, float]]:
        results = self.keyword.search(question, k * 3 if filters and not filters.is_empty() else k, self.allowed_ids)
        return [(c, s) for c, s in results if _usable(c) and _allowed(c, filters, None)][:k]

    def retrieve(self, question: str, k: int, filters: Filters | None = None) -> list[Hit]:
        dense = self.dense(question, self.dense_k, filters) if self.mode != "keyword" else []
        sparse = self.sparse(question, self.keyword_k, filters) if self.mode != "dense" else []
        hits: dict[str, Hit] = {}
        top_bm25 = sparse[0][1] if sparse else 1.0
        for rank, (chunk, score) in enumerate(dense):
            hit = hits.setdefault(chunk.chunk_id, Hit(chunk=chunk, score=0.0))
            hit.dense_score, hit.dense_rank = score, rank
            hit.score += self._contribution(rank, score, self.dense_weight, 1.0)
        for rank, (chunk, score) in enumerate(sparse):
            hit = hits.setdefault(chunk.chunk_id, Hit(chunk=chunk, score=0.0))
            hit.keyword_score, hit.keyword_rank = score, rank
            hit.score += self._contribution(rank, score, self.keyword_weight, top_bm25)
        ranked = sorted(hits.values(), key=lambda h: h.score, reverse=True)
        return merge_overlapping(ranked)[:k]

    def _contribution(self, rank: int, score: float, weight: float, norm: float) -> float:
        if self.fusion == "weighted":
            return weight * (score / norm if norm else 0.0)
        return weight / (self.rrf_k + rank + 1)


def _usable(chunk: Chunk) -> bool:
    """A chunk with text and integer offsets (the store may hand back a deleted chunk's husk)."""
    return isinstance(chunk.text, str) and bool(chunk.text) and isinstance(chunk.start, int) \
        and isinstance(chunk.end, int)


def merge_overlapping(hits: Sequence[Hit]) -> list[Hit]:
    """Drop hits whose passage overlaps a better-ranked one of the same document by more than
    half, and near-duplicate passages (same text) from different documents."""
    kept: list[Hit] = []
    seen_text: set[str] = set()
    for hit in hits:
        c = hit.chunk
        if not _usable(c):
            continue
        norm = "".join(c.text.split())
        if norm in seen_text:
            continue
        duplicate = False
        for other in kept:
            o = other.chunk
            if o.doc_id != c.doc_id:
                continue
            overlap = min(o.end, c.end) - max(o.start, c.start)
            if overlap > 0.5 * min(o.end - o.start, c.end - c.start):
                duplicate = True
                break
        if not duplicate:
            kept.append(hit)
            seen_text.add(norm)
    return kept


class CrossEncoderReranker:
    """Optional reranking with a local sentence-transformers CrossEncoder (none is bundled)."""

    def __init__(self, model_path: str) -> None:
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(model_path, device="cpu", local_files_only=True)

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        if not hits:
            return []
        scores = self.model.predict([(question, h.chunk.text) for h in hits], show_progress_bar=False)
        rescored = [replace(h, rerank_score=float(s)) for h, s in zip(hits, scores, strict=True)]
        return sorted(rescored, key=lambda h: h.rerank_score or 0.0, reverse=True)
