"""One settings object for the whole project (env vars prefixed ``ASSISTANT_`` + defaults)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class Settings(BaseSettings):
    """All tunables. Every field maps to ``ASSISTANT_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=None, extra="ignore")

    # --- paths -----------------------------------------------------------------------------
    data_dir: Path = Field(default=REPO_ROOT / "data", description="Chroma store, keyword index, manifest, uploads")
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
    reranker_model: Path | None = Field(default=None, description="optional local CrossEncoder folder")

    # --- embedding -------------------------------------------------------------------------
    # torch: sentence-transformers fp32 (the reference); onnx: the same model exported and fused for
    # onnxruntime; onnx-int8: fused + int8 weights (fastest; retrieval within a point, see README).
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    embed_batch_size: int = 32
    embed_threads: int = 0  # threads for batch (ingest) encoding; 0 = all cores
    # Chunks embedded per ingest batch. The embedder sorts a batch by length, so a wider window pads
    # less (measured 7 % faster at 1,024 than at 256); a crash loses no work either way (stored
    # embeddings are reused). Smaller values write the manifest more often.
    ingest_batch_chunks: int = Field(default=1024, ge=1)
    query_threads: int = 1  # one short query: 1 thread is 2-6x faster than 2 on a busy 2-core machine
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
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
    chunk_size: int = 400  # max characters of a chunk's raw text
    chunk_overlap: int = 1  # sentences repeated from the previous chunk of the same section
    # Shorter pieces are merged into their section, its parent's introduction or its first
    # subsection (when the result fits chunk_size); only a section short as a whole stays shorter.
    min_chunk_chars: int = 120
    max_file_mb: int = 20  # larger files are refused with a reason (bounded memory)
    # Office files are zip archives: a 1 MB .docx may expand to gigabytes. Every member's declared
    # uncompressed size (and their sum) is checked against this before parsing.
    max_unzipped_mb: int = Field(default=100, ge=1)

    # --- store -----------------------------------------------------------------------------
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_timeout: float = 10.0
    chroma_retries: int = 3
    collection: str = "policy_chunks"
    # By measurement (assistant bench --only hnsw, 64,868 vectors): recall@30 against exact search was
    # 0.83 / 0.93 / 0.95 at ef_search 16 / 64 / 128 for about the same latency (2.5-3.9 ms, noise);
    # M 32 was no better than 16 and 6 % larger. Applies to new indexes (Chroma fixes it at creation).
    hnsw_ef_search: int = 128
    hnsw_m: int = 16

    # --- retrieval -------------------------------------------------------------------------
    retrieval_mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    top_k: int = 6  # passages handed to the writer
    # Fused candidates the second ranking stage (assistant/ranking.py) scores per question.
    candidate_k: int = Field(default=40, ge=1, description="fused candidates scored by the second ranking stage")
    dense_k: int = 30
    keyword_k: int = 30
    fusion: Literal["rrf", "weighted"] = "rrf"
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0

    # --- refusal ---------------------------------------------------------------------------
    # The decide stage (assistant/ranking.py Gate; chosen on the dev set with `python -m eval.calibrate`):
    answer_min_focus: float = Field(default=0.6, ge=0, le=1, description=(
        "share of the asked item's words (IDF-weighted) a sentence must hold to answer a number/date/person/place/"
        "organisation question"))
    answer_min_focus_open: float = Field(default=0.45, ge=0, le=1, description=(
        "the same for open questions (explanations, lists, yes/no), which are often worded unlike the source"))
    answer_min_topic: float = Field(default=0.35, ge=0, le=1, description=(
        "share of the question's other words found in the sentence or its title/heading"))
    # Legacy: the lexical evidence score of earlier versions; no longer used by the decide stage, kept
    # so that an existing ASSISTANT_REFUSAL_THRESHOLD does not break start-up.
    refusal_threshold: float = 0.52

    # --- writers ---------------------------------------------------------------------------
    writer: Literal["extractive", "llm"] = "extractive"
    max_answer_sentences: int = 4
    llm_base_url: str = "http://127.0.0.1:8088/v1"
    llm_model: str = "qwen2.5-coder-1.5b-instruct"
    llm_api_key: str = "not-needed"
    llm_timeout: float = 90.0  # the first request evaluates the whole prompt prefix (slow on 2 cores)
    llm_max_tokens: int = 400  # cap; each answer asks for about 1.5x its evidence's tokens + 48
    # Estimated tokens of the whole llm prompt (fixed prefix + chosen sentences + question). 700 suits
    # the bundled 1.5B model on 2 cores; a larger remote model may take more (>= 1500: whole passages).
    llm_prompt_budget: int = Field(default=700, ge=300)
    llm_threads: int = 2
    llm_model_path: Path | None = None  # GGUF; default: <model_dir>/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
    llm_port: int = 8088

    # --- question limits -------------------------------------------------------------------
    max_question_chars: int = 500
    # Conversation history handed to ask()/stream(): only the last N turns, each question and
    # answer cut to M characters (a 200,000-character history once took 102 s in jieba).
    history_max_turns: int = Field(default=6, ge=0)
    history_max_chars_per_turn: int = Field(default=1000, ge=1)

    # --- index writes ----------------------------------------------------------------------
    # One writer at a time across processes (a file lock in the data folder); a second writer
    # waits up to this many seconds ("另一个索引任务正在进行"), then fails with IndexBusyError.
    index_lock_timeout: float = Field(default=300.0, ge=0)

    # --- app -------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 7860
    auth_file: Path | None = None  # JSON {"users": [{"username", "password_hash", "role"}]}; default data/users.json
    users: str | None = None  # "alice:pw:admin,bob:pw:user"
    max_upload_mb: int = 20
    concurrency_limit: int = 4

    # --- derived paths ---------------------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.data_dir / "keyword"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.json"

    @property
    def models_dir(self) -> Path:
        return self.model_dir

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / ".index.lock"

    @property
    def generation_path(self) -> Path:
        return self.data_dir / "index.generation"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.jsonl"

    @property
    def default_auth_path(self) -> Path:
        return self.data_dir / "users.json"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @property
    def bundled_model_path(self) -> Path:
        """Where the bundled e5 model is converted to (prepared on first use by any command)."""
        return self.models_dir / "multilingual-e5-small"

    @property
    def embedding_model_path(self) -> Path:
        return self.embedding_model or self.bundled_model_path

    @property
    def llm_gguf_path(self) -> Path:
        return self.llm_model_path or (self.models_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
