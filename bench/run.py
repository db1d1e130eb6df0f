"""``assistant bench``: performance figures of the assistant, with the naive baselines measured in the same run.

Sections (``--only`` picks a comma-separated subset):

* ``ingest`` — chunks/s and characters/s of indexing the topic corpus (``docs_corpus/`` +
  ``../shared/corpus/jjj``) into a fresh data dir, against the raw throughput of the same embedding
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
Absolute times depend on the machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embedder import Embedder

from .common import REPO_ROOT, RESULTS_DIR, AppProcess, free_port, percentile, stamp, summarize

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.settings import Settings
    from eval.baselines import NaiveLangChainPipeline
    from eval.datasets import Question

log = logging.getLogger("bench")

SECTIONS = ("ingest", "side", "query", "scale", "hnsw", "cold", "concurrency", "llm")
HNSW_GRID = ((16, 16), (16, 64), (16, 128), (32, 64))  # (M, ef_search); each a fresh build
SCALE_POINTS = (0.1, 0.3, 1.0)
GOALS = {"ingest_ratio_min": 0.9, "ingest_speedup_min": 2.5, "query_ratio_max": 0.25, "query_p95_b_max_s": 1.0,
         "side_vs_naive_torch_min": 2.5, "side_vs_naive_int8_min": 1.3, "side_wall_max_s": 600.0}


# -- the plan -------------------------------------------------------------------------------------
@dataclass
class Plan:
    """Everything a run needs, resolved once from the arguments and settings."""

    args: argparse.Namespace
    base: Settings
    model: Path
    root: Path
    topic_paths: list[Path]
    topic_doc_ids: set[str]
    topic_chars: int
    distractors: list[tuple[Path, int]]  # (file, characters), in the seeded selection order
    distractor_total_chars: int
    questions: list[Question]
    quick: bool
    caching: CachingEmbedder | None = None
    bots: dict[str, Assistant] = field(default_factory=dict)
    naives: dict[str, NaiveLangChainPipeline] = field(default_factory=dict)

    @property
    def backend_suffix(self) -> str:
        """Indexes of other backends hold other vectors: each backend gets folders of its own."""
        backend = self.base.embedding_backend
        return "" if backend == "torch" else f"-{backend}"

    @property
    def topic_dir(self) -> Path:
        return self.root / f"topic-{files_hash(self.topic_paths)}{self.backend_suffix}"

    def point_paths(self, fraction: float) -> list[Path]:
        """Scale point: the whole topic corpus + the first distractors (selection order) holding
        ``fraction`` of the selected distractors' characters. Points are nested; 1.0 is (b)."""
        if fraction >= 1.0:
            return [*self.topic_paths, *(p for p, _ in self.distractors)]
        budget = fraction * sum(c for _, c in self.distractors)
        chosen: list[Path] = []
        used = 0
        for path, chars in self.distractors:
            if used >= budget:
                break
            chosen.append(path)
            used += chars
        return [*self.topic_paths, *chosen]

    @property
    def mix_root(self) -> Path:
        return self.root / f"mix-{files_hash([*self.topic_paths, *(p for p, _ in self.distractors)])}{self.backend_suffix}"

    def settings_for(self, data_dir: Path, **update: Any) -> Settings:
        return self.base.model_copy(update={"data_dir": data_dir, "embedding_model": self.model, **update})


def files_hash(paths: Sequence[Path]) -> str:
    digest = hashlib.sha1()
    for path in sorted(str(Path(p).resolve()) for p in paths):
        digest.update(path.encode("utf-8") + b"\0")
    return digest.hexdigest()[:10]


def text_chars(path: Path) -> int:
    try:
        return len(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return 0


def corpus_chars(paths: Sequence[Path]) -> int:
    from index.pipeline import discover

    return sum(text_chars(s.path) for s in discover(paths))


def du_bytes(path: Path) -> dict[str, int]:
    """Disk usage (allocated blocks, like ``du``) and apparent size of everything under ``path``."""
    blocks = apparent = 0
    for item in path.rglob("*"):
        try:
            st = item.lstat()
        except OSError:
            continue
        if item.is_file():
            apparent += st.st_size
            blocks += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return {"disk_bytes": blocks, "apparent_bytes": apparent}


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# -- an embedder that remembers: the nested scale indexes embed every chunk once -------------------
class CachingEmbedder(Embedder):
    """Wraps a loaded Embedder; passages already embedded in this run are not embedded again."""

    def __init__(self, inner: Embedder) -> None:  # no super().__init__: the model is already loaded
        self.__dict__.update(inner.__dict__)
        self.backend = inner.backend  # a class attribute on some backends: not in __dict__
        self._inner = inner
        self._cache: dict[bytes, np.ndarray] = {}
        self.embedded = 0

    def embed_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).digest() for t in texts]
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._cache:
                todo.setdefault(key, text)
        if todo:
            vectors = self._inner.embed_passages(list(todo.values()), show_progress)
            self._cache.update(zip(todo, vectors, strict=True))
            self.embedded += len(todo)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])

    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        return self._inner._encode_locked(texts, threads, show_progress)

    def prefill(self, data_dir: Path, settings: Settings) -> int:
        """Remember the vectors of an index built earlier with the same model and backend (another
        bench run's (b)), so that the nested scale indexes of this run embed nothing again."""
        from index.manifest import Manifest, manifest_path
        from index.pipeline import model_fingerprint
        from index.store import ChromaStore, chunk_from_record

        try:
            manifest = Manifest.load(manifest_path(data_dir))
        except (OSError, ValueError):
            return 0
        if manifest.embedding_model != model_fingerprint(self):
            return 0
        store = ChromaStore(settings.model_copy(update={"data_dir": data_dir}))
        before = len(self._cache)
        offset, batch = 0, 2000
        while True:
            page = store.collection.get(include=["documents", "metadatas", "embeddings"], limit=batch, offset=offset)
            for cid, text, meta, vector in zip(page["ids"], page["documents"], page["metadatas"], page["embeddings"],
                                               strict=True):
                key = hashlib.sha1(chunk_from_record(cid, text, meta or {}).embed_text().encode("utf-8")).digest()
                self._cache.setdefault(key, np.asarray(vector, dtype=np.float32))
            if len(page["ids"]) < batch:
                break
            offset += batch
        return len(self._cache) - before


