"""Timeline and side-by-side questions, without a model: which shape a question asks for, its rows
and the question each row answers (``assistant.shapes``); the Answer contract; the page, the Word and
Markdown exports and the CLI's aligned rows of such an answer."""

from __future__ import annotations

import io

import pytest

from assistant import AnswerSection
from assistant.analysis import DocCatalog, DocEntryView, analyse
from assistant.app.export import conversation_docx, conversation_markdown
from assistant.app.render import render_turn
from assistant.app.session import make_turn
from assistant.models import Answer, Citation, Filters
from assistant.shapes import ShapeScope, issuers_in, scope_of, topic_question
from cli.terminal import aligned_rows, display_width

SC = "{y}年中华人民共和国国务院政府工作报告"
SC_YEARS = (2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024, 2025)


@pytest.fixture(scope="module")
def catalog() -> DocCatalog:
    """The metadata of the topic corpus: eleven State Council reports (no 2020), two years of each
    region's reports, two congress reports and Beijing regulations (two of them in two editions)."""
    docs = [DocEntryView(SC.format(y=y), SC.format(y=y), y, "国家", "工作报告") for y in SC_YEARS]
    for year in (2025, 2026):
        for region, name in (("北京", "北京市"), ("天津", "天津市"), ("河北", "河北省")):
            doc = f"{year}年{name}政府工作报告"
            docs.append(DocEntryView(doc, doc, year, region, "工作报告"))
    docs += [DocEntryView("决胜全面建成小康社会_夺取新时代中国特色社会主义伟大胜利_(十九大)",
                          "决胜全面建成小康社会_夺取新时代中国特色社会主义伟大胜利_(十九大)"),
             DocEntryView("高举中国特色社会主义伟大旗帜_为全面建设社会主义现代化国家而团结奋斗_(二十大)",
                          "高举中国特色社会主义伟大旗帜_为全面建设社会主义现代化国家而团结奋斗_(二十大)")]
    for doc, year in (("北京市优化营商环境条例(2020-03-27)", 2020), ("北京市优化营商环境条例(2024-11-29)", 2024),
                      ("北京市中医药条例(2020-11-27)", 2020), ("北京市外商投资条例(2024-05-31)", 2024),
                      ("北京市推进京津冀社会保障卡一卡通规定(2024-09-27)", 2024)):
        docs.append(DocEntryView(doc, doc, year, "北京", "规定" if "规定" in doc else "条例"))
    return DocCatalog(docs)


def scope(question: str, catalog: DocCatalog, filters: Filters | None = None) -> ShapeScope | None:
    return scope_of(analyse(question, catalog), catalog, filters)


# -- recognition ------------------------------------------------------------------------------------
def test_every_indexed_year_of_the_series_when_none_is_named(catalog: DocCatalog) -> None:
    s = scope("国务院政府工作报告历年怎么提京津冀协同发展？", catalog)
    assert s is not None and s.layout == "timeline"
    assert [r.year for r in s.rows] == list(SC_YEARS)  # ascending, 2020 is not indexed
    assert [r.label for r in s.rows][:2] == ["2014年", "2015年"]
    assert all(r.doc_ids == [SC.format(y=r.year)] and r.region == "国家" for r in s.rows)
    assert s.missing == ["未收录2020年国务院政府工作报告"]
    assert s.topic_question == "国务院政府工作报告怎么提京津冀协同发展？"


def test_with_no_issuer_named_the_longest_series_is_meant(catalog: DocCatalog) -> None:
    s = scope("这几年对雄安新区的表述有什么变化？", catalog)
    assert s is not None and s.layout == "timeline" and len(s.rows) == 11
    assert s.topic_question == "对雄安新区的表述是什么？"
    # 北京 inside a topic (北京冬奥会) names no issuer: still the State Council's reports
    s = scope("历年政府工作报告对北京冬奥会的部署有什么变化？", catalog)
    assert s is not None and s.rows[0].doc_ids == [SC.format(y=2014)]


