"""``assistant eval`` / ``python -m eval``: run an evaluation set through the public API and report.

Configurations measured in the same run: ``hybrid`` (the product), ``dense`` and ``keyword``
(one retriever each, same writer and refusal), and ``naive`` (the LangChain tutorial pipeline,
see eval/baselines.py, whose answers come from the same extractive writer and never refuse).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.errors import IndexConfigMismatchError
from assistant.llm.server import LLMServer, free_port, is_up
from assistant.models import Answer
from assistant.service import Assistant
from assistant.settings import REPO_ROOT, Settings
from assistant.verify import verify

from .baselines import NaiveLangChainPipeline
from .datasets import CORPUS_FACTOR, EXTERNAL_FILES, EvalSet, Question, load_external_set, load_own_set, own_corpus
from .metrics import QuestionResult, aggregate, per_kind, per_why, score_question
from .reliability import BINS, render_reliability
from .shapes import evaluate_shapes, print_shapes_table, shape_set_path, write_shapes_report

REPORTS_DIR = REPO_ROOT / "eval" / "reports"
OWN_CONFIGS = ("hybrid", "dense", "keyword", "naive")
HEADLINE = ("hit@1", "hit@5", "mrr", "doc_hit@5", "key_point_coverage", "citation_precision", "citation_recall",
            "unsupported_sentence_rate", "refusal_rate_unanswerable", "false_refusal_rate")
LLM_COLUMNS = ("drafts", "first_token_p50", "first_token_p95", "tokens_per_s_p50", "total_p50", "total_p95",
               "unsupported_before_verification", "fallback_rate", "fallback_causes")
WHY_COLUMNS = ("missing_fact", "missing_document", "wrong_scope", "false_premise")
EXTERNAL_LIMIT = 20  # questions per external set added to every run's summary (``--external-limit``)
EXTERNAL_HEADLINE = ("questions", "hit@1", "hit@5", "mrr", "answer_in_cited_passage", "key_point_coverage",
                     "false_refusal_rate", "negative_rejection", "ece", "brier")
# Issue #24: whole answers to broad questions (what the official reads), per configuration side by side.
BROAD_COLUMNS = ("kp_recall_text", "kp_recall_cited", "kp_questions", "headings_only_rate", "headings_only_answers",
                 "off_topic_rate", "off_topic_answers", "topic_checked")
# Kinds shown first in the per-kind tables (any other kind follows in name order).
KIND_ORDER = ("fact", "number", "list", "broad", "paraphrase", "colloquial", "cross_document", "temporal",
              "follow_up", "named_doc", "unanswerable")
RELIABILITY_PNG = "reliability.png"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant eval", description="评测：检索、回答、引用与拒答")
    p.add_argument("--set", default="jjj", help=(
        "jjj | jjj_dev | broad | broad_dev | shapes | shapes_dev（历年变化与分地区对比） | cmrc2018 | rgb | drcd | external | "
        "路径.jsonl"))
    p.add_argument("--writer", choices=["extractive", "llm"], default="extractive",
                   help="回答方式：extractive（默认）或 llm（需先 make llm；未运行 assistant llm-serve 时自动启动本地"
                        " llama.cpp 服务）。llm 时默认同场对比 hybrid（摘录式）与 llm 两个配置")
    p.add_argument("--limit", type=int, default=None, help="只评测前 N 题（外部数据集默认 200）")
    p.add_argument("--json", action="store_true", help="把 summary JSON 打印到标准输出")
    p.add_argument("--distractors", action="store_true", help="把 ../shared/corpus/distractors 加入语料")
    p.add_argument("--configs", default=None, help="逗号分隔：hybrid,dense,keyword,naive")
    p.add_argument("--out", type=Path, default=REPORTS_DIR, help="报告目录")
    p.add_argument("--no-chart", action="store_true", help="不生成 chart.png")
    p.add_argument("--external-limit", type=int, default=EXTERNAL_LIMIT,
                   help=f"每次评测附带外部数据集（CMRC2018、DRCD、RGB）的题数（每集，默认 {EXTERNAL_LIMIT}）")
    p.add_argument("--no-external", action="store_true", help="不附带外部数据集的评测")
    return p


def eval_settings(base: Settings, name: str, **update: Any) -> Settings:
    """A separate data dir per evaluated corpus; models stay in the one model folder (``model_dir``),
    prepared on first use exactly as ``assistant index`` does."""
    return base.model_copy(update={"data_dir": base.data_dir / "eval" / name, **update})


def own_index_name(settings: Settings, distractors: bool = False) -> str:
    """Index folder of the own sets; other embedding backends hold other vectors, so folders of their own."""
    name = "own-distractors" if distractors else "own"
    return name if settings.embedding_backend == "torch" else f"{name}-{settings.embedding_backend}"


class LineProgress:
    """Progress as plain lines on stderr when it is no terminal (a log file, CI, ``| tee``): a line at the
    start, then at every 10 % or every ``every`` seconds, whichever comes first, and one at the end.
    Same ``update``/``close`` as the tqdm bar used on a terminal."""

    def __init__(self, total: int, desc: str, unit: str = "题", every: float = 20.0, stream: Any = None) -> None:
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.stream = stream if stream is not None else sys.stderr
        self.n = 0
        self.t0 = self._last_time = time.monotonic()
        self._last_tenth = 0
        self._closed = False
        self._print(f"开始，共 {total} {unit}" if total else "开始")

    def _print(self, message: str) -> None:
        print(f"[{self.desc}] {message}", file=self.stream, flush=True)

    def set(self, done: int, total: int | None = None, name: str = "") -> None:
        if total is not None:
            self.total = total
        self.n = done
        now = time.monotonic()
        tenth = int(10 * done / self.total) if self.total else 0
        if tenth > self._last_tenth or now - self._last_time >= self.every:
            self._last_tenth, self._last_time = tenth, now
            share = f"（{100 * done / self.total:.0f}%）" if self.total else ""
            self._print(f"{done}/{self.total} {self.unit}{share}，已用 {now - self.t0:.0f} 秒" + (f"：{name}" if name else ""))

    def update(self, n: int = 1) -> None:
        self.set(self.n + n)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._print(f"完成 {self.n}/{self.total} {self.unit}，用时 {time.monotonic() - self.t0:.0f} 秒")


def _progress(total: int, desc: str, quiet: bool, unit: str = "题"):  # type: ignore[no-untyped-def]
    """A tqdm bar on a terminal, progress lines otherwise (never silent for minutes), nothing when quiet."""
    from tqdm import tqdm

    if quiet or sys.stderr.isatty():
        return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=quiet)
    return LineProgress(total, desc, unit)


def _index_progress(desc: str, quiet: bool) -> tuple[Any, Any]:
    """(bar, callback) for ``Assistant.index``: files indexed so far."""
    bar = _progress(0, desc, quiet, unit="个文件")

    def update(done: int, total: int, name: str) -> None:
        if isinstance(bar, LineProgress):
            bar.set(done, total, name[:40])
        else:
            bar.total, bar.n = total, done
            bar.refresh()

    return bar, update


def run_config(config: str, bot: Assistant, questions: Sequence[Question], writer: str, quiet: bool,
               naive: Any = None) -> list[QuestionResult]:
    results = []
    bar = _progress(len(questions), config, quiet)
    for q in questions:
        try:
            if config == "naive":
                t0 = time.perf_counter()
                hits = naive.retrieve(q.question)
                t1 = time.perf_counter()
                draft = bot.writer("extractive").write(q.question, hits)
                checked = verify(draft, hits)
                t2 = time.perf_counter()
                answer = Answer(question=q.question, text=checked.text, citations=checked.citations,
                                unsupported=checked.unsupported, writer="naive",
                                timings={"retrieve": t1 - t0, "write": t2 - t1, "total": t2 - t0})
                result = score_question(q, config, answer, hits, answer.timings)
            else:
                answer = bot.ask(q.question, history=q.history or None, writer=writer)
                hits = bot.retrieve(answer.rewritten_question or q.question, k=10)
                result = score_question(q, config, answer, hits, answer.timings)
        except Exception as exc:
            result = QuestionResult(q.id, q.kind, q.answerable, config, q.question, error=f"{type(exc).__name__}: {exc}")
        results.append(result)
        bar.update(1)
    bar.close()
    return results


def config_writer(config: str, configs: Sequence[str], writer: str) -> str:
    """The writer of one configuration: ``llm`` is hybrid retrieval with the llm writer; when it runs,
    the other configurations keep the extractive writer (side by side in one run)."""
    if config == "llm":
        return "llm"
    return "extractive" if "llm" in configs else writer


@contextlib.contextmanager
def llm_endpoint(settings: Settings, log_dir: Path) -> Iterator[Settings]:
    """``settings`` with an answering LLM endpoint: the configured one when it answers, else a local
    llama.cpp server on the bundled GGUF for the run (stopped afterwards)."""
    if is_up(settings.llm_base_url):
        yield settings
        return
    print(f"{settings.llm_base_url} 无大模型服务，为本次评测启动本地 llama.cpp 服务……", file=sys.stderr, flush=True)
    server = LLMServer.from_settings(settings, port=free_port(), log_path=log_dir / "llm-server.log",
                                     verbose=True, start_timeout=300)
    with server:
        yield settings.model_copy(update={"llm_base_url": server.base_url, "llm_timeout": max(settings.llm_timeout, 300.0)})


def run_rgb_negative(bot: Assistant, questions: Sequence[Question], quiet: bool) -> float | None:
    """RGB negative rejection: retrieval restricted to the question's negative passages must refuse."""
    with_neg = [q for q in questions if q.negative_docs]
    if not with_neg:
        return None
    refused = 0
    bar = _progress(len(with_neg), "rgb-negative", quiet)
    for q in with_neg:
        answer = bot.ask(q.question, filters={"doc_id": q.negative_docs})
        refused += int(answer.refused)
        bar.update(1)
    bar.close()
    return round(refused / len(with_neg), 4)


