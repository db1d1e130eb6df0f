"""Answer the question that was asked, end to end on the real index of the 43 topic documents:
named documents, documents that are not indexed, the year a figure is for, partial answers,
filters named in the refusal, and header lines (dates of adoption) as answers."""

from __future__ import annotations

import pytest

from assistant import Assistant

pytestmark = pytest.mark.slow

BJ_2025 = "2025年北京市政府工作报告"
BJ_2026 = "2026年北京市政府工作报告"
TJ_2025 = "2025年天津市政府工作报告"


def test_a_named_document_is_answered_from_that_document(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("据2025年天津市政府工作报告，在津新设的疏解功能资源机构有多少家？")
    assert answer.status == "answered", answer.text
    assert answer.analysis["target_docs"] == [TJ_2025]
    assert answer.citations and {c.doc_id for c in answer.citations} == {TJ_2025}
    assert "1981家" in answer.text.split("\n")[0]  # the first sentence holds the asked number


def test_retrieval_is_restricted_to_the_named_document(jjj_assistant: Assistant) -> None:
    hits = jjj_assistant.retrieve("2016年国务院政府工作报告怎么部署京津冀协同发展？", k=6)
    assert hits and {h.chunk.doc_id for h in hits} == {"2016年中华人民共和国国务院政府工作报告"}


def test_a_document_that_is_not_indexed_is_named_and_neighbours_offered(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("2020年国务院政府工作报告对京津冀协同发展提出了什么要求？")
    assert answer.status == "not_found" and answer.refused
    assert "未收录《2020年国务院政府工作报告》" in answer.text
    assert "2019年中华人民共和国国务院政府工作报告" in answer.text or "2021年中华人民共和国国务院政府工作报告" in answer.text
    assert not answer.citations
    assert all(c.doc_id != "2020年中华人民共和国国务院政府工作报告" for c in answer.related)


def test_a_figure_of_another_year_is_not_the_answer(jjj_assistant: Assistant) -> None:
    """The 2025 report states 2024's figure (262家), the 2026 report 2025's (288家); 2023's is nowhere."""
    answer = jjj_assistant.ask("2023年北京证券交易所上市公司有多少家？")
    assert answer.status == "not_found", answer.text
    assert "2023年" in answer.text and "其他年份" in answer.text
    assert answer.related, "the other years' figures are shown apart as 相关内容"
    assert any("262家" in c.quote or "288家" in c.quote for c in answer.related)
    right = jjj_assistant.ask("2025年北京证券交易所上市公司有多少家？")
    assert right.status == "answered" and "288家" in right.text, right.text
    assert {c.doc_id for c in right.citations} == {BJ_2026}


def test_one_part_unanswerable_gives_a_partial_answer(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("2025年北京证券交易所上市公司有多少家？雄安新区常住人口有多少？")
    assert answer.status == "partial", answer.text
    assert not answer.refused and "288家" in answer.text
    assert len(answer.missing) == 1 and "常住人口" in answer.missing[0]


def test_a_refusal_under_filters_names_them(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("2025年北京证券交易所上市公司有多少家？", filters={"region": ["天津"]})
    assert answer.status == "not_found"
    assert "在所选范围（地区：天津）" in answer.text
    assert "清除筛选" in answer.text  # the whole collection does hold an answer


def test_adoption_dates_come_from_the_header(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("《北京市机动车停车条例》是在哪次会议上通过的？")
    assert answer.status == "answered", answer.text
    assert "常务委员会" in answer.text and "会议通过" in answer.text
    assert all(c.doc_id.startswith("北京市机动车停车条例") for c in answer.citations)


def test_a_missing_fact_is_refused_with_what_is_missing(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("雄安新区的常住人口有多少？")
    assert answer.status == "not_found" and answer.refused
    assert "“雄安新区的常住人口”" in answer.text  # the question's own words, quoted whole
    assert not answer.citations


def test_nonsense_has_no_related_list(jjj_assistant: Assistant) -> None:
    for question in ("What is the weather like today?", "啊啊啊啊啊啊"):
        answer = jjj_assistant.ask(question)
        assert answer.status == "not_found"
        assert not answer.suggestions and not answer.related