@pytest.mark.parametrize(("question", "years"), [
    ("2019—2023年国务院政府工作报告怎么提雄安新区？", [2019, 2021, 2022, 2023]),
    ("从2015年到2019年，国务院政府工作报告对冬奥会筹办工作是怎么部署的？", [2015, 2016, 2017, 2018, 2019]),
    ("2016年至2019年国务院政府工作报告怎么提疏解北京非首都功能？", [2016, 2017, 2018, 2019]),
    ("近三年国务院政府工作报告怎么提数字经济？", [2023, 2024, 2025]),
    ("2014年和2015年的国务院政府工作报告在京津冀协同发展的提法上有什么变化？", [2014, 2015]),
    ("北京市政府工作报告这两年对城市副中心的部署有什么变化？", [2025, 2026]),
    ("国务院政府工作报告每年怎么提新型城镇化？", list(SC_YEARS)),
])
def test_spans_and_named_years_give_their_rows(question: str, years: list[int], catalog: DocCatalog) -> None:
    s = scope(question, catalog)
    assert s is not None and s.layout == "timeline"
    assert [r.year for r in s.rows] == years
    assert all(str(y) not in s.topic_question for y in years)


def test_a_named_span_missing_a_year_says_so(catalog: DocCatalog) -> None:
    s = scope("2019—2023年国务院政府工作报告怎么提雄安新区？", catalog)
    assert s is not None and s.missing == ["未收录2020年国务院政府工作报告"]
    s = scope("近三年国务院政府工作报告怎么提数字经济？", catalog)
    assert s is not None and s.missing == []


def test_named_documents_in_order(catalog: DocCatalog) -> None:
    s = scope("十九大和二十大报告对京津冀协同发展的提法有何不同？", catalog)
    assert s is not None and s.layout == "timeline"
    assert [r.label for r in s.rows] == ["十九大报告", "二十大报告"]
    assert "十九大" not in s.topic_question and "二十大" not in s.topic_question
    s = scope("《北京市优化营商环境条例》2020年版和2024年版对涉企政策公开征求意见是怎么规定的？有什么变化？", catalog)
    assert s is not None and s.layout == "timeline"
    assert [r.doc_ids for r in s.rows] == [["北京市优化营商环境条例(2020-03-27)"], ["北京市优化营商环境条例(2024-11-29)"]]
    assert s.topic_question == "对涉企政策公开征求意见是怎么规定的？"


def test_side_by_side_per_region_in_the_order_asked(catalog: DocCatalog) -> None:
    s = scope("三地2025年政府工作报告在交通一体化方面分别怎么部署？", catalog)
    assert s is not None and s.layout == "comparison"
    assert [(r.label, r.region, r.doc_ids) for r in s.rows] == [
        ("北京市", "北京", ["2025年北京市政府工作报告"]), ("天津市", "天津", ["2025年天津市政府工作报告"]),
        ("河北省", "河北", ["2025年河北省政府工作报告"])]
    assert s.topic_question == "政府工作报告在交通一体化方面怎么部署？"
    s = scope("天津和河北2026年政府工作报告分别怎么提港口？", catalog)
    assert s is not None and [r.region for r in s.rows] == ["天津", "河北"]
    s = scope("国务院和北京市2025年政府工作报告对京津冀协同发展的提法有什么不同？", catalog)
    assert s is not None and s.layout == "comparison" and [r.label for r in s.rows] == ["国务院", "北京市"]
    s = scope("比较北京、天津、河北2026年政府工作报告中关于国际科技创新中心的表述。", catalog)
    assert s is not None and [r.region for r in s.rows] == ["北京", "天津", "河北"]
    assert s.topic_question == "政府工作报告中关于国际科技创新中心的表述？"


def test_without_a_year_a_region_row_holds_all_its_reports(catalog: DocCatalog) -> None:
    s = scope("京津冀三地政府工作报告分别怎么提雄安新区？", catalog)
    assert s is not None and s.rows[0].doc_ids == ["2025年北京市政府工作报告", "2026年北京市政府工作报告"]
    assert s.rows[0].year is None


def test_filters_narrow_the_rows(catalog: DocCatalog) -> None:
    s = scope("国务院政府工作报告历年怎么提京津冀协同发展？", catalog, Filters(year=[2018, 2019, 2021]))
    assert s is not None and [r.year for r in s.rows] == [2018, 2019, 2021]
    assert scope("国务院政府工作报告历年怎么提京津冀协同发展？", catalog, Filters(year=[2018])) is None


