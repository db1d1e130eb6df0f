"""The knowledge base: which documents are indexed, adding and removing them, what they can be filtered by.

Writers take the data folder's lock (``index.locking``), not the ``Assistant``'s: questions keep being
answered while an indexing run (or its wait for another) goes on; the loaded indexes are reloaded
after each write.
"""

from __future__ import annotations

import filecmp
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.locking import WaitFn
from index.manifest import DocEntry
from index.models import IndexReport
from index.pipeline import ProgressFn, doc_id_of
from index.zh import CANONICAL_REGIONS

from .errors import AssistantError
from .examples import examples_from_manifest
from .models import Facets
from .ranking import sentence_texts
from .resources import Resources
from .uploads import DuplicateUploadError, UploadError, remove_upload, safe_filename, shortened, store_upload

log = logging.getLogger(__name__)


@dataclass
class AddResult:
    """What ``Assistant.add_documents`` did: the stored copies, the indexing run, the refused files."""

    stored: list[Path] = field(default_factory=list)
    report: IndexReport | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file name or path, Chinese reason)
    duplicates: list[tuple[Path, str]] = field(default_factory=list)  # refused: same name as an upload
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file name, Chinese note), e.g. a name cut

    def summary_zh(self) -> str:
        """The Chinese outcome (the indexing summary, then the files not added)."""
        lines = []
        if self.report is not None and self.report.added + self.report.updated + self.report.unchanged:
            lines.append(self.report.summary_zh("add"))
        lines += [note for _, note in self.notes]
        if self.problems:
            lines.append("以下文件未收录：" + "；".join(f"《{Path(name).name}》：{why}" for name, why in self.problems))
        return "\n".join(lines) or "没有文件被收录。"


