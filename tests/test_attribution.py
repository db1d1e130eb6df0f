"""Titles and attribution from the document's own text (index/attribution.py, issue #14)."""

from __future__ import annotations

from pathlib import Path

from assistant.models import Answer, Citation, Filters
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
    # a work report is issued by the government that delivers it, not the congress that hears it (#24)
    assert header_metadata(report, "2025年北京市政府工作报告") == {"date": "2025-01-14", "issuer": "北京市人民政府"}


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


# -- issue #24, item 4: metadata that reads right, on uploads indexed with the real model --------------------
_UPLOAD_REPORT = (
    "2025年北京市政府工作报告\n来源：北京日报\n"
    "2025年1月14日在北京市第十六届人民代表大会第三次会议上北京市市长 殷勇同志作政府工作报告。\n"
    "各位代表：\n现在，我代表北京市人民政府，向大会报告政府工作，请予审议，并请市政协委员提出意见。\n"
    "一、2024年工作回顾\n2024年全市经济运行稳中向好，地区生产总值增长5.2％左右，城市副中心建设取得新进展。\n"
    "二、2025年工作总体要求和重点任务\n（二）纵深推动京津冀协同发展\n"
    "深入实施京津冀协同发展战略，推动北京城市副中心高质量发展，支持雄安新区建设，深化京津冀产业链协同，"
    "推进轨道交通一体化，加快建设以首都为核心的世界级城市群。\n"
)
_UPLOAD_PAGE = (
    "工业和信息化部组织开展负压救护车重点生产企业督导检查 2020年2月4日，为做好新型冠状病毒感染的肺炎疫情防控物资保障工作，"
    "加强负压救护车生产质量检查工作，工业和信息化部装备工业一司会同有关部门赴企业进行督导检查。\n"
    "来源：新华社\n责任编辑：张三\n"
    "检查组要求企业严格落实质量主体责任，确保负压救护车产品质量和生产一致性，全力保障疫情防控需要。\n"
)


def test_uploads_get_issuer_title_clean_sections_and_named_examples(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    import io

    import docx

    from assistant import Assistant
    from assistant.app.export import conversation_docx
    from assistant.app.session import make_turn

    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "2025年北京市政府工作报告.txt").write_text(_UPLOAD_REPORT, encoding="utf-8")
    (folder / "a3f9c2e1.txt").write_text(_UPLOAD_PAGE, encoding="utf-8")
    bot = Assistant(settings)
    result = bot.add_documents(sorted(folder.iterdir()))
    assert not result.problems, result.problems
    docs = {d.title: d for d in bot.documents()}
    report = docs["2025年北京市政府工作报告"]
    assert report.metadata["issuer"] == "北京市人民政府"
    assert (report.metadata["region"], report.metadata["year"]) == ("北京", 2025)
    assert "工业和信息化部组织开展负压救护车重点生产企业督导检查" in docs  # not "a3f9c2e1"
    chunks = bot.keyword_index().chunks
    assert any("纵深推动京津冀协同发展" in c.section for c in chunks)
    assert all(c.metadata.get("issuer") == "北京市人民政府" for c in chunks if c.title == "2025年北京市政府工作报告")
    for c in chunks:
        assert not any(word in c.section for word in ("来源", "责任编辑")), c.section
    examples = bot.example_questions(6)
    assert examples and all(q.startswith(("《2025年北京市政府工作报告》", "《工业和信息化部")) for q in examples), examples
    # the Word export's 章节 never shows a source line: an answer citing every indexed passage of the report
    answer = bot.ask("2025年北京市在京津冀协同发展方面有哪些重点任务？")
    assert not any("来源" in c.section for c in answer.citations)
    every = [Citation(n=i, doc_id=c.doc_id, title=c.title, source=c.source, section=c.section, page=c.page, text=c.text,
                      quote=c.text[:20], start=c.start, end=c.end, score=1.0, metadata=c.metadata)
             for i, c in enumerate((c for c in chunks if c.title == "2025年北京市政府工作报告"), start=1)]
    cited = Answer(question=answer.question, text="".join(f"引文。[{c.n}]" for c in every), citations=every)
    turn = make_turn("t1", cited.question, cited, Filters(), None)
    paragraphs = [p.text for p in docx.Document(io.BytesIO(conversation_docx([turn]))).paragraphs]
    sections = [p.split("章节：", 1)[1].split("；")[0] for p in paragraphs if "章节：" in p]
    assert any("纵深推动京津冀协同发展" in s for s in sections), paragraphs
    assert not any("来源" in s for s in sections), sections
