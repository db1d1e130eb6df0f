"""Timeline and side-by-side questions (``assistant eval --set shapes|shapes_dev``).

Each question of ``eval/sets/shapes*.jsonl`` (written by ``eval/sets/make_shapes.py``) lists the rows it
expects: a year or a region, the row's document, and the verbatim key phrases that answer it there, or
``"none"`` when that document is silent on the topic. Measured per run:

- **row recall**: expected rows with a key phrase whose row in the answer is answered and cites a
  passage of that row's document holding one of the key phrases (``row_recall_quote``: the quoted
  span itself holds it);
- **row precision**: rows of the answer that belong to an expected year/region/document and cite
  nothing from another one;
- **false "none"**: expected rows with a key phrase that the answer marks not_found;
- **none accuracy**: rows expected "none" that the answer marks not_found;
- **layout accuracy**: timeline / comparison / plain as expected (plain questions with a shape word
  too), and the latency of whole answers (p50/p95; separately for timelines of ten or more years).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.models import Answer, AnswerSection
from assistant.service import Assistant

from .datasets import SETS_DIR, load_jsonl

SHAPE_SETS = ("shapes", "shapes_dev")
HEADLINE = ("layout_accuracy", "row_recall", "row_recall_quote", "row_precision", "false_none_rate",
            "none_accuracy", "latency_p50", "latency_p95", "latency_p95_long")
LONG_TIMELINE = 10  # rows: "twelve years of reports"


@dataclass
class ExpectedRow:
    row: str
    doc: str
    year: int | None
    region: str | None
    keys: list[str]  # empty: the document is silent on the topic ("none")


@dataclass
class ShapeQuestion:
    id: str
    question: str
    kind: str  # evolution | side_by_side | plain
    layout: str
    rows: list[ExpectedRow]


def is_shape_set(path: Path) -> bool:
    rows = load_jsonl(path)
    return bool(rows) and "rows" in rows[0] and "layout" in rows[0]


def shape_set_path(name_or_path: str) -> Path | None:
    """The file of a shapes set named ``shapes``/``shapes_dev`` or given as a path; None for other sets."""
    if name_or_path in SHAPE_SETS:
        return SETS_DIR / f"{name_or_path}.jsonl"
    path = Path(name_or_path)
    return path if path.suffix == ".jsonl" and path.exists() and is_shape_set(path) else None


def load_shape_set(path: Path) -> list[ShapeQuestion]:
    out = []
    for r in load_jsonl(path):
        rows = [ExpectedRow(x["row"], x["doc"], x.get("year"), x.get("region"),
                            [] if x["key"] == "none" else [x["key"], *x.get("alt_keys", [])]) for x in r["rows"]]
        out.append(ShapeQuestion(r["id"], r["question"], r["kind"], r["layout"], rows))
    return out


@dataclass
class ShapeResult:
    id: str
    kind: str
    question: str
    expected_layout: str
    layout: str = ""
    status: str = ""
    rows_with_key: int = 0
    recall_hits: int = 0
    recall_quote_hits: int = 0
    false_none: int = 0
    none_rows: int = 0
    none_correct: int = 0
    sections: int = 0
    sections_correct: int = 0
    expected_rows: int = 0
    seconds: float = 0.0
    answer: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)  # per expected row: what the answer did
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _section_docs(answer: Answer, section: AnswerSection) -> set[str]:
    by_n = {c.n: c for c in answer.citations}
    return {by_n[n].doc_id for n in section.citations if n in by_n} | ({section.doc_id} if section.doc_id else set())


def match_section(answer: Answer, row: ExpectedRow) -> AnswerSection | None:
    """The answer's row for an expected row: the one of its document, else the one of its year or region."""
    for section in answer.sections:
        if row.doc in _section_docs(answer, section):
            return section
    for section in answer.sections:
        if row.year is not None and section.year == row.year and answer.layout == "timeline":
            return section
        if row.region is not None and section.region == row.region and answer.layout == "comparison":
            return section
        if section.label == row.row:
            return section
    return None


def score_shape(q: ShapeQuestion, answer: Answer, seconds: float) -> ShapeResult:
    r = ShapeResult(q.id, q.kind, q.question, q.layout, layout=answer.layout, status=answer.status,
                    seconds=seconds, answer=answer.text, expected_rows=len(q.rows))
    by_n = {c.n: c for c in answer.citations}
    matched: dict[int, ExpectedRow] = {}
    for row in q.rows:
        section = match_section(answer, row)
        if section is not None:
            matched[id(section)] = row
        cited = [by_n[n] for n in (section.citations if section else []) if n in by_n]
        own = [c for c in cited if c.doc_id == row.doc]
        hit = bool(section and section.status == "answered" and any(k in c.text for c in own for k in row.keys))
        quote_hit = bool(section and section.status == "answered" and any(
            k in c.quote or (len(c.quote) >= 6 and c.quote in k) for c in own for k in row.keys))
        if row.keys:
            r.rows_with_key += 1
            r.recall_hits += hit
            r.recall_quote_hits += quote_hit
            r.false_none += bool(section and section.status == "not_found")
        else:
            r.none_rows += 1
            r.none_correct += bool(section and section.status == "not_found")
        r.rows.append({"row": row.row, "doc": row.doc, "expected": "none" if not row.keys else "key",
                       "section": section.label if section else None,
                       "status": section.status if section else None, "hit": hit, "quote_hit": quote_hit,
                       "cited_docs": sorted({c.doc_id for c in cited})})
    for section in answer.sections:
        r.sections += 1
        expected = matched.get(id(section))
        wrong_docs = expected is None or any(by_n[n].doc_id != expected.doc for n in section.citations if n in by_n)
        r.sections_correct += not wrong_docs
    return r


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _pct(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))], 4)