# -- building blocks --------------------------------------------------------------------------------
def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def get_bot(plan: Plan, data_dir: Path) -> Assistant:
    from assistant.service import Assistant

    key = str(data_dir)
    if key not in plan.bots:
        plan.bots[key] = Assistant(plan.settings_for(data_dir))
    return plan.bots[key]


def ensure_index(plan: Plan, data_dir: Path, paths: Sequence[Path]) -> dict[str, Any]:
    """Bring ``data_dir`` in line with ``paths`` (a no-op when it already is); embeddings are cached."""
    from index.manifest import manifest_path
    from index.pipeline import Indexer

    bot = get_bot(plan, data_dir)
    if plan.caching is None:
        plan.caching = CachingEmbedder(bot.embedder)
        donor = plan.mix_root / "p100"
        if donor != data_dir and manifest_path(donor).exists():
            progress(f"reusing {plan.caching.prefill(donor, bot.settings)} vectors of {donor}")
    t0 = time.perf_counter()
    before = plan.caching.embedded
    report = Indexer(bot.settings, embedder=plan.caching, store=bot.store).run(list(paths))
    bot.reload()
    return {
        "documents": report.documents,
        "chunks": report.chunks,
        "embedded_now": report.embedded_chunks,
        "embedded_by_model_now": plan.caching.embedded - before,
        "seconds": round(time.perf_counter() - t0, 2),
        "skipped": len(report.skipped),
    }


def get_naive(plan: Plan, key: str, paths: Sequence[Path], persist: Path) -> tuple[NaiveLangChainPipeline, float]:
    from eval.baselines import NaiveLangChainPipeline

    if key not in plan.naives:
        bot = get_bot(plan, plan.topic_dir)
        t0 = time.perf_counter()
        plan.naives[key] = NaiveLangChainPipeline(bot.embedder, list(paths), persist)
        return plan.naives[key], time.perf_counter() - t0
    return plan.naives[key], 0.0


def chunk_texts(plan: Plan, bot: Assistant, paths: Sequence[Path]) -> list[str]:
    """The exact texts the indexer hands the embedder for ``paths``."""
    from index.loaders import load_document
    from index.pipeline import discover

    indexer = bot.indexer()
    max_bytes = bot.settings.max_file_mb * 1024 * 1024
    texts: list[str] = []
    for source in discover(paths):
        try:
            doc = load_document(source.path, source.doc_id, max_bytes=max_bytes)
        except Exception:  # skipped by the indexer too
            continue
        texts.extend(c.embed_text() for c in indexer.chunker.split(doc))
    return texts


def timed_ask(bot: Assistant, q: Question) -> tuple[float, Any]:
    t = time.perf_counter()
    answer = bot.ask(q.question, history=q.history or None)
    return time.perf_counter() - t, answer


