"""Knowledge-base administration (admins only): list, upload + index, delete, rebuild.

Every public method takes the requesting user's name and checks the role itself, so an admin
action refuses a non-admin even when called directly (not only through the hidden tab). Every
change (and every refused attempt) is written to the audit log (``audit.py``). Index writes take
the data folder's write lock: while another process indexes, an action waits ("另一个索引任务正在
进行") up to ``ASSISTANT_INDEX_LOCK_TIMEOUT`` seconds, then reports that it could not run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from index.manifest import DocEntry
from index.models import IndexReport

from ..errors import AssistantError, PermissionDeniedError, RebuildWouldDropError
from ..service import Assistant
from ..settings import Settings
from ..uploads import is_uploaded
from . import audit
from .auth import AuthPolicy
from .render import source_name

log = logging.getLogger(__name__)

ProgressCb = Callable[[int, int, str], None]
TABLE_HEADERS = ["文件ID", "标题", "发文机关", "地区", "日期/年份", "类型", "段落数", "字数", "来源", "收录时间"]


@dataclass
class Result:
    """Outcome of an admin action: a Chinese message and whether anything changed."""

    message: str
    ok: bool = True
    changed: bool = False
    warning: bool = False  # partly done (e.g. some files skipped): shown as a warning, not an error
    needs_confirmation: bool = False  # a rebuild that would drop documents, an upload that would replace one: ask
    would_drop: list[str] = field(default_factory=list)  # their sources
    would_replace: list[tuple[Path, str]] = field(default_factory=list)  # (temp path, name) of same-name uploads


def flagged_lines(report: IndexReport, limit: int = 10) -> str:
    """Instruction-like sentences found while indexing, for an admin's message ("" if none)."""
    if not report.flagged:
        return ""
    shown = "；".join(f"《{source_name(f.source)}》第 {f.line} 行：“{f.text[:60]}”" for f in report.flagged[:limit])
    more = f"等 {len(report.flagged)} 处" if len(report.flagged) > limit else ""
    return f"注意：以下文字像是对问答系统下达的指令（可能是提示注入），已标记，回答时不会采用：{shown}{more}。"


