"""``assistant eval``, ``assistant bench`` and ``assistant llm-serve``: programs with parsers of their own,
handed every argument after the sub-command unchanged."""

from __future__ import annotations

import argparse

from assistant.llm.server import main as llm_main
from assistant.settings import Settings
from bench.run import main as bench_main
from eval.run import main as eval_main

DELEGATED = ("eval", "bench", "llm-serve")


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    return eval_main(args.rest)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    return bench_main(args.rest)


def cmd_llm_serve(args: argparse.Namespace, settings: Settings) -> int:
    return llm_main(args.rest)
