"""Typed results of ``assistant bench``: one model per section, read from and written to the result JSON.

The JSON keys are a contract (``--merge`` combines result files of earlier runs, and scripts read
them), so every model serialises to exactly the keys the bench has always written:

* ``to_json()`` writes the keys a result was given, and only those (``exclude_unset``): a field
  that an older file lacks stays absent when that file is merged, and an optional figure a run did
  not measure (``server_start_s`` when a server was already up) is not written as ``null``.
* ``extra="allow"``: a key no model declares (a figure of a future or a much older run) rides along
  unchanged instead of failing the merge.
* Some keys are built at run time; the models hold them as typed fields and turn them back into
  the flat keys: the side section's one entry per naive pipeline with its
  ``ratio_ours_to_<pipeline>_chars_per_s``, the HNSW runs' ``recall@<k>``, and sub-records written
  flat under a prefix (the concurrency section's ``latency_*``, the scale worker's figures).

``tests/unit/test_bench_results.py`` reads every result file in ``bench/results`` and checks that
``from_json(data).to_json() == data``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    model_serializer,
    model_validator,
)

__all__ = ["BenchResults", "ChunkLengths", "ColdResult", "ConcurrencyResult", "EmbedderInfo", "HnswResult", "HnswRun",
           "HnswSetting", "IndexBuild", "IngestResult", "Latency", "LlmResult", "LlmRun", "NaiveIngest", "OursLatency",
           "QueryResult", "QueryRun", "Result", "Retrieval", "RunMeta", "ScalePoint", "ScaleResult", "SectionError",
           "SectionResult", "SidePipeline", "SideResult", "TorchReference", "WorkerFigures"]


class Result(BaseModel):
    """Base of every bench record: JSON in and out with the keys it was given."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    # field name -> (key prefix, model): a sub-record written flat into this record's keys
    _flat: ClassVar[dict[str, tuple[str, type[Result]]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _gather_flat(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls._flat:
            return data
        data = dict(data)
        for name, (prefix, model) in cls._flat.items():
            if name in data:
                continue
            keys = {f.alias or n for n, f in model.model_fields.items()}
            sub = {k[len(prefix):]: data.pop(k) for k in list(data) if k.startswith(prefix) and k[len(prefix):] in keys}
            if sub:
                data[name] = sub
        return data

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if self._flat:
            flat: dict[str, Any] = {}
            for key, value in out.items():
                if key in self._flat and isinstance(value, dict):
                    flat.update({self._flat[key][0] + k: v for k, v in value.items()})
                else:
                    flat[key] = value
            out = flat
        return self._finish(out)

    def _finish(self, out: dict[str, Any]) -> dict[str, Any]:
        """Last touch on the serialised keys (subclasses with keys built at run time)."""
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_unset=True)


class MachineState(Result):
    """The machine while a figure was measured (``bench.machine.measure``): load average at the start and end,
    this process's CPU seconds, and shares of all CPUs' time: busy, this process's, stolen by the hypervisor."""

    cpu_s: float | None = None
    cpus: int | None = None
    load_start: list[float] | None = None
    load_end: list[float] | None = None
    busy_share: float | None = None
    own_share: float | None = None
    steal_share: float | None = None


class SectionResult(Result):
    """A section's figures; ``section_s`` (the section's own wall time) and ``machine`` (the load and CPU
    shares while it ran, see ``MachineState``) are written last."""

    section_s: float | None = None
    machine: MachineState | None = None

    def _finish(self, out: dict[str, Any]) -> dict[str, Any]:
        for key in ("section_s", "machine"):
            if key in out:
                out[key] = out.pop(key)
        return out


class SectionError(Result):
    """A section that raised: the others are kept, the run exits 1."""

    error: str
    traceback: str | None = None
    section_s: float | None = None


# -- shared records -------------------------------------------------------------------------------
class EmbedderInfo(Result):
    """``Embedder.describe()``: remote encoders add ``url`` and have no thread count."""

    backend: str
    model: str
    dim: int
    batch_size: int
    threads: int | None = None
    url: str | None = None


class ChunkLengths(Result):
    """``index.pipeline.chunk_length_stats``: only ``count`` when there are no chunks."""

    count: int
    mean: float | None = None
    p10: float | None = None
    p50: float | None = None
    p90: float | None = None
    under_50: float | None = None
    under_120: float | None = None


class Latency(Result):
    """``bench.common.summarize``: only ``n`` when nothing was timed."""

    n: int
    p50_s: float | None = None
    p95_s: float | None = None
    mean_s: float | None = None
    max_s: float | None = None


class IndexBuild(Result):
    """What ``ensure_index`` did to bring an index in line with its sources."""

    documents: int
    chunks: int
    embedded_now: int
    embedded_by_model_now: int
    seconds: float
    skipped: int


class Retrieval(Result):
    """hit@5 and doc hit@5 on the answerable evaluation questions of the corpus."""

    questions: int
    hit_at_5: float = Field(validation_alias=AliasChoices("hit@5", "hit_at_5"), serialization_alias="hit@5")
    doc_hit_at_5: float = Field(validation_alias=AliasChoices("doc_hit@5", "doc_hit_at_5"),
                                serialization_alias="doc_hit@5")


# -- ingest ---------------------------------------------------------------------------------------
class TorchReference(Result):
    """The naive encoder (sentence-transformers, torch fp32) against ours on a sample of chunk texts.
    Only ``note`` and ``speedup_raw`` when our encoder is that one."""

    note: str
    backend: str | None = None
    dtype: str | None = None
    threads: int | None = None
    batch_size: int | None = None
    sample: int | None = None
    rounds_s: dict[str, list[float]] | None = None
    chunks_per_s: float | None = None
    ours_raw_chunks_per_s: float | None = None
    speedup_raw: float | None = None
    cosine_to_torch_min: float | None = None
    cosine_to_torch_mean: float | None = None
    # written by runs of 2026-11-26 before the reference was measured apart
    device: str | None = None
    torch_threads: int | None = None
    chars_per_s: float | None = None


class NaiveIngest(Result):
    chunks: int
    seconds: float
    chunks_per_s: float | None
    chars_per_s: float | None
    ratio_ours_to_naive_chars_per_s: float | None


class IngestResult(SectionResult):
    corpus: list[str]
    embedder: EmbedderInfo | None = None
    documents: int
    chunks: int
    embedded_chunks: int
    characters: int
    embed_text_characters: int
    model_load_s: float
    ours_s: float
    ours_chunks_per_s: float
    ours_chars_per_s: float
    raw_embed_s: float
    raw_embed_s_before_after: list[float] | None = None  # runs before rounds were introduced
    ours_s_rounds: list[float] | None = None
    raw_embed_s_rounds: list[float] | None = None
    ratio_rounds: list[float] | None = None
    raw_chunks_per_s: float
    raw_chars_per_s: float
    ratio_ours_to_raw: float
    goal_ratio_min: float
    naive_torch_fp32: TorchReference
    speedup_ours_to_torch_fp32: float | None = None
    goal_speedup_min: float | None = None
    naive_langchain: NaiveIngest
    chunk_texts_match_index: bool
    chunk_lengths: ChunkLengths | None = None


# -- side -----------------------------------------------------------------------------------------
class SidePipeline(Result):
    """One pipeline's indexing run in the side section (``machine``: what else ran meanwhile)."""

    wall_s: float
    documents_per_s: float
    chars_per_s: float
    chunks: int
    chunk_lengths: ChunkLengths
    embedder: EmbedderInfo
    retrieval: Retrieval
    cpu_chars_per_s: float | None = None  # characters per CPU-second of this process: steadier than wall time
    machine: MachineState | None = None


_RATIO_KEY = re.compile(r"^ratio_ours_to_(.+)_chars_per_s$")


def side_ratio_key(name: str) -> str:
    return f"ratio_ours_to_{name}_chars_per_s"


class SideResult(SectionResult):
    """Ours and each naive pipeline; in JSON each naive pipeline is a key of its own
    (``naive_torch_fp32``, ``naive_onnx_int8`` …) followed by its ``ratio_ours_to_<name>_chars_per_s``."""

    documents: int
    characters: int
    ours: SidePipeline
    naive: dict[str, SidePipeline] = Field(default_factory=dict)
    ratios: dict[str, float] = Field(default_factory=dict)  # pipeline -> ours' chars/s over its chars/s
    goals: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_pipelines(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "naive" in data:
            return data
        data = dict(data)
        ratios = {m.group(1): data.pop(k) for k in list(data) if (m := _RATIO_KEY.match(k))}
        naive = {k: data.pop(k) for k in list(data) if k.startswith("naive_") and isinstance(data[k], dict)}
        if naive:
            data["naive"] = naive
        if ratios:
            data["ratios"] = ratios
        return data

    def _finish(self, out: dict[str, Any]) -> dict[str, Any]:
        naive, ratios = out.pop("naive", {}), out.pop("ratios", {})
        flat: dict[str, Any] = {}
        for key, value in out.items():
            flat[key] = value
            if key == "ours":
                for name, pipeline in naive.items():
                    flat[name] = pipeline
                    if name in ratios:
                        flat[side_ratio_key(name)] = ratios[name]
                flat.update({side_ratio_key(n): r for n, r in ratios.items() if n not in naive})
        return super()._finish(flat)

    def ratio(self, name: str) -> float | None:
        return self.ratios.get(name)


# -- query ----------------------------------------------------------------------------------------
class OursLatency(Latency):
    refused: int
    errors: int
    retrieve_p50_s: float | None = None


class QueryRun(Result):
    """Ours on every question, the naive baseline on the first ``--naive-questions``, interleaved."""

    chunks: int
    documents: int
    naive_chunks: int
    ours: OursLatency
    ours_on_naive_questions: Latency
    naive_bm25_per_query: Latency
    ratio_p50_ours_to_naive: float | None
    naive_build_s: float | None = None
    characters: int | None = None  # (b) only


class QueryResult(SectionResult):
    questions: int
    writer: str
    distractor_fraction: float
    distractor_files: int
    goal_ratio_max: float
    goal_p95_b_max_s: float
    index_a: IndexBuild | None = None
    a: QueryRun | None = None
    index_b: IndexBuild | None = None
    b: QueryRun | None = None


# -- scale ----------------------------------------------------------------------------------------
class WorkerFigures(Result):
    """What ``python -m bench.worker`` measures in a fresh process that loads and queries one index."""

    peak_rss_bytes: int | None
    peak_rss_source: str
    ru_maxrss_bytes: int | None
    rss_end_bytes: int | None
    questions: int
    answered: int
    refused: int
    errors: int
    load_and_first_answer_s: float
    p50_s: float
    p95_s: float
    mean_s: float
    rss_at_start_bytes: int | None
    chunks: int
    documents: int


class ScalePoint(Result):
    """One nested corpus size; the worker's figures are written flat into the point."""

    _flat: ClassVar[dict[str, tuple[str, type[Result]]]] = {"figures": ("", WorkerFigures)}

    fraction: float
    characters: int
    sources: int
    index: IndexBuild
    disk_bytes: int
    apparent_bytes: int
    subprocess_s: float
    error: str | None = None
    figures: WorkerFigures | None = None


class ScaleResult(SectionResult):
    points: list[ScalePoint]
    distractor_fraction: float
    note: str


# -- hnsw -----------------------------------------------------------------------------------------
class HnswSetting(Result):
    m: int = Field(validation_alias=AliasChoices("M", "m"), serialization_alias="M")
    ef_search: int


class HnswRun(Result):
    """One (M, ef_search) trial; its recall is written as ``recall@<k>``."""

    m: int = Field(validation_alias=AliasChoices("M", "m"), serialization_alias="M")
    ef_search: int
    build_s: float
    disk_bytes: int
    recall_k: int = Field(exclude=True)
    recall: float
    recall_min: float
    p50_ms: float
    p95_ms: float

    @model_validator(mode="before")
    @classmethod
    def _read_recall(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "recall" in data:
            return data
        data = dict(data)
        for key in list(data):
            if (m := re.fullmatch(r"recall@(\d+)", key)) is not None:
                data["recall_k"], data["recall"] = int(m.group(1)), data.pop(key)
        return data

    def _finish(self, out: dict[str, Any]) -> dict[str, Any]:
        return {(f"recall@{self.recall_k}" if key == "recall" else key): value for key, value in out.items()}


class HnswResult(SectionResult):
    vectors: int
    k: int
    questions: int
    source: str
    exact_numpy_ms_per_query: float
    current: HnswSetting
    runs: list[HnswRun]


# -- cold, concurrency, llm -----------------------------------------------------------------------
class ColdResult(SectionResult):
    data_dir: str
    api_ready_s: float
    first_answer_s: float
    first_answer_refused: bool
    second_answer_s: float
    command: str


class ConcurrencyResult(SectionResult):
    """Simultaneous gradio_client users; the latency summary is written flat as ``latency_*``."""

    _flat: ClassVar[dict[str, tuple[str, type[Result]]]] = {"latency": ("latency_", Latency)}

    clients: int
    questions_per_client: int
    requests: int
    answers: int
    wall_s: float
    answers_per_s: float | None
    latency: Latency
    errors: int
    error_samples: list[str]
    mixups: int
    mixup_samples: list[dict[str, str]]
    app_concurrency_limit: int | None = None


class LlmRun(Result):
    question: str
    writer: str | None
    refused: bool | None
    fell_back: bool
    fallback_reason: str | None = None
    ttft_s: float | None
    total_s: float
    tokens: int
    token_count: str
    tokens_per_s: float | None


class LlmResult(SectionResult):
    """Time to first token and tokens/s of the llm writer; only ``skipped`` when no LLM could run."""

    skipped: str | None = None
    server_start_s: float | None = None
    base_url: str | None = None
    settings: dict[str, Any] | None = None
    fallbacks: dict[str, int] | None = None
    runs: list[LlmRun] | None = None
    refused_after_generation: int | None = None
    ttft_p50_s: float | None = None
    tokens_per_s_mean: float | None = None


# -- the run --------------------------------------------------------------------------------------
class RunMeta(Result):
    """Where and how a run measured (a merged file keeps only the first three and ``merged_from``)."""

    timestamp: str
    quick: bool
    sections: list[str]
    merged_from: dict[str, str] | None = None
    data_dir: str | None = None
    model: str | None = None
    embedding_backend: str | None = None
    topic_corpus: list[str] | None = None
    topic_documents: int | None = None
    topic_characters: int | None = None
    distractor_fraction: float | None = None
    distractor_files: int | None = None
    distractor_characters: int | None = None
    questions: int | None = None
    naive_questions: int | None = None
    cpu_count: int | None = None
    torch_threads: int | None = None
    load_average_start: list[float] | None = None
    python: str | None = None
    platform: str | None = None
    load_average_end: list[float] | None = None
    total_s: float | None = None
    plot: str | None = None
    plot_error: str | None = None


def _ok_or_error(value: Any) -> str:
    """A section slot holds an error when it has a top-level ``error`` (no section's figures do)."""
    if isinstance(value, dict):
        return "error" if "error" in value else "ok"
    return "error" if isinstance(value, SectionError) else "ok"


IngestSection = Annotated[Annotated[IngestResult, Tag("ok")] | Annotated[SectionError, Tag("error")],
                          Discriminator(_ok_or_error)]
SideSection = Annotated[Annotated[SideResult, Tag("ok")] | Annotated[SectionError, Tag("error")],
                        Discriminator(_ok_or_error)]
QuerySection = Annotated[Annotated[QueryResult, Tag("ok")] | Annotated[SectionError, Tag("error")],
                         Discriminator(_ok_or_error)]
ScaleSection = Annotated[Annotated[ScaleResult, Tag("ok")] | Annotated[SectionError, Tag("error")],
                         Discriminator(_ok_or_error)]
HnswSection = Annotated[Annotated[HnswResult, Tag("ok")] | Annotated[SectionError, Tag("error")],
                        Discriminator(_ok_or_error)]
ColdSection = Annotated[Annotated[ColdResult, Tag("ok")] | Annotated[SectionError, Tag("error")],
                        Discriminator(_ok_or_error)]
ConcurrencySection = Annotated[Annotated[ConcurrencyResult, Tag("ok")] | Annotated[SectionError, Tag("error")],
                               Discriminator(_ok_or_error)]
LlmSection = Annotated[Annotated[LlmResult, Tag("ok")] | Annotated[SectionError, Tag("error")],
                       Discriminator(_ok_or_error)]


class BenchResults(Result):
    """One result file: ``meta`` and the sections that ran (each its figures or its error)."""

    meta: RunMeta | None = None
    ingest: IngestSection | None = None
    side: SideSection | None = None
    query: QuerySection | None = None
    scale: ScaleSection | None = None
    hnsw: HnswSection | None = None
    cold: ColdSection | None = None
    concurrency: ConcurrencySection | None = None
    llm: LlmSection | None = None

    def section(self, name: str) -> SectionResult | SectionError | None:
        value = getattr(self, name, None)
        return value if isinstance(value, SectionResult | SectionError) else None

    def ok(self, name: str) -> SectionResult | None:
        """The section's figures, or None when it did not run or failed."""
        value = self.section(name)
        return value if isinstance(value, SectionResult) else None