# -- sections ---------------------------------------------------------------------------------------
def section_ingest(plan: Plan) -> dict[str, Any]:
    from assistant.service import Assistant
    from index.models import IndexReport

    topic_dir = plan.topic_dir
    shutil.rmtree(topic_dir, ignore_errors=True)
    plan.bots.pop(str(topic_dir), None)
    plan.naives.pop("a", None)
    bot = get_bot(plan, topic_dir)

    t0 = time.perf_counter()
    embedder = bot.embedder
    load_s = time.perf_counter() - t0
    embedder.embed_passages(["京津冀协同发展预热文本。"] * 8)  # warm-up: first-call costs out of both figures

    texts = chunk_texts(plan, bot, plan.topic_paths)

    def raw_run() -> float:
        t = time.perf_counter()
        embedder.embed_passages(texts)
        return time.perf_counter() - t

    # Rounds of raw | ours | raw | ours | raw: each indexing run is compared with the raw encodings
    # just before and after it, so that a neighbour's load on a shared machine hits both alike.
    rounds = plan.args.ingest_rounds or (1 if plan.quick else 2)
    raw_times, ours_times, ratios = [raw_run()], [], []
    report: IndexReport | None = None
    for i in range(rounds):
        last = i == rounds - 1
        target = topic_dir if last else topic_dir.with_name(f"{topic_dir.name}-round{i}")
        shutil.rmtree(target, ignore_errors=True)
        progress(f"ingest: round {i + 1}/{rounds}, indexing {len(texts)} chunks into a fresh {target.name}")
        round_bot = bot if last else Assistant(plan.settings_for(target))
        report = round_bot.index(plan.topic_paths)
        ours_times.append(report.seconds)
        raw_times.append(raw_run())
        ratios.append((raw_times[-2] + raw_times[-1]) / 2 / report.seconds * report.chunks / max(1, len(texts)))
        if not last:
            shutil.rmtree(target, ignore_errors=True)
    assert report is not None
    ours_s = float(np.median(ours_times))
    raw_s = float(np.median(raw_times))
    doc_chars = sum(e.chars for e in bot.manifest.documents.values())

    progress("ingest: naive LangChain pipeline into a fresh Chroma")
    naive_dir = topic_dir / "naive_chroma"
    shutil.rmtree(naive_dir, ignore_errors=True)
    naive, naive_s = get_naive(plan, "a", plan.topic_paths, naive_dir)
    naive_chunks = len(naive.documents)

    reference = _torch_reference(plan, embedder, texts)
    chunks = report.chunks
    ours_rate = chunks / ours_s
    out: dict[str, Any] = {
        "corpus": [str(p) for p in plan.topic_paths],
        "embedder": embedder.describe(),
        "documents": report.documents,
        "chunks": chunks,
        "embedded_chunks": report.embedded_chunks,
        "characters": doc_chars,
        "embed_text_characters": sum(len(text) for text in texts),
        "model_load_s": round(load_s, 3),
        "ours_s": round(ours_s, 3),
        "ours_chunks_per_s": round(ours_rate, 2),
        "ours_chars_per_s": round(doc_chars / ours_s, 1),
        "raw_embed_s": round(raw_s, 3),
        "ours_s_rounds": [round(x, 3) for x in ours_times],
        "raw_embed_s_rounds": [round(x, 3) for x in raw_times],
        "ratio_rounds": [round(x, 3) for x in ratios],
        "raw_chunks_per_s": round(len(texts) / raw_s, 2),
        "raw_chars_per_s": round(doc_chars / raw_s, 1),
        "ratio_ours_to_raw": round(float(np.median(ratios)), 3),
        "goal_ratio_min": GOALS["ingest_ratio_min"],
        "naive_torch_fp32": reference,
        # the whole pipeline against the reference encoder alone, scaled by the sample's same-run ratio
        "speedup_ours_to_torch_fp32": (round(ours_rate / (len(texts) / raw_s) * reference["speedup_raw"], 3)
                                       if reference.get("speedup_raw") else None),
        "goal_speedup_min": GOALS["ingest_speedup_min"],
        "naive_langchain": {
            "chunks": naive_chunks,
            "seconds": round(naive_s, 3),
            "chunks_per_s": round(naive_chunks / naive_s, 2) if naive_s else None,
            "chars_per_s": round(doc_chars / naive_s, 1) if naive_s else None,
            "ratio_ours_to_naive_chars_per_s": round(naive_s / ours_s, 3) if naive_s else None,
        },
        "chunk_texts_match_index": len(texts) == report.embedded_chunks,
        "chunk_lengths": report.chunk_lengths,
    }
    return out


def _retrieval_hit5(plan: Plan, retrieve: Callable[[str], list[Any]]) -> dict[str, Any]:
    """hit@5 (a top-5 passage of a gold document holds the evidence or all key points) and doc hit@5."""
    from eval.metrics import passage_relevant

    answerable = [q for q in plan.questions if q.answerable and q.gold_docs]
    hits = doc_hits = 0
    for q in answerable:
        top = retrieve(q.question)[:5]
        hits += any(passage_relevant(q, h.chunk.doc_id, h.chunk.text) for h in top)
        doc_hits += any(h.chunk.doc_id in q.gold_docs for h in top)
    n = max(1, len(answerable))
    return {"questions": len(answerable), "hit@5": round(hits / n, 4), "doc_hit@5": round(doc_hits / n, 4)}


