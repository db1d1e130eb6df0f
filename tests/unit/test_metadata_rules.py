"""Metadata that reads right (issue #24, item 4), on small texts: the issuing body of a work report, source
lines that are never headings, the title of a first line that runs title and body together, and example
questions that name their document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.examples import examples_from_manifest
from index.attribution import header_metadata, title_from_text, title_of_run_in_line, work_report_issuer
from index.chunker import PolicyChunker
from index.clean import clean_text
from index.loaders import load_document
from index.models import Chunk, Document
from index.zh import is_source_line

BEIJING_2025 = (
    "2025年北京市政府工作报告\n来源：北京日报\n"
    "2025年1月14日在北京市第十六届人民代表大会第三次会议上北京市市长 殷勇同志作政府工作报告。\n"
    "各位代表：\n现在，我代表北京市人民政府，向大会报告政府工作，请予审议，并请市政协委员提出意见。\n"
    "一、2024年工作回顾\n2024年是实现“十四五”规划目标任务的关键一年。全市经济运行稳中向好，地区生产总值增长5.2％左右。\n"
    "二、2025年工作总体要求和重点任务\n（二）纵深推动京津冀协同发展\n"
    "深入实施京津冀协同发展战略，推动北京城市副中心高质量发展，支持雄安新区建设，"
    "深化京津冀产业链协同，推进轨道交通一体化，加快建设世界级城市群。\n"
)
TIANJIN_2026 = (
    "2026年天津市政府工作报告\n——2026年1月26日在天津市第十八届人民代表大会第四次会议上\n来源：天津日报\n"
    "时间：2026-02-03\n天津市市长 张工\n各位代表：\n现在，我代表市人民政府向大会报告工作，请予审议。\n"
)
STATE_COUNCIL = (
    "政府工作报告\n——2024年3月5日在第十四届全国人民代表大会第二次会议上\n国务院总理\n李 强\n"
    "各位代表：\n现在，我代表国务院，向大会报告政府工作，请予审议。\n"
)


@pytest.mark.parametrize(("text", "title", "issuer"), [
    (BEIJING_2025, "2025年北京市政府工作报告", "北京市人民政府"),  # the congress named in the header
    (TIANJIN_2026, "2026年天津市政府工作报告", "天津市人民政府"),  # 我代表市人民政府 names no place: the congress does
    (STATE_COUNCIL, "政府工作报告", "国务院"),  # 全国人民代表大会
    ("各位代表：\n现在，我代表国务院，向大会作政府工作报告。", "2014年中华人民共和国国务院政府工作报告", "国务院"),
    ("2025年宁夏政府工作报告\n来源：青海日报\n各位代表：\n现在，我代表自治区人民政府向大会报告工作。",
     "2025年宁夏政府工作报告", "宁夏回族自治区人民政府"),  # a short name in the title
    ("现在，我代表上海市人民政府，向大会报告工作。", "2025年上海市政府工作报告", "上海市人民政府"),
])
def test_work_report_issuer(text: str, title: str, issuer: str) -> None:
    assert work_report_issuer(text, title) == issuer
    assert header_metadata(text, title)["issuer"] == issuer


def test_no_work_report_issuer_for_other_documents() -> None:
    regulation = "北京市数字经济促进条例\n2022年11月25日 北京市第十五届人民代表大会常务委员会第四十五次会议通过\n第一条 为了……"
    assert work_report_issuer(regulation, "北京市数字经济促进条例") is None
    assert header_metadata(regulation, "北京市数字经济促进条例")["issuer"] == "北京市人民代表大会常务委员会"
    assert work_report_issuer("各位代表：\n我们要做好今年的工作。", "工作计划") is None


@pytest.mark.parametrize("line", ["来源：北京日报", "来源: 新华社", "责任编辑：王五", "作者：李四", "时间：2026-02-02",
                                  "【字体：大 中 小】", "首页>云南要闻", "来源 : 南方日报"])
def test_source_lines(line: str) -> None:
    assert is_source_line(line)


@pytest.mark.parametrize("line", ["各位代表：", "来源数据显示，今年增长5%。", "（作者系河北经贸大学副校长 田学斌）",
                                  "一、2024年工作回顾", "纵深推动京津冀协同发展"])
def test_not_source_lines(line: str) -> None:
    assert not is_source_line(line)


def _sections(text: str, title: str = "文件") -> list[str]:
    cleaned = clean_text(text).text
    doc = Document(doc_id="d", source="d.txt", title=title, text=cleaned, content_hash="h")
    return [c.section for c in PolicyChunker().split(doc)]


def test_source_lines_are_never_in_heading_paths() -> None:
    sections = _sections(BEIJING_2025, "2025年北京市政府工作报告")
    assert any("纵深推动京津冀协同发展" in s for s in sections)
    assert all("来源" not in s for s in sections), sections
    # a page whose source, editor and author lines stand between a headline and its text
    page = ("京津冀交通一体化取得新进展\n来源：新华社\n作者：张三\n责任编辑：李四\n"
            "记者从交通运输部获悉，京津冀三地轨道交通加快衔接，多条城际铁路建成投运，通勤时间明显缩短。\n"
            "区域路网更加完善\n京津冀地区高速公路总里程持续增长，省际断头路基本打通，物流成本明显下降，群众出行更加便捷。\n")
    sections = _sections(page, "京津冀交通一体化取得新进展")
    assert "区域路网更加完善" in sections
    assert not any(word in s for s in sections for word in ("来源", "作者", "责任编辑")), sections
    # a bare "来源:" with its value on the next line, and a breadcrumb broken over two lines
    broken = ("首页>政务信息>\n宁夏要闻\n2026年宁夏回族自治区政府工作报告\n来源:\n宁夏日报\n"
              "一、2025年工作总结\n过去一年，全区上下全面贯彻新发展理念，圆满完成了全年经济社会发展主要目标任务，各项事业取得新进展。\n")
    sections = _sections(broken, "2026年宁夏回族自治区政府工作报告")
    assert sections and all(not s or s.startswith("一、2025年工作总结") for s in sections), sections


def test_source_lines_are_not_joined_to_their_neighbours() -> None:
    text = "2026年河北省政府工作报告\n——2026年1月26日在河北省第十四届人民代表大会第四次会议上\n来源：河北日报\n时间：2026-02-02\n河北省人民政府省长 王正谱"
    lines = clean_text(text).text.split("\n")
    assert "来源：河北日报" in lines and "时间：2026-02-02" in lines


@pytest.mark.parametrize(("text", "title"), [
    ("工业和信息化部组织开展负压救护车重点生产企业督导检查 2020年2月4日，为做好新型冠状病毒感染的肺炎疫情防控物资保障工作，加强检查。",
     "工业和信息化部组织开展负压救护车重点生产企业督导检查"),
    ("农业农村部开展防控疫情专项法治宣传行动 为切实做好新冠肺炎疫情防控工作，根据全国普法办印发的工作方案，启动专项行动。",
     "农业农村部开展防控疫情专项法治宣传行动"),
    ("多地多举措保障生活必需品供应 严打哄抬物价、造假行为 新华社北京1月28日电 题：多地多举措保障生活必需品供应。",
     "多地多举措保障生活必需品供应 严打哄抬物价、造假行为"),
    ("陕西省人民政府办公厅关于印发若干措施的通知 各设区市人民政府，省人民政府各工作部门： 现将若干措施印发给你们。",
     "陕西省人民政府办公厅关于印发若干措施的通知"),
    ("绍兴市住房公积金管理中心关于实施阶段性支持政策的通知 绍住金〔2020〕4号 各分中心、各处室： 为深入贯彻有关部署。",
     "绍兴市住房公积金管理中心关于实施阶段性支持政策的通知"),
    ("标题在前的疫情防控通知2020年2月4日，为做好疫情防控工作，现将有关事项通知如下。", "标题在前的疫情防控通知"),
])
def test_title_of_a_first_line_running_title_and_body_together(text: str, title: str) -> None:
    assert title_of_run_in_line(text) == title
    assert title_from_text(text) == title


@pytest.mark.parametrize("text", [
    "各位代表：现在，我代表国务院，向大会报告政府工作。",
    "为了加强数字基础设施建设，制定本条例。 第二条 本条例适用于本市。",
    "短 2020年2月4日，正文。",  # too short to be a title
    "一、总体要求 为深入贯彻落实党中央决策部署，制定本方案。",  # a numbered heading is no title
    "一行没有正文的标题",  # a title line on its own is handled by title_from_text's first rule
])
def test_no_title_from_a_body_line(text: str) -> None:
    assert title_of_run_in_line(text) is None


def test_loaded_scraped_page_gets_its_title_not_its_file_name(tmp_path: Path) -> None:
    path = tmp_path / "015758c216923f89.txt"
    path.write_text("工业和信息化部组织开展负压救护车重点生产企业督导检查 2020年2月4日，为做好疫情防控物资保障工作，"
                    "工业和信息化部赴企业进行督导检查。\n检查组要求企业严格落实质量责任。", encoding="utf-8")
    assert load_document(path).title == "工业和信息化部组织开展负压救护车重点生产企业督导检查"


def test_loaded_work_report_gets_its_issuer_and_a_sidecar_wins(tmp_path: Path) -> None:
    report = tmp_path / "2025年北京市政府工作报告.txt"
    report.write_text(BEIJING_2025, encoding="utf-8")
    doc = load_document(report)
    assert doc.metadata["issuer"] == "北京市人民政府"
    assert (doc.metadata["region"], doc.metadata["year"], doc.metadata["kind"]) == ("北京", 2025, "工作报告")
    (tmp_path / "2025年北京市政府工作报告.txt.meta.json").write_text(
        json.dumps({"issuer": "北京市人民政府办公厅（测试）"}, ensure_ascii=False), encoding="utf-8")
    assert load_document(report).metadata["issuer"] == "北京市人民政府办公厅（测试）"


def _chunk(doc_id: str, title: str, section: str, ordinal: int, kind: str, year: int | None = None) -> Chunk:
    meta: dict[str, object] = {"kind": kind}
    if year:
        meta["year"] = year
    return Chunk(chunk_id=f"{doc_id}-{ordinal}", doc_id=doc_id, title=title, source=f"{doc_id}.txt", text="正文。",
                 start=0, end=3, section=section, ordinal=ordinal, metadata=meta)


def test_example_questions_name_their_document_and_spread_over_documents() -> None:
    chunks = [
        _chunk("bj", "2025年北京市政府工作报告", "二、2025年工作总体要求和重点任务 › （二）纵深推动京津冀协同发展", 3, "工作报告", 2025),
        _chunk("bj", "2025年北京市政府工作报告", "二、2025年工作总体要求和重点任务 › （三）加快建设现代化产业体系", 4, "工作报告", 2025),
        _chunk("bj", "2025年北京市政府工作报告", "一、2024年工作回顾", 1, "工作报告", 2025),
        _chunk("reg", "北京市数字经济促进条例(2022-11-25)", "第三章 数据资源 › 第十八条", 9, "条例", 2022),
        _chunk("reg", "北京市数字经济促进条例(2022-11-25)", "第一章 总 则 › 第一条", 1, "条例", 2022),
        _chunk("news", "协同发展看京津冀", "京津冀持续推进“六链五群”产业协同", 0, "新闻", 2024),
    ]
    questions = examples_from_manifest(chunks, 6)
    assert questions[0] == "《2025年北京市政府工作报告》在“纵深推动京津冀协同发展”方面有哪些重点任务？"
    assert "《北京市数字经济促进条例》对“数据资源”有哪些规定？" in questions
    assert "《协同发展看京津冀》关于“京津冀持续推进‘六链五群’产业协同”讲了哪些内容？" in questions
    assert all(q.startswith("《") for q in questions)
    assert not any("回顾" in q or "总 则" in q or "总则" in q for q in questions)
    # every document has its turn before one gets a second example
    assert {q.split("》")[0] for q in questions[:3]} == {"《2025年北京市政府工作报告", "《北京市数字经济促进条例", "《协同发展看京津冀"}
    assert len(questions) == 4 and len(set(questions)) == 4
    assert examples_from_manifest([], 6) == []
