"""Incremental, idempotent, crash-safe sync of files into Chroma + the keyword index.

Order of writes for a new or changed document: its chunks go into Chroma (embeddings already
stored under the same content-derived ids are reused, not recomputed), then its manifest entry
is written atomically, then the chunks of its previous version are deleted. A run killed at
any point leaves the old or the new version visible, never half of one; the next run deletes
orphans and brings the keyword index back in line with the manifest (``index.reader``, the read/repair
side: reading the manifest back, the config check, the repair).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .background import OrderedWriter
from .chunker import PolicyChunker
from .embedder_base import Embedder
from .errors import AssistantError, DocumentLoadError, RebuildWouldDropError
from .injection import flagged_spans
from .keyword import KeywordIndex, tokenize, warm_tokenizer
from .loaders import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES, load_document
from .locking import WaitFn, write_lock
from .manifest import DocEntry, Manifest
from .models import Chunk, Document, FlaggedLine, IndexReport, SkippedFile
from .reader import IndexReader, chunking_config, iter_documents
from .settings import IndexSettings
from .store import ChromaStore, Store

log = logging.getLogger(__name__)

# (done, total, current file). A callback may also have a ``chunks(embedded)`` method: it is called
# after each embedded batch with the run's count of embedded chunks (the CLI's progress bar shows it),
# and a true ``per_file`` attribute: each file is then embedded as soon as it is read instead of in
# batches across files (the page's upload: a few files, progress per file).
ProgressFn = Callable[[int, int, str], None]
_IGNORED_NAMES = {"readme.md", "readme.txt", "readme", "sources.md"}  # notes about a folder, not documents
MAX_FLAGGED_PER_DOC = 20


@dataclass
class SourceFile:
    path: Path
    doc_id: str
    root: Path


def doc_id_of(path: Path, root: Path | None = None) -> str:
    """A document's id: its path below the folder it was found in, without the suffix (``sub/name``),
    or its bare name without the suffix when it was given as a file (and for an upload)."""
    path = Path(path)
    if root is None:
        return path.stem
    return path.relative_to(root).with_suffix("").as_posix()


def discover(paths: Sequence[Path]) -> list[SourceFile]:
    """Supported files under the given files/folders (recursive), README files excluded."""
    found: list[SourceFile] = []
    for given in paths:
        given = Path(given)
        if given.is_file():
            found.append(SourceFile(given, doc_id_of(given), given.parent))
            continue
        if not given.is_dir():
            continue
        for path in sorted(given.rglob("*")):
            name = path.name.lower()
            if (
                path.is_file()
                and path.suffix.lower() in SUPPORTED_SUFFIXES
                and not name.endswith(SIDECAR_SUFFIX)
                and name not in _IGNORED_NAMES
                and not any(part.startswith(".") for part in path.relative_to(given).parts)
            ):
                found.append(SourceFile(path, doc_id_of(path, given), given))
    return found


def chunk_length_stats(lengths: Sequence[int]) -> dict[str, float]:
    """Distribution of chunk lengths in characters: count, mean, p10/p50/p90 and the share of
    chunks under 50 and under 120 characters (``assistant index --json``, the bench)."""
    if not lengths:
        return {"count": 0}
    values = np.asarray(lengths, dtype=np.float64)
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return {"count": len(values), "mean": round(float(values.mean()), 1), "p10": round(float(p10), 1),
            "p50": round(float(p50), 1), "p90": round(float(p90), 1),
            "under_50": round(float((values < 50).mean()), 4), "under_120": round(float((values < 120).mean()), 4)}


class Indexer:
    """Writes the index: one sync run (add, replace, remove documents; a rebuild), a deletion. The CLI,
    the app's knowledge-base tab and tests all use it; reading the index back and repairing it is
    ``self.reader`` (:class:`IndexReader`)."""

    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None, store: Store | None = None) -> None:
        self.settings = settings
        self.store: Store = store or ChromaStore(settings)
        self.reader = IndexReader(settings, self.store, embedder)
        self.chunker = PolicyChunker(settings.chunk_size, settings.chunk_overlap, settings.min_chunk_chars)
        self._store_lock = threading.Lock()  # a run's reads (main thread) and writes (writer thread)
        self._on_chunks: Callable[[int], None] | None = None  # the progress callback's chunks(), if any

    @property
    def embedder(self) -> Embedder:
        return self.reader.embedder

    # -- the read side, for callers that hold an Indexer (see IndexReader) --------------------
    def load_manifest(self) -> Manifest:
        return self.reader.load_manifest()

    def keyword_for_reader(self, manifest: Manifest) -> KeywordIndex:
        return self.reader.keyword_for_reader(manifest)

    # -- the run --------------------------------------------------------------------------
    def reset(self) -> None:
        """Drop everything (part of ``--rebuild``; call with the write lock held)."""
        try:
            self.store.delete(list(self.store.all_ids()))
        except AssistantError:
            raise
        shutil.rmtree(self.settings.keyword_dir, ignore_errors=True)
        self.settings.manifest_path.unlink(missing_ok=True)

    @property
    def _pending_path(self) -> Path:
        return self.settings.data_dir / "rebuild-pending.json"

    def _pending_sources(self) -> list[SourceFile]:
        """Sources of an interrupted rebuild (indexed before it started, not passed this time)."""
        try:
            items = json.loads(self._pending_path.read_text(encoding="utf-8"))
            return [SourceFile(Path(path), str(doc_id), Path(path).parent) for path, doc_id in items
                    if Path(path).is_file()]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring unreadable %s: %s", self._pending_path, exc)
            return []

    def _save_pending(self, sources: list[SourceFile]) -> None:
        path = self._pending_path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps([[str(s.path), s.doc_id] for s in sources], ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def rebuild_plan(self, paths: Sequence[Path], files: list[SourceFile] | None = None,
                     ) -> tuple[list[SourceFile], list[DocEntry]]:
        """What a rebuild of ``paths`` re-embeds beside the files found under them: every other
        indexed document whose source file still exists (wherever it lives); and which indexed
        documents it would drop: those whose source is gone and lies outside ``paths`` (a source
        gone from under ``paths`` is an ordinary removal)."""
        files = discover(paths) if files is None else files
        roots = [Path(p).resolve() for p in paths]
        found_ids = {f.doc_id for f in files}
        found_paths = {f.path.resolve() for f in files}
        keep: list[SourceFile] = []
        drop: list[DocEntry] = []
        for entry in iter_documents(self.reader.load_manifest()):
            src = Path(entry.source)
            if entry.doc_id in found_ids or src.resolve() in found_paths:
                continue
            if src.is_file():
                keep.append(SourceFile(src, entry.doc_id, src.parent))
                found_ids.add(entry.doc_id)
            elif not _under(src, roots):
                drop.append(entry)
        return keep, drop

    def run(
        self,
        paths: Sequence[Path],
        rebuild: bool = False,
        prune: bool = True,
        progress: ProgressFn | None = None,
        *,
        allow_drop: bool = False,
        on_wait: WaitFn | None = None,
    ) -> IndexReport:
        """Sync ``paths`` into the index, holding the data folder's write lock (a second writer,
        in this process or another, waits; see ``index.locking``).

        ``rebuild`` drops the index and re-embeds everything it held: the files under ``paths``
        and every other indexed source that still exists. Documents whose source is gone from
        outside ``paths`` would be lost: :class:`RebuildWouldDropError` lists them unless
        ``allow_drop``."""
        waiting = time.perf_counter()
        with write_lock(self.settings, on_wait=on_wait):
            waited = time.perf_counter() - waiting
            self._on_chunks = getattr(progress, "chunks", None)
            report = self._run(paths, rebuild, prune, progress, allow_drop)
            report.waited = round(waited, 3)
            return report

    def _run(self, paths: Sequence[Path], rebuild: bool, prune: bool, progress: ProgressFn | None,
             allow_drop: bool) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        files = discover(paths)
        pending = self._pending_sources()
        if rebuild:
            keep, drop = self.rebuild_plan(paths, files)
            if drop and not allow_drop:
                names = [e.source for e in drop]
                shown = "、".join(f"《{e.title or e.doc_id}》" for e in drop[:10]) + ("等" if len(drop) > 10 else "")
                raise RebuildWouldDropError(
                    f"rebuild would drop {len(drop)} documents whose sources are gone: {names[:10]}",
                    f"重建索引将移除 {len(drop)} 个源文件已不存在的文件：{shown}。请确认要移除后再重建。",
                    sources=names,
                )
            report.deleted += len(drop)
            known = {f.doc_id for f in files} | {k.doc_id for k in keep}
            keep += [p for p in pending if p.doc_id not in known]
            # Written before anything is dropped: a rebuild killed half-way is completed by the next run.
            self._save_pending(keep)
            self.reset()
            files += keep
        elif pending:
            known = {f.doc_id for f in files}
            files += [p for p in pending if p.doc_id not in known]
        manifest = self.reader.load_manifest()
        self.reader.check_config(manifest)
        manifest.embedding_model = self.embedder.fingerprint()
        manifest.chunking = chunking_config(self.settings)

        seen: set[str] = set()
        new_chunks: dict[str, Chunk] = {}
        new_tokens: dict[str, list[str]] = {}
        with OrderedWriter() as writer:
            self._sync_files(files, manifest, report, seen, new_chunks, new_tokens, writer, progress)
        if progress:
            progress(len(files), len(files), "")

        if prune:
            # Only documents whose source this run was asked to index and found gone.
            roots = [Path(p).resolve() for p in paths]
            for doc_id, entry in list(manifest.documents.items()):
                if doc_id in seen:
                    continue
                src = Path(entry.source)
                if _under(src, roots) and not src.exists():
                    del manifest.documents[doc_id]
                    manifest.save(self.settings.manifest_path)
                    self.store.delete(entry.chunk_ids)
                    report.deleted += 1

        manifest.save(self.settings.manifest_path)  # also replaces a corrupt or missing manifest
        keyword = self.reader.repair(manifest, new_chunks, new_tokens)
        self._pending_path.unlink(missing_ok=True)
        report.chunk_lengths = chunk_length_stats([len(c.text) for c in keyword.chunks])
        report.documents = len(manifest.documents)
        report.chunks = manifest.chunk_count()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _sync_files(
        self,
        files: list[SourceFile],
        manifest: Manifest,
        report: IndexReport,
        seen: set[str],
        new_chunks: dict[str, Chunk],
        new_tokens: dict[str, list[str]],
        writer: OrderedWriter,
        progress: ProgressFn | None,
    ) -> None:
        """Load and chunk each file, embed in batches here, and hand each batch to ``writer``."""
        pending: list[tuple[Document, list[Chunk], str]] = []  # (doc, chunks, status)
        max_bytes = self.settings.max_file_mb * 1024 * 1024
        writer.submit(warm_tokenizer)  # loads jieba's dictionaries while the first batch is read
        per_file = bool(getattr(progress, "per_file", False))
        for done, source in enumerate(files, start=1):
            if progress:  # finished files: read, and embedded unless still waiting in the batch
                progress(done - 1 - len(pending), len(files), source.path.name)
            try:
                doc = load_document(source.path, source.doc_id, max_bytes=max_bytes,
                                    max_unzipped=self.settings.max_unzipped_mb * 1024 * 1024)
            except DocumentLoadError as exc:
                log.warning("%s", exc.user_message)
                report.skipped.append(SkippedFile(str(source.path), exc.user_message))
                seen.add(source.doc_id)  # keep a previously indexed version of an unreadable file
                continue
            except Exception as exc:  # a loader bug must not stop the whole run
                log.exception("unexpected error loading %s", source.path)
                reason = f"读取《{source.path.name}》时出错：{type(exc).__name__}"
                report.skipped.append(SkippedFile(str(source.path), reason))
                seen.add(source.doc_id)
                continue
            seen.add(doc.doc_id)
            self._flag_instructions(doc, report)
            old = manifest.documents.get(doc.doc_id)
            if old is not None and old.content_hash == doc.content_hash:
                report.unchanged += 1
                continue
            chunks = self.chunker.split(doc)
            pending.append((doc, chunks, "updated" if old else "added"))
            if per_file or sum(len(c) for _, c, _ in pending) >= self.settings.ingest_batch_chunks:
                self._embed_batch(pending, report, writer, new_chunks, new_tokens, manifest)
                pending = []
        self._embed_batch(pending, report, writer, new_chunks, new_tokens, manifest)

    @staticmethod
    def _flag_instructions(doc: Document, report: IndexReport) -> None:
        """Report instruction-like sentences (possible prompt injection) of a loaded document."""
        found = 0
        for start, end in flagged_spans(doc.text):
            number = doc.text.count("\n", 0, start) + 1
            sentence = " ".join(doc.text[start:end].split())
            report.flagged.append(FlaggedLine(doc.source, doc.doc_id, number, sentence[:200]))
            found += 1
            if found >= MAX_FLAGGED_PER_DOC:
                return
        if found:
            log.warning("《%s》中有 %d 处疑似指令的文字（可能是提示注入），回答时不会采用", doc.title, found)

    def _embed_batch(
        self,
        pending: list[tuple[Document, list[Chunk], str]],
        report: IndexReport,
        writer: OrderedWriter,
        new_chunks: dict[str, Chunk],
        new_tokens: dict[str, list[str]],
        manifest: Manifest,
    ) -> None:
        """Embed one batch on this thread, then queue its writes behind the earlier batches'."""
        if not pending:
            return
        all_chunks = [c for _, chunks, _ in pending for c in chunks]
        # Reuse embeddings already stored under the same ids (a resumed or repaired run).
        with self._store_lock:
            vectors = self.store.get_embeddings([c.chunk_id for c in all_chunks])
        missing = [c for c in all_chunks if c.chunk_id not in vectors]
        if missing:
            fresh = self.embedder.embed_passages([c.embed_text() for c in missing])
            vectors.update({c.chunk_id: v for c, v in zip(missing, fresh, strict=True)})
        report.embedded_chunks += len(missing)
        if self._on_chunks is not None:
            self._on_chunks(report.embedded_chunks)
        writer.submit(self._write_batch, pending, vectors, manifest, report, new_chunks, new_tokens)

    def _write_batch(
        self,
        pending: list[tuple[Document, list[Chunk], str]],
        vectors: dict[str, np.ndarray],
        manifest: Manifest,
        report: IndexReport,
        new_chunks: dict[str, Chunk],
        new_tokens: dict[str, list[str]],
    ) -> None:
        """Store one embedded batch (runs on the writer thread, in batch order)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        stale: set[str] = set()
        # The store-only bookkeeping (``reader.STORE_ONLY_KEYS``) the manifest can be rebuilt from.
        batch = [(c, {"content_hash": doc.content_hash, "n_chunks": len(chunks), "doc_chars": len(doc.text),
                      "indexed_at": now})
                 for doc, chunks, _ in pending for c in chunks]
        if batch:  # the whole batch in as few Chroma calls as possible
            with self._store_lock:
                self.store.upsert([c for c, _ in batch], np.stack([vectors[c.chunk_id] for c, _ in batch]),
                                  [extra for _, extra in batch])
        for doc, chunks, status in pending:
            old = manifest.documents.get(doc.doc_id)
            manifest.documents[doc.doc_id] = DocEntry(
                doc_id=doc.doc_id,
                source=doc.source,
                title=doc.title,
                content_hash=doc.content_hash,
                chunk_ids=[c.chunk_id for c in chunks],
                chars=len(doc.text),
                metadata=doc.metadata,
                indexed_at=now,
            )
            if old is not None:
                stale |= set(old.chunk_ids) - {c.chunk_id for c in chunks}
            new_chunks.update({c.chunk_id: c for c in chunks})
            setattr(report, status, getattr(report, status) + 1)
        # Once per batch, after every chunk of it is stored: a crash before this line leaves orphans
        # that the next run reuses (no re-embedding), never a manifest pointing at missing chunks.
        # (Saving per document rewrote the whole manifest once per file: quadratic at 1,000 files.)
        manifest.save(self.settings.manifest_path)
        if stale:
            with self._store_lock:
                self.store.delete(stale)
        # Keyword tokens now, while the next batch is embedded, not all at the end.
        for _, chunks, _ in pending:
            for chunk in chunks:
                new_tokens[chunk.chunk_id] = tokenize(chunk.embed_text())

    def delete_document(self, doc_id: str, on_wait: WaitFn | None = None) -> bool:
        with write_lock(self.settings, on_wait=on_wait):
            manifest = self.reader.load_manifest()
            entry = manifest.documents.pop(doc_id, None)
            if entry is None:
                return False
            manifest.save(self.settings.manifest_path)
            self.store.delete(entry.chunk_ids)
            self.reader.repair(manifest)
            return True


def _under(path: Path, roots: Sequence[Path]) -> bool:
    src = path.resolve()
    return any(src == r or r in src.parents for r in roots)

