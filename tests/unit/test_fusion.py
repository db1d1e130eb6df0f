"""The retrieval stage's fusion: reciprocal-rank and weighted, per mode, within filters and the manifest."""

from __future__ import annotations

import pytest

from assistant.models import Filters
from assistant.retrieval import HybridRetriever
from index.keyword import KeywordIndex
from index.models import Chunk
from tests.fakes import HashingEmbedder, MemoryStore

QUESTION = "社会保障卡可以用来就医购药吗？"


def retriever(store: MemoryStore, keyword: KeywordIndex, passages: list[Chunk], **kw: object) -> HybridRetriever:
    return HybridRetriever(HashingEmbedder(), store, keyword, {c.chunk_id for c in passages}, **kw)  # type: ignore[arg-type]


def test_rrf_score_is_the_sum_of_each_lists_reciprocal_rank(store: MemoryStore, keyword: KeywordIndex,
                                                             passages: list[Chunk]) -> None:
    r = retriever(store, keyword, passages, rrf_k=60)
    hits = r.retrieve(QUESTION, 10)
    assert hits, "the fused list is empty"
    for h in hits:
        expected = sum(1 / (60 + rank + 1) for rank in (h.dense_rank, h.keyword_rank) if rank is not None)
        assert h.score == pytest.approx(expected)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].chunk.doc_id == "shebao"


def test_a_passage_found_by_both_lists_outranks_one_found_by_one(store: MemoryStore, keyword: KeywordIndex,
                                                                  passages: list[Chunk]) -> None:
    hits = retriever(store, keyword, passages).retrieve(QUESTION, 10)
    both = [h for h in hits if h.dense_rank is not None and h.keyword_rank is not None]
    one = [h for h in hits if (h.dense_rank is None) != (h.keyword_rank is None)]
    assert both and one  # the dense list holds every passage; the tianjin one shares no word with the question
    # 2 / (60 + r + 1) > 1 / 61 for every rank r < 60: two lists' votes beat one list's best.
    assert min(h.score for h in both) > max(h.score for h in one)


def test_weighted_fusion_normalises_bm25_by_the_best_score(store: MemoryStore, keyword: KeywordIndex,
                                                            passages: list[Chunk]) -> None:
    r = retriever(store, keyword, passages, fusion="weighted", dense_weight=0.5, keyword_weight=2.0)
    hits = r.retrieve(QUESTION, 10)
    top_bm25 = max(h.keyword_score or 0.0 for h in hits)
    for h in hits:
        expected = 0.5 * (h.dense_score or 0.0) + 2.0 * ((h.keyword_score or 0.0) / top_bm25)
        assert h.score == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(("mode", "dense", "keyword_"), [("dense", True, False), ("keyword", False, True)])
def test_a_single_mode_uses_one_list(store: MemoryStore, keyword: KeywordIndex, passages: list[Chunk], mode: str,
                                     dense: bool, keyword_: bool) -> None:
    hits = retriever(store, keyword, passages, mode=mode).retrieve(QUESTION, 10)
    assert hits
    assert all((h.dense_rank is not None) == dense for h in hits)
    assert all((h.keyword_rank is not None) == keyword_ for h in hits)


def test_filters_and_the_manifest_bound_both_lists(store: MemoryStore, keyword: KeywordIndex,
                                                    passages: list[Chunk]) -> None:
    hits = retriever(store, keyword, passages).retrieve(QUESTION, 10, Filters(region=["天津"]))
    assert {h.chunk.doc_id for h in hits} <= {"tianjin"}
    hidden = HybridRetriever(HashingEmbedder(), store, keyword, {"yanglao:0"}).retrieve(QUESTION, 10)
    assert {h.chunk_id for h in hidden} <= {"yanglao:0"}


def test_k_cuts_the_fused_list(store: MemoryStore, keyword: KeywordIndex, passages: list[Chunk]) -> None:
    assert len(retriever(store, keyword, passages).retrieve(QUESTION, 1)) == 1


@pytest.mark.parametrize(("filters", "where"), [
    (Filters(), None),
    (Filters(region=["北京"]), {"region": {"$in": ["北京"]}}),
    (Filters(region=["北京", "天津"], year=[2024]),
     {"$and": [{"region": {"$in": ["北京", "天津"]}}, {"year": {"$in": [2024]}}]}),
    (Filters(kind=["条例"], doc_id=["a"]), {"$and": [{"kind": {"$in": ["条例"]}}, {"doc_id": {"$in": ["a"]}}]}),
])
def test_to_chroma_where(filters: Filters, where: dict[str, object] | None) -> None:
    assert filters.to_chroma_where() == where