def section_side(plan: Plan) -> dict[str, Any]:
    """Indexing speed of (b), side by side: ours, naive LangChain + torch fp32, naive + our int8."""
    from assistant.service import Assistant
    from eval.baselines import NaiveLangChainPipeline
    from index.embedder import TorchEmbedder
    from index.pipeline import chunk_length_stats, discover

    paths = plan.point_paths(1.0)
    documents = len(discover(paths))
    chars = plan.topic_chars + plan.distractor_total_chars  # characters of the source text files
    root = plan.root / f"side-{files_hash(paths)}{plan.backend_suffix}"
    shutil.rmtree(root, ignore_errors=True)

    def rates(seconds: float) -> dict[str, float]:
        return {"wall_s": round(seconds, 2), "documents_per_s": round(documents / seconds, 3),
                "chars_per_s": round(chars / seconds, 1)}

    progress(f"side: ours, {documents} documents, {chars} characters, into a fresh {root.name}/ours")
    bot = Assistant(plan.settings_for(root / "ours"))
    bot.embedder.embed_passages(["京津冀协同发展预热文本。"] * 8)  # model load and warm-up outside the timing
    t0 = time.perf_counter()
    report = bot.index(paths)
    ours: dict[str, Any] = {**rates(time.perf_counter() - t0), "chunks": report.chunks, "chunk_lengths": report.chunk_lengths,
            "embedder": bot.embedder.describe(), "retrieval": _retrieval_hit5(plan, lambda q: bot.retrieve(q, k=5))}
    out: dict[str, Any] = {"documents": documents, "characters": chars, "ours": ours}
    encoders: list[tuple[str, Embedder]] = []
    if bot.embedder.backend != "torch":
        e = bot.embedder
        encoders.append(("naive_torch_fp32", TorchEmbedder(e.model_path, e.batch_size, e.batch_threads, e.query_prompt,
                                                           e.passage_prompt, e.query_threads)))
    encoders.append((f"naive_{bot.embedder.backend.replace('-', '_')}", bot.embedder))
    for name, encoder in encoders:
        encoder.embed_passages(["京津冀协同发展预热文本。"] * 8)
        progress(f"side: {name} (RecursiveCharacterTextSplitter 500/50 + {encoder.backend} + Chroma)")
        t0 = time.perf_counter()
        naive = NaiveLangChainPipeline(encoder, paths, root / name)
        seconds = time.perf_counter() - t0
        out[name] = {**rates(seconds), "chunks": len(naive.documents), "embedder": encoder.describe(),
                     "chunk_lengths": chunk_length_stats([len(d.page_content) for d in naive.documents]),
                     "retrieval": _retrieval_hit5(plan, naive.retrieve)}
        out[f"ratio_ours_to_{name}_chars_per_s"] = round(seconds / ours["wall_s"], 3)
    out["goals"] = {k: v for k, v in GOALS.items() if k.startswith("side_")}
    if not plan.args.keep_side:
        shutil.rmtree(root, ignore_errors=True)
    return out


def _torch_reference(plan: Plan, embedder: Embedder, texts: Sequence[str]) -> dict[str, Any]:
    """The naive encoder (sentence-transformers, torch fp32) against ours on one seeded sample of the
    very chunk texts, in rotated rounds so that load changes on a shared machine hit both alike."""
    from index.embedder import TorchEmbedder

    if embedder.backend == "torch":
        return {"note": "our embedder is the naive one: sentence-transformers, torch fp32", "speedup_raw": 1.0}
    sample = random.Random(plan.args.seed).sample(list(texts), min(len(texts), plan.args.reference_sample))
    torch_embedder = TorchEmbedder(embedder.model_path, embedder.batch_size, embedder.batch_threads,
                                   embedder.query_prompt, embedder.passage_prompt, embedder.query_threads)
    torch_embedder.embed_passages(sample[:8])  # warm-up
    rounds: dict[str, list[float]] = {"torch": [], "ours": []}
    vectors: dict[str, np.ndarray] = {}
    progress(f"ingest: torch fp32 reference vs {embedder.backend} on {len(sample)} chunk texts, 3 rotated rounds")
    for r in range(3):
        for name, enc in (("torch", torch_embedder), ("ours", embedder))[:: 1 if r % 2 == 0 else -1]:
            t = time.perf_counter()
            vectors[name] = enc.embed_passages(sample)
            rounds[name].append(time.perf_counter() - t)
    cosine = (vectors["torch"] * vectors["ours"]).sum(axis=1)
    torch_s, ours_s = float(np.median(rounds["torch"])), float(np.median(rounds["ours"]))
    return {
        "note": "sentence-transformers on torch, fp32, CPU: the naive pipeline's encoder",
        "backend": "torch", "dtype": "float32", "threads": torch_embedder.batch_threads,
        "batch_size": torch_embedder.batch_size, "sample": len(sample),
        "rounds_s": {k: [round(x, 2) for x in v] for k, v in rounds.items()},
        "chunks_per_s": round(len(sample) / torch_s, 2),
        "ours_raw_chunks_per_s": round(len(sample) / ours_s, 2),
        "speedup_raw": round(torch_s / ours_s, 3),
        "cosine_to_torch_min": round(float(cosine.min()), 5),
        "cosine_to_torch_mean": round(float(cosine.mean()), 5),
    }


