"""Question analysis on constructed questions of every answer type (not the evaluation wording),
and the second-stage evidence rules on constructed passages."""

from __future__ import annotations

from typing import ClassVar

import pytest

from assistant.analysis import DocCatalog, DocEntryView, analyse
from assistant.decide import decide
from assistant.models import Hit
from assistant.ranking import EvidenceRanker, type_present
from index.models import Chunk

CATALOG = DocCatalog([
    DocEntryView("2019年中华人民共和国国务院政府工作报告", "2019年中华人民共和国国务院政府工作报告", 2019, "国家", "工作报告"),
    DocEntryView("2021年中华人民共和国国务院政府工作报告", "2021年中华人民共和国国务院政府工作报告", 2021, "国家", "工作报告"),
    DocEntryView("2026年天津市政府工作报告", "2026年天津市政府工作报告", 2026, "天津", "工作报告"),
    DocEntryView("2026年河北省政府工作报告", "2026年河北省政府工作报告", 2026, "河北", "工作报告"),
    DocEntryView("北京市城市绿化条例(2019-07-26)", "北京市城市绿化条例(2019-07-26)", 2019, "北京", "条例"),
    DocEntryView("北京市城市绿化条例(2023-03-30)", "北京市城市绿化条例(2023-03-30)", 2023, "北京", "条例"),
])


@pytest.mark.parametrize(
    ("question", "answer_type", "unit"),
    [
        ("某市去年新增了多少个口袋公园？", "number", "个"),
        ("这条高速公路全长多少公里？", "number", "公里"),
        ("示范区的规划面积为多少平方公里？", "number", "平方公里"),
        ("全市共有几家三甲医院？", "number", "家"),
        ("研发投入占比是多少？", "number", None),
        ("这项改革是什么时候启动的？", "date", None),
        ("该条例自哪一年起施行？", "date", None),
        ("工作专班的负责人是谁？", "person", None),
        ("新的物流枢纽建在哪里？", "place", None),
        ("由哪个部门负责统筹协调？", "org", None),
        ("在哪次会议上审议通过的？", "org", None),
        ("下一步有哪些重点任务？", "list", None),
        ("为什么要推动产业转移？", "explanation", None),
        ("是否已经实现医保异地直接结算？", "yesno", None),
        ("外地车辆能不能进入这个区域？", "yesno", None),
        ("这一机制的主要内容是什么？", "fact", None),
    ],
)
def test_answer_type_and_unit(question: str, answer_type: str, unit: str | None) -> None:
    a = analyse(question)
    assert a.answer_type == answer_type, a
    assert a.unit == unit, a


def test_focus_is_the_asked_thing_not_the_place() -> None:
    a = analyse("滨海新区的常住人口有多少？")
    assert "常住人口" in a.focus
    assert "滨海新区" not in a.focus and "滨海新区" in a.topic


def test_named_report_resolves_by_year_and_issuer() -> None:
    a = analyse("国务院2021年政府工作报告对区域协调发展是怎么部署的？", CATALOG)
    assert a.names_document and a.target_docs == ["2021年中华人民共和国国务院政府工作报告"]
    b = analyse("据天津2026年政府工作报告，今年要新建多少个充电站？", CATALOG)
    assert b.target_docs == ["2026年天津市政府工作报告"]


def test_named_report_not_indexed_lists_the_neighbours() -> None:
    a = analyse("2020年国务院政府工作报告提出了哪些就业目标？", CATALOG)
    assert a.names_document and a.missing_document and not a.target_docs
    assert a.document_label == "2020年国务院政府工作报告"
    assert a.closest_docs[:2] == ["2019年中华人民共和国国务院政府工作报告", "2021年中华人民共和国国务院政府工作报告"]


def test_a_report_of_another_province_is_missing() -> None:
    a = analyse("2026年浙江省政府工作报告提到了哪些开放举措？", CATALOG)
    assert a.missing_document and "浙江" in a.document_label


