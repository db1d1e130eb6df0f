"""What every embedder is: passages and queries in, L2-normalised float32 vectors out.

The backends are ``TorchEmbedder`` (``index.torch_embedder``, the reference), ``OnnxEmbedder``
(``index.onnx_embedder``) and ``RemoteEmbedder`` (``index.remote_embedder``); ``index.embedder``
chooses and caches one per process (``get_embedder``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelNotAvailableError


class Embedder(ABC):
    """Encodes passages and queries into L2-normalised float32 vectors; loaded once per process.

    Every embedder runs this initialiser; ``LocalEmbedder`` adds the local model folder's checks."""

    backend = "abstract"

    def __init__(self, name: str, model_path: Path, *, batch_size: int = 32, batch_threads: int = 1,
                 query_threads: int = 1, query_prompt: str = "query: ", passage_prompt: str = "passage: ",
                 dim: int = 0) -> None:
        self.name = name
        self.model_path = model_path
        self.batch_size = batch_size
        self.batch_threads = batch_threads
        self.query_threads = query_threads
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.dim = dim
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


class LocalEmbedder(Embedder):
    """An embedder over a local sentence-transformers folder (the torch and ONNX backends)."""

    def __init__(self, model_path: Path, batch_size: int = 32, threads: int = 0,
                 query_prompt: str = "query: ", passage_prompt: str = "passage: ", query_threads: int = 1) -> None:
        if not (model_path / "config.json").exists() and not (model_path / "modules.json").exists():
            raise ModelNotAvailableError(f"no sentence-transformers model at {model_path}")
        batch_threads = threads if threads > 0 else (os.cpu_count() or 1)
        prompts = _declared_prompts(model_path)
        # Prompts declared by the model win; otherwise the configured e5-style prefixes.
        super().__init__(model_path.name, model_path, batch_size=batch_size, batch_threads=batch_threads,
                         query_threads=query_threads if query_threads > 0 else batch_threads,
                         query_prompt=prompts.get("query", query_prompt),
                         passage_prompt=prompts.get("passage", passage_prompt))


def _declared_prompts(model_path: Path) -> dict[str, str]:
    try:
        data = json.loads((model_path / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    prompts = data.get("prompts") or {}
    return {k: v for k, v in prompts.items() if isinstance(v, str) and v}
