"""The vector store: Chroma, embedded (PersistentClient) by default or a server (HttpClient)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from .errors import StoreUnavailableError
from .models import Chunk
from .settings import IndexSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

_WRITE_BATCH = 500


class ExplicitEmbeddingFunction:
    """Chroma must never fall back to its default embedder (it downloads a model). We always pass
    embeddings ourselves; this function only exists so the collection has an explicit one and
    fails loudly if anything asks Chroma to embed text on its own."""

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        raise RuntimeError("embeddings are computed by index.embedder, never by Chroma")

    @staticmethod
    def name() -> str:
        return "policy-assistant-explicit"

    def is_legacy(self) -> bool:
        return False

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ExplicitEmbeddingFunction:
        return ExplicitEmbeddingFunction()

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    known = {"doc_id", "title", "source", "section", "start", "end", "ordinal", "page"}
    return Chunk(
        chunk_id=chunk_id,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        text=text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        section=str(meta.get("section", "")),
        page=int(meta["page"]) if meta.get("page") is not None else None,
        ordinal=int(meta.get("ordinal", 0)),
        metadata={k: v for k, v in meta.items() if k not in known},
    )


class Store(Protocol):
    """What the index and the retrievers need of a vector store: ``ChromaStore`` (real Chroma) in use,
    ``tests/fakes.py``'s in-memory store in the unit tests of the stages around it."""

    def upsert(self, chunks: Sequence[Chunk], embeddings: np.ndarray,
               extra_meta: Sequence[dict[str, Any]] | None = None) -> None: ...

    def delete(self, ids: Iterable[str]) -> None: ...

    def count(self) -> int: ...

    def all_ids(self) -> set[str]: ...

    def iter_records(self, batch: int = 2000) -> Iterable[tuple[str, str, dict[str, Any]]]: ...

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def query(self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """Top-k chunks by cosine similarity, within Chroma's ``where`` (``Filters.to_chroma_where``)."""
        ...


class ChromaStore:
    """Chunks with their embeddings; retries with backoff when a Chroma server is unreachable."""

    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        self._client: Any = None
        self._collection: Any = None

    # -- connection -----------------------------------------------------------------------
    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_host:
            client = chromadb.HttpClient(
                host=self.settings.chroma_host, port=self.settings.chroma_port, settings=chroma_settings
            )
        else:
            self.settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(self.settings.chroma_dir), settings=chroma_settings)
        return client

    @property
    def collection(self) -> Any:
        if self._collection is None:
            def open_collection() -> Any:
                self._client = self._connect()
                return self._client.get_or_create_collection(
                    name=self.settings.collection,
                    embedding_function=ExplicitEmbeddingFunction(),  # type: ignore[arg-type]
                    metadata={
                        "hnsw:space": "cosine",
                        "hnsw:search_ef": self.settings.hnsw_ef_search,
                        "hnsw:M": self.settings.hnsw_m,
                    },
                )

            self._collection = self._retry(open_collection)
        return self._collection

    def _retry(self, fn: Callable[[], T]) -> T:
        delay = 0.5
        attempts = max(1, self.settings.chroma_retries)
        for attempt in range(attempts):
            try:
                return fn()
            except Exception as exc:  # chromadb raises many transport error types
                if not self._is_transient(exc) or attempt == attempts - 1:
                    if self._is_transient(exc):
                        self._collection = None
                        raise StoreUnavailableError(f"Chroma unavailable: {exc}") from exc
                    raise
                log.warning("Chroma call failed (%s), retrying in %.1fs", exc, delay)
                self._collection = None
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    @staticmethod
    def _is_transient(exc: Exception) -> bool:
        name = type(exc).__name__.lower()
        text = str(exc).lower()
        markers = ("connect", "timeout", "timed out", "unavailable", "refused", "network", "reset", "remote")
        return any(m in name or m in text for m in markers)

    def _call(self, method: str, **kwargs: Any) -> Any:
        return self._retry(lambda: getattr(self.collection, method)(**kwargs))

    # -- writes ---------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], embeddings: np.ndarray,
               extra_meta: Sequence[dict[str, Any]] | None = None) -> None:
        """Write chunks in calls of up to ``_WRITE_BATCH``: each Chroma call has a fixed cost (measured
        4.1 s for 844 chunks in calls of 70, 1.6 s in calls of 500), so callers pass whole batches.
        ``extra_meta`` holds one dict per chunk, merged into its metadata."""
        for i in range(0, len(chunks), _WRITE_BATCH):
            part = chunks[i : i + _WRITE_BATCH]
            extras = extra_meta[i : i + _WRITE_BATCH] if extra_meta is not None else [{}] * len(part)
            self._call(
                "upsert",
                ids=[c.chunk_id for c in part],
                embeddings=embeddings[i : i + _WRITE_BATCH],
                documents=[c.text for c in part],
                metadatas=[{**c.to_metadata(), **extra} for c, extra in zip(part, extras, strict=True)],
            )

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), _WRITE_BATCH):
            self._call("delete", ids=ids[i : i + _WRITE_BATCH])

    # -- reads ----------------------------------------------------------------------------
    def count(self) -> int:
        return int(self._call("count"))

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            page = self._call("get", include=[], limit=5000, offset=offset)
            ids.update(page["ids"])
            if len(page["ids"]) < 5000:
                return ids
            offset += 5000

    def iter_records(self, batch: int = 2000) -> Iterable[tuple[str, str, dict[str, Any]]]:
        offset = 0
        while True:
            page = self._call("get", include=["documents", "metadatas"], limit=batch, offset=offset)
            yield from zip(page["ids"], page["documents"], page["metadatas"], strict=True)
            if len(page["ids"]) < batch:
                return
            offset += batch

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        page = self._call("get", ids=list(ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(page["ids"], page["embeddings"], strict=True)}

    def query(self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """Top-k chunks by cosine similarity (1 - cosine distance)."""
        total = self.count()
        if total == 0:
            return []
        result = self._call(
            "query",
            query_embeddings=[embedding.tolist()],
            n_results=min(k, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        out = []
        for cid, text, meta, dist in zip(
            result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
        ):
            out.append((chunk_from_record(cid, text, meta or {}), 1.0 - float(dist)))
        return out
