"""The bench results: the table printed at the end, the plot, merging and writing result files."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .common import stamp
from .plan import GOALS, SECTIONS
from .results import (
    BenchResults,
    ChunkLengths,
    ColdResult,
    ConcurrencyResult,
    IngestResult,
    LlmResult,
    QueryResult,
    RunMeta,
    ScaleResult,
    SectionError,
    SideResult,
)


# -- output -----------------------------------------------------------------------------------------
def _fmt(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}{unit}"
    return f"{value}{unit}"


def _lengths(stats: ChunkLengths | None) -> str:
    if stats is None or not stats.count or stats.p10 is None or stats.p50 is None or stats.p90 is None:
        return "–"
    return f"{stats.p10:.0f} / {stats.p50:.0f} / {stats.p90:.0f} (<120: {100 * (stats.under_120 or 0):.0f}%)"


def _typed(results: BenchResults | dict[str, Any]) -> BenchResults:
    return results if isinstance(results, BenchResults) else BenchResults.from_json(results)


def table_rows(results: BenchResults | dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(metric, value, goal, verdict) rows for the console table."""
    results = _typed(results)
    rows: list[tuple[str, str, str, str]] = []

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("✓" if ok else "✗")

    ing = results.ingest
    if isinstance(ing, IngestResult):
        rows += [
            ("ingest: ours chunks/s | chars/s", f"{ing.ours_chunks_per_s} | {ing.ours_chars_per_s}", "", ""),
            (f"ingest: raw embedder chunks/s ({ing.embedder.backend if ing.embedder else 'torch'})",
             _fmt(ing.raw_chunks_per_s), "", ""),
            ("ingest: ratio ours/raw", _fmt(ing.ratio_ours_to_raw), f"≥ {GOALS['ingest_ratio_min']}",
             verdict(ing.ratio_ours_to_raw >= GOALS["ingest_ratio_min"])),
        ]
        speedup = ing.speedup_ours_to_torch_fp32
        ref = ing.naive_torch_fp32
        rows += [
            ("ingest: speed-up over torch fp32 (raw | ours)", f"{_fmt(ref.speedup_raw)} | {_fmt(speedup)}",
             f"≥ {GOALS['ingest_speedup_min']}",
             verdict(None if speedup is None else speedup >= GOALS["ingest_speedup_min"])),
            ("ingest: cosine to torch fp32 (min)", _fmt(ref.cosine_to_torch_min, digits=5), "", ""),
            ("ingest: naive LangChain chunks/s", _fmt(ing.naive_langchain.chunks_per_s), "", ""),
        ]
        if ing.chunk_lengths is not None:
            rows.append(("ingest (a): chunk length p10 / p50 / p90 [chars]", _lengths(ing.chunk_lengths), "", ""))
    side = results.side
    if isinstance(side, SideResult):
        docs, chars = side.documents, side.characters
        for name, part in [("ours", side.ours), *side.naive.items()]:
            rows.append((f"side ({docs} docs, {chars / 1e6:.2f}M chars): {name} wall s | docs/s | chars/s",
                         f"{part.wall_s} | {part.documents_per_s} | {part.chars_per_s}",
                         f"< {GOALS['side_wall_max_s']:.0f} s" if name == "ours" else "",
                         verdict(part.wall_s < GOALS["side_wall_max_s"]) if name == "ours" else ""))
            rows.append((f"side: {name} chunks | length p10 / p50 / p90",
                         f"{part.chunks} | {_lengths(part.chunk_lengths)}", "", ""))
            rows.append((f"side: {name} hit@5 | doc hit@5 ({part.retrieval.questions} questions)",
                         f"{part.retrieval.hit_at_5} | {part.retrieval.doc_hit_at_5}", "", ""))
        for key, goal in (("naive_torch_fp32", "side_vs_naive_torch_min"), ("naive_onnx_int8", "side_vs_naive_int8_min")):
            ratio = side.ratio(key)
            if ratio is not None:
                rows.append((f"side: chars/s ours / {key}", _fmt(ratio), f"≥ {GOALS[goal]}", verdict(ratio >= GOALS[goal])))
    q = results.query
    if isinstance(q, QueryResult):
        for label, run in (("a", q.a), ("b", q.b)):
            if run is None:
                continue
            ours, naive = run.ours, run.naive_bm25_per_query
            p95 = ours.p95_s
            rows.append((f"query ({label}): ours p50 / p95 [s]", f"{_fmt(ours.p50_s)} / {_fmt(p95)}",
                         f"p95 < {GOALS['query_p95_b_max_s']} s" if label == "b" else "",
                         verdict(p95 is not None and p95 < GOALS["query_p95_b_max_s"]) if label == "b" else ""))
            rows.append((f"query ({label}): naive p50 / p95 [s]", f"{_fmt(naive.p50_s)} / {_fmt(naive.p95_s)}", "", ""))
            ratio = run.ratio_p50_ours_to_naive
            rows.append((f"query ({label}): ratio p50 ours/naive", _fmt(ratio), f"≤ {GOALS['query_ratio_max']}",
                         verdict(None if ratio is None else ratio <= GOALS["query_ratio_max"])))
    scale = results.scale
    for point in scale.points if isinstance(scale, ScaleResult) else []:
        fig = point.figures
        if point.error is not None or fig is None:
            rows.append((f"scale {point.fraction:.0%}", "error", "", "✗"))
            continue
        rss = f"{fig.peak_rss_bytes / 2**20:.0f} MiB" if fig.peak_rss_bytes is not None else "—"
        rows.append((
            f"scale {point.fraction:.0%} ({point.characters / 1e6:.2f}M chars, {fig.chunks} chunks)",
            f"disk {point.disk_bytes / 2**20:.1f} MiB, p50 {_fmt(fig.p50_s)} s, p95 {_fmt(fig.p95_s)} s, peak RSS {rss}",
            "", ""))
    cold = results.cold
    if isinstance(cold, ColdResult):
        rows.append(("cold start → first /ask answer [s]", _fmt(cold.first_answer_s), "", ""))
    conc = results.concurrency
    if isinstance(conc, ConcurrencyResult):
        rows.append((f"concurrency {conc.clients} clients: answers/s | p95 [s]",
                     f"{_fmt(conc.answers_per_s)} | {_fmt(conc.latency.p95_s)}", "", ""))
        rows.append(("concurrency errors / mix-ups", f"{conc.errors} / {conc.mixups}", "0 / 0",
                     verdict(conc.errors == 0 and conc.mixups == 0)))
    llm = results.llm
    if isinstance(llm, LlmResult):
        if llm.skipped is not None:
            rows.append(("llm", "skipped: " + llm.skipped[:60], "", "—"))
        elif "ttft_p50_s" in llm.model_fields_set:
            rows.append(("llm: TTFT p50 [s] | tokens/s", f"{_fmt(llm.ttft_p50_s)} | {_fmt(llm.tokens_per_s_mean)}",
                         "", ""))
    for name in SECTIONS:
        sec = results.section(name)
        if isinstance(sec, SectionError):
            rows.append((name, "error: " + sec.error.splitlines()[-1][:80], "", "✗"))
    return rows


