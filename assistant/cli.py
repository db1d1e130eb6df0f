"""The ``assistant`` command: index, ask, serve, docs, users, eval, bench, llm-serve. A thin client of the service."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import AssistantError
from .settings import Settings


class _IndexProgress:
    """The indexing progress bar: documents done of all, chunks embedded, and tqdm's time left."""

    def __init__(self, bar) -> None:  # type: ignore[no-untyped-def]
        self.bar = bar
        self.embedded = 0
        self.name = ""
        if not bar.disable:  # the elapsed time keeps moving while a batch is embedded
            import threading

            threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self) -> None:
        import time

        while not self.bar.disable:  # tqdm's close() sets disable
            time.sleep(1.0)
            if not self.bar.disable:
                self.bar.refresh()

    def __call__(self, done: int, total: int, name: str) -> None:
        self.bar.total = total
        self.bar.n = done
        self.name = name
        self._postfix()

    def chunks(self, embedded: int) -> None:
        self.embedded = embedded
        self._postfix()

    def _postfix(self) -> None:
        self.bar.set_postfix_str(f"已嵌入 {self.embedded} 段 {self.name[:24]}".rstrip())
        self.bar.refresh()


def _progress_bar(disable: bool):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    bar = tqdm(total=0, unit="个文件", desc="索引", disable=disable, file=sys.stderr,
               bar_format="{desc} {n_fmt}/{total_fmt} {unit} |{bar}| 已用 {elapsed}，预计剩余 {remaining} {postfix}")
    return bar, _IndexProgress(bar)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .service import Assistant

    bot = Assistant(settings)
    if args.list:
        return _list_documents(bot, args.json)
    from .app import audit
    from .errors import RebuildWouldDropError

    paths = [Path(p) for p in args.paths] or [settings.corpus_dir]
    bar, update = _progress_bar(disable=args.json or not sys.stderr.isatty())
    action = "rebuild" if args.rebuild else "index"

    def on_wait(message: str) -> None:
        print(f"{message}（最长等待 {settings.index_lock_timeout:.0f} 秒）", file=sys.stderr, flush=True)

    try:
        report = bot.index(paths, rebuild=args.rebuild, progress=update, allow_drop=args.yes, on_wait=on_wait)
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


def _list_documents(bot: Any, as_json: bool) -> int:
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
    from .app import audit
    from .service import Assistant

    bot = Assistant(settings)
    who = audit.os_user()

    def on_wait(message: str) -> None:
        print(f"{message}（最长等待 {settings.index_lock_timeout:.0f} 秒）", file=sys.stderr, flush=True)

    if args.docs_command == "list":
        return _list_documents(bot, args.json)
    if args.docs_command == "add":
        names = [str(p) for p in args.files]
        try:
            added = bot.add_documents([Path(p) for p in args.files], on_wait=on_wait, replace=args.replace)
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
    entry = bot.manifest.documents.get(args.doc_id)
    if entry is None:
        audit.record(settings, who, "delete", args.doc_id, "error", "该文件不在知识库中")
        print(f"错误：知识库中没有文件 {args.doc_id}（文件ID 见 assistant docs list）。", file=sys.stderr)
        return 2
    from .uploads import is_uploaded

    uploaded = is_uploaded(entry.source, settings)
    try:
        bot.delete_document(args.doc_id, on_wait=on_wait)
    except AssistantError as exc:
        audit.record(settings, who, "delete", entry.source, "error", exc.user_message)
        raise
    note = "添加时保存的副本也已删除。" if uploaded else "原文件未改动；它若在文档目录中，下次同步时会重新收录。"
    where = "" if entry.title == entry.doc_id else f"（{entry.doc_id}）"  # the id only when it says more
    message = f"已从知识库删除《{entry.title}》{where}。{note}"
    audit.record(settings, who, "delete", entry.source, "ok", message, doc_id=args.doc_id)
    print(message)
    return 0