@pytest.mark.parametrize("question", [
    "京津冀三地医保药品目录什么时候实现完全统一？",  # 三地 as a place, no side-by-side word or document kind
    "天津发挥比较优势，在推进京津冀协同发展中有什么举措？",  # 比较优势 is a term
    "河北省2026年政府工作报告里，这五年雄安新区有哪些变化？",  # one named report: its own review
    "2025年到2035年京津冀协同发展的目标是什么？",  # a plan's horizon, past the indexed years
    "2025年北京市政府工作报告中，地区生产总值比上年增长多少？",
    "按照京津冀一卡通规定，三地每年要召开几次联席会议？",
    "2018年国务院政府工作报告回顾过去五年，国内生产总值从多少增加到多少？",
    "历年政府工作报告有什么变化？",  # no topic to follow
    "2020年国务院政府工作报告对京津冀协同发展提出了什么要求？",  # not indexed: the plain answer says so
])
def test_plain_questions_stay_plain(question: str, catalog: DocCatalog) -> None:
    assert scope(question, catalog) is None


def test_issuers_are_regions_that_issue_documents() -> None:
    assert issuers_in("北京和天津2025年政府工作报告在智能网联新能源汽车方面分别有什么安排？") == ["北京", "天津"]
    assert issuers_in("国务院政府工作报告历年怎么提疏解北京非首都功能？") == ["国家"]
    assert issuers_in("历年政府工作报告对北京冬奥会的部署有什么变化？") == []
    assert issuers_in("北京这几年对营商环境的表述有什么变化？") == ["北京"]


def test_topic_question_keeps_the_topic() -> None:
    assert topic_question("这些年国务院政府工作报告对乡村振兴的部署有何变化？") == "国务院政府工作报告对乡村振兴的部署是什么？"
    assert topic_question("逐年来看，国务院政府工作报告怎么提区域协调发展？") == "国务院政府工作报告怎么提区域协调发展？"
    assert topic_question("三地2025年政府工作报告对营商环境分别有什么部署？") == "政府工作报告对营商环境有什么部署？"


# -- the contract and the surfaces --------------------------------------------------------------------
def cite(n: int, doc: str, quote: str, year: int) -> Citation:
    text = f"前文。{quote}。后文。"
    return Citation(n=n, doc_id=doc, title=doc, source=f"/srv/{doc}.txt", section="三、任务", page=None, text=text,
                    quote=quote, start=0, end=len(text), score=1.0, quote_start=3, quote_end=3 + len(quote),
                    metadata={"year": year, "region": "国家"})


def timeline_answer() -> Answer:
    d1, d2, d3 = (SC.format(y=y) for y in (2016, 2018, 2019))
    citations = [cite(1, d2, "高起点规划、高标准建设雄安新区", 2018), cite(2, d3, "高标准建设雄安新区", 2019)]
    sections = [
        AnswerSection("2016年", d1, d1, 2016, "国家", "报告未提及。", [], "not_found"),
        AnswerSection("2018年", d2, d2, 2018, "国家", "高起点规划、高标准建设雄安新区[1]。", [1], "answered"),
        AnswerSection("2019年", d3, d3, 2019, "国家", "高标准建设雄安新区[2]。", [2], "answered"),
    ]
    text = "\n".join(f"{s.label}：{s.text}" for s in sections)
    return Answer(question="这几年对雄安新区的表述有什么变化？", text=text, citations=citations, layout="timeline",
                  sections=sections, missing=["未收录2020年国务院政府工作报告"], status="partial")


def comparison_answer() -> Answer:
    bj, tj = "2025年北京市政府工作报告", "2025年天津市政府工作报告"
    citations = [cite(1, bj, "推进京津冀智能网联新能源汽车科技生态港建设", 2025)]
    sections = [AnswerSection("北京市", bj, bj, 2025, "北京", "推进京津冀智能网联新能源汽车科技生态港建设[1]。", [1]),
                AnswerSection("天津市", tj, tj, 2025, "天津", "报告未提及。", [], "not_found")]
    return Answer(question="q", text="\n".join(f"{s.label}：{s.text}" for s in sections), citations=citations,
                  layout="comparison", sections=sections)


