"""Timelines and side-by-side answers end to end, on the real index of the 43 topic documents (real
model, real Chroma): the layout, the rows in order, each row's citations from that row's own document,
a year that does not mention the topic said plainly, the stream, and the CLI's aligned rows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Answer, AnswerSection, Assistant
from assistant.settings import REPO_ROOT
from index.loaders import load_document

pytestmark = pytest.mark.slow

SC = "{y}年中华人民共和国国务院政府工作报告"
SC_YEARS = [2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024, 2025]


def _assert_rows_cite_their_own_documents(answer: Answer) -> None:
    by_n = {c.n: c for c in answer.citations}
    assert sorted(by_n) == list(range(1, len(by_n) + 1))  # one numbering across the rows
    used: list[int] = []
    for section in answer.sections:
        assert isinstance(section, AnswerSection)
        if section.status == "answered":
            assert section.citations, section
        for n in section.citations:
            c = by_n[n]
            assert c.doc_id == section.doc_id, (section.label, c.doc_id)
            assert f"[{n}]" in section.text
            doc_text = load_document(Path(c.source), c.doc_id).text
            assert doc_text[c.quote_start:c.quote_end] == c.quote  # the quote is verbatim
        used += section.citations
    assert sorted(used) == sorted(by_n)  # every citation belongs to one row


def test_a_timeline_over_the_years_of_the_state_council_reports(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("这几年国务院政府工作报告对雄安新区的表述有什么变化？")
    assert answer.layout == "timeline", answer.text
    assert [s.year for s in answer.sections] == SC_YEARS  # ascending; 2020 is not indexed
    assert [s.doc_id for s in answer.sections] == [SC.format(y=y) for y in SC_YEARS]
    by_year = {s.year: s for s in answer.sections}
    for year in (2014, 2015, 2016, 2017):  # 雄安新区 was set up in 2017, after that year's report
        assert by_year[year].status == "not_found" and by_year[year].text == "报告未提及。"
        assert not by_year[year].citations
    for year in (2018, 2019, 2021, 2022, 2023, 2024, 2025):
        assert by_year[year].status == "answered", by_year[year]
        assert "雄安" in by_year[year].text
    _assert_rows_cite_their_own_documents(answer)
    assert any("2020年" in m for m in answer.missing)
    # Answer.text reads as a whole: one line per row (after an optional lead), with the row's markers
    lines = answer.text.splitlines()
    rows = lines[1:] if answer.lead else lines
    assert rows == [f"{s.label}：{s.text}" for s in answer.sections]
    if answer.lead:
        assert re.search(r"\[\d+\]", answer.lead) and lines[0] == answer.lead
    assert Answer.from_dict(answer.to_dict()) == answer


def test_side_by_side_per_region_with_a_region_that_has_nothing(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("三地2025年政府工作报告分别怎么提雄安新区？")
    assert answer.layout == "comparison", answer.text
    assert [(s.label, s.region) for s in answer.sections] == [("北京市", "北京"), ("天津市", "天津"), ("河北省", "河北")]
    assert [s.doc_id for s in answer.sections] == ["2025年北京市政府工作报告", "2025年天津市政府工作报告",
                                                   "2025年河北省政府工作报告"]
    beijing, tianjin, hebei = answer.sections
    assert beijing.status == "answered" and hebei.status == "answered"
    assert tianjin.status == "not_found" and tianjin.text == "报告未提及。"  # the 2025 Tianjin report never names it
    _assert_rows_cite_their_own_documents(answer)
    assert not answer.refused and answer.status == "answered"


def test_rows_stream_one_by_one_then_the_answer(jjj_assistant: Assistant) -> None:
    events = list(jjj_assistant.stream("2019—2023年国务院政府工作报告怎么提雄安新区？"))
    deltas = [e.text for e in events if e.type == "delta"]
    final = events[-1].answer
    assert events[-1].type == "final" and final is not None and final.layout == "timeline"
    assert [s.year for s in final.sections] == [2019, 2021, 2022, 2023]
    assert len(deltas) == 4 and deltas[0].startswith("2019年：")
    assert final.status == "partial" and final.missing == ["未收录2020年国务院政府工作报告"]


def test_a_plain_question_keeps_the_plain_layout(jjj_assistant: Assistant) -> None:
    answer = jjj_assistant.ask("京津冀三地持社会保障卡可以办理哪些事项？")
    assert answer.layout == "plain" and answer.sections == []
    off = Assistant(jjj_assistant.settings, shapes=False)  # ASSISTANT_SHAPES=false: every question the plain way
    plain = off.ask("三地2025年政府工作报告分别怎么提雄安新区？")
    assert plain.layout == "plain" and plain.sections == [] and "shape" not in plain.analysis


def test_cli_prints_aligned_rows(jjj_assistant: Assistant) -> None:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(jjj_assistant.settings.data_dir), "COLUMNS": "100",
           "ASSISTANT_EMBEDDING_MODEL": str(jjj_assistant.settings.embedding_model), "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-m", "assistant", "ask", "三地2025年政府工作报告分别怎么提雄安新区？"],
                         env=env, capture_output=True, text=True, timeout=300, check=True).stdout
    lines = out.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(("北京市  ", "天津市  ", "河北省  "))]
    assert len(starts) == 3, out
    assert lines[starts[1]] == "天津市  报告未提及。"
    assert any(line.startswith("[1] 《2025年北京市政府工作报告》") for line in lines)