def _query_run(plan: Plan, label: str, bot: Assistant, naive: NaiveLangChainPipeline) -> dict[str, Any]:
    """Ours on every question, the naive baseline on the first ``--naive-questions``, interleaved
    question by question so that load changes on a shared machine hit both alike."""
    questions = plan.questions
    naive_qs = questions[: plan.args.naive_questions] if plan.args.naive_questions else questions
    for q in questions[:3]:  # warm: model, indexes, jieba, torch kernels for a few input lengths
        timed_ask(bot, q)
    naive.retrieve_with_bm25_per_query(questions[0].question)  # one is enough: it rebuilds everything anyway
    ours: list[float] = []
    retrieve: list[float] = []
    naive_lat: list[float] = []
    refused = errors = 0
    by_id: dict[str, float] = {}
    progress(f"query ({label}): ours on {len(questions)} questions, naive on {len(naive_qs)} …")
    for i, q in enumerate(questions):
        try:
            seconds, answer = timed_ask(bot, q)
        except Exception:  # counted
            errors += 1
        else:
            ours.append(seconds)
            by_id[q.id] = seconds
            refused += int(answer.refused)
            if "retrieve" in answer.timings:
                retrieve.append(float(answer.timings["retrieve"]))
        if i < len(naive_qs):
            t = time.perf_counter()
            naive.retrieve_with_bm25_per_query(q.question)
            naive_lat.append(time.perf_counter() - t)
    same = [by_id[q.id] for q in naive_qs if q.id in by_id]
    ours_p50_same = percentile(same, 50) if same else float("nan")
    naive_p50 = percentile(naive_lat, 50)
    return {
        "chunks": bot.manifest.chunk_count(),
        "documents": len(bot.manifest.documents),
        "naive_chunks": len(naive.documents),
        "ours": {**summarize(ours), "refused": refused, "errors": errors,
                 "retrieve_p50_s": round(percentile(retrieve, 50), 4) if retrieve else None},
        "ours_on_naive_questions": summarize(same),
        "naive_bm25_per_query": summarize(naive_lat),
        "ratio_p50_ours_to_naive": round(ours_p50_same / naive_p50, 4) if naive_p50 > 0 else None,
    }


def section_query(plan: Plan) -> dict[str, Any]:
    out: dict[str, Any] = {"questions": len(plan.questions), "writer": "extractive",
                           "distractor_fraction": plan.args.distractor_fraction,
                           "distractor_files": len(plan.distractors),
                           "goal_ratio_max": GOALS["query_ratio_max"], "goal_p95_b_max_s": GOALS["query_p95_b_max_s"]}
    # (a) the topic corpus
    topic = plan.topic_dir
    out["index_a"] = ensure_index(plan, topic, plan.topic_paths)
    naive_a, build_a = get_naive(plan, "a", plan.topic_paths, topic / "naive_chroma")
    out["a"] = _query_run(plan, "a", get_bot(plan, topic), naive_a)
    out["a"]["naive_build_s"] = round(build_a, 2)
    # (b) topic + distractors
    paths = plan.point_paths(1.0)
    b_dir = plan.mix_root / "p100"
    progress(f"query (b): making sure {b_dir} holds {len(paths)} sources (built once, then kept)")
    out["index_b"] = ensure_index(plan, b_dir, paths)
    progress("query (b): naive LangChain index (built once, then kept)")
    naive_b, build_b = get_naive(plan, "b", paths, plan.mix_root / "naive_chroma")
    out["b"] = _query_run(plan, "b", get_bot(plan, b_dir), naive_b)
    out["b"]["naive_build_s"] = round(build_b, 2)
    out["b"]["characters"] = plan.topic_chars + plan.distractor_total_chars
    # the naive BM25 of (b) holds every split document in memory; let it go before the next sections
    plan.naives.pop("b", None)
    return out


def section_scale(plan: Plan) -> dict[str, Any]:
    plan.mix_root.mkdir(parents=True, exist_ok=True)
    qfile = plan.mix_root / "scale-questions.json"
    qfile.write_text(json.dumps([{"question": q.question, "history": q.history} for q in plan.questions],
                                ensure_ascii=False), encoding="utf-8")
    points = []
    for fraction in SCALE_POINTS:
        data_dir = plan.mix_root / f"p{round(fraction * 100)}"
        paths = plan.point_paths(fraction)
        progress(f"scale {fraction:.0%}: index {data_dir.name} ({len(paths)} sources)")
        built = ensure_index(plan, data_dir, paths)
        included = set(paths)
        chars = plan.topic_chars + sum(c for p, c in plan.distractors if p in included)
        result_file = plan.mix_root / f"scale-{data_dir.name}.json"
        result_file.unlink(missing_ok=True)
        progress(f"scale {fraction:.0%}: measuring in a subprocess")
        cmd = [sys.executable, "-m", "bench.worker", "--data-dir", str(data_dir), "--model", str(plan.model),
               "--questions", str(qfile), "--out", str(result_file)]
        pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": pythonpath}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
        point: dict[str, Any] = {"fraction": fraction, "characters": chars, "sources": len(paths), "index": built,
                                 **du_bytes(data_dir), "subprocess_s": round(time.perf_counter() - t0, 2)}
        if proc.returncode != 0 or not result_file.exists():
            point["error"] = f"worker exited {proc.returncode}: {proc.stderr[-1500:]}"
        else:
            point.update(json.loads(result_file.read_text(encoding="utf-8")))
        points.append(point)
    return {"points": points, "distractor_fraction": plan.args.distractor_fraction,
            "note": "each point: the whole topic corpus + seeded-random distractor files up to the fraction of the "
                    "distractors' characters (1.0 = (b)); peak_rss_bytes = RSS high-water mark (VmHWM; ru_maxrss of a "
                    "spawned child includes the parent's RSS on Linux) of a fresh process that loads and queries "
                    "that index"}


