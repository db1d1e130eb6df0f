"""``assistant bench``: performance figures of the assistant, with the naive baselines measured in the same run.

Sections (``--only`` picks a comma-separated subset):

* ``ingest`` — chunks/s and characters/s of indexing the topic corpus (the shipped library,
  ``docs_corpus/``: the seed + 42 texts) into a fresh data dir, against the raw throughput of the same embedding
  model encoding the very same chunk texts (the physical limit; goal ratio ≥ 0.9), and the naive
  LangChain ingest (splitter + same embedder + Chroma). Our embedder *is* the naive torch fp32
  sentence-transformers pipeline, so the raw figure doubles as that baseline.
* ``side`` — indexing speed side by side on (b) (topic corpus + the selected distractors; all 957
  for the 1,000 documents): wall time, documents/s and characters/s of source text for this
  pipeline (fresh data dir), the naive LangChain pipeline with the sentence-transformers torch fp32
  encoder and the same pipeline with our int8 encoder; chunk-length distribution of each; retrieval
  hit@5 of ours (hybrid) and of the naive pipeline (similarity_search k=5) on the evaluation
  questions of the corpus. Compared in characters and documents per second, not chunks.
* ``query`` — warm-process latency of ``Assistant.ask`` (extractive writer) over the evaluation
  questions on (a) the topic corpus and (b) topic + distractors, against the naive LangChain
  pipeline rebuilding BM25 per query on the same corpus (goal: ours/naive p50 ≤ 0.25; our p95 < 1 s on b).
* ``scale`` — index size on disk, query p50/p95 and peak RSS at 10 %, 30 %, 100 % of (b), each
  point measured in a subprocess of its own (``bench.worker``).
* ``cold`` — seconds from launching ``python -m assistant serve --no-index`` to the first answer
  via gradio_client ``/ask``.
* ``concurrency`` — 8 simultaneous gradio_client clients against one app: answers/s, p95, errors
  and cross-session mix-ups (both must be 0).
* ``llm`` — time to first token and tokens/s of ``Assistant(writer="llm").stream`` (only if a
  llama.cpp server answers or can be started from the local GGUF).

Indexes live under ``--data-dir`` (default ``<data_dir>/bench``) in folders named after a hash of
their source files, and are kept: the next run re-indexes nothing. Only the ingest section starts
from an empty folder. Results go to ``bench/results/<timestamp>.json`` and ``.png``.
Absolute times depend on the machine; nothing here asserts on them. Each section (and each pipeline of ``side``)
records the machine it ran on (``machine``: load average at its start and end, this process's CPU seconds and
share, the busy and stolen shares of all CPUs; see ``bench/machine.py`` and docs/performance.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.settings import Settings
from eval.datasets import Question, load_own_set
from index.pipeline import discover
from index.provision.model_path import resolve_model_path

from .common import RESULTS_DIR, AppProcess, stamp
from .machine import measure
from .plan import SECTIONS, Plan, load_average, progress, text_chars
from .report import merge_results, plot, print_table, table_rows, write_results
from .results import BenchResults, ConcurrencyResult, RunMeta, SectionError, SectionResult
from .sections.cold import section_cold
from .sections.concurrency import section_concurrency
from .sections.hnsw import section_hnsw
from .sections.ingest import section_ingest
from .sections.llm import section_llm
from .sections.query import section_query
from .sections.scale import section_scale
from .sections.side import section_side

log = logging.getLogger("bench")

# Names the tests and other tools import from here.
__all__ = ["SECTIONS", "Plan", "build_parser", "main", "make_plan", "merge_results", "plot", "print_table",
           "section_cold", "section_concurrency", "section_hnsw", "section_ingest", "section_llm", "section_query",
           "section_scale", "section_side", "table_rows", "write_results"]


# -- set-up -----------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant bench", description="性能基准（与朴素基线在同一次运行中对比）")
    p.add_argument("--quick", action="store_true", help="tiny scale, < 3 minutes")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    p.add_argument("--data-dir", type=Path, default=None, help="bench indexes (default <data_dir>/bench); kept")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where result JSON and plots go (default bench/results)")
    p.add_argument("--corpus", type=Path, action="append", default=None,
                   help="topic corpus file/folder (repeatable; default docs_corpus/, the shipped library)")
    p.add_argument("--distractors", type=Path, default=None, help="default ../shared/corpus/distractors")
    p.add_argument("--distractor-fraction", type=float, default=None,
                   help="share of the distractors' characters to use (default 1.0; quick 0.003)")
    p.add_argument("--questions", type=int, default=None, help="evaluation questions to time (default all; quick 6)")
    p.add_argument("--naive-questions", type=int, default=None,
                   help="questions for the naive baseline (default 40; quick 4); ours is compared on the same ones")
    p.add_argument("--reference-sample", type=int, default=None,
                   help="chunk texts encoded by both torch fp32 and our backend (default 600; quick 60)")
    p.add_argument("--ingest-rounds", type=int, default=None,
                   help="indexing runs, each between two raw encodings of the same texts (default 2; quick 1)")
    p.add_argument("--keep-side", action="store_true", help="keep the indexes of the side section (default: removed)")
    p.add_argument("--clients", type=int, default=8, help="concurrent gradio_client clients in the concurrency section (default 8)")
    p.add_argument("--concurrency-questions", type=int, default=None, help="per client (default 10; quick 1)")
    p.add_argument("--llm-questions", type=int, default=None, help="default 3; quick 1")
    p.add_argument("--start-timeout", type=float, default=300.0, help="seconds to wait for the app to answer")
    p.add_argument("--seed", type=int, default=0, help="distractor selection order")
    p.add_argument("--merge", type=Path, nargs="+", default=None, metavar="JSON",
                   help="measure nothing: combine the sections of earlier result files (later ones win) "
                        "into one table, JSON and plot")
    return p


def pick_questions(all_questions: list[Question], doc_ids: set[str], limit: int | None) -> list[Question]:
    """Questions whose gold documents are indexed (or unanswerable); with a limit, ~¼ unanswerable."""
    usable = [q for q in all_questions if not q.answerable or any(d in doc_ids for d in q.gold_docs)]
    if limit is None or limit >= len(usable):
        return usable
    answerable = [q for q in usable if q.answerable]
    unanswerable = [q for q in usable if not q.answerable]
    n_un = min(len(unanswerable), limit // 4)
    chosen = answerable[: limit - n_un] + unanswerable[:n_un]
    return chosen + [q for q in usable if q not in chosen][: limit - len(chosen)]


def make_plan(args: argparse.Namespace) -> Plan:
    base = Settings()
    model = resolve_model_path(base)  # the bundled model is prepared once, in model_dir
    if not (model / "config.json").exists() and not (model / "modules.json").exists():
        raise FileNotFoundError(f"no sentence-transformers model at {model}")
    shared = base.shared_dir
    all_questions = load_own_set("jjj", base.corpus_dir, shared).questions
    quick = bool(args.quick)
    if args.corpus:
        topic = [Path(p) for p in args.corpus]
    elif quick:  # the library's smallest text (the seed) + the two smallest texts some question is about
        gold = {d for q in all_questions for d in q.gold_docs}
        library = sorted(discover([base.corpus_dir]), key=lambda s: s.path.stat().st_size)
        about = [s for s in library if s.doc_id in gold]
        topic = [library[0].path, *(s.path for s in about[:2] if s.path != library[0].path)]
    else:
        topic = [base.corpus_dir]
    topic_sources = discover(topic)
    if not topic_sources:
        raise FileNotFoundError(f"no documents under {', '.join(map(str, topic))}")
    doc_ids = {s.doc_id for s in topic_sources}

    if args.distractor_fraction is None:
        args.distractor_fraction = 0.003 if quick else 1.0
    if args.questions is None and quick:
        args.questions = 6
    if args.naive_questions is None:
        args.naive_questions = 4 if quick else 40
    if args.concurrency_questions is None:
        args.concurrency_questions = 1 if quick else 10
    if args.llm_questions is None:
        args.llm_questions = 1 if quick else 3
    if args.reference_sample is None:
        args.reference_sample = 60 if quick else 600

    distractor_dir = args.distractors or shared / "corpus" / "distractors"
    files = [(s.path, text_chars(s.path)) for s in discover([distractor_dir])] if Path(distractor_dir).exists() else []
    random.Random(args.seed).shuffle(files)
    total = sum(c for _, c in files)
    chosen: list[tuple[Path, int]] = []
    if args.distractor_fraction >= 1.0:
        chosen = files
    else:
        used = 0
        for path, chars in files:
            if used >= args.distractor_fraction * total:
                break
            chosen.append((path, chars))
            used += chars
    root = args.data_dir or base.data_dir / "bench"
    root.mkdir(parents=True, exist_ok=True)
    questions = pick_questions(all_questions, doc_ids, args.questions)
    if not questions:
        raise ValueError("no evaluation question fits the chosen corpus")
    return Plan(args=args, base=base, model=model, root=root, topic_paths=topic, topic_doc_ids=doc_ids,
                topic_chars=sum(text_chars(s.path) for s in topic_sources), distractors=chosen,
                distractor_total_chars=sum(c for _, c in chosen), questions=questions, quick=quick)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(argv) if argv is not None else sys.argv[1:]
    if argv[:1] == ["--"]:  # ``assistant bench -- --quick`` passes the separator through
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    if args.merge:
        missing = [str(p) for p in args.merge if not Path(p).is_file()]
        if missing:
            print(f"bench: no such result file: {', '.join(missing)}", file=sys.stderr)
            return 2
        merged = merge_results(args.merge)
        assert merged.meta is not None
        write_results(merged, Path(args.results_dir), f"{merged.meta.timestamp}-merged")
        return 0
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)} (choose from {', '.join(SECTIONS)})", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    t_start = time.perf_counter()
    try:
        plan = make_plan(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    ts = stamp()
    import torch

    meta = RunMeta(
        timestamp=ts,
        quick=plan.quick,
        sections=sections,
        data_dir=str(plan.root),
        model=str(plan.model),
        embedding_backend=plan.base.embedding_backend,
        topic_corpus=[str(p) for p in plan.topic_paths],
        topic_documents=len(plan.topic_doc_ids),
        topic_characters=plan.topic_chars,
        distractor_fraction=args.distractor_fraction,
        distractor_files=len(plan.distractors),
        distractor_characters=plan.distractor_total_chars,
        questions=len(plan.questions),
        naive_questions=min(args.naive_questions or len(plan.questions), len(plan.questions)),
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        load_average_start=load_average(),
        python=platform.python_version(),
        platform=platform.platform(),
    )
    results = BenchResults(meta=meta)
    runners: dict[str, Callable[[], SectionResult]] = {}
    apps: list[AppProcess] = []
    runners["ingest"] = lambda: section_ingest(plan)
    runners["side"] = lambda: section_side(plan)
    runners["query"] = lambda: section_query(plan)
    runners["scale"] = lambda: section_scale(plan)
    runners["hnsw"] = lambda: section_hnsw(plan)
    runners["cold"] = lambda: section_cold(plan, apps)
    runners["concurrency"] = lambda: section_concurrency(plan, apps)
    runners["llm"] = lambda: section_llm(plan)
    failed = False
    try:
        for name in SECTIONS:
            if name not in sections:
                continue
            progress(f"section {name} …")
            section: SectionResult | SectionError
            with measure() as span:  # the load and CPU shares while the section ran, kept with its figures
                try:
                    section = runners[name]()
                except Exception as exc:  # one broken section must not lose the others
                    log.debug("section %s failed", name, exc_info=True)
                    section = SectionError(error=f"{type(exc).__name__}: {exc}",
                                           traceback=traceback.format_exc()[-3000:])
                    failed = True
            section.section_s = round(span.wall_s, 2)
            if isinstance(section, SectionResult):
                section.machine = span.state
            setattr(results, name, section)
            if name == "cold" and "concurrency" not in sections:
                for app in apps:
                    app.stop()
    finally:
        for app in apps:
            app.stop()
    conc = results.concurrency
    if isinstance(conc, ConcurrencyResult) and (conc.errors or conc.mixups):
        failed = True
    meta.load_average_end = load_average()
    meta.total_s = round(time.perf_counter() - t_start, 2)

    write_results(results, Path(args.results_dir), ts)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
