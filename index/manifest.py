"""The index manifest: which documents are fully indexed, with which model and chunking settings.

A document is visible to answers only once its entry is here, and an entry is written only after
all of its chunks are in Chroma, so a run killed half-way never exposes a half-indexed document.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1


@dataclass
class DocEntry:
    doc_id: str
    source: str
    title: str
    content_hash: str
    chunk_ids: list[str]
    chars: int
    metadata: dict[str, Any] = field(default_factory=dict)
    indexed_at: str = ""


@dataclass
class Manifest:
    embedding_model: str = ""
    chunking: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, DocEntry] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    # -- derived --------------------------------------------------------------------------
    def chunk_ids(self) -> set[str]:
        return {cid for entry in self.documents.values() for cid in entry.chunk_ids}

    def chunk_count(self) -> int:
        return sum(len(e.chunk_ids) for e in self.documents.values())

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "embedding_model": self.embedding_model,
            "chunking": self.chunking,
            "documents": {k: asdict(v) for k, v in self.documents.items()},
        }

    def save(self, path: Path) -> None:
        """Atomic write: a reader sees the old or the new manifest, never a torn one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Load; raise ValueError when the file exists but is corrupt."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            docs = {k: DocEntry(**v) for k, v in data["documents"].items()}
            return cls(
                embedding_model=data.get("embedding_model", ""),
                chunking=data.get("chunking", {}),
                documents=docs,
                version=data.get("version", MANIFEST_VERSION),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"manifest {path} is corrupt: {exc}") from exc
