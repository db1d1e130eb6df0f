"""The index read back and kept consistent: the read/repair side of ``index.pipeline``.

``IndexReader`` reads the manifest (rebuilt from the vector store when it is lost or corrupt, never
taken for "nothing is indexed"), checks that the index was built with this embedder and these chunking
settings, lists its documents, and repairs it: Chroma and the keyword index are made to hold exactly the
manifest's chunks. That is how a run killed half-way is completed (its orphan chunks removed, the keyword
index brought back in line), and how a reader (``Assistant``) gets a keyword index that matches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .chunker import CHUNKER_VERSION
from .embedder import get_embedder
from .embedder_base import Embedder
from .errors import IndexConfigMismatchError
from .keyword import KeywordIndex, KeywordIndexCorrupt
from .locking import try_write_lock
from .manifest import DocEntry, Manifest
from .models import Chunk
from .settings import IndexSettings
from .store import Store, chunk_from_record

log = logging.getLogger(__name__)

# Per-chunk bookkeeping stored in Chroma beside the chunk's own metadata (enough to rebuild the
# manifest from the store); not part of a chunk's metadata anywhere else.
STORE_ONLY_KEYS = ("content_hash", "n_chunks", "doc_chars", "indexed_at")


def chunking_config(settings: IndexSettings) -> dict[str, int]:
    """The chunking settings a manifest records (compared on every sync)."""
    return {
        "chunker_version": CHUNKER_VERSION,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "min_chunk_chars": settings.min_chunk_chars,
    }


def iter_documents(manifest: Manifest) -> Iterable[DocEntry]:
    """The manifest's documents in ``doc_id`` order."""
    return sorted(manifest.documents.values(), key=lambda e: e.doc_id)


