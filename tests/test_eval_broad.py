"""Evaluation of whole answers to broad questions (issue #24, item 5) and of the confidence (issue #23,
item 4): key-point recall of the answer text and with the opened citations, answers made only of headings,
answers off the question's topic, ECE / Brier and the reliability chart, on hand-made answers; and a real
``assistant eval --set broad_dev`` run on a placeholder set over a two-document corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.analysis import analyse
from assistant.models import Answer, Citation
from cli.main import main as cli_main
from eval.broad import answer_topic_terms, headings_only, key_point_recall, off_topic
from eval.datasets import Question, load_own_set
from eval.metrics import aggregate, per_kind, score_question
from eval.reliability import calibration
from eval.run import render_markdown, write_report

from .conftest import LIBRARY, SEED, require_shared

BJ = "2025年北京市政府工作报告"
SECTION = "二、2025年工作总体要求和重点任务 › （二）纵深推动京津冀协同发展"
BODY = ("（二）纵深推动京津冀协同发展\n深入实施京津冀协同发展战略，推动北京城市副中心高质量发展。"
        "支持雄安新区建设，深化京津冀产业链协同。推进轨道交通一体化，加快建设世界级城市群。")
POINTS = ["推动北京城市副中心高质量发展", "支持雄安新区建设", "深化京津冀产业链协同", "推进轨道交通一体化"]


def _citation(n: int, text: str = BODY, section: str = SECTION, quote: str = "") -> Citation:
    return Citation(n=n, doc_id=BJ, title=BJ, source=f"{BJ}.txt", section=section, page=None, text=text,
                    quote=quote or text.split("\n")[-1][:20], start=0, end=len(text), score=1.0)


def _broad(qid: str = "b1", kind: str = "broad", question: str = "2025年北京市在京津冀协同发展方面有哪些重点任务？") -> Question:
    return Question(qid, question, True, kind, doc=BJ, evidence="支持雄安新区建设", key_points=list(POINTS), section=SECTION)


def _answer(question: str, text: str, citations: list[Citation], confidence: float | None = None,
            refused: bool = False) -> Answer:
    return Answer(question=question, text=text, citations=citations, refused=refused, confidence=confidence,
                  status="not_found" if refused else "answered", analysis=analyse(question).to_dict())


def test_key_point_recall_reads_the_text_without_markers_and_with_the_citations() -> None:
    text = "根据《2025年北京市政府工作报告》：深入实施京津冀协同发展战略，推动北京城市副中心[1]高质量发展。[1]"
    assert key_point_recall(POINTS, [text]) == 0.25  # the marker inside the key point is no obstacle
    assert key_point_recall(POINTS, [text, BODY]) == 1.0
    assert key_point_recall(["支持 雄安新区建设"], ["支持雄安新区\n建设。"]) == 1.0  # white space aside
    assert key_point_recall([], [text]) == 0.0
    q = _broad()
    result = score_question(q, "hybrid", _answer(q.question, text, [_citation(1)]), [])
    assert (result.kp_recall_text, result.kp_recall_cited) == (0.25, 1.0)
    refused = score_question(q, "hybrid", _answer(q.question, "已收录文件中没有相关内容。", [_citation(1)], refused=True), [])
    assert (refused.kp_recall_text, refused.kp_recall_cited) == (0.0, 0.0)  # a refusal reads as nothing
    external = Question("x1", "哪一年？", True, "cmrc2018", doc=BJ, answers=["2025年", "二〇二五年"], key_points=["2025年"])
    found = score_question(external, "hybrid", _answer(external.question, "是2025年。[1]", [_citation(1)]), [])
    assert (found.kp_recall_text, found.kp_recall_cited) == (1.0, 1.0)  # one acceptable answer suffices
    unanswerable = Question("u1", "2030年的目标是多少？", False, "unanswerable")
    assert score_question(unanswerable, "hybrid", _answer(unanswerable.question, "x", []), []).kp_recall_text is None


def test_an_answer_of_headings_only_is_recognised() -> None:
    heading = "根据《2025年北京市政府工作报告》：（二）纵深推动京津冀协同发展[1]"
    assert headings_only(heading, [_citation(1)])
    assert headings_only("二、2025年工作总体要求和重点任务[1]\n（二）纵深推动京津冀协同发展。[1]", [_citation(1)])
    unnumbered = Citation(n=1, doc_id="x", title="x", source="x.txt", section="协同发展 › 区域路网更加完善", page=None,
                          text="区域路网更加完善\n高速公路总里程持续增长。", quote="高速公路总里程持续增长。", start=0, end=20,
                          score=1.0)
    assert headings_only("区域路网更加完善[1]", [unnumbered])  # a heading of the cited passage, though unnumbered
    assert not headings_only(heading + "\n支持雄安新区建设，深化京津冀产业链协同。[1]", [_citation(1)])
    # an article with its text, and an item of a list, are no headings
    article = _citation(1, text="第六十二条 本条例自2024年7月1日起施行。", section="第七章 附则 › 第六十二条")
    assert not headings_only("根据《北京市乡村振兴促进条例》：第六十二条 本条例自2024年7月1日起施行[1]。", [article])
    items = _citation(1, text="下列区域禁止设置标语：\n（一）党政机关办公区；\n（三）城市副中心行政办公区；",
                      section="第三章 › 第二十条")
    assert not headings_only("（三）城市副中心行政办公区[1]；", [items])
    assert headings_only("（三）推进城市副中心建设。[1]", [])  # not quoted from a passage: read as a numbered heading
    long_heading = "（一）深入落实城市总体规划，推动京津冀协同发展走深走实，加快建设现代化首都都市圈，不断提升区域综合竞争力"
    cut = _citation(1, text=long_heading + "\n正文。", section=long_heading[:40] + "…")
    assert headings_only(long_heading + "[1]", [cut])
    assert not headings_only("", [_citation(1)])
    q = _broad()
    assert score_question(q, "hybrid", _answer(q.question, heading, [_citation(1)]), []).headings_only


def test_an_answer_none_of_whose_sentences_holds_the_core_topic_is_off_topic() -> None:
    question = "2024年国务院政府工作报告如何部署京津冀协同发展？"
    terms = answer_topic_terms(question, analyse(question).to_dict())
    assert "京津冀" in terms and not {"部署", "协同", "发展", "国务院"} & set(terms)
    wrong = ("根据《2024年国务院政府工作报告》：深入实施科教兴国战略。[1]党中央全面部署。[1]"
             "构建优化协同高效的机构职能体系。[1]")
    assert off_topic(wrong, terms)
    assert not off_topic(wrong + "推动京津冀协同发展取得新进展。[1]", terms)
    # the title in the attribution prefix is no evidence of the topic
    assert off_topic("根据《北京市推进京津冀社会保障卡一卡通规定》：本规定自公布之日起施行。[1]", ["京津冀"])
    # written variants count (社保卡 / 社会保障卡); the analysis' own core topic is used when it has one
    assert not off_topic("持卡人可以凭社会保障卡就医。[1]", ["社保卡"])
    assert not off_topic("服务好存量外资企业，实际使用外资40亿美元。[1]", ["吸引外资"])  # its own word 外资
    assert off_topic("拟发行特别国债5000亿元。[1]", ["专项债券"])
    assert "副中心" in answer_topic_terms("这方面有哪些安排？", {"core_topic": ["副中心"]})
    assert answer_topic_terms("有哪些重点任务？", {"focus": ["任务"], "topic": ["北京市"]}) == []
    q = Question("b2", question, True, "broad", doc="2024年中华人民共和国国务院政府工作报告", key_points=["京津冀"])
    result = score_question(q, "hybrid", _answer(question, wrong, [_citation(1)]), [])
    assert result.off_topic is True and "京津冀" in result.topic_terms
    checked = score_question(_broad(qid="b3", question="有哪些安排？"), "hybrid",
                             _answer("有哪些安排？", wrong, [_citation(1)]), [])
    assert checked.off_topic is None  # no core topic: not checked


def test_calibration_ece_and_brier_on_known_pairs() -> None:
    cal = calibration([(0.9, True), (0.9, True), (0.9, False), (0.1, False), (None, True)])
    assert cal is not None
    assert cal["n"] == 4
    assert cal["ece"] == pytest.approx(0.2, abs=1e-3)  # 3/4·|2/3−0.9| + 1/4·|0−0.1|
    assert cal["brier"] == pytest.approx(0.21, abs=1e-4)
    assert [b["n"] for b in cal["bins"]] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 3] and len(cal["bins"]) == 10
    assert calibration([(1.0, True)])["bins"][-1]["n"] == 1  # type: ignore[index]
    assert calibration([(None, True)]) is None
    assert calibration([(0.5, True), (0.5, False)])["ece"] == 0.0  # type: ignore[index]


def test_correct_is_evidence_cited_for_answerable_and_refused_for_unanswerable() -> None:
    q = _broad()
    cited = score_question(q, "hybrid", _answer(q.question, "支持雄安新区建设。[1]", [_citation(1)], 0.8), [])
    assert cited.correct and cited.confidence == 0.8
    elsewhere = _citation(1, text="无关的段落。", section="一、回顾")
    assert not score_question(q, "hybrid", _answer(q.question, "无关。[1]", [elsewhere], 0.7), []).correct
    assert not score_question(q, "hybrid", _answer(q.question, "没有。", [], 0.2, refused=True), []).correct
    u = Question("u1", "2030年北京的目标是多少？", False, "unanswerable", why="wrong_scope")
    assert score_question(u, "hybrid", _answer(u.question, "没有。", [], 0.1, refused=True), []).correct
    assert not score_question(u, "hybrid", _answer(u.question, "支持雄安新区建设。[1]", [_citation(1)], 0.9), []).correct
    assert score_question(u, "hybrid", _answer(u.question, "没有。", [], refused=True), []).confidence is None


def _results():  # type: ignore[no-untyped-def]
    out = []
    broad = _broad()
    out.append(score_question(broad, "hybrid", _answer(broad.question, "支持雄安新区建设，深化京津冀产业链协同。[1]",
                                                       [_citation(1)], 0.9), []))
    heading = _broad(qid="b2")
    out.append(score_question(heading, "hybrid", _answer(heading.question, "（二）纵深推动京津冀协同发展[1]",
                                                         [_citation(1)], 0.6), []))
    colloquial = _broad(qid="c1", kind="colloquial", question="咱北京跟津冀一块儿发展，今年都要干啥？")
    out.append(score_question(colloquial, "hybrid", _answer(colloquial.question, "没有。", [], 0.3, refused=True), []))
    u = Question("u1", "2030年北京的目标是多少？", False, "unanswerable", why="wrong_scope")
    out.append(score_question(u, "hybrid", _answer(u.question, "没有。", [], 0.2, refused=True), []))
    return out


def test_aggregate_per_kind_and_the_report_sections(tmp_path: Path) -> None:
    results = _results()
    overall = aggregate(results)
    assert overall["kp_questions"] == 3
    assert overall["kp_recall_text"] == pytest.approx((0.5 + 0 + 0) / 3, abs=1e-3)
    assert overall["kp_recall_cited"] == pytest.approx((1.0 + 1.0 + 0) / 3, abs=1e-3)
    assert (overall["headings_only_answers"], overall["shown_answers"]) == (1, 2)
    assert overall["headings_only_rate"] == 0.5 and overall["off_topic_answers"] == 0
    assert overall["calibration"]["n"] == 4
    kinds = per_kind(results)
    assert set(kinds) == {"broad", "colloquial", "unanswerable"}
    assert kinds["colloquial"]["kp_recall_text"] == 0.0 and kinds["colloquial"]["false_refusal_rate"] == 1.0
    llm = [score_question(_broad(), "llm", _answer(_broad().question, "支持雄安新区建设。[1]", [_citation(1)], 0.7), [])]
    summary = {"set": "broad_dev", "date": "d", "writer": "llm", "questions": 4, "index": {"documents": 1, "chunks": 3},
               "configs": {"hybrid": {"overall": overall, "per_kind": kinds, "per_why": {}},
                           "llm": {"overall": aggregate(llm), "per_kind": per_kind(llm), "per_why": {}}}}
    md = render_markdown(summary, [r.to_dict() for r in results], reliability=True)
    for needle in ("## Broad answers", "kp_recall_text", "kp_recall_cited", "headings_only_rate", "off_topic_rate",
                   "### Per kind", "| colloquial |", "hybrid kp text", "llm kp text", "## Confidence calibration",
                   "ECE", "Brier", "reliability.png", "`b2` (broad, headings only)"):
        assert needle in md, needle
    target = write_report(json.loads(json.dumps(summary)), tmp_path, chart=True)
    assert (target / "reliability.png").stat().st_size > 1000
    written = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert written["configs"]["hybrid"]["overall"]["calibration"]["ece"] == overall["calibration"]["ece"]
    assert "reliability.png" in (target / "report.md").read_text(encoding="utf-8")
    no_conf = {**summary, "configs": {"hybrid": {"overall": aggregate([r for r in results if False]), "per_kind": {},
                                                 "per_why": {}}}}
    assert "No answer carried a confidence" in render_markdown(no_conf, [])


PLACEHOLDER = [
    {"id": "bd-001", "question": "2025年北京市在京津冀协同发展方面有哪些重点任务？", "history": [], "answerable": True,
     "doc": BJ, "alt_docs": [], "evidence": "推动北京城市副中心高质量发展", "kind": "broad",
     "key_points": ["北京城市副中心", "雄安新区", "京津冀"], "section": SECTION},
    {"id": "bd-002", "question": "“六链五群”是指什么？", "history": [], "answerable": True, "doc": "协同发展看京津冀",
     "alt_docs": [], "evidence": "六链五群", "kind": "colloquial", "key_points": ["六链五群", "产业"], "section": ""},
    {"id": "bd-003", "question": "2025年北京市政府工作报告里关于火星基地建设有哪些任务？", "history": [], "answerable": False,
     "doc": None, "alt_docs": [], "evidence": "", "kind": "unanswerable", "key_points": [], "why": "missing_fact"},
]


def test_assistant_eval_set_broad_dev_runs_end_to_end(tmp_path: Path, model_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """``assistant eval --set broad_dev`` on a 3-row placeholder set (the real set is written elsewhere), over
    a corpus of the seed and one report, with the real model and Chroma: the report has the new sections."""
    require_shared()
    import eval.datasets

    sets = tmp_path / "sets"
    sets.mkdir()
    (sets / "broad_dev.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in PLACEHOLDER) + "\n",
                                          encoding="utf-8")
    monkeypatch.setattr(eval.datasets, "SETS_DIR", sets)
    shared = tmp_path / "shared"
    (shared / "corpus").mkdir(parents=True)
    corpus = tmp_path / "corpus"  # the seed and one report: a small stand-in for the shipped library
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    shutil.copy(LIBRARY / f"{BJ}.txt", corpus / f"{BJ}.txt")
    eval_set = load_own_set("broad_dev", corpus, shared)
    assert [q.kind for q in eval_set.questions] == ["broad", "colloquial", "unanswerable"]
    assert eval_set.questions[0].section == SECTION and eval_set.name == "broad_dev"
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_SHARED_DIR", str(shared))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", str(model_path))
    out = tmp_path / "reports"
    rc = cli_main(["eval", "--set", "broad_dev", "--configs", "hybrid", "--no-external", "--out", str(out), "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    overall = summary["configs"]["hybrid"]["overall"]
    assert summary["set"] == "broad_dev" and overall["kp_questions"] == 2
    assert 0.0 <= overall["kp_recall_text"] <= overall["kp_recall_cited"] <= 1.0
    assert set(summary["configs"]["hybrid"]["per_kind"]) == {"broad", "colloquial", "unanswerable"}
    report = (Path(summary["report_dir"]) / "report.md").read_text(encoding="utf-8")
    assert "## Broad answers" in report and "| colloquial |" in report and "## Confidence calibration" in report
    rows = [json.loads(line) for line in (Path(summary["report_dir"]) / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {"kp_recall_text", "kp_recall_cited", "headings_only", "off_topic", "confidence", "correct"} <= set(rows[0])
    # a set that does not exist: a clear message, no stack trace
    assert cli_main(["eval", "--set", "broad_missing", "--no-external", "--out", str(out)]) == 2
    assert "broad_missing" in capsys.readouterr().err
