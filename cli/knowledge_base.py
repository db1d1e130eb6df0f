"""``assistant index`` and ``assistant docs list|add|delete``: the knowledge base, as the web page's admin
tab manages it. Every change, and every refused one, goes to the audit log."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from assistant.app import audit
from assistant.errors import AssistantError, RebuildWouldDropError
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.uploads import is_uploaded

from .progress import progress_bar


def lock_wait_notice(settings: Settings) -> Callable[[str], None]:
    """The ``on_wait`` callback: says on stderr that another process holds the index lock."""

    def on_wait(message: str) -> None:
        print(f"{message}（最长等待 {settings.index_lock_timeout:.0f} 秒）", file=sys.stderr, flush=True)

    return on_wait


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    bot = Assistant(settings)
    if args.list:
        return list_documents(bot, args.json)
    paths = [Path(p) for p in args.paths] or [settings.corpus_dir]
    bar, update = progress_bar(disable=args.json or not sys.stderr.isatty())
    action = "rebuild" if args.rebuild else "index"
    try:
        report = bot.index(paths, rebuild=args.rebuild, progress=update, allow_drop=args.yes,
                           on_wait=lock_wait_notice(settings))
    except RebuildWouldDropError as exc:
        audit.record(settings, audit.os_user(), action, exc.sources, "error", exc.user_message)
        bar.close()
        print(f"错误：{exc.user_message}", file=sys.stderr)
        for source in exc.sources:
            print(f"  {source}", file=sys.stderr)
        print("确认移除这些文件并重建，请加 --yes。", file=sys.stderr)
        return 2
    except AssistantError as exc:
        audit.record(settings, audit.os_user(), action, [str(p) for p in paths], "error", exc.user_message)
        raise
    finally:
        bar.close()
    audit.record(settings, audit.os_user(), action, [str(p) for p in paths], "ok",
                 f"共 {report.documents} 个文件；新增 {report.added}、更新 {report.updated}、删除 {report.deleted}",
                 documents_after=report.documents)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(report.summary_zh("index"))
        if report.chunk_lengths.get("count"):
            lengths = report.chunk_lengths
            print(f"段落长度（字）：p10 {lengths['p10']:.0f}、p50 {lengths['p50']:.0f}、p90 {lengths['p90']:.0f}，"
                  f"短于 120 字的占 {100 * lengths['under_120']:.0f}%。")
        for skipped in report.skipped:
            print(f"  跳过 {skipped.source}：{skipped.reason}")
        if report.flagged:
            print(f"注意：{len(report.flagged)} 处文字像是对问答系统下达的指令（可能是提示注入），已标记，回答时不会采用：")
            for flag in report.flagged[:50]:
                print(f"  {flag.source}:{flag.line}：{flag.text}")
        print('提问示例：assistant ask "京津冀协同发展有哪些重点任务？"')
    return 0


def list_documents(bot: Assistant, as_json: bool) -> int:
    """``assistant index --list`` / ``assistant docs list``: one line per indexed document (or JSON)."""
    docs = bot.documents()
    if as_json:
        print(json.dumps([d.__dict__ for d in docs], ensure_ascii=False))
    else:
        for d in docs:
            meta = " ".join(f"{k}={v}" for k, v in d.metadata.items())
            print(f"{d.doc_id}\t{len(d.chunk_ids)} 段\t{d.chars} 字\t{meta}")
        print(f"共 {len(docs)} 个文件。")
    return 0


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant docs list|add|delete``: the knowledge base, as the web page's admin tab manages it."""
    bot = Assistant(settings)
    if args.docs_command == "list":
        return list_documents(bot, args.json)
    if args.docs_command == "add":
        return add_documents(args, settings, bot)
    return delete_document(args, settings, bot)


def add_documents(args: argparse.Namespace, settings: Settings, bot: Assistant) -> int:
    """``assistant docs add FILE…``: 0 all stored, 1 some refused, 2 none stored."""
    who = audit.os_user()
    names = [str(p) for p in args.files]
    try:
        added = bot.add_documents([Path(p) for p in args.files], on_wait=lock_wait_notice(settings),
                                  replace=args.replace)
    except AssistantError as exc:
        audit.record(settings, who, "upload", names, "error", exc.user_message)
        raise
    message = added.summary_zh()
    if added.duplicates:
        message += "\n如要用这些文件替换同名的已上传文件，请加 --replace 重新运行。"
    audit.record(settings, who, "upload-replace" if args.replace else "upload", names,
                 "error" if added.problems else "ok", message)
    if args.json:
        report = added.report.to_dict() if added.report is not None else None
        print(json.dumps({"stored": [str(p) for p in added.stored], "report": report,
                          "problems": [{"file": f, "reason": r} for f, r in added.problems],
                          "duplicates": [name for _, name in added.duplicates],
                          "notes": [{"file": f, "note": n} for f, n in added.notes]}, ensure_ascii=False))
    else:
        print(message)
    return 0 if added.stored and not added.problems else 2 if not added.stored else 1


def delete_document(args: argparse.Namespace, settings: Settings, bot: Assistant) -> int:
    """``assistant docs delete DOC_ID``: the document leaves the index; an uploaded copy is deleted too."""
    who = audit.os_user()
    entry = bot.manifest.documents.get(args.doc_id)
    if entry is None:
        audit.record(settings, who, "delete", args.doc_id, "error", "该文件不在知识库中")
        print(f"错误：知识库中没有文件 {args.doc_id}（文件ID 见 assistant docs list）。", file=sys.stderr)
        return 2
    uploaded = is_uploaded(entry.source, settings)
    try:
        bot.delete_document(args.doc_id, on_wait=lock_wait_notice(settings))
    except AssistantError as exc:
        audit.record(settings, who, "delete", entry.source, "error", exc.user_message)
        raise
    note = "添加时保存的副本也已删除。" if uploaded else "原文件未改动；它若在文档目录中，下次同步时会重新收录。"
    where = "" if entry.title == entry.doc_id else f"（{entry.doc_id}）"  # the id only when it says more
    message = f"已从知识库删除《{entry.title}》{where}。{note}"
    audit.record(settings, who, "delete", entry.source, "ok", message, doc_id=args.doc_id)
    print(message)
    return 0
