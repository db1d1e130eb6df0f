"""The whole project's settings, one class per component, composed into ``Settings``.

Every field maps to ``ASSISTANT_<FIELD>`` (case-insensitive) — the names are a contract and stay
flat (``ASSISTANT_TOP_K``, ``ASSISTANT_LLM_BASE_URL``). Each component's settings is its own class
with a description on every field; a component types its parameter as its own part
(``Indexer(settings: IndexSettings)``, ``LLMWriter(settings: LLMSettings)``), and ``Settings``
extends them all, so a ``Settings`` can be handed to any of them::

    IndexSettings      paths, embedding, chunking, vector store, index writes   (index/settings.py)
    RetrievalSettings  retrieval mode, fusion, candidates, optional reranker
    DecideSettings     the decide stage's thresholds (answer | partial | not_found)
    WriterSettings     which writer, answer length
    LLMSettings        the OpenAI-compatible model and the local llama.cpp server
    QuestionSettings   question and history limits
    AppSettings        the web app: host, port, users, uploads

``Settings`` keeps the flat field names (no ``settings.llm.base_url``): nesting by attribute would
rename the environment variables (``ASSISTANT_LLM__BASE_URL``), and those are a contract.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings

from index.settings import ENV_CONFIG, REPO_ROOT, IndexSettings

from .errors import InvalidSettingsError

__all__ = [
    "REPO_ROOT",
    "AppSettings",
    "DecideSettings",
    "IndexSettings",
    "LLMSettings",
    "QuestionSettings",
    "RetrievalSettings",
    "Settings",
    "WriterSettings",
    "get_settings",
]


class RetrievalSettings(BaseSettings):
    """First stage: dense + keyword retrieval, fusion; the second stage's candidate count."""

    model_config = ENV_CONFIG

    retrieval_mode: Literal["hybrid", "dense", "keyword"] = Field(
        default="hybrid", description="hybrid (dense + keyword, fused), dense or keyword")
    top_k: int = Field(default=6, description="passages handed to the writer")
    # Fused candidates the second ranking stage (assistant/ranking.py) scores per question.
    candidate_k: int = Field(default=40, ge=1, description="fused candidates scored by the second ranking stage")
    dense_k: int = Field(default=30, description="candidates from the dense (vector) retriever")
    keyword_k: int = Field(default=30, description="candidates from the keyword (BM25) retriever")
    fusion: Literal["rrf", "weighted"] = Field(default="rrf", description="reciprocal-rank or weighted-score fusion")
    rrf_k: int = Field(default=60, description="the k of reciprocal-rank fusion")
    dense_weight: float = Field(default=1.0, description="weight of the dense list in fusion")
    keyword_weight: float = Field(default=1.0, description="weight of the keyword list in fusion")
    reranker_model: Path | None = Field(default=None, description="optional local CrossEncoder folder")


class DecideSettings(BaseSettings):
    """The decide stage: the trained answer model (assistant/answer_model.py) and its threshold."""

    model_config = ENV_CONFIG

    answer_threshold: float | None = Field(default=None, ge=0, le=1, description=(
        "calibrated probability a window needs to answer; default: the threshold stored with the trained model "
        "(chosen on a validation split for false refusal <= 5 %)"))
    answer_model_path: Path | None = Field(default=None, description=(
        "the answer model's JSON file (default: the one shipped in assistant/resources/answer_model.json)"))
    semantic_evidence: bool = Field(default=True, description=(
        "score candidate windows by meaning (USE multilingual); off: lexical features only"))
    answer_min_focus: float = Field(default=0.6, ge=0, le=1, description=(
        "legacy (the hand-set gate of earlier versions): accepted, no longer used"))
    answer_min_focus_open: float = Field(default=0.45, ge=0, le=1, description=(
        "legacy (the hand-set gate of earlier versions): accepted, no longer used"))
    answer_min_topic: float = Field(default=0.35, ge=0, le=1, description=(
        "legacy (the hand-set gate of earlier versions): accepted, no longer used"))
    refusal_threshold: float = Field(default=0.52, description=(
        "legacy (the lexical evidence score of earlier versions): unused, kept so that an existing "
        "ASSISTANT_REFUSAL_THRESHOLD does not break start-up"))


