"""Compare two evaluation runs value by value, timings left out: the equality check of a refactor.

``python -m eval.compare_runs BEFORE AFTER`` takes two report folders written by ``assistant eval --out``
(one run each, or a folder of such runs named by set, as ``BEFORE/jjj/<stamp>/``) and lists every
non-timing value of ``summary.json`` and of the per-question rows (``questions.jsonl``) that differs. Exit
status 0 when none does, 1 otherwise.

``--ignore-config naive`` (the default) leaves out the naive LangChain baseline: it builds a fresh
Chroma collection on every run, and HNSW's insertion order makes a few of its rankings differ between
two runs of the same code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TIMING_KEYS = frozenset({"timings", "date", "elapsed", "first_token", "embedded", "index_seconds", "seconds"})


def is_timing(key: str) -> bool:
    """Keys that hold a time (seconds, latencies, dates) or depend on what a cache held."""
    return key in TIMING_KEYS or key.startswith("latency") or key.endswith("_s") or "second" in key


def without_timings(value: Any, ignore_configs: frozenset[str] = frozenset()) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v, ignore_configs) for k, v in value.items()
                if not is_timing(k) and k not in ignore_configs}
    if isinstance(value, list):
        return [without_timings(v, ignore_configs) for v in value]
    return value


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Every place where ``after`` differs from ``before`` (a key on one side only, a length, a value)."""
    if type(before) is not type(after):
        return [f"{path}: {before!r} → {after!r}"]
    if isinstance(before, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            if key not in before or key not in after:
                out.append(f"{path}.{key}: only {'after' if key not in before else 'before'}")
            else:
                out += differences(before[key], after[key], f"{path}.{key}")
        return out
    if isinstance(before, list):
        if len(before) != len(after):
            return [f"{path}: {len(before)} items → {len(after)}"]
        return [d for i, (b, a) in enumerate(zip(before, after, strict=True)) for d in differences(b, a, f"{path}[{i}]")]
    return [] if before == after else [f"{path}: {before!r} → {after!r}"]


def run_folder(folder: Path) -> Path:
    """The report folder itself, or the newest run inside it."""
    if (folder / "summary.json").is_file():
        return folder
    runs = sorted(p for p in folder.iterdir() if (p / "summary.json").is_file())
    if not runs:
        raise FileNotFoundError(f"no summary.json in {folder}")
    return runs[-1]


def compare_run(before: Path, after: Path, ignore_configs: frozenset[str]) -> list[str]:
    before, after = run_folder(before), run_folder(after)
    out = differences(without_timings(json.loads((before / "summary.json").read_text(encoding="utf-8")), ignore_configs),
                      without_timings(json.loads((after / "summary.json").read_text(encoding="utf-8")), ignore_configs),
                      "summary")
    rows: list[list[Any]] = []
    for folder in (before, after):
        path = folder / "questions.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        rows.append([without_timings(r) for r in map(json.loads, lines) if r.get("config") not in ignore_configs])
    return out + differences(rows[0], rows[1], "questions")


def compare(before: Path, after: Path, ignore_configs: frozenset[str]) -> dict[str, list[str]]:
    """Differences per set (the folders' subfolders with runs), or of the one run given."""
    if (before / "summary.json").is_file() or any((p / "summary.json").is_file() for p in before.iterdir()):
        return {before.name: compare_run(before, after, ignore_configs)}
    return {sub.name: compare_run(sub, after / sub.name, ignore_configs)
            for sub in sorted(p for p in before.iterdir() if p.is_dir())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.compare_runs", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore-config", action="append", default=None,
                        help="a configuration left out (default: naive); repeat for several")
    parser.add_argument("--show", type=int, default=20, help="differences listed per set")
    args = parser.parse_args(argv)
    ignored = frozenset(args.ignore_config if args.ignore_config is not None else ["naive"])
    found = compare(args.before, args.after, ignored)
    for name, diffs in found.items():
        print(f"{name}: {len(diffs)} differences")
        for line in diffs[: args.show]:
            print(f"    {line}")
    total = sum(map(len, found.values()))
    print(f"total: {total} differences" + (f" (left out: {', '.join(sorted(ignored))})" if ignored else ""))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