class Documents:
    """The knowledge base of one ``Assistant``: index, add, delete, list, recover, facets."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.settings = resources.settings

    def documents(self) -> list[DocEntry]:
        return sorted(self.resources.manifest.documents.values(), key=lambda e: e.doc_id)

    def index(self, paths: Sequence[Path], rebuild: bool = False, prune: bool = True,
              progress: ProgressFn | None = None, *, allow_drop: bool = False,
              on_wait: WaitFn | None = None) -> IndexReport:
        """Index ``paths`` (see ``Indexer.run``), then encode the new sentences for the semantic evidence."""
        try:
            report = self.resources.indexer().run(paths, rebuild=rebuild, prune=prune, progress=progress,
                                                  allow_drop=allow_drop, on_wait=on_wait)
        finally:
            self.resources.reload()
        self.warm_sentences()
        return report

    def warm_sentences(self) -> int:
        """Encode every sentence of the indexed passages for the semantic evidence (once per sentence;
        kept beside the index), so that answers never wait for it. Returns how many were new."""
        similarity = self.resources.similarity()
        if similarity is None:
            return 0
        texts = sentence_texts([c.text for c in self.resources.keyword_index().chunks])
        new = similarity.warm(texts)
        if new:
            similarity.save(self.resources.sentence_vectors_path(), keep=texts)
        return new

    def delete_document(self, doc_id: str, on_wait: WaitFn | None = None) -> bool:
        """Remove a document from the index (False when it is not there); a document that was added
        with ``add_documents`` (a copy in the data folder's uploads) loses that copy too."""
        entry = self.resources.manifest.documents.get(doc_id)
        try:
            deleted = self.resources.indexer().delete_document(doc_id, on_wait=on_wait)
        finally:
            self.resources.reload()
        if deleted and entry is not None:
            remove_upload(entry.source, self.settings)
        return deleted

    def add_documents(self, files: Sequence[Path | tuple[Path, str]], progress: ProgressFn | None = None,
                      on_wait: WaitFn | None = None, *, replace: bool = False) -> AddResult:
        """Add documents to the knowledge base: each file (or ``(temp path, original name)``, an upload)
        is copied under a safe name into the data folder's uploads, then the copies are indexed
        incrementally (nothing else is pruned). A name whose document id another document holds is
        refused; a copy that cannot be indexed is removed again. A file with the name of an earlier
        upload replaces it only with ``replace=True``; otherwise it is refused
        (:class:`DuplicateUploadError`, listed in ``AddResult.duplicates`` so that a surface can ask
        and call again). A name cut to fit the file system is noted in ``AddResult.notes``. Problems are
        reported per file in ``AddResult.problems`` (Chinese reasons), never raised; index errors
        (busy, store) are."""
        existing = {d.doc_id: d for d in self.documents()}
        result = AddResult()
        for item in files:
            source, original = item if isinstance(item, tuple) else (Path(item), Path(item).name)
            try:
                result.stored.append(self._store_copy(Path(source), original, existing, result.stored, replace))
                note = shortened(original)
                if note:
                    result.notes.append((original, note))
            except DuplicateUploadError as exc:
                result.duplicates.append((Path(source), original))
                result.problems.append((original, exc.user_message))
            except AssistantError as exc:
                result.problems.append((original, exc.user_message))
            except OSError:
                log.exception("storing %r failed", original)
                result.problems.append((original, "保存文件失败。"))
        if result.stored:
            result.report = self.index(result.stored, prune=False, progress=progress, on_wait=on_wait)
            for skipped in result.report.skipped:
                remove_upload(skipped.source, self.settings)
                result.problems.append((skipped.source, skipped.reason))
        return result

    def _store_copy(self, source: Path, original: str, existing: dict[str, DocEntry], stored: list[Path],
                    replace: bool = False) -> Path:
        """The upload rule: the document id is the stored name's (``doc_id_of``); it may not clash,
        and an earlier upload of the same name is replaced only when ``replace``."""
        name = safe_filename(original)
        doc_id = doc_id_of(Path(name))
        uploads = self.settings.uploads_dir
        clash = existing.get(doc_id)
        if clash is not None and Path(clash.source).resolve() != (uploads / name).resolve():
            raise UploadError(f"doc id {doc_id!r} taken by {clash.source}",
                              f"与已收录的文件《{clash.title}》同名，请改名后上传。")
        if any(doc_id_of(p) == doc_id and p.name != name for p in stored) or (
            uploads.is_dir() and any(doc_id_of(p) == doc_id and p.name != name for p in uploads.iterdir())
        ):
            raise UploadError(f"doc id {doc_id!r} used by another upload",
                              "已有同名（扩展名不同）的上传文件，请改名后上传。")
        if any(p.name == name for p in stored):
            raise UploadError(f"{name!r} twice in one upload", f"同一批上传中有两个同名文件《{name}》，请改名后上传。")
        if not replace and (uploads / name).is_file() and not _same_bytes(uploads / name, source):
            title = clash.title if clash is not None else name
            raise DuplicateUploadError(
                f"{name!r} already uploaded",
                f"已有同名的上传文件《{title}》（文件ID：{doc_id}）；如要用新文件替换它，请确认替换。")
        return store_upload(source, original, self.settings)

    def leftover_uploads(self) -> list[Path]:
        """Files in the uploads folder that the index does not know (a copy saved, then the process
        stopped before indexing it), and partial copies (``.upload-*``)."""
        root = self.settings.uploads_dir
        if not root.is_dir():
            return []
        known = {Path(d.source).resolve() for d in self.documents()}
        return sorted(p for p in root.iterdir()
                      if not p.is_symlink() and p.is_file() and (p.name.startswith(".upload-") or p.resolve() not in known))

    def recover_uploads(self, on_wait: WaitFn | None = None) -> AddResult:
        """Index the uploads a crash left unindexed (partial ``.upload-*`` copies are deleted);
        what was done is in the result (``stored``: indexed, ``problems``: not indexable, removed)."""
        result = AddResult()
        pending = []
        for path in self.leftover_uploads():
            if path.name.startswith(".upload-"):
                path.unlink(missing_ok=True)
                result.problems.append((path.name, "上传中断留下的不完整副本，已删除。"))
            else:
                pending.append(path)
        if pending:
            result.stored = pending
            result.report = self.index(pending, prune=False, on_wait=on_wait)
            for skipped in result.report.skipped:
                remove_upload(skipped.source, self.settings)
                result.problems.append((Path(skipped.source).name, f"{skipped.reason}（已删除该副本）"))
        return result

    def facets(self) -> Facets:
        """What the indexed documents can be filtered by: regions, years (newest first), kinds, documents."""
        years: set[str] = set()
        kinds: set[str] = set()
        docs: list[tuple[str, str]] = []
        for e in self.documents():
            meta = e.metadata or {}
            year = meta.get("year") or str(meta.get("date") or "")[:4]
            if str(year).isdigit():
                years.add(str(year))
            if meta.get("kind"):
                kinds.add(str(meta["kind"]))
            docs.append((e.title if e.title == e.doc_id else f"{e.title}（{e.doc_id}）", e.doc_id))
        return Facets(list(CANONICAL_REGIONS), sorted(years, reverse=True), sorted(kinds), docs)

    def example_questions(self, n: int = 6) -> list[str]:
        """Example questions drawn from the indexed documents' section headings."""
        return examples_from_manifest(self.resources.keyword_index().chunks, n)


def _same_bytes(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (re-adding an unchanged file needs no confirmation)."""
    try:
        return a.stat().st_size == b.stat().st_size and filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False