def _read_password(args: argparse.Namespace) -> str:
    from .app.auth import AuthConfigError, validate_new_password

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"为用户 {args.name} 设置密码：")
        if getpass.getpass("再输入一次：") != password:
            raise AuthConfigError("passwords differ", "两次输入的密码不一致，未作修改。")
    return validate_new_password(password)


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant users add|passwd|remove|list|unlock``: the auth file (passwords stored as argon2
    hashes) and the login lockouts. Every change, and every refused one, goes to the audit log."""
    from .app import audit

    action = f"users-{args.users_command}"
    try:
        return _users(args, settings, action)
    except AssistantError as exc:
        if args.users_command != "list":
            audit.record(settings, audit.os_user(), action, None, "error", exc.user_message,
                         target_user=str(getattr(args, "name", "") or "")[:64])
        raise


def _users(args: argparse.Namespace, settings: Settings, action: str) -> int:
    from .app import audit
    from .app.auth import (
        AuthConfigError,
        hash_password,
        is_password_hash,
        read_auth_entries,
        validate_username,
        write_auth_entries,
    )

    path = Path(args.file) if args.file else (settings.auth_file or settings.default_auth_path)
    who = audit.os_user()
    if args.users_command == "unlock":
        from .app.throttle import LoginGuard

        name = str(args.name).strip()
        guard = LoginGuard(settings.login_state_path)
        waiting = guard.status(name)
        cleared = guard.unlock(name)
        message = (f"已解除用户 {name} 的登录限制（清除 {cleared} 条失败记录）。" if cleared
                   else f"用户 {name} 当前没有登录失败记录，无需解锁。")
        audit.record(settings, who, action, None, "ok", message, target_user=name, waited_seconds=round(waiting))
        print(message + ("网页服务在下一次登录时即生效。" if cleared else ""))
        return 0
    existed = path.exists()
    entries = read_auth_entries(path)
    names = [str(e.get("username", "")) for e in entries]
    if args.users_command == "list":
        for entry in entries:
            secret = str(entry.get("password_hash") or entry.get("password") or "")
            state = "哈希" if is_password_hash(secret) else "明文（不安全）"
            print(f"{entry.get('username')}\t{entry.get('role', 'user')}\t{state}")
        print(f"共 {len(entries)} 个用户（{path}）。")
        return 0
    name = validate_username(args.name)
    if args.users_command == "remove":
        if name not in names:
            raise AuthConfigError(f"no user {name!r}", f"用户 {name} 不存在。")
        remaining = [e for e in entries if e.get("username") != name]
        if remaining and not any(e.get("role") == "admin" for e in remaining):
            raise AuthConfigError("last admin", "不能删除最后一个管理员。")
        write_auth_entries(path, remaining)
        audit.record(settings, who, "users-remove", str(path), "ok", f"删除用户 {name}", target_user=name)
        print(f"已删除用户 {name}（{path}）。正在运行的网页服务在下一次请求时即结束该用户的会话。")
        return 0
    if args.users_command == "add" and name in names:
        raise AuthConfigError(f"user {name!r} exists", f"用户 {name} 已存在；修改密码请用 assistant users passwd {name}。")
    if args.users_command == "passwd" and name not in names:
        raise AuthConfigError(f"no user {name!r}", f"用户 {name} 不存在。")
    password_hash = hash_password(_read_password(args))
    if args.users_command == "add":
        entries.append({"username": name, "role": args.role, "password_hash": password_hash})
    else:
        for entry in entries:
            if entry.get("username") == name:
                entry.pop("password", None)
                entry["password_hash"] = password_hash
    write_auth_entries(path, entries)
    audit.record(settings, who, action, str(path), "ok", f"用户 {name}", target_user=name)
    verb = f"已添加用户 {name}（{args.role}）" if args.users_command == "add" else f"已修改用户 {name} 的密码"
    print(f"{verb}，保存在 {path}（权限 600，密码以 argon2 哈希保存）。")
    if existed:
        print("正在运行的网页服务在下一次请求时即使用新的账号设置（修改密码会结束该用户已登录的会话）。")
    elif settings.auth_file is None and path == settings.default_auth_path:
        print("网页服务会自动使用数据目录中的这个账号文件（也可用 ASSISTANT_AUTH_FILE 指定）；"
              "正在以本机单用户模式运行的网页服务在下一次请求时即改为要求登录，无需重启。")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .service import Assistant

    bot = Assistant(settings, writer=args.writer) if args.writer else Assistant(settings)
    from .models import Filters

    filters = Filters.parse(args.region, args.year, args.kind, args.doc)
    if bot.settings.writer == "llm" and not args.json:
        try:
            answer = _stream_llm_answer(bot, args.question, filters)
        except KeyboardInterrupt:
            print("\n（已取消：大模型停止生成）", flush=True)
            return 130
    else:
        answer = bot.ask(args.question, filters=filters)
        if args.json:
            print(answer.to_json())
            return 0
        print(aligned_rows(answer) if answer.layout != "plain" and answer.sections else answer.text)
    if answer.notice:
        print(f"（{answer.notice}）")
    for c in answer.citations:
        where = " › ".join(p for p in (c.section,) if p)
        page = f" 第{c.page}页" if c.page else ""
        print(f"[{c.n}] 《{c.title}》{(' ' + where) if where else ''}{page}（{c.source}:{c.quote_start}-{c.quote_end}）")
        print(f"    “{c.quote}”")
    if answer.layout != "plain" and answer.missing:
        for item in answer.missing:  # the years of the series that are not indexed
            print(f"（{item}）")
    elif answer.status == "partial":
        for item in answer.missing:
            print(f"（未能回答的部分：{item}）")
    if answer.related:
        print("相关内容（并非答案，仅供参考）：")
        for c in answer.related:
            print(f"  《{c.title}》{(' ' + c.section) if c.section else ''}：“{c.quote}”")
    elif answer.suggestions:
        for s in answer.suggestions:
            print(f"  可参考：《{s.title}》")
    return 0


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (CJK and full-width characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrap(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` columns; a marker [n] and the punctuation after it
    are never split from what they follow."""
    import re

    tokens = re.findall(r"\[\d{1,2}\][。，、；：！？）」』”’]*|.", text)
    lines, current, used = [], "", 0
    for token in tokens:
        w = display_width(token)
        if current and used + w > width and not token.startswith("["):
            lines.append(current)
            current, used = "", 0
        current += token
        used += w
    if current:
        lines.append(current)
    return lines or [""]


