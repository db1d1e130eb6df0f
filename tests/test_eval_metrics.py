"""Evaluation reporting: answer status counts, refusal per unanswerable reason, document-scoped hit@5,
the external sets' block of every run's summary (and its clear skip when ../shared/eval-external is absent)."""

from __future__ import annotations

from pathlib import Path

from assistant.models import Answer, Hit
from assistant.settings import Settings
from eval.datasets import Question
from eval.metrics import aggregate, per_why, score_question
from eval.run import build_parser, external_summary, render_markdown
from index.models import Chunk


def _hit(doc_id: str, text: str) -> Hit:
    return Hit(Chunk(chunk_id=f"{doc_id}-0", doc_id=doc_id, title=doc_id, source=f"{doc_id}.txt", text=text,
                     start=0, end=len(text)), score=1.0)


def _results():  # type: ignore[no-untyped-def]
    named = Question("a1", "据甲文件，指标是多少？", True, "named_doc", doc="甲", evidence="指标为5%", key_points=["5%"],
                     names_doc=True)
    plain = Question("a2", "指标是多少？", True, "number", doc="乙", evidence="另一指标为7%", key_points=["7%"])
    missing = Question("u1", "丙文件说了什么？", False, "unanswerable", why="missing_document", missing_doc="丙")
    wrong = Question("u2", "2030年的指标是多少？", False, "unanswerable", why="wrong_scope")
    hits_named = [_hit("乙", "无关"), _hit("甲", "今年指标为5%。")]
    hits_plain = [_hit("丁", "无关")]
    return [
        score_question(named, "hybrid", Answer(question=named.question, text="指标为5%。", status="answered"),
                       hits_named),
        score_question(plain, "hybrid", Answer(question=plain.question, text="部分。", status="partial",
                                               missing=["另一指标"]), hits_plain),
        score_question(missing, "hybrid", Answer(question=missing.question, text="未收录《丙》", refused=True,
                                                 status="not_found"), hits_plain),
        score_question(wrong, "hybrid", Answer(question=wrong.question, text="只有2025年的数字", status="answered"),
                       hits_plain),
    ]


def test_status_counts_doc_scoped_hit_and_refusal_per_why() -> None:
    results = _results()
    overall = aggregate(results)
    assert overall["status_counts"] == {"answered": 2, "partial": 1, "not_found": 1}
    assert overall["doc_scoped_hit@5"] == 1.0 and overall["doc_scoped_questions"] == 1
    assert overall["doc_hit@5"] == 0.5  # today's key is unchanged
    assert overall["refusal_rate_by_why"] == {"missing_document": 1.0, "wrong_scope": 0.0}
    assert overall["refusal_rate_unanswerable"] == 0.5  # counted through Answer.refused, as before
    by_why = per_why(results)
    assert by_why["missing_document"]["refused"] == 1.0
    assert by_why["wrong_scope"]["status_counts"]["answered"] == 1
    assert results[0].rank == 2 and results[0].status == "answered" and results[0].names_doc


def test_report_shows_status_per_why_and_external_block() -> None:
    results = _results()
    summary = {"set": "t", "date": "d", "writer": "extractive", "questions": 4,
               "index": {"documents": 2, "chunks": 2},
               "configs": {"hybrid": {"overall": aggregate(results), "per_kind": {}, "per_why": per_why(results)}},
               "external": {"skipped": "../shared/eval-external not found"}}
    md = render_markdown(summary, [r.to_dict() for r in results])
    assert "doc-scoped hit@5" in md and "missing_document" in md and "not_found" in md
    assert "External sets" in md and "Skipped" in md


def test_external_block_is_skipped_with_a_message_without_the_data(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = Settings().model_copy(update={"shared_dir": tmp_path, "data_dir": tmp_path / "data"})
    out = external_summary(settings, 5, "extractive", quiet=True)
    assert "skipped" in out and "eval-external" in out["skipped"]
    assert "跳过" in capsys.readouterr().err


def test_new_flags_keep_the_old_ones() -> None:
    args = build_parser().parse_args([])
    assert args.external_limit == 20 and args.no_external is False
    args = build_parser().parse_args(["--set", "jjj_dev", "--limit", "5", "--no-external", "--external-limit", "3",
                                      "--json", "--no-chart", "--distractors", "--configs", "hybrid"])
    assert (args.set, args.limit, args.no_external, args.external_limit) == ("jjj_dev", 5, True, 3)
