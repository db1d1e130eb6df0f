"""The ``hnsw`` section: recall against exact search and latency per HNSW (M, ef_search)."""

from __future__ import annotations

import shutil
import time

import numpy as np

from ..common import percentile
from ..plan import HNSW_GRID, Plan, du_bytes, get_bot
from ..results import HnswResult, HnswRun, HnswSetting


def section_hnsw(plan: Plan) -> HnswResult:
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
    out = HnswResult(vectors=len(ids), k=k, questions=len(queries), source=str(source),
                     exact_numpy_ms_per_query=round(brute_ms, 3),
                     current=HnswSetting(m=bot.settings.hnsw_m, ef_search=bot.settings.hnsw_ef_search), runs=[])
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
        out.runs.append(HnswRun(m=m, ef_search=ef, build_s=round(build_s, 2), disk_bytes=du_bytes(trial)["disk_bytes"],
                                recall_k=k, recall=round(float(np.mean(recall)), 4),
                                recall_min=round(float(np.min(recall)), 4),
                                p50_ms=round(percentile(lat, 50) * 1000, 3), p95_ms=round(percentile(lat, 95) * 1000, 3)))
        del col, client
    shutil.rmtree(work, ignore_errors=True)
    return out