class IndexReader:
    """Reads one data folder's index back and repairs it; the writer (``Indexer``) uses one too."""

    def __init__(self, settings: IndexSettings, store: Store, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = store
        self._embedder = embedder
        self.manifest_rebuilt = False  # whether the last load_manifest() rebuilt it from the store

    @property
    def embedder(self) -> Embedder:
        """The embedder whose fingerprint the manifest must record (loaded on first use)."""
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    # -- the manifest -----------------------------------------------------------------------
    def load_manifest(self) -> Manifest:
        """The manifest; a corrupt one, or a missing one while the vector store holds chunks, is
        rebuilt from the store (never treated as "nothing is indexed", which would prune it all)."""
        path = self.settings.manifest_path
        self.manifest_rebuilt = False
        try:
            if not path.exists():
                if self.store.count() == 0:
                    return Manifest()
                log.warning("索引清单 %s 缺失而向量库中已有段落，将根据向量库重建清单", path)
            else:
                return Manifest.load(path)
        except ValueError as exc:
            log.warning("索引清单损坏，将根据向量库重建：%s", exc)
        self.manifest_rebuilt = True
        return self.manifest_from_store()

    def manifest_from_store(self) -> Manifest:
        """Rebuild the manifest from chunk metadata in Chroma: a document counts only if all of
        the chunks of its recorded version are present."""
        by_doc: dict[tuple[str, str], list[tuple[str, dict]]] = {}
        for cid, _text, meta in self.store.iter_records():
            key = (str(meta.get("doc_id")), str(meta.get("content_hash", "")))
            by_doc.setdefault(key, []).append((cid, meta))
        manifest = Manifest(embedding_model=self.embedder.fingerprint(), chunking=chunking_config(self.settings))
        for (doc_id, digest), items in by_doc.items():
            meta0 = items[0][1]
            if not digest or len(items) != int(meta0.get("n_chunks", -1)):
                continue
            items.sort(key=lambda it: int(it[1].get("ordinal", 0)))
            manifest.documents[doc_id] = DocEntry(
                doc_id=doc_id,
                source=str(meta0.get("source", "")),
                title=str(meta0.get("title", "")),
                content_hash=digest,
                chunk_ids=[cid for cid, _ in items],
                chars=int(meta0.get("doc_chars", 0)),
                metadata={k: meta0[k] for k in ("region", "year", "kind", "date", "issuer") if k in meta0},
                indexed_at=str(meta0.get("indexed_at", "")),
            )
        return manifest

    def check_config(self, manifest: Manifest) -> None:
        """Stop with :class:`IndexConfigMismatchError` when ``manifest`` was built with another
        embedder (or backend) or other chunking settings than these."""
        if not manifest.documents:
            return
        fingerprint = self.embedder.fingerprint()
        chunking = chunking_config(self.settings)
        if manifest.embedding_model != fingerprint or manifest.chunking != chunking:
            if manifest.embedding_model != fingerprint:
                what = "索引是用另一个嵌入模型（或另一种嵌入后端）建立的"
            elif manifest.chunking.get("chunker_version") != CHUNKER_VERSION:
                what = "索引是用旧的切分方式建立的（新版本会清理断行并合并过短的段落）"
            else:
                what = "索引的切分设置（段落长度、重叠或最短段落）已改变"
            raise IndexConfigMismatchError(
                f"index built with {manifest.embedding_model} {manifest.chunking}, "
                f"now {fingerprint} {chunking}; run with --rebuild",
                f"{what}，请运行 assistant index --rebuild 重建索引（会重新嵌入全部文件）。",
            )

    # -- consistency ------------------------------------------------------------------------
    def repair(self, manifest: Manifest | None = None, fresh: dict[str, Chunk] | None = None,
               fresh_tokens: dict[str, list[str]] | None = None) -> KeywordIndex:
        """Make Chroma and the keyword index hold exactly the manifest's chunks (call with the write
        lock held); ``fresh`` and ``fresh_tokens`` are the chunks a run just wrote and their tokens."""
        manifest = manifest or self.load_manifest()
        wanted = manifest.chunk_ids()
        orphans = self.store.all_ids() - wanted
        if orphans:
            log.info("removing %d orphan chunks from the vector store", len(orphans))
            self.store.delete(orphans)
        try:
            current = KeywordIndex.load(self.settings.keyword_dir)
        except KeywordIndexCorrupt as exc:
            if self.settings.keyword_dir.exists():
                log.warning("关键词索引损坏，正在重建：%s", exc)
            current = KeywordIndex([], {}, None)
        if set(current.ids) == wanted and not (fresh and set(fresh) - set(current.ids)):
            return current
        known = {c.chunk_id: c for c in current.chunks}
        known.update(fresh or {})
        missing = wanted - set(known)
        if missing:
            for cid, text, meta in self.store.iter_records():
                if cid in missing:
                    known[cid] = chunk_from_record(cid, text, meta)
        chunks = [known[cid] for cid in wanted if cid in known]
        for chunk in chunks:
            for key in STORE_ONLY_KEYS:
                chunk.metadata.pop(key, None)
        index = KeywordIndex.build(chunks, token_cache={**current.tokens, **(fresh_tokens or {})})
        index.save(self.settings.keyword_dir)
        return index

    def keyword_for_reader(self, manifest: Manifest) -> KeywordIndex:
        """The keyword index for a reader (``Assistant``). One that matches the manifest is used
        as it is; otherwise it is repaired (rewritten) only while no writer holds the lock, since
        a writer's chunks not yet in its manifest would look like orphans. With a writer busy, the
        index on disk is used as it is (searches are restricted to the manifest's chunk ids) until
        the writer finishes and bumps the generation."""
        try:
            keyword: KeywordIndex | None = KeywordIndex.load(self.settings.keyword_dir)
        except KeywordIndexCorrupt:
            keyword = None
        if keyword is not None and set(keyword.ids) == manifest.chunk_ids():
            return keyword
        with try_write_lock(self.settings) as free:
            if free:
                if manifest.documents and self.manifest_rebuilt:
                    manifest.save(self.settings.manifest_path)  # lost or corrupt, rebuilt from the store
                return self.repair(manifest)
        log.info("a writer holds the index lock: using the keyword index on disk until it finishes")
        return keyword if keyword is not None else KeywordIndex([], {}, None)