def test_year_and_region_alone_scope_but_name_no_document() -> None:
    a = analyse("河北2026年要新增多少公里高速公路？", CATALOG)
    assert not a.names_document and a.years == [2026] and a.regions == ["河北"]


def test_titles_editions_and_articles() -> None:
    a = analyse("《北京市城市绿化条例》2023年修订版第十二条规定了什么？", CATALOG)
    assert a.titles == ["北京市城市绿化条例"] and a.articles == ["十二"] and a.edition_years == [2023]
    assert a.target_docs == ["北京市城市绿化条例(2023-03-30)"]
    b = analyse("北京市城市绿化条例是在哪次会议上通过的？", CATALOG)  # the name without 《》
    assert set(b.target_docs) == {"北京市城市绿化条例(2019-07-26)", "北京市城市绿化条例(2023-03-30)"}
    assert b.wants_header


def test_two_questions_are_split_into_parts() -> None:
    a = analyse("这个基金的规模有多大？由谁出资？")
    assert [p.answer_type for p in a.parts] == ["number", "person"]
    b = analyse("该办法是哪天、在哪次会议上通过的？")
    assert [p.answer_type for p in b.parts] == ["date", "org"]


def _hit(text: str, n: int = 0, **meta: object) -> Hit:
    chunk = Chunk(f"d{n}#0", f"d{n}", f"文件{n}", f"d{n}.txt", text, 0, len(text), metadata=dict(meta))
    return Hit(chunk=chunk, score=1.0 / (n + 1))


class _Weights:
    """Equal IDF for every word: the rules below do not depend on corpus statistics."""

    df: ClassVar[dict[str, int]] = {}

    def idf(self, token: str) -> float:
        return 1.0


def test_type_present_wants_the_measure_word_asked() -> None:
    part = analyse("去年新增了多少家企业？").parts[0]
    assert type_present(part, "去年新增科技企业1200家。")
    assert not type_present(part, "去年新增科技企业，增长12%。")


def test_missing_focus_is_not_found_and_named() -> None:
    a = analyse("滨海新区的常住人口有多少？")
    hits = [_hit("滨海新区加快建设现代化港口城市，推进产城融合。", 0), _hit("全市常住人口增长较快。", 1)]
    windows = EvidenceRanker(_Weights()).windows(a, hits)  # type: ignore[arg-type]
    decision = decide(a, windows)
    assert decision.status == "not_found"
    assert "常住人口”" in decision.message  # the question's own words, quoted whole


def test_focus_with_the_asked_type_answers() -> None:
    a = analyse("滨海新区的常住人口有多少？")
    hits = [_hit("滨海新区加快建设港口城市。", 0), _hit("滨海新区常住人口达到206万人。", 1)]
    ranker = EvidenceRanker(_Weights())  # type: ignore[arg-type]
    reranked, windows = ranker.rerank(a, hits)
    assert reranked[0].chunk.doc_id == "d1"  # the second stage puts the answering passage first
    decision = decide(a, windows)
    assert decision.status == "answered" and "206万人" in decision.chosen[0].text


def test_wrong_year_is_out_of_scope() -> None:
    a = analyse("2026年某区新建了多少个公园？")
    hits = [_hit("2024年某区新建公园15个。", 0, year=2024)]
    decision = decide(a, EvidenceRanker(_Weights()).windows(a, hits))  # type: ignore[arg-type]
    assert decision.status == "not_found" and "2026年" in decision.message and "其他年份" in decision.message


def test_one_part_missing_is_partial() -> None:
    a = analyse("这个基金的规模有多大？由谁出资？")
    hits = [_hit("这个基金规模为100亿元，重点投向先进制造业。", 0)]
    decision = decide(a, EvidenceRanker(_Weights()).windows(a, hits))  # type: ignore[arg-type]
    assert decision.status == "partial" and len(decision.missing) == 1
