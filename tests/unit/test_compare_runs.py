"""``python -m eval.compare_runs``: the refactor's equality check sees every non-timing change, and only those."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.compare_runs import compare, main


def write_run(folder: Path, summary: dict, rows: list[dict]) -> Path:
    run = folder / "20261204-000000"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    (run / "questions.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return folder


SUMMARY = {"set": "jjj", "date": "2026-12-04", "configs": {
    "hybrid": {"overall": {"false_refusal_rate": 0.09, "latency": {"total": {"p95": 0.07}}, "latency_p50": 0.03}},
    "naive": {"overall": {"false_refusal_rate": 0.3}}}}
ROWS = [{"id": "q1", "config": "hybrid", "answer": "答[1]。", "timings": {"total": 0.1}},
        {"id": "q1", "config": "naive", "answer": "甲"}]


def test_timings_and_the_naive_baseline_are_left_out(tmp_path: Path) -> None:
    before = write_run(tmp_path / "before" / "jjj", SUMMARY, ROWS)
    summary = json.loads(json.dumps(SUMMARY))
    summary["date"] = "2026-12-05"
    summary["configs"]["hybrid"]["overall"]["latency"]["total"]["p95"] = 0.5
    summary["configs"]["hybrid"]["overall"]["latency_p50"] = 0.2
    summary["configs"]["naive"]["overall"]["false_refusal_rate"] = 0.31
    rows = [{**ROWS[0], "timings": {"total": 0.9}}, {**ROWS[1], "answer": "乙"}]
    write_run(tmp_path / "after" / "jjj", summary, rows)
    assert compare(tmp_path / "before", tmp_path / "after", frozenset({"naive"})) == {"jjj": []}
    assert main([str(tmp_path / "before"), str(tmp_path / "after")]) == 0
    assert before.is_dir()


def test_a_changed_answer_or_figure_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(tmp_path / "before" / "jjj", SUMMARY, ROWS)
    summary = json.loads(json.dumps(SUMMARY))
    summary["configs"]["hybrid"]["overall"]["false_refusal_rate"] = 0.1
    write_run(tmp_path / "after" / "jjj", summary, [{**ROWS[0], "answer": "另一个答案[1]。"}, ROWS[1]])
    found = compare(tmp_path / "before", tmp_path / "after", frozenset({"naive"}))["jjj"]
    assert found == ["summary.configs.hybrid.overall.false_refusal_rate: 0.09 → 0.1",
                     "questions[0].answer: '答[1]。' → '另一个答案[1]。'"]
    assert main([str(tmp_path / "before"), str(tmp_path / "after")]) == 1
    assert "total: 2 differences" in capsys.readouterr().out