def build_eval_index(name: str, corpus: Sequence[Path], settings: Settings, quiet: bool,
                     index_name: str) -> tuple[Settings, dict[str, Any]]:
    """Index ``corpus`` into the evaluation data dir ``index_name`` (rebuilt by itself when it was built
    with other settings); the settings of that index and what indexing did."""
    index_settings = eval_settings(settings, index_name)
    indexer_bot = Assistant(index_settings)
    t0 = time.perf_counter()
    bar, update = _index_progress(f"索引 {name}", quiet)
    try:
        try:
            report = indexer_bot.index(list(corpus), prune=True, progress=update)
        except IndexConfigMismatchError as exc:
            # The evaluation index is derived data of its own: rebuild it rather than stop.
            print(f"{exc.user_message} 评测索引 {index_settings.data_dir} 将自动重建。", file=sys.stderr, flush=True)
            report = indexer_bot.index(list(corpus), rebuild=True, prune=True, progress=update, allow_drop=True)
    finally:
        bar.close()
    return index_settings, {"documents": report.documents, "chunks": report.chunks,
                            "embedded": report.embedded_chunks, "seconds": round(time.perf_counter() - t0, 2)}


def evaluate(eval_set: EvalSet, settings: Settings, configs: Sequence[str], writer: str, limit: int | None,
             quiet: bool, index_name: str) -> dict[str, Any]:
    questions = eval_set.questions[: limit or None]
    index_settings, index = build_eval_index(eval_set.name, eval_set.corpus, settings, quiet, index_name)
    out: dict[str, Any] = {
        "set": eval_set.name,
        "questions": len(questions),
        "index": index,
        "configs": {},
    }
    per_question: list[dict[str, Any]] = []
    for config in configs:
        mode = config if config in ("dense", "keyword") else "hybrid"
        bot = Assistant(index_settings.model_copy(update={"retrieval_mode": mode}))
        naive = None
        if config == "naive":
            naive = NaiveLangChainPipeline(bot.embedder, eval_set.corpus, index_settings.data_dir / "naive_chroma")
        results = run_config(config, bot, questions, config_writer(config, configs, writer), quiet, naive)
        summary = {"overall": aggregate(results), "per_kind": per_kind(results), "per_why": per_why(results)}
        if eval_set.name == "rgb" and config == "hybrid":
            summary["overall"]["negative_rejection"] = run_rgb_negative(bot, questions, quiet)
        out["configs"][config] = summary
        per_question.extend(r.to_dict() for r in results)
    out["_per_question"] = per_question
    return out