def aligned_rows(answer: Any, width: int | None = None) -> str:
    """A timeline or comparison for the terminal: the lead, then one row per year or region, the labels
    in one column and each row's text wrapped under its own column."""
    import shutil

    width = width or shutil.get_terminal_size((100, 24)).columns
    label_w = max(display_width(s.label) for s in answer.sections) + 2
    text_w = max(20, width - label_w)
    out = []
    if answer.refused:
        out.append(answer.text.splitlines()[0])
    elif answer.lead:
        out.append(answer.lead)
    for section in answer.sections:
        lines = _wrap(section.text, text_w)
        out.append(section.label + " " * (label_w - display_width(section.label)) + lines[0])
        out += [" " * label_w + line for line in lines[1:]]
    return "\n".join(out)


def _stream_llm_answer(bot: Any, question: str, filters: Any) -> Any:
    """Print the llm writer's deltas as they arrive, then the elapsed times; the verified text again
    when verification renumbered or changed it. Ctrl-C closes the stream (the server stops generating)."""
    import time

    t0 = time.perf_counter()
    print("正在检索并生成回答……", file=sys.stderr, flush=True)
    shown: list[str] = []
    first: float | None = None
    answer = None
    events = bot.stream(question, filters=filters)
    try:
        for event in events:
            if event.type == "delta":
                if first is None:
                    first = time.perf_counter() - t0
                    print(f"（首字 {first:.1f} 秒）", file=sys.stderr, flush=True)
                shown.append(event.text)
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif event.type == "reset":
                shown.clear()
                print("\n（大模型的回答未采用，改用摘录式回答）", flush=True)
            elif event.answer is not None:
                answer = event.answer
    finally:
        events.close()
    assert answer is not None
    streamed = "".join(shown).strip()
    if streamed:
        print()
    if answer.layout != "plain" and answer.sections:  # a timeline or comparison: the rows again, aligned
        print(("核对引用后的回答：\n" if streamed else "") + aligned_rows(answer))
    elif answer.text.strip() != streamed:
        print(("核对引用后的回答：\n" if streamed else "") + answer.text)
    total = time.perf_counter() - t0
    times = f"首字 {first:.1f} 秒，" if first is not None else ""
    print(f"（{times}共 {total:.1f} 秒）", flush=True)
    return answer


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from .app.server import main as serve_main

    return serve_main(args, settings)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from eval.run import main as eval_main

    return eval_main(args.rest)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.run import main as bench_main

    return bench_main(args.rest)


