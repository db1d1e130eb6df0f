"""One scale point of ``bench.run``, measured in a process of its own.

``python -m bench.worker --data-dir D --model M --questions Q.json --out R.json`` opens the index in
``D`` (already built), asks every question once after one warm-up question, and writes query
latencies plus the process's RSS high-water mark (``ru_maxrss``) to ``R.json``. Running each
point in a fresh process is what makes the peak-memory figure belong to that index size alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.service import Assistant

from .results import WorkerFigures


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100.0
    lo = int(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def ru_maxrss_bytes() -> int:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def proc_status_bytes(field: str) -> int | None:
    """``VmHWM`` / ``VmRSS`` of this process from /proc/self/status (Linux), in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def max_rss_bytes() -> int:
    """This process's own RSS high-water mark.

    On Linux ``ru_maxrss`` of a process started by fork/vfork + exec already holds its *parent's*
    RSS at the exec (the kernel folds the old address space's peak into it), so a worker spawned
    by a 1.5 GB bench process would report ≥ 1.5 GB whatever it does. ``VmHWM`` is the same
    high-water mark for this process's own address space; ``ru_maxrss`` is the fallback elsewhere.
    """
    hwm = proc_status_bytes("VmHWM")
    return hwm if hwm is not None else ru_maxrss_bytes()


def measure(data_dir: Path, model: Path, questions: list[dict[str, Any]]) -> WorkerFigures:
    rss_start = max_rss_bytes()
    t0 = time.perf_counter()
    bot = Assistant(data_dir=data_dir, embedding_model=model)
    bot.ask(questions[0]["question"], history=questions[0].get("history") or None)  # loads model + indexes
    warmup = time.perf_counter() - t0
    latencies: list[float] = []
    refused = 0
    errors = 0
    for q in questions:
        t = time.perf_counter()
        try:
            answer = bot.ask(q["question"], history=q.get("history") or None)
        except Exception:  # counted, the run goes on
            errors += 1
            continue
        latencies.append(time.perf_counter() - t)
        refused += int(answer.refused)
    return WorkerFigures(
        peak_rss_bytes=max_rss_bytes(),
        peak_rss_source="VmHWM" if proc_status_bytes("VmHWM") is not None else "ru_maxrss",
        ru_maxrss_bytes=ru_maxrss_bytes(),
        rss_end_bytes=proc_status_bytes("VmRSS"),
        questions=len(questions),
        answered=len(latencies) - refused,
        refused=refused,
        errors=errors,
        load_and_first_answer_s=round(warmup, 3),
        p50_s=round(percentile(latencies, 50), 4),
        p95_s=round(percentile(latencies, 95), 4),
        mean_s=round(sum(latencies) / max(1, len(latencies)), 4),
        rss_at_start_bytes=rss_start,
        chunks=bot.manifest.chunk_count(),
        documents=len(bot.manifest.documents),
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.worker", description="measure one bench scale point")
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--questions", type=Path, required=True, help='JSON list of {"question", "history"}')
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    questions = json.loads(args.questions.read_text(encoding="utf-8"))
    if not questions:
        print("no questions", file=sys.stderr)
        return 2
    result = measure(args.data_dir, args.model, questions)
    args.out.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