def _when(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return stamp or ""


def document_row(entry: DocEntry, uploads: bool) -> list[str | int]:
    meta = entry.metadata or {}
    when = str(meta.get("date") or meta.get("year") or "")
    origin = ("上传：" if uploads else "") + source_name(entry.source)
    return [entry.doc_id, entry.title, str(meta.get("issuer") or ""), str(meta.get("region") or ""), when,
            str(meta.get("kind") or ""), len(entry.chunk_ids), entry.chars, origin, _when(entry.indexed_at)]


class KnowledgeBase:
    def __init__(self, assistant: Assistant, policy: AuthPolicy) -> None:
        self.assistant = assistant
        self.policy = policy

    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    def require_admin(self, username: str | None, action: str) -> None:
        """Refuse a non-admin (``PermissionDeniedError``), writing the refusal to the audit log."""
        try:
            self.policy.require_admin(username)
        except PermissionDeniedError as exc:
            audit.record(self.settings, username, action, result="denied", message=exc.user_message)
            raise

    def _on_wait(self, progress: ProgressCb | None) -> Callable[[str], None]:
        def notify(message: str) -> None:
            log.warning("%s", message)
            if progress is not None:
                progress(0, 1, message)

        return notify

    # -- reading --------------------------------------------------------------------------
    def documents(self, username: str | None, action: str = "list") -> list[DocEntry]:
        self.require_admin(username, action)
        return self.assistant.documents()

    def table(self, username: str | None) -> list[list[str | int]]:
        return [document_row(e, is_uploaded(e.source, self.settings)) for e in self.documents(username)]

    def stats(self, username: str | None) -> str:
        docs = self.documents(username)
        chunks = sum(len(d.chunk_ids) for d in docs)
        uploaded = sum(1 for d in docs if is_uploaded(d.source, self.settings))
        return f"已收录 {len(docs)} 个文件（其中上传 {uploaded} 个），共 {chunks} 个段落。"

    # -- changing -------------------------------------------------------------------------
    def upload(self, files: Sequence[tuple[Path, str]], username: str | None,
               progress: ProgressCb | None = None, replace: bool = False) -> Result:
        """Add the uploaded (temp path, original name) files with ``Assistant.add_documents``. A file
        named like an earlier upload is not replaced unless ``replace``: the result then asks
        (``needs_confirmation``, ``would_replace``), and the others are added meanwhile."""
        action = "upload-replace" if replace else "upload"
        self.require_admin(username, action)
        if not files:
            return Result("请先选择要上传的文件。", ok=False)
        try:
            added = self.assistant.add_documents(list(files), progress=progress, on_wait=self._on_wait(progress),
                                                 replace=replace)
        except AssistantError as exc:
            audit.record(self.settings, username, action, [name for _, name in files], "error", exc.user_message)
            raise
        report = added.report
        lines: list[str] = []
        changed = False
        if report is not None:
            changed = bool(report.added or report.updated)
            if report.added + report.updated + report.unchanged:
                lines.append(report.summary_zh("add"))
            if report.flagged:
                lines.append(flagged_lines(report))
        lines += [note for _, note in added.notes]
        waiting = {name for _, name in added.duplicates}
        problems = [f"《{source_name(name) or '（未命名）'}》：{why}" for name, why in added.problems if name not in waiting]
        if problems:
            lines.append("以下文件未收录：" + "；".join(problems))
        if waiting:
            lines.append("以下文件与已上传的文件同名，尚未替换（请在弹出的对话框中确认）：" + "、".join(f"《{n}》" for n in waiting))
        message = "\n".join(lines) or "没有文件被收录。"
        audit.record(self.settings, username, action, [name for _, name in files],
                     "ok" if not problems and not waiting else "error", message,
                     **({"awaiting_confirmation": sorted(waiting)} if waiting else {}))
        return Result(message, ok=not problems and not waiting, changed=changed,
                      warning=bool((problems or waiting) and (changed or lines[:-1])),
                      needs_confirmation=bool(waiting), would_replace=list(added.duplicates))

    def delete(self, doc_id: str | None, username: str | None) -> Result:
        self.require_admin(username, "delete")
        if not doc_id:
            return Result("请先选择要删除的文件。", ok=False)
        entry = next((d for d in self.assistant.documents() if d.doc_id == doc_id), None)
        if entry is None:
            audit.record(self.settings, username, "delete", str(doc_id), "error", "该文件不在知识库中")
            return Result("该文件不在知识库中（可能已被删除）。", ok=False)
        uploaded = is_uploaded(entry.source, self.settings) and Path(entry.source).is_file()
        try:
            self.assistant.delete_document(doc_id, on_wait=self._on_wait(None))  # removes an uploaded copy too
        except AssistantError as exc:
            audit.record(self.settings, username, "delete", entry.source, "error", exc.user_message)
            raise
        if uploaded and not Path(entry.source).exists():
            note = "上传的原文件也已删除。"
        else:
            note = "原文件仍在文档目录中，下次启动同步时会重新收录；如需永久删除，请从文档目录移除该文件。"
        message = f"已从知识库删除《{entry.title}》。{note}"
        audit.record(self.settings, username, "delete", entry.source, "ok", message, doc_id=doc_id)
        return Result(message, changed=True)

    def rebuild(self, username: str | None, progress: ProgressCb | None = None, confirm_drop: bool = False) -> Result:
        """Re-embed everything the index holds: the document folder, the uploads and every other
        indexed source that still exists, wherever it lives. When some indexed documents' sources
        are gone (so they cannot be re-embedded), nothing happens until ``confirm_drop``: the
        result lists them (``needs_confirmation``, ``would_drop``)."""
        self.require_admin(username, "rebuild")
        paths = [self.settings.corpus_dir]
        if self.settings.uploads_dir.is_dir():
            paths.append(self.settings.uploads_dir)
        before = len(self.assistant.documents())
        try:
            report = self.assistant.index(paths, rebuild=True, progress=progress, allow_drop=confirm_drop,
                                          on_wait=self._on_wait(progress))
        except RebuildWouldDropError as exc:
            audit.record(self.settings, username, "rebuild", exc.sources, "error", exc.user_message)
            return Result(exc.user_message, ok=False, needs_confirmation=True, would_drop=exc.sources)
        except AssistantError as exc:
            audit.record(self.settings, username, "rebuild", [str(p) for p in paths], "error", exc.user_message)
            raise
        msg = report.summary_zh("rebuild", documents_before=before)
        if report.skipped:
            msg += "跳过：" + "；".join(f"《{source_name(s.source)}》{s.reason}" for s in report.skipped)
        if report.flagged:
            msg += "\n" + flagged_lines(report)
        audit.record(self.settings, username, "rebuild", [str(p) for p in paths], "ok", msg,
                     documents_before=before, documents_after=report.documents)
        return Result(msg, changed=True, warning=bool(report.skipped))

    # -- confirmation (asked by the UI before delete and rebuild) -------------------------
    def confirmation(self, action: str, doc_id: str | None, username: str | None) -> Result:
        """The Chinese question to confirm before ``action`` ("delete" | "rebuild"); ``ok=False``
        with the reason when there is nothing to confirm (no document chosen, unknown document)."""
        self.require_admin(username, f"confirm-{action}")
        docs = self.assistant.documents()
        if action == "delete":
            if not doc_id:
                return Result("请先选择要删除的文件。", ok=False)
            entry = next((d for d in docs if d.doc_id == doc_id), None)
            if entry is None:
                return Result("该文件不在知识库中（可能已被删除）。", ok=False)
            where = ("上传的原文件将同时删除。" if is_uploaded(entry.source, self.settings)
                     else "原文件仍保留在文档目录中。")
            return Result(f"确定要从知识库删除《{entry.title}》（文件ID：{entry.doc_id}，{len(entry.chunk_ids)} 个段落）吗？"
                          f"{where}删除后，问答将不再引用该文件。")
        if action == "rebuild":
            chunks = sum(len(d.chunk_ids) for d in docs)
            return Result(f"确定要重建全部索引吗？将按文档目录与上传目录从头重建（当前 {len(docs)} 个文件、{chunks} 个段落），"
                          "文件多时需要几分钟，期间提问可能变慢。")
        return Result(f"未知操作：{action}", ok=False)

    @staticmethod
    def replace_question(names: Sequence[str]) -> str:
        """The Chinese question asked before same-name uploads replace the earlier ones."""
        shown = "、".join(f"《{n}》" for n in names)
        return (f"知识库中已有同名的上传文件：{shown}。确定要用新上传的文件替换吗？"
                "替换后，原文件及其索引将被新文件取代，问答将引用新文件的内容。")
