"""Deterministic fakes for the unit tier (``make test-fast``): never the only test of a path.

- ``HashingEmbedder``: character uni- and bigrams hashed (crc32) into a fixed-size vector,
  L2-normalised; texts sharing characters are close, the same text gives the same vector.
- ``MemoryStore``: an in-memory ``index.store.Store`` (cosine top-k, Chroma's ``$in`` / ``$and``
  where clauses as ``Filters.to_chroma_where`` writes them).
- ``chunk`` / ``hit``: small builders for passages.
- ``ScriptedChat``: a LangChain chat model that streams a fixed reply (for the llm writer's logic).

The real tier (``make test``) runs the same stages on real Chroma and the real bundled model.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from pydantic import Field

from assistant.models import Hit
from index.embedder_base import Embedder
from index.models import Chunk
from index.store import chunk_from_record

DIM = 256


class HashingEmbedder(Embedder):
    """A deterministic stand-in for the e5 encoder (no model file, no threads, microseconds)."""

    backend = "hashing"

    def __init__(self, dim: int = DIM) -> None:  # no model folder
        super().__init__("hashing", Path("/nonexistent/hashing-embedder"), query_prompt="", passage_prompt="", dim=dim)

    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            chars = [c for c in text if not c.isspace()]
            for gram in [*chars, *("".join(p) for p in itertools.pairwise(chars))]:
                out[row, zlib.crc32(gram.encode("utf-8")) % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out


def _matches(where: dict[str, Any] | None, meta: dict[str, Any]) -> bool:
    if not where:
        return True
    if "$and" in where:
        return all(_matches(clause, meta) for clause in where["$and"])
    ((key, condition),) = where.items()
    return meta.get(key) in condition["$in"]


class MemoryStore:
    """An in-memory vector store with ``ChromaStore``'s interface (``index.store.Store``)."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[str, dict[str, Any], np.ndarray]] = {}

    def upsert(self, chunks: Sequence[Chunk], embeddings: np.ndarray,
               extra_meta: Sequence[dict[str, Any]] | None = None) -> None:
        extras = extra_meta if extra_meta is not None else [{}] * len(chunks)
        for chunk, vector, extra in zip(chunks, embeddings, extras, strict=True):
            self.records[chunk.chunk_id] = (chunk.text, {**chunk.to_metadata(), **extra},
                                            np.asarray(vector, dtype=np.float32))

    def delete(self, ids: Iterable[str]) -> None:
        for cid in list(ids):
            self.records.pop(cid, None)

    def count(self) -> int:
        return len(self.records)

    def all_ids(self) -> set[str]:
        return set(self.records)

    def iter_records(self, batch: int = 2000) -> Iterable[tuple[str, str, dict[str, Any]]]:
        for cid, (text, meta, _vector) in list(self.records.items()):
            yield cid, text, dict(meta)

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {cid: self.records[cid][2] for cid in ids if cid in self.records}

    def query(self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        scored = [(float(np.dot(vector, embedding)), cid) for cid, (_t, meta, vector) in self.records.items()
                  if _matches(where, meta)]
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [(chunk_from_record(cid, self.records[cid][0], self.records[cid][1]), score)
                for score, cid in scored[:k]]


def chunk(doc_id: str, text: str, ordinal: int = 0, start: int | None = None, title: str | None = None,
          section: str = "", **metadata: Any) -> Chunk:
    """A passage of document ``doc_id``; by default passages of one document follow each other."""
    begin = ordinal * 1000 if start is None else start
    return Chunk(chunk_id=f"{doc_id}:{ordinal}", doc_id=doc_id, title=title or f"{doc_id}文件", source=f"{doc_id}.txt",
                 text=text, start=begin, end=begin + len(text), section=section, ordinal=ordinal, metadata=metadata)


def hit(c: Chunk, score: float = 0.0, **scores: Any) -> Hit:
    return Hit(chunk=c, score=score, **scores)


class ScriptedChat(GenericFakeChatModel):
    """Streams ``reply`` (split into pieces of two characters) for every request, recording the requests."""

    reply: str = ""
    requests: list[Any] = Field(default_factory=list)

    def __init__(self, reply: str, **kwargs: Any) -> None:
        super().__init__(messages=iter(()), reply=reply, requests=[], **kwargs)

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Iterator[Any]:
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        self.requests.append(messages)
        for i in range(0, max(len(self.reply), 1), 2):  # an empty reply is one empty chunk, as a server sends
            yield ChatGenerationChunk(message=AIMessageChunk(content=self.reply[i : i + 2]))

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        from langchain_core.outputs import ChatGeneration, ChatResult

        self.requests.append(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply))])