def section_hnsw(plan: Plan) -> dict[str, Any]:
    """Chroma's HNSW settings by measurement: the largest index's vectors re-inserted into throw-away
    collections, one per (M, ef_search), and the recall of the dense top-k against exact search
    (a dot product over every vector), query latency, build time and size on disk."""
    import chromadb

    source = plan.mix_root / "p100"
    if not (source / "chroma").exists():
        source = plan.topic_dir
    bot = get_bot(plan, source)
    page = bot.store.collection.get(include=["embeddings"])
    ids, vectors = list(page["ids"]), np.asarray(page["embeddings"], dtype=np.float32)
    queries = bot.embedder.embed_queries([q.question for q in plan.questions])
    k = min(bot.settings.dense_k, len(ids))
    t = time.perf_counter()
    for row in queries:
        _ = np.argsort(-(vectors @ row))[:k]
    brute_ms = (time.perf_counter() - t) / len(queries) * 1000
    out: dict[str, Any] = {"vectors": len(ids), "k": k, "questions": len(queries), "source": str(source),
                           "exact_numpy_ms_per_query": round(brute_ms, 3),
                           "current": {"M": bot.settings.hnsw_m, "ef_search": bot.settings.hnsw_ef_search},
                           "runs": []}
    work = plan.root / "hnsw-trial"
    shutil.rmtree(work, ignore_errors=True)
    # Recall by score, not by id: the corpus holds identical passages (same vector, other id), and
    # any of them is an equally right answer. A hit counts when it scores at least the k-th exact score.
    kth = np.sort(queries @ vectors.T, axis=1)[:, -k] - 1e-5
    for m, ef in HNSW_GRID:
        # A collection (and folder) per trial, settings fixed at creation: chromadb caches one client
        # per path for the life of the process, and ef_search changed later did not reach the index.
        trial = work / f"m{m}-ef{ef}-{time.time_ns()}"
        client = chromadb.PersistentClient(path=str(trial), settings=chromadb.config.Settings(anonymized_telemetry=False))
        t = time.perf_counter()
        col = client.create_collection(f"trial_m{m}_ef{ef}", embedding_function=None,
                                       metadata={"hnsw:space": "cosine", "hnsw:M": m, "hnsw:search_ef": ef})
        for i in range(0, len(ids), 4000):
            col.add(ids=ids[i:i + 4000], embeddings=vectors[i:i + 4000])
        build_s = time.perf_counter() - t
        col.query(query_embeddings=[queries[0].tolist()], n_results=k)  # warm
        lat, recall = [], []
        for qi, qv in enumerate(queries):
            t = time.perf_counter()
            got = col.query(query_embeddings=[qv.tolist()], n_results=k, include=["distances"])
            lat.append(time.perf_counter() - t)
            sims = 1.0 - np.asarray((got["distances"] or [[]])[0], dtype=np.float32)
            recall.append(float((sims >= kth[qi]).sum()) / k)
        out["runs"].append({"M": m, "ef_search": ef, "build_s": round(build_s, 2),
                            "disk_bytes": du_bytes(trial)["disk_bytes"],
                            f"recall@{k}": round(float(np.mean(recall)), 4),
                            "recall_min": round(float(np.min(recall)), 4),
                            "p50_ms": round(percentile(lat, 50) * 1000, 3),
                            "p95_ms": round(percentile(lat, 95) * 1000, 3)})
        del col, client
    shutil.rmtree(work, ignore_errors=True)
    return out


def _ask(client: Any, question: str) -> dict[str, Any]:
    result = client.predict(question, api_name="/ask")
    if not isinstance(result, dict):
        raise TypeError(f"/ask returned {type(result).__name__}")
    return result


def start_app(plan: Plan) -> AppProcess:
    ensure_index(plan, plan.topic_dir, plan.topic_paths)
    return AppProcess(plan.topic_dir, plan.model, plan.root / "app.log").start()


def section_cold(plan: Plan, app_holder: list[AppProcess]) -> dict[str, Any]:
    ensure_index(plan, plan.topic_dir, plan.topic_paths)
    question = next((q.question for q in plan.questions if q.answerable and not q.history), plan.questions[0].question)
    app = AppProcess(plan.topic_dir, plan.model, plan.root / "app.log")
    app.start()
    app_holder.append(app)
    client = app.client(timeout=plan.args.start_timeout)
    ready = time.perf_counter() - app.started_at
    answer = _ask(client, question)
    first = time.perf_counter() - app.started_at
    t = time.perf_counter()
    _ask(client, question)
    warm = time.perf_counter() - t
    return {
        "data_dir": str(plan.topic_dir),
        "api_ready_s": round(ready, 2),
        "first_answer_s": round(first, 2),
        "first_answer_refused": bool(answer.get("refused")),
        "second_answer_s": round(warm, 3),
        "command": "python -m assistant serve --no-index --port P",
    }


