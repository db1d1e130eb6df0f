"""merge_overlapping: a passage overlapping a better one of the same document by more than half goes."""

from __future__ import annotations

from assistant.retrieval import merge_overlapping
from tests.fakes import chunk, hit


def test_overlap_of_more_than_half_within_a_document_is_dropped() -> None:
    best = hit(chunk("a", "甲" * 100, 0, start=0), 0.9)
    overlapping = hit(chunk("a", "乙" * 100, 1, start=40), 0.8)  # 60 of 100 shared
    touching = hit(chunk("a", "丙" * 100, 2, start=60), 0.7)  # 40 of 100 shared with best
    kept = merge_overlapping([best, overlapping, touching])
    assert [h.chunk_id for h in kept] == ["a:0", "a:2"]


def test_the_better_ranked_passage_is_the_one_kept() -> None:
    first = hit(chunk("a", "乙" * 100, 1, start=40), 0.5)
    second = hit(chunk("a", "甲" * 100, 0, start=0), 0.9)
    assert [h.chunk_id for h in merge_overlapping([first, second])] == ["a:1"]


def test_same_offsets_in_different_documents_are_both_kept() -> None:
    a = hit(chunk("a", "甲" * 100, 0, start=0))
    b = hit(chunk("b", "乙" * 100, 0, start=0))
    assert len(merge_overlapping([a, b])) == 2


def test_the_same_text_in_two_documents_is_kept_once() -> None:
    a = hit(chunk("a", "支持北京老年人到河北养老。", 0))
    b = hit(chunk("b", "支持北京老年人到河北 养老。", 3))  # whitespace does not make it different
    assert [h.chunk_id for h in merge_overlapping([a, b])] == ["a:0"]


def test_a_husk_without_text_is_skipped() -> None:
    husk = hit(chunk("a", "", 0))
    real = hit(chunk("b", "雄安新区承接疏解。", 0))
    assert [h.chunk_id for h in merge_overlapping([husk, real])] == ["b:0"]


def test_order_is_kept() -> None:
    hits = [hit(chunk(d, f"{d}的内容。", 0)) for d in ("c", "a", "b")]
    assert [h.chunk.doc_id for h in merge_overlapping(hits)] == ["c", "a", "b"]