def load_external(name: str, settings: Settings, limit: int) -> tuple[EvalSet, str]:
    """An external set with its corpus written under the data dir, and the name of its index folder."""
    index_name = f"ext-{name}-{limit}x{CORPUS_FACTOR[name]}"
    eval_set = load_external_set(name, settings.shared_dir, settings.data_dir / "eval" / index_name, limit)
    return eval_set, index_name


def external_summary(settings: Settings, limit: int, writer: str, quiet: bool) -> dict[str, Any]:
    """CMRC2018, DRCD and RGB (with negative rejection) on ``limit`` questions each, hybrid only.

    Added to every run's summary so that a change measured on our own sets is also seen on these.
    If ``../shared/eval-external`` is absent, says so and returns ``{"skipped": reason}``."""
    source = settings.shared_dir / "eval-external"
    if not source.is_dir():
        reason = f"{source} not found: external sets (CMRC2018, DRCD, RGB) skipped (set ASSISTANT_SHARED_DIR)"
        print(f"外部数据集未找到，跳过：{reason}", file=sys.stderr)
        return {"skipped": reason}
    out: dict[str, Any] = {"limit": limit, "writer": writer, "sets": {}}
    for name in ("cmrc2018", "drcd", "rgb"):
        try:
            eval_set, index_name = load_external(name, settings, limit)
        except FileNotFoundError as exc:
            print(f"外部数据集 {name} 跳过：{exc}", file=sys.stderr)
            out["sets"][name] = {"skipped": str(exc)}
            continue
        result = evaluate(eval_set, settings, ["hybrid"], writer, None, quiet, index_name)
        result.pop("_per_question", None)
        overall = result["configs"]["hybrid"]["overall"]
        out["sets"][name] = {
            "questions": result["questions"],
            "index": result["index"],
            **{k: overall.get(k) for k in EXTERNAL_HEADLINE if k not in ("questions", "ece", "brier")},
            "ece": (overall.get("calibration") or {}).get("ece"),
            "brier": (overall.get("calibration") or {}).get("brier"),
            "status_counts": overall.get("status_counts"),
            "latency_total": overall.get("latency", {}).get("total"),
        }
    rgb = out["sets"].get("rgb", {})
    out["rgb_negative_rejection"] = rgb.get("negative_rejection")
    out["rgb_false_refusal"] = rgb.get("false_refusal_rate")
    return out