def cmd_llm_serve(args: argparse.Namespace, settings: Settings) -> int:
    from .llm.server import main as llm_main

    return llm_main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="京津冀协同发展政策助手")
    parser.add_argument("-v", "--verbose", action="store_true", help="详细日志")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="索引文件（默认 docs_corpus/）", description="索引文件：只嵌入新增或改动的文件，已删除的文件从索引中移除。")
    p.add_argument("paths", nargs="*", help="文件或文件夹（默认 ASSISTANT_CORPUS_DIR，即 docs_corpus/）")
    p.add_argument("--rebuild", action="store_true", help="重新嵌入已收录的全部文件（含其他目录中的）")
    p.add_argument("--yes", action="store_true", help="重建时确认移除源文件已不存在的文件")
    p.add_argument("--json", action="store_true", help="最后一行输出 JSON 摘要")
    p.add_argument("--list", action="store_true", help="列出已索引的文件")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="提问", description="就已收录的文件提问；回答的每句话都带引用编号。")
    p.add_argument("question", help="问题（中文），例如 \"雄安新区承接疏解有哪些支持政策？\"")
    p.add_argument("--json", action="store_true", help="以 JSON 输出完整回答（文本、引用、状态等）")
    p.add_argument("--writer", choices=["extractive", "llm"],
                   help="回答方式：extractive 摘录原文（默认，见 ASSISTANT_WRITER）或 llm 本地大模型")
    p.add_argument("--region", action="append", help="只检索该地区的文件：北京/天津/河北/国家（可重复）")
    p.add_argument("--year", action="append", type=int, help="只检索该年份的文件，例如 2024（可重复）")
    p.add_argument("--kind", action="append", help="只检索该类型的文件：工作报告/条例/规定/…（可重复）")
    p.add_argument("--doc", action="append", help="只检索该文件（文件 id，见 assistant index --list；可重复）")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="启动网页聊天", description="启动网页聊天（Gradio）。非本机地址需要配置用户（ASSISTANT_USERS 或 ASSISTANT_AUTH_FILE）。")
    p.add_argument("--host", help="监听地址（默认 ASSISTANT_HOST，即 127.0.0.1；0.0.0.0 对其他机器开放，需要登录）")
    p.add_argument("--port", type=int, help="监听端口（默认 ASSISTANT_PORT，即 7860）；端口被占用时立即报错")
    p.add_argument("--no-index", action="store_true", help="启动前不同步 docs_corpus/")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("docs", help="管理知识库：列出、添加、删除文件",
                       description="管理知识库（与网页“知识库管理”相同）：添加的文件以安全的文件名复制到数据目录的 uploads/ 中并立即索引；"
                                   "删除时，添加时保存的副本一并删除。")
    docs = p.add_subparsers(dest="docs_command", required=True)
    q = docs.add_parser("list", help="列出已收录的文件", description="列出已收录的文件（文件ID、段落数、字数、元数据）。")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q = docs.add_parser("add", help="添加文件并索引", description="把文件复制到数据目录的 uploads/ 中并增量索引（其他文件不受影响）。"
                                                         "文件ID 为文件名（不含扩展名），与已收录的文件同名时拒绝。")
    q.add_argument("files", nargs="+", help="txt、md、docx、pdf 或 html 文件")
    q.add_argument("--replace", action="store_true", help="替换同名的已上传文件（默认拒绝并提示）")
    q.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    q = docs.add_parser("delete", help="从知识库删除文件", description="从索引中删除一个文件；用 assistant docs add 添加的，保存的副本一并删除。")
    q.add_argument("doc_id", help="文件ID（见 assistant docs list）")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("users", help="管理登录账号（密码以 argon2 哈希保存）")
    p.add_argument("--file", help="账号文件（默认 ASSISTANT_AUTH_FILE，否则数据目录下的 users.json）")
    users = p.add_subparsers(dest="users_command", required=True)
    for name, help_text in (("add", "添加用户"), ("passwd", "修改密码")):
        q = users.add_parser(name, help=help_text)
        q.add_argument("name", help="用户名")
        if name == "add":
            q.add_argument("--role", choices=["admin", "user"], required=True, help="角色")
        q.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行，供脚本使用）")
    q = users.add_parser("remove", help="删除用户")
    q.add_argument("name", help="用户名")
    q = users.add_parser("unlock", help="解除用户的登录锁定",
                         description="清除该用户在所有地址的登录失败记录（锁定与等待），立即生效，网页服务无需重启。")
    q.add_argument("name", help="用户名")
    users.add_parser("list", help="列出用户")
    p.set_defaults(func=cmd_users)

    for name, func, help_text in (
        ("eval", cmd_eval, "运行评测（参数见 assistant eval --help）"),
        ("bench", cmd_bench, "运行性能基准"),
        ("llm-serve", cmd_llm_serve, "启动本地大模型服务（llama.cpp）"),
    ):
        p = sub.add_parser(name, help=help_text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER, help=f"传给 assistant {name} 的参数（见 assistant {name} --help）")
        p.set_defaults(func=func)
    return parser


DELEGATED = ("eval", "bench", "llm-serve")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    tokens = list(sys.argv[1:] if argv is None else argv)
    args, extra = parser.parse_known_args(tokens)
    command = getattr(args, "command", None)
    if command in DELEGATED:
        # Everything after the sub-command belongs to its own parser, in the order given (argparse
        # would split options from values here: ``eval --set jjj`` came through as ``jjj --set``).
        rest = tokens[tokens.index(command) + 1:]
        args.rest = rest[1:] if rest[:1] == ["--"] else rest
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    settings = Settings()
    try:
        return int(args.func(args, settings) or 0)
    except AssistantError as exc:
        print(f"错误：{exc.user_message}", file=sys.stderr)
        if args.verbose:
            print(f"  ({exc})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