def test_answer_round_trips_with_its_rows() -> None:
    answer = timeline_answer()
    data = answer.to_dict()
    assert data["layout"] == "timeline" and data["sections"][1]["citations"] == [1]
    assert data["sections"][0]["status"] == "not_found"
    again = Answer.from_dict(data)
    assert again == answer and isinstance(again.sections[0], AnswerSection)
    assert Answer.from_dict({"question": "q", "text": "t"}).layout == "plain"  # an older answer


def test_page_draws_a_timeline_with_openable_markers() -> None:
    html = render_turn("t9", "q", timeline_answer())
    assert 'data-layout="timeline"' in html and html.count('class="tl-row') == 3
    assert html.index("2016年") < html.index("2018年") < html.index("2019年")
    assert 'data-status="not_found"' in html and "报告未提及" in html
    assert 'href="#cite-t9-1"' in html and 'href="#cite-t9-2"' in html and 'id="cite-t9-2"' in html
    assert "未收录2020年国务院政府工作报告" in html  # the year the series lacks


def test_page_draws_a_comparison_table() -> None:
    html = render_turn("t8", "q", comparison_answer())
    assert "<table" in html and 'data-layout="comparison"' in html
    assert '<th scope="col">地区</th>' in html and html.count('class="cmp-row') == 2
    assert 'href="#cite-t8-1"' in html


def test_word_export_holds_a_real_table_and_the_sources_under_it() -> None:
    import docx

    turn = make_turn("t1", "这几年对雄安新区的表述有什么变化？", timeline_answer(), Filters(), None)
    document = docx.Document(io.BytesIO(conversation_docx([turn], None, single=True)))
    assert len(document.tables) == 1
    rows = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert rows[0] == ["年份", "内容"]
    assert rows[1:] == [["2016年", "报告未提及。"], ["2018年", "高起点规划、高标准建设雄安新区[1]。"],
                        ["2019年", "高标准建设雄安新区[2]。"]]
    marker = [r for r in document.tables[0].rows[2].cells[1].paragraphs[0].runs if r.text == "[1]"]
    assert marker and marker[0].font.superscript
    text = "\n".join(p.text for p in document.paragraphs)
    assert "参考来源" in text and "[2] 《2019年中华人民共和国国务院政府工作报告》" in text
    markdown = conversation_markdown([turn])
    assert "| 年份 | 内容 |" in markdown and "| 2018年 | 高起点规划、高标准建设雄安新区[1]。 |" in markdown


def test_cli_rows_are_aligned_and_wrapped_under_their_column() -> None:
    out = aligned_rows(comparison_answer(), width=40)
    lines = out.splitlines()
    assert lines[0].startswith("北京市  推进") and lines[-1].startswith("天津市  报告未提及")
    starts = {display_width(line[: line.index(line.lstrip()[0])]) for line in lines}
    text_col = display_width("北京市  ")
    for line in lines:
        assert display_width(line) <= 40
        if not line.startswith(("北京市", "天津市")):
            assert line.startswith(" " * text_col)  # a wrapped line stays under the text column
    assert starts == {0, text_col}
    assert "[1]。" in out and "\n[1]" not in out


def test_a_long_row_sentence_is_cut_to_its_clauses_about_the_topic() -> None:
    from assistant.shapes import excerpt

    sentence = ("今年政府工作的总体要求是：坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，"
                "积极服务和融入新发展格局，扎实推动高质量发展，进一步全面深化改革，扩大高水平对外开放，"
                "高标准高质量推进雄安新区建设，深入推进京津冀协同发展，建设现代化产业体系，更好统筹发展和安全，"
                "认真落实国家宏观政策，着力扩大有效需求，推动科技创新和产业创新融合发展。")
    cut = excerpt(sentence, ["雄安新区"])
    assert cut.startswith("……") and cut.endswith("……。") and "高标准高质量推进雄安新区建设" in cut
    assert len(cut) < len(sentence) and cut.strip("…。") in sentence  # a verbatim slice
    assert excerpt("高标准建设雄安新区。", ["雄安新区"]) == "高标准建设雄安新区。"
    assert excerpt(sentence, ["低空经济"]) == sentence  # nothing to centre on: the whole sentence