def section_concurrency(plan: Plan, app_holder: list[AppProcess]) -> dict[str, Any]:
    if not app_holder or not app_holder[0].alive():
        app_holder[:] = [start_app(plan)]
    app = app_holder[0]
    clients_n = plan.args.clients
    per = plan.args.concurrency_questions
    pool = [q.question for q in plan.questions if not q.history] or [q.question for q in plan.questions]
    warm = app.client(timeout=plan.args.start_timeout)
    _ask(warm, pool[0])  # the model is loaded before the clock starts
    barrier = threading.Barrier(clients_n + 1)
    latencies: list[list[float]] = [[] for _ in range(clients_n)]
    errors: list[str] = []
    mixups: list[dict[str, str]] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        mine = [pool[(i * per + j) % len(pool)] for j in range(per)]
        try:
            client = app.client(timeout=60)
        except Exception as exc:  # reported
            with lock:
                errors.append(f"client {i}: {exc!r}")
            barrier.wait()
            return
        barrier.wait()
        for question in mine:
            t = time.perf_counter()
            try:
                result = _ask(client, question)
            except Exception as exc:  # reported
                with lock:
                    errors.append(f"client {i}: {exc!r}"[:300])
                continue
            latencies[i].append(time.perf_counter() - t)
            if str(result.get("question", "")).strip() != question.strip():
                with lock:
                    mixups.append({"client": str(i), "asked": question, "got": str(result.get("question"))})

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients_n)]
    for th in threads:
        th.start()
    barrier.wait(timeout=300)
    t0 = time.perf_counter()
    for th in threads:
        th.join(timeout=plan.args.start_timeout + 60 * per)
    wall = time.perf_counter() - t0
    flat = [x for lat in latencies for x in lat]
    return {
        "clients": clients_n,
        "questions_per_client": per,
        "requests": clients_n * per,
        "answers": len(flat),
        "wall_s": round(wall, 3),
        "answers_per_s": round(len(flat) / wall, 3) if wall > 0 else None,
        **{f"latency_{k}": v for k, v in summarize(flat).items()},
        "errors": len(errors),
        "error_samples": errors[:5],
        "mixups": len(mixups),
        "mixup_samples": mixups[:5],
        "app_concurrency_limit": plan.base.concurrency_limit,
    }


