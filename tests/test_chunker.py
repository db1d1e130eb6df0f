"""Policy-aware chunking on the seed and the real corpus, plus property-based invariants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunker import PolicyChunker
from index.loaders import load_document
from index.models import Document

from .conftest import LIBRARY, SEED, topic_files

MAX = 400
SENTENCE_END = "。！？；!?;"
CLOSERS = "”’」』）)]】"


def _doc(text: str) -> Document:
    return Document(doc_id="t", source="t.txt", title="测试", text=text, content_hash="h")


def _check_invariants(doc: Document, chunker: PolicyChunker) -> None:
    chunks = chunker.split(doc)
    last_start = -1
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text  # offsets slice back exactly
        assert len(c.text) <= chunker.chunk_size
        assert c.start > last_start  # in document order
        last_start = c.start
    # Every non-space character of the document is in some chunk.
    covered = [False] * len(doc.text)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    assert all(covered[i] or ch.isspace() for i, ch in enumerate(doc.text))


def _ends_cleanly(text: str, end: int) -> bool:
    """A chunk end falls at a line end or right after a sentence end (plus closing quotes)."""
    if end == len(text) or text[end] == "\n":
        return True
    i = end - 1
    while i >= 0 and text[i] in CLOSERS:
        i -= 1
    return i >= 0 and text[i] in SENTENCE_END


def test_seed_chunks() -> None:
    doc = load_document(SEED)
    chunker = PolicyChunker(MAX)
    chunks = chunker.split(doc)
    _check_invariants(doc, chunker)
    assert doc.title.startswith("协同发展看京津冀")
    sections = {c.section for c in chunks}
    assert "京津冀持续推进“六链五群”产业协同" in sections
    assert all(_ends_cleanly(doc.text, c.end) for c in chunks)


def test_regulation_article_paths() -> None:
    doc = load_document(LIBRARY / "北京市城乡规划条例(2021-09-24).txt")
    chunks = PolicyChunker(MAX).split(doc)
    with_article = [c for c in chunks if re.search(r"第[一二三四五六七八九十百]+条$", c.section)]
    assert len(with_article) > 40
    previous = {c.ordinal: c for c in chunks}
    for c in with_article:
        article = c.section.split(" › ")[-1]
        # the article's first chunk names it; a long article's later chunks continue its section
        continued = c.ordinal > 0 and previous[c.ordinal - 1].section == c.section
        assert article in c.text or continued
        assert c.section.startswith("第")  # the chapter comes first: 第X章 … › 第Y条
        assert "章" in c.section.split(" › ")[0]


def test_work_report_paths() -> None:
    doc = load_document(LIBRARY / "2025年河北省政府工作报告.txt")
    chunks = PolicyChunker(MAX).split(doc)
    nested = [c for c in chunks if re.match(r"^[一二三四五六七八九十]+、.+ › （[一二三四五六七八九十]+）", c.section)]
    assert len(nested) >= 10
    c = next(c for c in chunks if "（二）聚力推进协同发展" in c.section)
    assert c.section.startswith("二、2025年目标任务和主要工作")


def test_whole_corpus_invariants() -> None:
    chunker = PolicyChunker(MAX)
    files = topic_files()
    assert len(files) == 42
    for path in files:
        doc = load_document(path)
        _check_invariants(doc, chunker)
        for c in chunker.split(doc):
            # No sentence is cut unless that sentence alone exceeds the maximum.
            if not _ends_cleanly(doc.text, c.end):
                nxt = doc.text.find("\n", c.end)
                sentence_end = min([i for i in (doc.text.find(p, c.start) for p in SENTENCE_END) if i >= 0] or [nxt])
                assert sentence_end - c.start > MAX or c.end - c.start >= MAX // 2, (path.name, c.text[-30:])


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("京津冀协同发展。！？；，、\n （一）二、第三条1.ab ")), max_size=1500),
       st.integers(min_value=50, max_value=300))
def test_chunking_covers_text_in_order_for_any_input(text: str, size: int) -> None:
    doc = _doc(text)
    _check_invariants(doc, PolicyChunker(size, overlap=1, min_chunk_chars=20))


def test_rejects_tiny_chunk_size() -> None:
    with pytest.raises(ValueError):
        PolicyChunker(10)


def test_embed_text_has_title_and_heading(tmp_path: Path) -> None:
    doc = _doc("一、总体要求\n（一）推进协同。京津冀三地共同推进交通一体化。")
    chunk = PolicyChunker(MAX).split(doc)[0]
    assert chunk.embed_text().startswith("测试 › 一、总体要求 › （一）推进协同")
    assert chunk.text.startswith("一、总体要求")


def _section_lengths(doc: Document, chunks: list) -> dict[str, int]:  # type: ignore[type-arg]
    spans: dict[str, tuple[int, int]] = {}
    for c in chunks:
        lo, hi = spans.get(c.section, (c.start, c.end))
        spans[c.section] = (min(lo, c.start), max(hi, c.end))
    return {k: hi - lo for k, (lo, hi) in spans.items()}


def test_paragraphs_of_one_heading_merge_and_headings_never_stand_alone() -> None:
    text = ("一、总体要求\n（一）指导思想\n坚持稳中求进。\n推动协同发展。\n深化改革开放。\n"
            "（二）主要目标\n到2027年，京津冀协同发展取得新进展，区域一体化水平明显提高。\n")
    chunks = PolicyChunker(MAX).split(_doc(text))
    texts = [c.text for c in chunks]
    assert "一、总体要求\n（一）指导思想\n坚持稳中求进。\n推动协同发展。\n深化改革开放。" in texts  # heading goes with its body
    assert all(c.text.strip() not in ("一、总体要求", "（一）指导思想", "（二）主要目标") for c in chunks)
    law = ("第一章 总则\n第九条 本条例自公布之日起施行，适用于本市行政区域内的建设活动。\n"
           "第十条 建设单位应当遵守下列规定：\n（一）按照许可进行建设；\n（二）不得擅自改变用途；\n（三）接受监督检查。\n")
    chunks = PolicyChunker(MAX).split(_doc(law))
    assert [c.section for c in chunks] == ["第一章 总则 › 第九条", "第一章 总则 › 第十条"]  # siblings stay apart
    item_chunk = next(c for c in chunks if "（二）不得擅自改变用途" in c.text)
    assert item_chunk.section.endswith("第十条") and item_chunk.text.startswith("第十条")  # items stay with it


def test_no_short_chunks_unless_the_whole_section_is_short() -> None:
    chunker = PolicyChunker(MAX)
    short = total = 0
    for path in topic_files()[:15]:
        doc = load_document(path)
        chunks = chunker.split(doc)
        sections = _section_lengths(doc, chunks)
        for c in chunks:
            total += 1
            if len(c.text) < 120:
                short += 1
                # its section as a whole is short, or what is left of a long section after full chunks
                assert sections[c.section] < 2 * 120 or sections[c.section] > MAX - 120, (path.name, c.text)
    assert short / total < 0.3
