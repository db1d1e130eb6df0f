"""The ``side`` section: indexing speed side by side with the naive pipelines on the topic corpus + distractors."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from assistant.service import Assistant
from eval.baselines import NaiveLangChainPipeline
from index.embedder_base import Embedder
from index.pipeline import chunk_length_stats, discover
from index.torch_embedder import TorchEmbedder

from ..machine import Span, measure
from ..plan import GOALS, Plan, files_hash, progress, retrieval_hit5
from ..results import ChunkLengths, EmbedderInfo, SidePipeline, SideResult


def section_side(plan: Plan) -> SideResult:
    """Indexing speed of (b), side by side: ours, naive LangChain + torch fp32, naive + our int8."""
    paths = plan.point_paths(1.0)
    documents = len(discover(paths))
    chars = plan.topic_chars + plan.distractor_total_chars  # characters of the source text files
    root = plan.root / f"side-{files_hash(paths)}{plan.backend_suffix}"
    shutil.rmtree(root, ignore_errors=True)

    def pipeline(span: Span, chunks: int, lengths: dict[str, float], embedder: Embedder,
                 retrieve: Callable[[str], list[Any]]) -> SidePipeline:
        seconds, cpu = span.wall_s, span.state.cpu_s
        return SidePipeline(wall_s=round(seconds, 2), documents_per_s=round(documents / seconds, 3),
                            chars_per_s=round(chars / seconds, 1), chunks=chunks,
                            chunk_lengths=ChunkLengths.model_validate(lengths),
                            embedder=EmbedderInfo.model_validate(embedder.describe()),
                            retrieval=retrieval_hit5(plan, retrieve),
                            cpu_chars_per_s=round(chars / cpu, 1) if cpu else None, machine=span.state)

    progress(f"side: ours, {documents} documents, {chars} characters, into a fresh {root.name}/ours")
    bot = Assistant(plan.settings_for(root / "ours"))
    bot.embedder.embed_passages(["京津冀协同发展预热文本。"] * 8)  # model load and warm-up outside the timing
    with measure() as span:
        report = bot.index(paths)
    ours = pipeline(span, report.chunks, report.chunk_lengths, bot.embedder, lambda q: bot.retrieve(q, k=5))
    out = SideResult(documents=documents, characters=chars, ours=ours, naive={}, ratios={})
    encoders: list[tuple[str, Embedder]] = []
    if bot.embedder.backend != "torch":
        e = bot.embedder
        encoders.append(("naive_torch_fp32", TorchEmbedder(e.model_path, e.batch_size, e.batch_threads, e.query_prompt,
                                                           e.passage_prompt, e.query_threads)))
    encoders.append((f"naive_{bot.embedder.backend.replace('-', '_')}", bot.embedder))
    for name, encoder in encoders:
        encoder.embed_passages(["京津冀协同发展预热文本。"] * 8)
        progress(f"side: {name} (RecursiveCharacterTextSplitter 500/50 + {encoder.backend} + Chroma)")
        with measure() as span:
            naive = NaiveLangChainPipeline(encoder, paths, root / name)
        out.naive[name] = pipeline(span, len(naive.documents),
                                   chunk_length_stats([len(d.page_content) for d in naive.documents]), encoder,
                                   naive.retrieve)
        out.ratios[name] = round(span.wall_s / ours.wall_s, 3)
    out.goals = {k: v for k, v in GOALS.items() if k.startswith("side_")}
    if not plan.args.keep_side:
        shutil.rmtree(root, ignore_errors=True)
    return out
