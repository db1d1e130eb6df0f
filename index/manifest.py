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
MANIFEST_NAME = "manifest.json"


def manifest_path(data_dir: Path) -> Path:
    """Where a data folder's manifest lives (``IndexSettings.manifest_path``; the bench's data folders)."""
    return Path(data_dir) / MANIFEST_NAME


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
        """Load; an absent file gives an empty manifest, a corrupt one (not an object, ``documents``
        not an object of entries, bad entry fields) raises ValueError. An absent file next to a
        non-empty vector store means the manifest was lost: ``Indexer.load_manifest`` rebuilds it."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise TypeError(f"top level is {type(data).__name__}, not an object")
            documents = data["documents"]
            if not isinstance(documents, dict):
                raise TypeError(f"documents is {type(documents).__name__}, not an object")
            docs: dict[str, DocEntry] = {}
            for key, value in documents.items():
                if not isinstance(value, dict):
                    raise TypeError(f"entry {key!r} is {type(value).__name__}, not an object")
                entry = DocEntry(**value)
                if not isinstance(entry.chunk_ids, list) or not all(isinstance(c, str) for c in entry.chunk_ids):
                    raise TypeError(f"entry {key!r} has bad chunk_ids")
                docs[key] = entry
            chunking = data.get("chunking", {})
            if not isinstance(chunking, dict):
                raise TypeError("chunking is not an object")
            return cls(
                embedding_model=str(data.get("embedding_model", "")),
                chunking=chunking,
                documents=docs,
                version=int(data.get("version", MANIFEST_VERSION)),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"manifest {path} is corrupt: {exc}") from exc
