"""The embedding stage: which embedder a setting asks for, one per process.

``ASSISTANT_EMBEDDING_URL`` set: the endpoint (``RemoteEmbedder``); otherwise the local encoder with
e5-style query/passage prompts on one of two runtimes, ``ASSISTANT_EMBEDDING_BACKEND``:

* ``torch`` — ``TorchEmbedder``, sentence-transformers on torch fp32: the reference;
* ``onnx`` / ``onnx-int8`` — ``OnnxEmbedder``, the same weights exported locally to ONNX and run by
  onnxruntime.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .embedder_base import Embedder
from .onnx_embedder import OnnxEmbedder
from .provision.model_path import resolve_model_path
from .remote_embedder import RemoteEmbedder
from .settings import IndexSettings as Settings
from .torch_embedder import TorchEmbedder

log = logging.getLogger(__name__)

_CACHE: dict[tuple[str, str, int, int], Embedder] = {}
_CACHE_LOCK = threading.Lock()


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
