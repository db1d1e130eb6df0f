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


# -- output -----------------------------------------------------------------------------------------
def _fmt(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}{unit}"
    return f"{value}{unit}"


def _lengths(stats: dict[str, Any]) -> str:
    if not stats.get("count"):
        return "–"
    return f"{stats['p10']:.0f} / {stats['p50']:.0f} / {stats['p90']:.0f} (<120: {100 * stats['under_120']:.0f}%)"


def table_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(metric, value, goal, verdict) rows for the console table."""
    rows: list[tuple[str, str, str, str]] = []

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("✓" if ok else "✗")

    ing = results.get("ingest") or {}
    if "ours_chunks_per_s" in ing:
        rows += [
            ("ingest: ours chunks/s | chars/s", f"{ing['ours_chunks_per_s']} | {ing['ours_chars_per_s']}", "", ""),
            (f"ingest: raw embedder chunks/s ({(ing.get('embedder') or {}).get('backend', 'torch')})",
             _fmt(ing["raw_chunks_per_s"]), "", ""),
            ("ingest: ratio ours/raw", _fmt(ing["ratio_ours_to_raw"]), f"≥ {GOALS['ingest_ratio_min']}",
             verdict(ing["ratio_ours_to_raw"] >= GOALS["ingest_ratio_min"])),
        ]
        speedup = ing.get("speedup_ours_to_torch_fp32")
        ref = ing.get("naive_torch_fp32") or {}
        rows += [
            ("ingest: speed-up over torch fp32 (raw | ours)", f"{_fmt(ref.get('speedup_raw'))} | {_fmt(speedup)}",
             f"≥ {GOALS['ingest_speedup_min']}",
             verdict(None if speedup is None else speedup >= GOALS["ingest_speedup_min"])),
            ("ingest: cosine to torch fp32 (min)", _fmt(ref.get("cosine_to_torch_min"), digits=5), "", ""),
            ("ingest: naive LangChain chunks/s", _fmt(ing["naive_langchain"]["chunks_per_s"]), "", ""),
        ]
    if ing.get("chunk_lengths"):
        rows.append(("ingest (a): chunk length p10 / p50 / p90 [chars]", _lengths(ing["chunk_lengths"]), "", ""))
    side = results.get("side") or {}
    if "ours" in side:
        docs, chars = side["documents"], side["characters"]
        for name in ("ours", "naive_torch_fp32", "naive_onnx_int8", "naive_onnx", "naive_torch"):
            part = side.get(name)
            if not part:
                continue
            rows.append((f"side ({docs} docs, {chars / 1e6:.2f}M chars): {name} wall s | docs/s | chars/s",
                         f"{part['wall_s']} | {part['documents_per_s']} | {part['chars_per_s']}",
                         f"< {GOALS['side_wall_max_s']:.0f} s" if name == "ours" else "",
                         verdict(part["wall_s"] < GOALS["side_wall_max_s"]) if name == "ours" else ""))
            rows.append((f"side: {name} chunks | length p10 / p50 / p90",
                         f"{part['chunks']} | {_lengths(part['chunk_lengths'])}", "", ""))
            rows.append((f"side: {name} hit@5 | doc hit@5 ({part['retrieval']['questions']} questions)",
                         f"{part['retrieval']['hit@5']} | {part['retrieval']['doc_hit@5']}", "", ""))
        for key, goal in (("naive_torch_fp32", "side_vs_naive_torch_min"), ("naive_onnx_int8", "side_vs_naive_int8_min")):
            ratio = side.get(f"ratio_ours_to_{key}_chars_per_s")
            if ratio is not None:
                rows.append((f"side: chars/s ours / {key}", _fmt(ratio), f"≥ {GOALS[goal]}", verdict(ratio >= GOALS[goal])))
    q = results.get("query") or {}
    for label in ("a", "b"):
        part = q.get(label)
        if not part:
            continue
        ours, naive = part["ours"], part["naive_bm25_per_query"]
        rows.append((f"query ({label}): ours p50 / p95 [s]", f"{_fmt(ours.get('p50_s'))} / {_fmt(ours.get('p95_s'))}",
                     f"p95 < {GOALS['query_p95_b_max_s']} s" if label == "b" else "",
                     verdict(ours.get("p95_s", 9e9) < GOALS["query_p95_b_max_s"]) if label == "b" else ""))
        naive_fig = f"{_fmt(naive.get('p50_s'))} / {_fmt(naive.get('p95_s'))}"
        rows.append((f"query ({label}): naive p50 / p95 [s]", naive_fig, "", ""))
        ratio = part.get("ratio_p50_ours_to_naive")
        rows.append((f"query ({label}): ratio p50 ours/naive", _fmt(ratio), f"≤ {GOALS['query_ratio_max']}",
                     verdict(None if ratio is None else ratio <= GOALS["query_ratio_max"])))
    for point in (results.get("scale") or {}).get("points", []):
        if "error" in point:
            rows.append((f"scale {point['fraction']:.0%}", "error", "", "✗"))
            continue
        rows.append((
            f"scale {point['fraction']:.0%} ({point['characters'] / 1e6:.2f}M chars, {point.get('chunks')} chunks)",
            f"disk {point['disk_bytes'] / 2**20:.1f} MiB, p50 {_fmt(point.get('p50_s'))} s, "
            f"p95 {_fmt(point.get('p95_s'))} s, peak RSS {point['peak_rss_bytes'] / 2**20:.0f} MiB", "", ""))
    cold = results.get("cold") or {}
    if "first_answer_s" in cold:
        rows.append(("cold start → first /ask answer [s]", _fmt(cold["first_answer_s"]), "", ""))
    conc = results.get("concurrency") or {}
    if "answers_per_s" in conc:
        rows.append((f"concurrency {conc['clients']} clients: answers/s | p95 [s]",
                     f"{_fmt(conc['answers_per_s'])} | {_fmt(conc.get('latency_p95_s'))}", "", ""))
        rows.append(("concurrency errors / mix-ups", f"{conc['errors']} / {conc['mixups']}", "0 / 0",
                     verdict(conc["errors"] == 0 and conc["mixups"] == 0)))
    llm = results.get("llm") or {}
    if "skipped" in llm:
        rows.append(("llm", "skipped: " + llm["skipped"][:60], "", "—"))
    elif "ttft_p50_s" in llm:
        rows.append(("llm: TTFT p50 [s] | tokens/s", f"{_fmt(llm['ttft_p50_s'])} | {_fmt(llm['tokens_per_s_mean'])}",
                     "", ""))
    for name in SECTIONS:
        sec = results.get(name)
        if isinstance(sec, dict) and "error" in sec and name != "scale":
            rows.append((name, "error: " + str(sec["error"]).splitlines()[-1][:80], "", "✗"))
    return rows


def print_table(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="京津冀政策助手 · bench" + (" (quick)" if results["meta"]["quick"] else ""))
    for col in ("metric", "value", "goal", ""):
        table.add_column(col)
    for row in table_rows(results):
        table.add_row(*row)
    Console(stderr=False).print(table)


def plot(results: dict[str, Any], target: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    ax = axes[0][0]
    ing = results.get("ingest") or {}
    if "ours_chunks_per_s" in ing:
        backend = (ing.get("embedder") or {}).get("backend", "torch")
        speedup_raw = (ing.get("naive_torch_fp32") or {}).get("speedup_raw") or 1.0
        labels = ["ours (index)", f"raw embedder\n({backend})", "torch fp32\n(naive encoder)", "naive LangChain"]
        values = [ing["ours_chunks_per_s"], ing["raw_chunks_per_s"], ing["raw_chunks_per_s"] / speedup_raw,
                  ing["naive_langchain"]["chunks_per_s"] or 0]
        ax.bar(labels, values, color=["tab:blue", "tab:gray", "silver", "tab:orange"])
        ax.set_title(f"ingest throughput (ratio ours/raw {ing['ratio_ours_to_raw']})")
        ax.set_ylabel("chunks / s")
    else:
        ax.set_axis_off()
    ax = axes[0][1]
    q = results.get("query") or {}
    if q.get("a") or q.get("b"):
        labels, ours50, ours95, naive50, naive95 = [], [], [], [], []
        for label in ("a", "b"):
            if q.get(label):
                labels.append({"a": "(a) topic", "b": "(b) + distractors"}[label])
                ours50.append(q[label]["ours"].get("p50_s", 0) * 1000)
                ours95.append(q[label]["ours"].get("p95_s", 0) * 1000)
                naive50.append(q[label]["naive_bm25_per_query"].get("p50_s", 0) * 1000)
                naive95.append(q[label]["naive_bm25_per_query"].get("p95_s", 0) * 1000)
        x = np.arange(len(labels))
        w = 0.2
        ax.bar(x - 1.5 * w, ours50, w, label="ours p50", color="tab:blue")
        ax.bar(x - 0.5 * w, ours95, w, label="ours p95", color="lightsteelblue")
        ax.bar(x + 0.5 * w, naive50, w, label="naive p50", color="tab:orange")
        ax.bar(x + 1.5 * w, naive95, w, label="naive p95", color="navajowhite")
        ax.set_xticks(x, labels)
        ax.set_yscale("log")
        ax.set_ylabel("ms per question (log)")
        ax.set_title("query latency, warm process")
        ax.legend(fontsize=8)
    else:
        ax.set_axis_off()
    points = [p for p in (results.get("scale") or {}).get("points", []) if "error" not in p]
    ax, ax2 = axes[1][0], axes[1][1]
    if points:
        chars = [p["characters"] / 1e6 for p in points]
        ax.plot(chars, [p["disk_bytes"] / 2**20 for p in points], "o-", color="tab:blue", label="index on disk")
        ax.set_ylabel("index on disk (MiB)", color="tab:blue")
        rss_ax = ax.twinx()
        rss_ax.plot(chars, [p["peak_rss_bytes"] / 2**20 for p in points], "s-", color="tab:red", label="peak RSS")
        rss_ax.set_ylabel("peak RSS of a query process (MiB)", color="tab:red")
        ax.set_xlabel("corpus (million characters)")
        ax.set_title("scale: size and memory")
        ax2.plot(chars, [p["p50_s"] * 1000 for p in points], "o-", label="p50")
        ax2.plot(chars, [p["p95_s"] * 1000 for p in points], "s-", label="p95")
        ax2.set_xlabel("corpus (million characters)")
        ax2.set_ylabel("ms per question")
        ax2.set_title("scale: query latency")
        ax2.legend(fontsize=8)
    else:
        ax.set_axis_off()
        ax2.set_axis_off()
    sources = sorted(set((results["meta"].get("merged_from") or {}).values()))
    title = f"bench {', '.join(p.removesuffix('.json') for p in sources)}" if sources else \
        f"bench {results['meta']['timestamp']}"
    fig.suptitle(title + (" (quick)" if results["meta"]["quick"] else ""))
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return True


def merge_results(paths: Sequence[Path]) -> dict[str, Any]:
    """Sections of several runs in one result (each section keeps the timestamp it came from)."""
    merged: dict[str, Any] = {"meta": {"timestamp": stamp(), "quick": False, "sections": [], "merged_from": {}}}
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        meta = data.get("meta") or {}
        merged["meta"]["quick"] = merged["meta"]["quick"] or bool(meta.get("quick"))
        for name in SECTIONS:
            if name in data:
                merged[name] = data[name]
                merged["meta"]["merged_from"][name] = Path(path).name
                if name not in merged["meta"]["sections"]:
                    merged["meta"]["sections"].append(name)
    return merged


def write_results(results: dict[str, Any], out_dir: Path, name: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out_dir / f"{name}.json", out_dir / f"{name}.png"
    try:
        plot(results, png_path)
        results["meta"]["plot"] = str(png_path)
    except Exception as exc:  # the figures matter more than the picture
        results["meta"]["plot_error"] = repr(exc)
    json_path.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    with contextlib.suppress(Exception):
        print_table(results)
    print(f"results: {json_path}" + (f"  plot: {png_path}" if png_path.exists() else ""))
    return json_path, png_path
