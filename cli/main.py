"""The ``assistant`` command: index, ask, serve, docs, users, eval, bench, llm-serve. The parser and the
dispatch; each command's work is in its own module, a thin client of the service."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from assistant.errors import AssistantError
from assistant.settings import Settings

from .accounts import cmd_users
from .ask import cmd_ask
from .delegated import DELEGATED, cmd_bench, cmd_eval, cmd_llm_serve
from .knowledge_base import cmd_docs, cmd_index
from .serve import cmd_serve


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
