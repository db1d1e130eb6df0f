"""The plan of a bench run (corpora, questions, data folders) and the helpers every section shares."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.service import Assistant
from assistant.settings import Settings
from eval.baselines import NaiveLangChainPipeline
from eval.datasets import Question
from eval.metrics import passage_relevant
from index.embedder_base import Embedder
from index.loaders import load_document
from index.manifest import Manifest, manifest_path
from index.pipeline import Indexer, discover
from index.store import ChromaStore, chunk_from_record

from .results import IndexBuild, Retrieval

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
    """Wraps a loaded embedder (``inner``): passages already embedded in this run are not embedded
    again. Queries, the fingerprint and the description are the inner embedder's own."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner.name, inner.model_path, batch_size=inner.batch_size, batch_threads=inner.batch_threads,
                         query_threads=inner.query_threads, query_prompt=inner.query_prompt,
                         passage_prompt=inner.passage_prompt, dim=inner.dim)
        self.inner = inner
        self.backend = inner.backend
        self._cache: dict[bytes, np.ndarray] = {}
        self.embedded = 0

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).digest() for t in texts]
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._cache:
                todo.setdefault(key, text)
        if todo:
            vectors = self.inner.embed_passages(list(todo.values()), show_progress)
            self._cache.update(zip(todo, vectors, strict=True))
            self.embedded += len(todo)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])

    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        raise NotImplementedError("CachingEmbedder encodes through the inner embedder's public methods")

    def prefill(self, data_dir: Path, settings: Settings) -> int:
        """Remember the vectors of an index built earlier with the same model and backend (another
        bench run's (b)), so that the nested scale indexes of this run embed nothing again."""
        try:
            manifest = Manifest.load(manifest_path(data_dir))
        except (OSError, ValueError):
            return 0
        if manifest.embedding_model != self.fingerprint():
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
    key = str(data_dir)
    if key not in plan.bots:
        plan.bots[key] = Assistant(plan.settings_for(data_dir))
    return plan.bots[key]


def ensure_index(plan: Plan, data_dir: Path, paths: Sequence[Path]) -> IndexBuild:
    """Bring ``data_dir`` in line with ``paths`` (a no-op when it already is); embeddings are cached."""
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
    return IndexBuild(documents=report.documents, chunks=report.chunks, embedded_now=report.embedded_chunks,
                      embedded_by_model_now=plan.caching.embedded - before,
                      seconds=round(time.perf_counter() - t0, 2), skipped=len(report.skipped))


def get_naive(plan: Plan, key: str, paths: Sequence[Path], persist: Path) -> tuple[NaiveLangChainPipeline, float]:
    if key not in plan.naives:
        bot = get_bot(plan, plan.topic_dir)
        t0 = time.perf_counter()
        plan.naives[key] = NaiveLangChainPipeline(bot.embedder, list(paths), persist)
        return plan.naives[key], time.perf_counter() - t0
    return plan.naives[key], 0.0


def chunk_texts(plan: Plan, bot: Assistant, paths: Sequence[Path]) -> list[str]:
    """The exact texts the indexer hands the embedder for ``paths``."""
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


def retrieval_hit5(plan: Plan, retrieve: Callable[[str], list[Any]]) -> Retrieval:
    """hit@5 (a top-5 passage of a gold document holds the evidence or all key points) and doc hit@5."""
    answerable = [q for q in plan.questions if q.answerable and q.gold_docs]
    hits = doc_hits = 0
    for q in answerable:
        top = retrieve(q.question)[:5]
        hits += any(passage_relevant(q, h.chunk.doc_id, h.chunk.text) for h in top)
        doc_hits += any(h.chunk.doc_id in q.gold_docs for h in top)
    n = max(1, len(answerable))
    return Retrieval(questions=len(answerable), hit_at_5=round(hits / n, 4), doc_hit_at_5=round(doc_hits / n, 4))