def _token_count(base_url: str, text: str) -> int | None:
    import urllib.request

    root = base_url.rstrip("/").removesuffix("/v1")
    for route, key in (("/extras/tokenize/count", "count"), ("/extras/tokenize", "tokens")):
        try:
            req = urllib.request.Request(root + route, data=json.dumps({"input": text}).encode("utf-8"),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                value = json.loads(resp.read().decode("utf-8")).get(key)
            return int(value) if key == "count" else len(value)
        except Exception:  # try the next route, then give up
            continue
    return None


GENERATED_FALLBACKS = ("unsupported", "declined", "garbage")  # the LLM did generate before the fallback


def section_llm(plan: Plan) -> dict[str, Any]:
    from assistant.llm_server import LLMServer, is_up

    settings = plan.base
    base_url = settings.llm_base_url
    server: LLMServer | None = None
    out: dict[str, Any] = {}
    started = 0.0
    if not is_up(base_url):
        if not settings.llm_gguf_path.is_file():
            return {"skipped": f"no LLM server at {base_url} and no GGUF at {settings.llm_gguf_path}"}
        if importlib.util.find_spec("llama_cpp") is None:
            return {"skipped": f"no LLM server at {base_url} and llama_cpp is not installed"}
        progress("llm: starting a llama.cpp server on the local GGUF")
        t0 = time.perf_counter()
        try:
            server = LLMServer.from_settings(settings, port=free_port(), log_path=plan.root / "llm-server.log")
            server.start()
        except Exception as exc:  # reported, the section is skipped
            if server is not None:
                server.stop()
            return {"skipped": f"could not start the LLM server: {exc!r}"[:600]}
        started = time.perf_counter() - t0
        base_url = server.base_url
        out["server_start_s"] = round(started, 2)
    out["base_url"] = base_url
    try:
        ensure_index(plan, plan.topic_dir, plan.topic_paths)
        from assistant.service import Assistant

        update: dict[str, Any] = {"llm_base_url": base_url}
        if plan.quick:  # a shorter prompt and answer: prompt processing dominates on a small CPU
            update.update(llm_max_tokens=32, top_k=3)
        bot = Assistant(plan.settings_for(plan.topic_dir, **update), writer="llm")
        out["settings"] = {"llm_max_tokens": bot.settings.llm_max_tokens, "top_k": bot.settings.top_k,
                           "llm_model": bot.settings.llm_model, "llm_threads": bot.settings.llm_threads}
        # questions the assistant does not refuse (the refusal path never reaches the LLM)
        chosen: list[Question] = []
        for q in plan.questions:
            if len(chosen) >= plan.args.llm_questions:
                break
            if q.answerable and not q.history and not bot.ask(q.question, writer="extractive").refused:
                chosen.append(q)
        if not chosen:
            out["skipped"] = "every candidate question was refused before reaching the LLM"
        runs: list[dict[str, Any]] = []
        for q in chosen:
            t0 = time.perf_counter()
            first: float | None = None
            deltas: list[str] = []
            final = None
            for event in bot.stream(q.question):
                if event.type == "delta":
                    if first is None:
                        first = time.perf_counter()
                    deltas.append(event.text)
                elif event.type == "final":
                    final = event.answer
            end = time.perf_counter()
            text = "".join(deltas)
            tokens = _token_count(base_url, text)
            gen_s = end - first if first is not None else 0.0
            count = tokens if tokens is not None else len(deltas)
            # the first token's time is TTFT; the rate counts the tokens that came after it
            rate = round((count - 1) / gen_s, 2) if len(deltas) >= 2 and count > 1 and gen_s > 0 else None
            runs.append({
                "question": q.question,
                "writer": final.writer if final else None,
                "refused": bool(final.refused) if final else None,
                "fell_back": bool(final and final.writer != "llm"),
                "fallback_reason": getattr(final, "fallback_reason", None) if final else None,
                "ttft_s": round(first - t0, 3) if first is not None else None,
                "total_s": round(end - t0, 3),
                "tokens": count,
                "token_count": "llama.cpp tokenizer" if tokens is not None else "stream deltas",
                "tokens_per_s": rate,
            })
        # speed counts every run the LLM generated for, whatever the verifier then decided
        # (an answer that fell back after verification still timed the LLM's own generation)
        llm_runs = [r for r in runs if r["ttft_s"] is not None
                    and (r["writer"] == "llm" or r["fallback_reason"] in GENERATED_FALLBACKS)]
        out["fallbacks"] = {str(r["fallback_reason"]): sum(1 for x in runs if x["fallback_reason"] == r["fallback_reason"])
                            for r in runs if r["fallback_reason"]}
        out["runs"] = runs
        out["refused_after_generation"] = sum(1 for r in llm_runs if r["refused"])
        out["ttft_p50_s"] = round(percentile([r["ttft_s"] for r in llm_runs], 50), 3) if llm_runs else None
        rates = [r["tokens_per_s"] for r in llm_runs if r["tokens_per_s"]]
        out["tokens_per_s_mean"] = round(sum(rates) / len(rates), 2) if rates else None
    finally:
        if server is not None:
            server.stop()
    return out


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


# -- set-up -----------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant bench", description="性能基准（与朴素基线在同一次运行中对比）")
    p.add_argument("--quick", action="store_true", help="tiny scale, < 3 minutes")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    p.add_argument("--data-dir", type=Path, default=None, help="bench indexes (default <data_dir>/bench); kept")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where result JSON and plots go (default bench/results)")
    p.add_argument("--corpus", type=Path, action="append", default=None,
                   help="topic corpus file/folder (repeatable; default docs_corpus/ + ../shared/corpus/jjj)")
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
    from assistant.settings import Settings
    from eval.datasets import load_own_set
    from index.pipeline import discover

    base = Settings()
    from index.embedder import resolve_model_path  # the bundled model is prepared once, in model_dir

    model = resolve_model_path(base)
    if not (model / "config.json").exists() and not (model / "modules.json").exists():
        raise FileNotFoundError(f"no sentence-transformers model at {model}")
    shared = base.shared_dir
    all_questions = load_own_set("jjj", base.corpus_dir, shared).questions
    quick = bool(args.quick)
    if args.corpus:
        topic = [Path(p) for p in args.corpus]
    elif quick:  # docs_corpus + the two smallest jjj files that some question is about
        gold = {d for q in all_questions for d in q.gold_docs}
        jjj = sorted((s for s in discover([shared / "corpus" / "jjj"]) if s.doc_id in gold),
                     key=lambda s: s.path.stat().st_size)
        topic = [base.corpus_dir, *(s.path for s in jjj[:2])]
    else:
        topic = [base.corpus_dir, shared / "corpus" / "jjj"]
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
        write_results(merged, Path(args.results_dir), f"{merged['meta']['timestamp']}-merged")
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

    results: dict[str, Any] = {
        "meta": {
            "timestamp": ts,
            "quick": plan.quick,
            "sections": sections,
            "data_dir": str(plan.root),
            "model": str(plan.model),
            "embedding_backend": plan.base.embedding_backend,
            "topic_corpus": [str(p) for p in plan.topic_paths],
            "topic_documents": len(plan.topic_doc_ids),
            "topic_characters": plan.topic_chars,
            "distractor_fraction": args.distractor_fraction,
            "distractor_files": len(plan.distractors),
            "distractor_characters": plan.distractor_total_chars,
            "questions": len(plan.questions),
            "naive_questions": min(args.naive_questions or len(plan.questions), len(plan.questions)),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_start": load_average(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        }
    }
    runners: dict[str, Callable[[], dict[str, Any]]] = {}
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
            t0 = time.perf_counter()
            try:
                results[name] = runners[name]()
            except Exception as exc:  # one broken section must not lose the others
                log.debug("section %s failed", name, exc_info=True)
                results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
                failed = True
            results[name]["section_s"] = round(time.perf_counter() - t0, 2)
            if name == "cold" and "concurrency" not in sections:
                for app in apps:
                    app.stop()
    finally:
        for app in apps:
            app.stop()
    conc = results.get("concurrency") or {}
    if conc.get("errors") or conc.get("mixups"):
        failed = True
    results["meta"]["load_average_end"] = load_average()
    results["meta"]["total_s"] = round(time.perf_counter() - t_start, 2)

    write_results(results, Path(args.results_dir), ts)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
