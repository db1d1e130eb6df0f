"""Titles and attribution from the document's own text (index/attribution.py, issue #14)."""

from __future__ import annotations

from pathlib import Path

from index.attribution import header_metadata, split_articles, title_from_text
from index.chunker import PolicyChunker
from index.loaders import load_document

from .conftest import SEED


def test_title_from_the_first_line_when_the_file_name_is_no_title(tmp_path: Path) -> None:
    text = "陕西省人民政府办公厅关于印发推动京津冀产业协作实施方案的通知\n各市人民政府，省人民政府各工作部门：\n现将方案印发给你们。"
    for name in ("seed.txt", "abceb7e0b5ff39d5abffd68a732145bf.txt"):
        (tmp_path / name).write_text(text, encoding="utf-8")
        doc = load_document(tmp_path / name)
        assert doc.title == "陕西省人民政府办公厅关于印发推动京津冀产业协作实施方案的通知"
        assert doc.metadata["issuer"] == "陕西省人民政府办公厅"


def test_file_name_kept_when_it_holds_the_first_line_and_metadata_wins(tmp_path: Path) -> None:
    path = tmp_path / "2014年中华人民共和国国务院政府工作报告.txt"
    path.write_text("政府工作报告\n各位代表：\n现在，我代表国务院，向大会报告政府工作。", encoding="utf-8")
    assert load_document(path).title == "2014年中华人民共和国国务院政府工作报告"
    md = tmp_path / "x.md"
    md.write_text("---\ntitle: 元数据标题\n---\n正文第一行标题\n正文内容很长很长很长。", encoding="utf-8")
    assert load_document(md).title == "元数据标题"
    salutation = tmp_path / "doc1.txt"
    salutation.write_text("各位代表：\n现在，我代表市人民政府作报告。", encoding="utf-8")
    assert load_document(salutation).title == "doc1"  # no title line: the file name
    assert title_from_text("各位代表：\n……") is None


def test_issuer_and_date_from_the_header() -> None:
    text = "北京市推进京津冀社会保障卡一卡通规定\n2024年9月27日 北京市第十六届人民代表大会常务委员会第十三次会议通过\n第一条 为了……"
    meta = header_metadata(text, "北京市推进京津冀社会保障卡一卡通规定")
    assert meta == {"date": "2024-09-27", "issuer": "北京市人民代表大会常务委员会"}
    report = "2025年北京市政府工作报告\n2025年1月14日在北京市第十六届人民代表大会第三次会议上\n各位代表："
    assert header_metadata(report, "2025年北京市政府工作报告") == {"date": "2025-01-14"}  # not the congress


def test_seed_page_gives_each_article_its_heading_and_byline() -> None:
    doc = load_document(SEED)
    parts = split_articles(doc.text)
    assert [p.metadata.get("byline") for p in parts] == ["米彦泽", "田学斌"]
    chunks = PolicyChunker().split(doc)
    report = [c for c in chunks if "本报讯" in c.text or "周浩" in c.text]
    commentary = [c for c in chunks if "雄安新区已进入大规模建设" in c.text or "对接合作" in c.text]
    assert report and commentary
    for c in report:
        assert c.section.startswith("京津冀持续推进“六链五群”产业协同")
        assert c.metadata["byline"] == "米彦泽" and "米彦泽" in c.metadata["issuer"]
    for c in commentary:
        assert c.section.startswith("河北牵住疏解北京非首都功能“牛鼻子”")
        assert c.metadata["byline"] == "田学斌" and "田学斌" in c.metadata["issuer"]
        assert "米彦泽" not in c.metadata["issuer"]
    assert not any("本报讯" in c.text and "作者系" in c.text for c in chunks)


def test_a_single_article_is_not_split() -> None:
    assert split_articles("标题\n本报讯 张三 近日，某地召开会议。\n会议指出，要推进协同发展。") == []