class WriterSettings(BaseSettings):
    """Which answer writer, and how long an answer may be."""

    model_config = ENV_CONFIG

    writer: Literal["extractive", "llm"] = Field(
        default="extractive", description="extractive (the source's sentences) or llm (a local model, with fallback)")
    max_answer_sentences: int = Field(default=4, description="sentences (evidence windows) an answer holds at most")


class LLMSettings(BaseSettings):
    """The llm writer's OpenAI-compatible model and the bundled llama.cpp server."""

    model_config = ENV_CONFIG

    llm_base_url: str = Field(default="http://127.0.0.1:8088/v1", description="OpenAI-compatible chat endpoint")
    llm_model: str = Field(default="qwen2.5-coder-1.5b-instruct", description="model name sent to the endpoint")
    llm_api_key: str = Field(default="not-needed", description="bearer token for the endpoint")
    llm_timeout: float = Field(default=90.0, description=(
        "seconds per request; the first one evaluates the whole prompt prefix (slow on 2 cores)"))
    llm_max_tokens: int = Field(default=400, description=(
        "answer token cap; each answer asks for about 1.5x its evidence's tokens + 48"))
    # 700 suits the bundled 1.5B model on 2 cores; a larger remote model may take more (>= 1500: whole passages).
    llm_prompt_budget: int = Field(default=700, ge=300, description=(
        "estimated tokens of the whole prompt (fixed prefix + chosen sentences + question)"))
    llm_threads: int = Field(default=2, description="threads of the local llama.cpp server")
    llm_model_path: Path | None = Field(default=None, description=(
        "GGUF of the local server; default: <model_dir>/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"))
    llm_port: int = Field(default=8088, description="port of the local llama.cpp server (assistant llm-serve)")


class QuestionSettings(BaseSettings):
    """Limits on what ``ask()`` / ``stream()`` accept."""

    model_config = ENV_CONFIG

    max_question_chars: int = Field(default=500, description="longer questions are refused with a reason")
    # A 200,000-character history once took 102 s in jieba.
    history_max_turns: int = Field(default=6, ge=0, description="conversation turns kept (the last N)")
    history_max_chars_per_turn: int = Field(default=1000, ge=1, description="each question and answer cut to this")


class AppSettings(BaseSettings):
    """The web app (``assistant serve``)."""

    model_config = ENV_CONFIG

    host: str = Field(default="127.0.0.1", description="listen address; non-loopback needs configured users")
    port: int = Field(default=7860, description="listen port")
    auth_file: Path | None = Field(default=None, description=(
        'JSON {"users": [{"username", "password_hash", "role"}]}; default <data_dir>/users.json'))
    users: str | None = Field(default=None, description='inline users, "alice:pw:admin,bob:pw:user"')
    max_upload_mb: int = Field(default=20, description="largest file an admin may upload")
    concurrency_limit: int = Field(default=4, description="questions answered at the same time")


class Settings(IndexSettings, RetrievalSettings, DecideSettings, WriterSettings, LLMSettings, QuestionSettings,
               AppSettings):
    """All tunables: every component's fields, each ``ASSISTANT_<FIELD>``."""

    model_config = ENV_CONFIG

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """A validated copy with ``overrides``; unknown names or bad values raise InvalidSettingsError
        (Chinese message naming the setting), never a silent wrong value."""
        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            names = "、".join(unknown)
            raise InvalidSettingsError(f"unknown settings: {unknown}", f"未知的设置项：{names}。")
        try:
            return type(self).model_validate({**self.model_dump(), **overrides})
        except ValidationError as exc:
            problems = "；".join(f"{'.'.join(str(p) for p in e['loc'])}（{e['msg']}）" for e in exc.errors())
            raise InvalidSettingsError(f"invalid settings: {exc}", f"设置项的值无效：{problems}。") from exc

    # --- derived paths of the app and the llm ------------------------------------------------
    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

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
    def llm_gguf_path(self) -> Path:
        return self.llm_model_path or (self.models_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