def write_report(summary: dict[str, Any], out_dir: Path, chart: bool) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = out_dir / stamp
    target.mkdir(parents=True, exist_ok=True)
    per_question = summary.pop("_per_question", [])
    (target / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    with open(target / "questions.jsonl", "w", encoding="utf-8") as fh:
        for row in per_question:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    calibrations = _calibrations(summary)
    (target / "report.md").write_text(render_markdown(summary, per_question, reliability=chart and bool(calibrations)),
                                      encoding="utf-8")
    if chart:
        render_chart(summary, target / "chart.png")
        if calibrations:
            render_reliability(calibrations, f"{summary['set']} — confidence vs correct", target / RELIABILITY_PNG)
    return target


def _calibrations(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The configurations whose answers carried a confidence, with their calibration figures."""
    return {name: data["overall"]["calibration"] for name, data in summary.get("configs", {}).items()
            if data.get("overall", {}).get("calibration")}


def _kinds(names: Sequence[str]) -> list[str]:
    return sorted(names, key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER), k))


def broad_markdown(summary: dict[str, Any], reliability: bool, per_question: Sequence[dict[str, Any]] = ()) -> list[str]:
    """The report's sections for issue #24 (whole answers: key-point recall of the answer text, with the
    opened citations, answers of headings only, answers off the question's topic; per configuration and
    per kind, side by side) and issue #23 (confidence calibration: ECE, Brier, the reliability chart)."""
    configs = summary["configs"]
    lines = ["", "## Broad answers: what the official reads", "",
             "Key points found verbatim in the answer text ([n] removed) and counting the opened citations "
             "(answer text + every cited passage); refusals count 0. Headings only / off topic: shares of the answers "
             "shown (not refused) made only of headings / none of whose sentences holds the question's core topic.", "",
             "| config | " + " | ".join(BROAD_COLUMNS) + " |", "|---|" + "---|" * len(BROAD_COLUMNS)]
    for name, data in configs.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(data["overall"].get(k)) for k in BROAD_COLUMNS) + " |")
    kinds = _kinds(list(dict.fromkeys(k for data in configs.values() for k in data.get("per_kind", {}))))
    if kinds:
        heads = [f"{name} {col}" for name in configs for col in ("kp text", "kp +cited", "headings only", "off topic")]
        lines += ["", "### Per kind", "", "| kind | n | " + " | ".join(heads) + " |", "|---|---|" + "---|" * len(heads)]
        for kind in kinds:
            n = next((data["per_kind"][kind]["questions"] for data in configs.values() if kind in data.get("per_kind", {})), 0)
            cells = []
            for data in configs.values():
                o = data.get("per_kind", {}).get(kind, {})
                cells += [_fmt(o.get("kp_recall_text")), _fmt(o.get("kp_recall_cited")),
                          _fmt(o.get("headings_only_rate")), _fmt(o.get("off_topic_rate"))]
            lines.append(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    first = next(iter(configs))
    flagged = [r for r in per_question if r.get("config") == first and (r.get("headings_only") or r.get("off_topic"))]
    if flagged:
        lines += ["", f"Answers of headings only or off the question's topic ({first}, {len(flagged)}):", ""]
        for r in flagged[:40]:
            what = "headings only" if r.get("headings_only") else "off topic: no sentence holds " + "、".join(
                r.get("topic_terms") or [])
            lines.append(f"- `{r['id']}` ({r['kind']}, {what}): {r['question']}")
    lines += ["", "## Confidence calibration", ""]
    calibrations = _calibrations(summary)
    if not calibrations:
        lines.append("No answer carried a confidence (Answer.confidence is absent or None): nothing to calibrate.")
        return lines
    lines += ["Correct: an answerable question answered with the evidence in a citation, an unanswerable one refused. "
              f"ECE over {BINS} equal-width bins.", "",
              "| config | n | ECE | Brier | mean confidence | observed correct |", "|---|---|---|---|---|---|"]
    for name, cal in calibrations.items():
        lines.append(f"| {name} | {cal['n']} | {_fmt(cal['ece'])} | {_fmt(cal['brier'])} | "
                     f"{_fmt(cal['mean_confidence'])} | {_fmt(cal['accuracy'])} |")
    first_name = next(iter(configs))
    per_kind_cal = {k: o["calibration"] for k, o in configs[first_name].get("per_kind", {}).items() if o.get("calibration")}
    if per_kind_cal:
        lines += ["", f"Per kind ({first_name}): " + ", ".join(
            f"{k} ECE {_fmt(c['ece'])} / Brier {_fmt(c['brier'])} (n={c['n']})"
            for k, c in sorted(per_kind_cal.items(), key=lambda kv: _kinds(list(per_kind_cal)).index(kv[0])))]
    for name, cal in calibrations.items():
        lines += ["", f"Bins ({name}): " + ", ".join(
            f"[{b['lo']:.1f}, {b['hi']:.1f}) n={b['n']} conf {_fmt(b['confidence'])} correct {_fmt(b['accuracy'])}"
            for b in cal["bins"] if b["n"])]
    if reliability:
        lines += ["", f"![reliability]({RELIABILITY_PNG})"]
    return lines


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def render_markdown(summary: dict[str, Any], per_question: Sequence[dict[str, Any]], reliability: bool = False) -> str:
    lines = [f"# 评测报告 / Evaluation report — {summary['set']}", "",
             f"Date: {summary['date']} · writer: {summary['writer']} · questions: {summary['questions']} · "
             f"index: {summary['index']['documents']} documents, {summary['index']['chunks']} chunks", "",
             "## Overall", "", "| config | " + " | ".join(HEADLINE) + " |",
             "|---|" + "---|" * len(HEADLINE)]
    for name, data in summary["configs"].items():
        o = data["overall"]
        lines.append(f"| {name} | " + " | ".join(_fmt(o.get(k)) for k in HEADLINE) + " |")
    for name, data in summary["configs"].items():
        lat = data["overall"].get("latency", {})
        if lat:
            lines += ["", f"Latency ({name}): " + ", ".join(
                f"{stage} p50 {v['p50'] * 1000:.0f} ms / p95 {v['p95'] * 1000:.0f} ms" for stage, v in lat.items())]
        extra = {k: data["overall"].get(k) for k in ("negative_rejection", "answer_in_cited_passage")}
        if any(v is not None for v in extra.values()):
            lines += ["", f"{name}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in extra.items() if v is not None)]
    llm_rows = [(name, data["overall"]["llm"]) for name, data in summary["configs"].items() if data["overall"].get("llm")]
    if llm_rows:
        lines += ["", "## llm writer", "", "| config | " + " | ".join(LLM_COLUMNS) + " |",
                  "|---|" + "---|" * len(LLM_COLUMNS)]
        lines += [f"| {name} | " + " | ".join(_fmt(o.get(k)) for k in LLM_COLUMNS) + " |" for name, o in llm_rows]
    lines += ["", "## Answer status and document-scoped retrieval", "",
              "| config | answered | partial | not_found | doc-scoped hit@5 (n) |", "|---|---|---|---|---|"]
    for name, data in summary["configs"].items():
        o = data["overall"]
        sc = o.get("status_counts") or {}
        lines.append(f"| {name} | {sc.get('answered', 0)} | {sc.get('partial', 0)} | {sc.get('not_found', 0)} | "
                     f"{_fmt(o.get('doc_scoped_hit@5'))} ({o.get('doc_scoped_questions', 0)}) |")
    first = next(iter(summary["configs"]))
    lines += ["", f"## Per kind ({first})", "",
              "| kind | n | hit@1 | hit@5 | mrr | doc hit@5 | key points | citation recall | refused | "
              "answered / partial / not_found |", "|---|---|---|---|---|---|---|---|---|---|"]
    per_kind_rows = summary["configs"][first]["per_kind"]
    for kind in _kinds(list(per_kind_rows)):
        o = per_kind_rows[kind]
        refused = o["refusal_rate_unanswerable"] if kind == "unanswerable" else o["false_refusal_rate"]
        sc = o.get("status_counts") or {}
        lines.append(f"| {kind} | {o['questions']} | {_fmt(o['hit@1'])} | {_fmt(o['hit@5'])} | {_fmt(o['mrr'])} | "
                     f"{_fmt(o['doc_hit@5'])} | {_fmt(o['key_point_coverage'])} | {_fmt(o['citation_recall'])} | "
                     f"{_fmt(refused)} | {sc.get('answered', 0)} / {sc.get('partial', 0)} / {sc.get('not_found', 0)} |")
    whys = summary["configs"][first].get("per_why") or {}
    if whys:
        lines += ["", f"## Unanswerable questions per reason ({first})", "",
                  "| why | n | refused | answered / partial / not_found |", "|---|---|---|---|"]
        for why, o in whys.items():
            sc = o["status_counts"]
            lines.append(f"| {why} | {o['questions']} | {_fmt(o['refused'])} | "
                         f"{sc.get('answered', 0)} / {sc.get('partial', 0)} / {sc.get('not_found', 0)} |")
    lines += broad_markdown(summary, reliability, per_question)
    ext = summary.get("external")
    if ext:
        lines += ["", "## External sets (hybrid)", ""]
        if "skipped" in ext:
            lines.append(f"Skipped: {ext['skipped']}")
        else:
            lines += [f"{ext['limit']} questions per set.", "", "| set | " + " | ".join(EXTERNAL_HEADLINE) + " |",
                      "|---|" + "---|" * len(EXTERNAL_HEADLINE)]
            for name, o in ext["sets"].items():
                if "skipped" in o:
                    lines.append(f"| {name} | skipped: {o['skipped']} |")
                else:
                    lines.append(f"| {name} | " + " | ".join(_fmt(o.get(k)) for k in EXTERNAL_HEADLINE) + " |")
            lines += ["", f"RGB negative rejection {_fmt(ext.get('rgb_negative_rejection'))}, "
                          f"RGB false refusal {_fmt(ext.get('rgb_false_refusal'))}"]
    failures = [r for r in per_question if r["config"] == first and (
        (r["answerable"] and (r["refused"] or not r["rank"])) or (not r["answerable"] and not r["refused"]))]
    lines += ["", f"## Failures ({first}, {len(failures)})", ""]
    for r in failures[:60]:
        why = "false refusal" if r["answerable"] and r["refused"] else (
            "not retrieved" if r["answerable"] else "answered an unanswerable question")
        lines.append(f"- `{r['id']}` ({r['kind']}, {why}, evidence {r['evidence_score']:.2f}): {r['question']}")
    return "\n".join(lines) + "\n"


def render_chart(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["hit@1", "hit@5", "mrr", "key_point_coverage", "citation_recall", "refusal_rate_unanswerable"]
    configs = list(summary["configs"])
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(configs))
    for i, name in enumerate(configs):
        values = [summary["configs"][name]["overall"].get(m) or 0.0 for m in metrics]
        ax.bar([x + i * width for x in range(len(metrics))], values, width, label=name)
    ax.set_xticks([x + width * (len(configs) - 1) / 2 for x in range(len(metrics))], metrics, rotation=15)
    ax.set_ylim(0, 1)
    ax.set_title(f"{summary['set']} — {summary['date']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def print_table(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"评测 {summary['set']}（{summary['questions']} 题）")
    table.add_column("config")
    for key in HEADLINE:
        table.add_column(key, justify="right")
    for name, data in summary["configs"].items():
        table.add_row(name, *(_fmt(data["overall"].get(k)) for k in HEADLINE))
    console = Console(file=sys.stderr, width=max(160, Console().width))
    console.print(table)
    extra = Table(title="回答状态 · 按文件检索 · 拒答（按原因）")
    for col in ("config", "answered", "partial", "not_found", "doc-scoped hit@5", *WHY_COLUMNS):
        extra.add_column(col, justify="right")
    for name, data in summary["configs"].items():
        o = data["overall"]
        sc = o.get("status_counts") or {}
        by_why = o.get("refusal_rate_by_why") or {}
        extra.add_row(name, *(str(sc.get(s, 0)) for s in ("answered", "partial", "not_found")),
                      _fmt(o.get("doc_scoped_hit@5")), *(_fmt(by_why.get(w)) for w in WHY_COLUMNS))
    console.print(extra)
    broad = Table(title="整段回答（#24：要点召回＝回答正文 / 含引文；仅标题、偏题的回答比例）与置信度校准（#23）")
    for col in ("config", "kp 正文", "kp 含引文", "仅标题", "偏题", "ECE", "Brier"):
        broad.add_column(col, justify="right")
    for name, data in summary["configs"].items():
        o = data["overall"]
        cal = o.get("calibration") or {}
        broad.add_row(name, _fmt(o.get("kp_recall_text")), _fmt(o.get("kp_recall_cited")), _fmt(o.get("headings_only_rate")),
                      _fmt(o.get("off_topic_rate")), _fmt(cal.get("ece")), _fmt(cal.get("brier")))
    console.print(broad)
    llm_rows = [(name, data["overall"]["llm"]) for name, data in summary["configs"].items() if data["overall"].get("llm")]
    if llm_rows:
        lt = Table(title="llm 回答（首字时间从提问算起，单位秒；unsupported 为核对前的草稿句子比例）")
        lt.add_column("config")
        for key in LLM_COLUMNS:
            lt.add_column(key, justify="right")
        for name, o in llm_rows:
            lt.add_row(name, *(_fmt(o.get(k)) for k in LLM_COLUMNS))
        console.print(lt)
    ext = summary.get("external")
    if ext and "skipped" not in ext:
        et = Table(title=f"外部数据集（hybrid，每集 {ext['limit']} 题）")
        et.add_column("set")
        for key in EXTERNAL_HEADLINE:
            et.add_column(key, justify="right")
        for name, o in ext["sets"].items():
            et.add_row(name, *(("skipped",) + ("",) * (len(EXTERNAL_HEADLINE) - 1) if "skipped" in o
                               else tuple(_fmt(o.get(k)) for k in EXTERNAL_HEADLINE)))
        console.print(et)
    elif ext:
        console.print(f"外部数据集：{ext['skipped']}")


def run_shape_set(args: argparse.Namespace, settings: Settings, name: str, path: Path) -> dict[str, Any]:
    """``--set shapes|shapes_dev``: timeline and side-by-side questions (``eval/shapes.py``), hybrid only."""
    quiet = args.json
    corpus = own_corpus(settings.corpus_dir, settings.shared_dir)
    if args.distractors:
        corpus.append(settings.shared_dir / "corpus" / "distractors")
    index_settings, index = build_eval_index(name, corpus, settings, quiet,
                                             own_index_name(settings, args.distractors))
    with contextlib.ExitStack() as stack:
        run_settings = index_settings.model_copy(update={"writer": args.writer})
        if args.writer == "llm":
            run_settings = stack.enter_context(llm_endpoint(run_settings, settings.data_dir / "logs"))
        summary, results = evaluate_shapes(Path(path).stem if name not in ("shapes", "shapes_dev") else name, path,
                                           Assistant(run_settings), index, args.limit, quiet, _progress)
    summary["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["writer"] = args.writer
    summary["distractors"] = bool(args.distractors)
    target = args.out / datetime.now().strftime("%Y%m%d-%H%M%S")
    write_shapes_report(summary, results, target)
    summary["report_dir"] = str(target)
    if not quiet:
        print_shapes_table(summary)
        o = summary["overall"]
        print(f"用时（整条回答）：p50 {_fmt(o['latency_p50'])} 秒，p95 {_fmt(o['latency_p95'])} 秒；"
              f"{o['long_timelines']} 条十年以上的历年问题 p95 {_fmt(o['latency_p95_long'])} 秒", file=sys.stderr)
        print(f"报告已写入 {target}", file=sys.stderr)
    else:
        print(json.dumps(summary, ensure_ascii=False))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    quiet = args.json
    names = list(EXTERNAL_FILES) if args.set == "external" else [args.set]
    last: dict[str, Any] = {}
    for name in names:
        shape_path = shape_set_path(name)
        if shape_path is not None:
            last = run_shape_set(args, settings, name, shape_path)
            continue
        if name in EXTERNAL_FILES:
            limit = args.limit or 200
            eval_set, index_name = load_external(name, settings, limit)
            configs = (args.configs or "hybrid").split(",")
        else:
            try:
                eval_set = load_own_set(name, settings.corpus_dir, settings.shared_dir)
            except FileNotFoundError as exc:
                print(f"评测集 {name} 无法读取：{exc}", file=sys.stderr)
                return 2
            if args.distractors:
                eval_set.corpus.append(settings.shared_dir / "corpus" / "distractors")
            default = "hybrid,llm" if args.writer == "llm" else ",".join(OWN_CONFIGS)
            configs = (args.configs or default).split(",")
            index_name = own_index_name(settings, args.distractors)
        with contextlib.ExitStack() as stack:
            run_settings = settings
            if args.writer == "llm" or "llm" in configs:
                run_settings = stack.enter_context(llm_endpoint(settings, settings.data_dir / "logs"))
            summary = evaluate(eval_set, run_settings, configs, args.writer,
                               None if eval_set.external else args.limit, quiet, index_name)
        summary["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        summary["writer"] = args.writer
        summary["settings"] = {k: v for k, v in settings.model_dump(mode="json").items()
                               if k in ("embedding_backend", "chunk_size", "chunk_overlap", "top_k", "dense_k", "keyword_k", "fusion",
                                        "rrf_k", "refusal_threshold", "embedding_model", "llm_model",
                                        "llm_prompt_budget", "llm_threads", "llm_max_tokens")}
        summary["distractors"] = bool(args.distractors)
        if not eval_set.external and not args.no_external:
            # the external sets' figures in every run's summary (a set of their own is not repeated here)
            summary["external"] = external_summary(settings, args.external_limit, args.writer, quiet)
        target = write_report(summary, args.out, chart=not args.no_chart)
        summary["report_dir"] = str(target)
        if not quiet:
            print_table(summary)
            print(f"报告已写入 {target}", file=sys.stderr)
        last = summary
        if args.json:
            print(json.dumps(summary, ensure_ascii=False))
    return 0 if last else 1