def print_table(results: BenchResults) -> None:
    from rich.console import Console
    from rich.table import Table

    quick = results.meta is not None and results.meta.quick
    table = Table(title="京津冀政策助手 · bench" + (" (quick)" if quick else ""))
    for col in ("metric", "value", "goal", ""):
        table.add_column(col)
    for row in table_rows(results):
        table.add_row(*row)
    Console(stderr=False).print(table)


def plot(results: BenchResults | dict[str, Any], target: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = _typed(results)
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    ax = axes[0][0]
    ing = results.ingest
    if isinstance(ing, IngestResult):
        backend = ing.embedder.backend if ing.embedder else "torch"
        speedup_raw = ing.naive_torch_fp32.speedup_raw or 1.0
        labels = ["ours (index)", f"raw embedder\n({backend})", "torch fp32\n(naive encoder)", "naive LangChain"]
        values = [ing.ours_chunks_per_s, ing.raw_chunks_per_s, ing.raw_chunks_per_s / speedup_raw,
                  ing.naive_langchain.chunks_per_s or 0]
        ax.bar(labels, values, color=["tab:blue", "tab:gray", "silver", "tab:orange"])
        ax.set_title(f"ingest throughput (ratio ours/raw {ing.ratio_ours_to_raw})")
        ax.set_ylabel("chunks / s")
    else:
        ax.set_axis_off()
    ax = axes[0][1]
    q = results.query
    runs = [(label, run) for label, run in (("(a) topic", q.a), ("(b) + distractors", q.b)) if run is not None] \
        if isinstance(q, QueryResult) else []
    if runs:
        x = np.arange(len(runs))
        w = 0.2
        ms = [(run.ours.p50_s, run.ours.p95_s, run.naive_bm25_per_query.p50_s, run.naive_bm25_per_query.p95_s)
              for _, run in runs]
        bars = (("ours p50", "tab:blue"), ("ours p95", "lightsteelblue"), ("naive p50", "tab:orange"),
                ("naive p95", "navajowhite"))
        for i, (label, color) in enumerate(bars):
            ax.bar(x + (i - 1.5) * w, [(m[i] or 0) * 1000 for m in ms], w, label=label, color=color)
        ax.set_xticks(x, [label for label, _ in runs])
        ax.set_yscale("log")
        ax.set_ylabel("ms per question (log)")
        ax.set_title("query latency, warm process")
        ax.legend(fontsize=8)
    else:
        ax.set_axis_off()
    scale = results.scale
    points = [(p, p.figures) for p in (scale.points if isinstance(scale, ScaleResult) else [])
              if p.error is None and p.figures is not None]
    ax, ax2 = axes[1][0], axes[1][1]
    if points:
        chars = [p.characters / 1e6 for p, _ in points]
        ax.plot(chars, [p.disk_bytes / 2**20 for p, _ in points], "o-", color="tab:blue", label="index on disk")
        ax.set_ylabel("index on disk (MiB)", color="tab:blue")
        rss_ax = ax.twinx()
        rss_ax.plot(chars, [(f.peak_rss_bytes or 0) / 2**20 for _, f in points], "s-", color="tab:red",
                    label="peak RSS")
        rss_ax.set_ylabel("peak RSS of a query process (MiB)", color="tab:red")
        ax.set_xlabel("corpus (million characters)")
        ax.set_title("scale: size and memory")
        ax2.plot(chars, [f.p50_s * 1000 for _, f in points], "o-", label="p50")
        ax2.plot(chars, [f.p95_s * 1000 for _, f in points], "s-", label="p95")
        ax2.set_xlabel("corpus (million characters)")
        ax2.set_ylabel("ms per question")
        ax2.set_title("scale: query latency")
        ax2.legend(fontsize=8)
    else:
        ax.set_axis_off()
        ax2.set_axis_off()
    meta = results.meta
    sources = sorted(set((meta.merged_from if meta and meta.merged_from else {}).values()))
    title = f"bench {', '.join(p.removesuffix('.json') for p in sources)}" if sources else \
        f"bench {meta.timestamp if meta else ''}"
    fig.suptitle(title + (" (quick)" if meta and meta.quick else ""))
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return True


def merge_results(paths: Sequence[Path]) -> BenchResults:
    """Sections of several runs in one result (each section keeps the timestamp it came from)."""
    meta = RunMeta(timestamp=stamp(), quick=False, sections=[], merged_from={})
    merged = BenchResults(meta=meta)
    for path in paths:
        data = BenchResults.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        meta.quick = meta.quick or bool(data.meta and data.meta.quick)
        for name in SECTIONS:
            section = data.section(name)
            if section is not None:
                setattr(merged, name, section)
                assert meta.merged_from is not None
                meta.merged_from[name] = Path(path).name
                if name not in meta.sections:
                    meta.sections.append(name)
    return merged


def write_results(results: BenchResults, out_dir: Path, name: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out_dir / f"{name}.json", out_dir / f"{name}.png"
    assert results.meta is not None
    try:
        plot(results, png_path)
        results.meta.plot = str(png_path)
    except Exception as exc:  # the figures matter more than the picture
        results.meta.plot_error = repr(exc)
    json_path.write_text(json.dumps(results.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    with contextlib.suppress(Exception):
        print_table(results)
    print(f"results: {json_path}" + (f"  plot: {png_path}" if png_path.exists() else ""))
    return json_path, png_path