def aggregate_shapes(results: Sequence[ShapeResult]) -> dict[str, Any]:
    ok = [r for r in results if not r.error]
    shaped = [r for r in ok if r.expected_layout != "plain"]
    long = [r.seconds for r in shaped if r.expected_layout == "timeline" and r.expected_rows >= LONG_TIMELINE]
    secs = [r.seconds for r in shaped]
    return {
        "questions": len(results),
        "errors": sum(1 for r in results if r.error),
        "layout_accuracy": _ratio(sum(r.layout == r.expected_layout for r in ok), len(ok)),
        "row_recall": _ratio(sum(r.recall_hits for r in shaped), sum(r.rows_with_key for r in shaped)),
        "row_recall_quote": _ratio(sum(r.recall_quote_hits for r in shaped), sum(r.rows_with_key for r in shaped)),
        "row_precision": _ratio(sum(r.sections_correct for r in shaped), sum(r.sections for r in shaped)),
        "false_none_rate": _ratio(sum(r.false_none for r in shaped), sum(r.rows_with_key for r in shaped)),
        "none_accuracy": _ratio(sum(r.none_correct for r in shaped), sum(r.none_rows for r in shaped)),
        "expected_rows": sum(r.expected_rows for r in shaped),
        "rows_with_key": sum(r.rows_with_key for r in shaped),
        "none_rows": sum(r.none_rows for r in shaped),
        "latency_p50": _pct(secs, 50),
        "latency_p95": _pct(secs, 95),
        "latency_mean": round(statistics.fmean(secs), 4) if secs else None,
        "latency_p95_long": _pct(long, 95),
        "long_timelines": len(long),
    }


def run_shapes(bot: Assistant, questions: Sequence[ShapeQuestion], progress: Any = None) -> list[ShapeResult]:
    """Ask every question (after one warm-up question, so that loading the model is not timed)."""
    bot.ask("京津冀协同发展")
    results = []
    for q in questions:
        try:
            t = time.perf_counter()
            answer = bot.ask(q.question)
            results.append(score_shape(q, answer, time.perf_counter() - t))
        except Exception as exc:
            results.append(ShapeResult(q.id, q.kind, q.question, q.layout, error=f"{type(exc).__name__}: {exc}"))
        if progress is not None:
            progress.update(1)
    return results


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def render_shapes_markdown(summary: dict[str, Any], results: Sequence[dict[str, Any]]) -> str:
    lines = [f"# 评测报告 / Evaluation report — {summary['set']} (timelines and side-by-side answers)", "",
             f"Date: {summary['date']} · questions: {summary['questions']} · index: "
             f"{summary['index']['documents']} documents, {summary['index']['chunks']} chunks", "",
             "| scope | " + " | ".join(HEADLINE) + " |", "|---|" + "---|" * len(HEADLINE)]
    for name, o in (("all", summary["overall"]), *summary["per_kind"].items()):
        lines.append(f"| {name} | " + " | ".join(_fmt(o.get(k)) for k in HEADLINE) + " |")
    o = summary["overall"]
    lines += ["", f"Rows: {o['expected_rows']} expected ({o['rows_with_key']} with a key phrase, {o['none_rows']} "
                  f"\"none\"). Latency in seconds per whole answer on this machine; p95 over the timelines of "
                  f"{LONG_TIMELINE}+ years: {_fmt(o['latency_p95_long'])} ({o['long_timelines']} questions).",
              "", "## Rows missed, wrong or wrongly \"none\"", ""]
    for r in results:
        bad = [x for x in r["rows"] if (x["expected"] == "key" and not x["hit"]) or
               (x["expected"] == "none" and x["status"] != "not_found")]
        if r["layout"] != r["expected_layout"] or bad or r["error"]:
            lines.append(f"- `{r['id']}` ({r['expected_layout']} → {r['layout'] or 'error'}): {r['question']}")
            for x in bad:
                lines.append(f"  - {x['row']}: expected {x['expected']}, got {x['status'] or 'no row'}"
                             f" citing {', '.join(x['cited_docs']) or 'nothing'}")
            if r["error"]:
                lines.append(f"  - error: {r['error']}")
    return "\n".join(lines) + "\n"


def print_shapes_table(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"评测 {summary['set']}（{summary['questions']} 题：历年变化与分地区对比）")
    table.add_column("scope")
    for key in HEADLINE:
        table.add_column(key, justify="right")
    for name, o in (("all", summary["overall"]), *summary["per_kind"].items()):
        table.add_row(name, *(_fmt(o.get(k)) for k in HEADLINE))
    Console(file=sys.stderr, width=160).print(table)


def evaluate_shapes(name: str, path: Path, bot: Assistant, index: dict[str, Any], limit: int | None,
                    quiet: bool, progress_factory: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    questions = load_shape_set(path)[: limit or None]
    bar = progress_factory(len(questions), name, quiet)
    results = run_shapes(bot, questions, bar)
    bar.close()
    kinds = sorted({r.kind for r in results})
    summary = {"set": name, "questions": len(results), "index": index,
               "overall": aggregate_shapes(results),
               "per_kind": {k: aggregate_shapes([r for r in results if r.kind == k]) for k in kinds}}
    return summary, [r.to_dict() for r in results]


def write_shapes_report(summary: dict[str, Any], results: list[dict[str, Any]], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    with open(target / "questions.jsonl", "w", encoding="utf-8") as fh:
        for row in results:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (target / "report.md").write_text(render_shapes_markdown(summary, results), encoding="utf-8")
