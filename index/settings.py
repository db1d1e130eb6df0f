"""The index's settings: where the data lives, embedding, chunking, the vector store, index writes.

Every field maps to ``ASSISTANT_<FIELD>`` (case-insensitive). The whole project's settings
(retrieval, decide, writer, llm, question limits, app) are ``assistant.settings.Settings``, which
extends this class: the index reads only its own part, and any ``Settings`` is an ``IndexSettings``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .manifest import manifest_path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Offline by default: no library may reach a model hub or send telemetry.
for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_k, _v)

ENV_CONFIG = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=None, extra="ignore")


class IndexSettings(BaseSettings):
    """Paths, embedding, chunking, store and index-write settings (``ASSISTANT_<FIELD>``)."""

    model_config = ENV_CONFIG

    # --- paths -----------------------------------------------------------------------------
    data_dir: Path = Field(default=REPO_ROOT / "data", description="Chroma store, keyword index, manifest (and the app's uploads, users, audit log)")
    # One model folder for every data folder and every command (index, eval, bench, serve, llm-serve):
    # the bundled e5 model is converted (and exported to ONNX) into it once and the LLM GGUF is assembled
    # there. Default <repo>/data/models: where `make setup` has always put them, so existing set-ups keep
    # their prepared models; a fresh ASSISTANT_DATA_DIR no longer needs (or hides) a copy of its own.
    model_dir: Path = Field(default=REPO_ROOT / "data" / "models", description="prepared models (all data folders)")
    corpus_dir: Path = Field(default=REPO_ROOT / "docs_corpus", description="default documents to index")
    shared_dir: Path = Field(default=REPO_ROOT.parent / "shared", description="external test/eval data")
    embedding_model: Path | None = Field(
        default=None, description="local sentence-transformers folder; default: the bundled e5 model"
    )

    # --- embedding -------------------------------------------------------------------------
    # torch: sentence-transformers fp32 (the reference); onnx: the same model exported and fused for
    # onnxruntime; onnx-int8: fused + int8 weights (fastest; retrieval within a point, see README).
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        default="onnx-int8", description="local encoder: torch (fp32 reference), onnx (fused) or onnx-int8 (fastest)")
    embed_batch_size: int = Field(default=32, description="passages per encoder call while indexing")
    embed_threads: int = Field(default=0, description="threads for batch (ingest) encoding; 0 = all cores")
    # The embedder sorts a batch by length, so a wider window pads less (measured 7 % faster at 1,024
    # than at 256); a crash loses no work either way (stored embeddings are reused).
    ingest_batch_chunks: int = Field(default=1024, ge=1, description=(
        "chunks embedded per ingest batch; smaller values write the manifest more often"))
    query_threads: int = Field(default=1, description=(
        "threads for one query's encoding: 1 is 2-6x faster than 2 on a busy 2-core machine"))
    query_prompt: str = Field(default="query: ", description="prefix of every query (e5 convention)")
    passage_prompt: str = Field(default="passage: ", description="prefix of every passage (e5 convention)")
    # Optional: an OpenAI-compatible /v1/embeddings endpoint (Infinity, Text Embeddings Inference,
    # vLLM, llama.cpp's server in embedding mode) used for indexing and queries instead of the local
    # encoder. The index records the served model's fingerprint like the local one's.
    embedding_url: str | None = Field(default=None, description=(
        "base URL of an OpenAI-compatible embeddings endpoint, e.g. http://gpu-host:7997/v1; unset: local encoder"))
    embedding_remote_model: str = Field(default="multilingual-e5-small", description=(
        "model name sent to the embeddings endpoint"))
    embedding_api_key: str = Field(default="not-needed", description="bearer token for the embeddings endpoint")
    embedding_timeout: float = Field(default=60.0, gt=0, description="seconds per embeddings request")

    # --- chunking --------------------------------------------------------------------------
    chunk_size: int = Field(default=400, description="max characters of a chunk's raw text")
    chunk_overlap: int = Field(default=1, description="sentences repeated from the previous chunk of the same section")
    # Shorter pieces are merged into their section, its parent's introduction or its first
    # subsection (when the result fits chunk_size); only a section short as a whole stays shorter.
    min_chunk_chars: int = Field(default=120, description="shorter pieces are merged into a neighbour that fits")
    max_file_mb: int = Field(default=20, description="larger files are refused with a reason (bounded memory)")
    # Office files are zip archives: a 1 MB .docx may expand to gigabytes.
    max_unzipped_mb: int = Field(default=100, ge=1, description=(
        "limit on every zip member's declared uncompressed size (and their sum), checked before parsing"))

    # --- store -----------------------------------------------------------------------------
    chroma_host: str | None = Field(default=None, description="Chroma server host; unset: the embedded store in data_dir")
    chroma_port: int = Field(default=8000, description="Chroma server port")
    chroma_timeout: float = Field(default=10.0, description="seconds per Chroma server request")
    chroma_retries: int = Field(default=3, description="attempts per Chroma call before StoreUnavailableError")
    collection: str = Field(default="policy_chunks", description="Chroma collection name")
    # By measurement (assistant bench --only hnsw, 64,868 vectors): recall@30 against exact search was
    # 0.83 / 0.93 / 0.95 at ef_search 16 / 64 / 128 for about the same latency (2.5-3.9 ms, noise);
    # M 32 was no better than 16 and 6 % larger. Applies to new indexes (Chroma fixes it at creation).
    hnsw_ef_search: int = Field(default=128, description="HNSW search breadth (new collections)")
    hnsw_m: int = Field(default=16, description="HNSW graph degree (new collections)")

    # --- index writes ----------------------------------------------------------------------
    # One writer at a time across processes (a file lock in the data folder); a second writer
    # waits up to this many seconds ("另一个索引任务正在进行"), then fails with IndexBusyError.
    index_lock_timeout: float = Field(default=300.0, ge=0, description="seconds a second index writer waits")

    # --- derived paths ---------------------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.data_dir / "keyword"

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.data_dir)

    @property
    def models_dir(self) -> Path:
        return self.model_dir

    @property
    def lock_path(self) -> Path:
        return self.data_dir / ".index.lock"

    @property
    def generation_path(self) -> Path:
        return self.data_dir / "index.generation"

    @property
    def bundled_model_path(self) -> Path:
        """Where the bundled e5 model is converted to (prepared on first use by any command)."""
        return self.models_dir / "multilingual-e5-small"

    @property
    def embedding_model_path(self) -> Path:
        return self.embedding_model or self.bundled_model_path
