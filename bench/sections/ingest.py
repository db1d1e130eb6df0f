"""The ``ingest`` section: indexing throughput against the raw encoder and the naive LangChain ingest."""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Sequence

import numpy as np

from assistant.service import Assistant
from index.embedder_base import Embedder
from index.models import IndexReport
from index.torch_embedder import TorchEmbedder

from ..plan import GOALS, Plan, chunk_texts, get_bot, get_naive, progress
from ..results import ChunkLengths, EmbedderInfo, IngestResult, NaiveIngest, TorchReference


# -- sections ---------------------------------------------------------------------------------------
def section_ingest(plan: Plan) -> IngestResult:
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

    reference = torch_reference(plan, embedder, texts)
    chunks = report.chunks
    ours_rate = chunks / ours_s
    speedup = reference.speedup_raw
    return IngestResult(
        corpus=[str(p) for p in plan.topic_paths],
        embedder=EmbedderInfo.model_validate(embedder.describe()),
        documents=report.documents,
        chunks=chunks,
        embedded_chunks=report.embedded_chunks,
        characters=doc_chars,
        embed_text_characters=sum(len(text) for text in texts),
        model_load_s=round(load_s, 3),
        ours_s=round(ours_s, 3),
        ours_chunks_per_s=round(ours_rate, 2),
        ours_chars_per_s=round(doc_chars / ours_s, 1),
        raw_embed_s=round(raw_s, 3),
        ours_s_rounds=[round(x, 3) for x in ours_times],
        raw_embed_s_rounds=[round(x, 3) for x in raw_times],
        ratio_rounds=[round(x, 3) for x in ratios],
        raw_chunks_per_s=round(len(texts) / raw_s, 2),
        raw_chars_per_s=round(doc_chars / raw_s, 1),
        ratio_ours_to_raw=round(float(np.median(ratios)), 3),
        goal_ratio_min=GOALS["ingest_ratio_min"],
        naive_torch_fp32=reference,
        # the whole pipeline against the reference encoder alone, scaled by the sample's same-run ratio
        speedup_ours_to_torch_fp32=round(ours_rate / (len(texts) / raw_s) * speedup, 3) if speedup else None,
        goal_speedup_min=GOALS["ingest_speedup_min"],
        naive_langchain=NaiveIngest(
            chunks=naive_chunks,
            seconds=round(naive_s, 3),
            chunks_per_s=round(naive_chunks / naive_s, 2) if naive_s else None,
            chars_per_s=round(doc_chars / naive_s, 1) if naive_s else None,
            ratio_ours_to_naive_chars_per_s=round(naive_s / ours_s, 3) if naive_s else None,
        ),
        chunk_texts_match_index=len(texts) == report.embedded_chunks,
        chunk_lengths=ChunkLengths.model_validate(report.chunk_lengths),
    )


def torch_reference(plan: Plan, embedder: Embedder, texts: Sequence[str]) -> TorchReference:
    """The naive encoder (sentence-transformers, torch fp32) against ours on one seeded sample of the
    very chunk texts, in rotated rounds so that load changes on a shared machine hit both alike."""
    if embedder.backend == "torch":
        return TorchReference(note="our embedder is the naive one: sentence-transformers, torch fp32", speedup_raw=1.0)
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
    return TorchReference(
        note="sentence-transformers on torch, fp32, CPU: the naive pipeline's encoder",
        backend="torch", dtype="float32", threads=torch_embedder.batch_threads,
        batch_size=torch_embedder.batch_size, sample=len(sample),
        rounds_s={k: [round(x, 2) for x in v] for k, v in rounds.items()},
        chunks_per_s=round(len(sample) / torch_s, 2),
        ours_raw_chunks_per_s=round(len(sample) / ours_s, 2),
        speedup_raw=round(torch_s / ours_s, 3),
        cosine_to_torch_min=round(float(cosine.min()), 5),
        cosine_to_torch_mean=round(float(cosine.mean()), 5),
    )
