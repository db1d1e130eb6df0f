"""``assistant serve``: safety checks, corpus sync, then launch the Gradio app.

The bind/auth and port checks run first, before any model or index is loaded: exposing the app on a
non-loopback address without configured users exits at once with a Chinese message. The page itself
is built by :func:`assistant.app.ui.build_app`.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import os
import socket
import sys
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from ..errors import AssistantError
from ..service import Assistant
from ..settings import Settings
from . import audit
from .api_defaults import ApiDefaultsMiddleware, api_defaults
from .auth import AuthConfigError, AuthPolicy, ClientAddressMiddleware, check_bind, is_loopback, load_auth
from .login_notice import LoginNoticeMiddleware
from .ui import build_app, launch_kwargs
from .zh_page import ChinesePageMiddleware

log = logging.getLogger(__name__)

TITLE = "京津冀协同发展政策助手"
# Shown on the login page under its heading (登录); Gradio renders it as HTML.
AUTH_MESSAGE = (f'<strong style="font-size:1.25em">{TITLE}</strong><br>'
                "请使用管理员分配的账号登录。忘记密码请联系管理员重置。")


def trusted_proxies(settings: Settings) -> list[str]:
    """``ASSISTANT_TRUSTED_PROXIES`` as a list of IP addresses / networks (:class:`AuthConfigError` on a bad entry)."""
    out = []
    for item in (p.strip() for p in settings.trusted_proxies.split(",")):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise AuthConfigError(f"bad trusted proxy {item!r}",
                                  f"ASSISTANT_TRUSTED_PROXIES 中的 {item} 不是有效的 IP 地址或网段。") from exc
        out.append(item)
    return out


def launch(demo: gr.Blocks, settings: Settings, policy: AuthPolicy, host: str, port: int,
           **extra: Any) -> str:
    """Queue + launch without blocking; return the local URL.

    X-Forwarded-For is believed only from ``ASSISTANT_TRUSTED_PROXIES`` (default: nobody): uvicorn,
    which Gradio starts, reads its trusted proxies from ``FORWARDED_ALLOW_IPS`` (its default trusts
    loopback, which let anyone on the machine or behind a careless proxy pick their address)."""
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(trusted_proxies(settings)) or "none"
    demo.queue(default_concurrency_limit=settings.concurrency_limit)
    kwargs: dict[str, Any] = {
        "server_name": host,
        "server_port": port,
        "auth": policy.authenticate if policy.enabled else None,
        "auth_message": AUTH_MESSAGE if policy.enabled else None,
        "share": False,
        "prevent_thread_lock": True,
        # No footer: an official needs neither the API docs nor "Built with Gradio" (the /ask API and
        # gradio_client work all the same); questions are not kept in the browser's run history.
        "footer_links": [],
        "run_history": False,
        "max_file_size": f"{settings.max_upload_mb}mb",
        "show_error": False,
        "quiet": True,
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        # The client address reaches the auth callable (login throttling per address).
        # A raw REST call may omit the optional trailing arguments of /ask (padded with their defaults).
        # The auth file is followed per request (added / changed / removed users; ended sessions), the
        # login page shows the throttling message, and Gradio's own page text (login, upload box) is in
        # Chinese whatever the browser's language.
        "app_kwargs": {"middleware": [Middleware(ChinesePageMiddleware, title=TITLE),
                                      Middleware(LoginNoticeMiddleware),
                                      Middleware(ClientAddressMiddleware, policy=policy),
                                      Middleware(ApiDefaultsMiddleware, defaults=api_defaults(demo))]},
        **launch_kwargs(),
    }
    kwargs.update(extra)
    _, local_url, _ = demo.launch(**kwargs)
    tokens = getattr(getattr(demo, "server_app", None), "tokens", None)
    if isinstance(tokens, dict):
        policy.bind_sessions(tokens)  # sessions of removed users (or changed passwords) end at once
    if not policy.enabled:
        # Local single-user mode: the first `assistant users add` switches the running page to login.
        policy.on_enable(lambda: require_login(demo, policy))
    return str(local_url)


def require_login(demo: gr.Blocks, policy: AuthPolicy) -> None:
    """Make the launched app ask for a login from the next request on, as ``launch(auth=...)``
    would have: Gradio reads ``app.auth`` (the FastAPI app, ``demo.server_app``) on every request
    (the index route serves its login form to a request without a session; ``login_check`` refuses
    the API, queue, upload and file routes with 401; ``/login`` checks the password with it) and
    ``blocks.auth_message`` for the login form's text."""
    demo.auth = policy.authenticate  # type: ignore[assignment]  # Gradio types it as its launch() argument
    demo.auth_message = AUTH_MESSAGE
    app = getattr(demo, "server_app", None)
    if app is not None:
        app.auth = policy.authenticate
    log.warning("login is required from now on (an account file was created while the app was running)")


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served (None when it can), checked by binding it briefly the way
    uvicorn does (``SO_REUSEADDR``: a port in TIME_WAIT is fine, one with a listener is not)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"无法解析地址 {host}（{exc.strerror}） / cannot resolve host {host}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"端口 {port} 已被占用，请用 --port 换一个端口（或设置 ASSISTANT_PORT）。 / "
                        f"Port {port} on {host} is already in use: choose another with --port.")
            if exc.errno == errno.EACCES:
                return (f"没有权限使用端口 {port}（1024 以下的端口需要管理员权限），请用 --port 换一个端口。 / "
                        f"Permission denied for port {port}: choose another with --port.")
            return (f"无法在 {host}:{port} 启动网页服务（{exc.strerror}）。 / "
                    f"Cannot listen on {host}:{port}: {exc.strerror}.")
    return None


def recover_uploads(assistant: Assistant) -> None:
    """Uploads a crash left behind (saved, never indexed; partial copies) are indexed or removed at
    start, printed and written to the audit log."""
    if not assistant.leftover_uploads():
        return
    result = assistant.recover_uploads()
    names = [p.name for p in result.stored] + [name for name, _ in result.problems]
    lines = []
    if result.report is not None:
        lines.append(f"上次运行中断时留在上传目录、尚未索引的文件已补充索引：{'、'.join(p.name for p in result.stored)}。"
                     + result.report.summary_zh("add"))
    lines += [f"《{name}》：{why}" for name, why in result.problems]
    message = "\n".join(lines)
    print(message, file=sys.stderr, flush=True)
    audit.record(assistant.settings, audit.SYSTEM_USER, "recover-uploads", names,
                 "error" if result.problems else "ok", message)


def main(args: argparse.Namespace, settings: Settings) -> int:
    host = getattr(args, "host", None) or settings.host
    port = int(getattr(args, "port", None) or settings.port)
    try:
        policy = load_auth(settings)
        trusted_proxies(settings)
        for warning in check_bind(host, policy):
            print(warning, file=sys.stderr)
    except AssistantError as exc:
        print(f"错误：{exc.user_message}", file=sys.stderr)
        return 2
    problem = port_problem(host, port)  # before the model and the index load (seconds), not after
    if problem:
        print(f"错误：{problem}", file=sys.stderr)
        return 2

    assistant = Assistant(settings)
    try:
        if not getattr(args, "no_index", False):
            print(f"正在同步文档目录 {settings.corpus_dir} …", file=sys.stderr, flush=True)
            report = assistant.index([settings.corpus_dir])
            print(report.summary_zh("sync"), file=sys.stderr, flush=True)
            for skipped in report.skipped:
                print(f"  跳过 {skipped.source}：{skipped.reason}", file=sys.stderr)
        recover_uploads(assistant)
        demo = build_app(assistant, policy)
    except AssistantError as exc:
        print(f"错误：{exc.user_message}", file=sys.stderr)
        return 2
    except Exception:
        log.exception("start-up failed")
        print("错误：启动失败（详细原因见上方日志），请检查数据目录与模型文件后重试。", file=sys.stderr)
        return 1

    try:
        url = launch(demo, settings, policy, host, port)
    except OSError as exc:
        log.info("launch failed: %s", exc)
        print(f"错误：无法在 {host}:{port} 启动网页服务（端口可能已被占用），请用 --port 换一个端口。 / "
              f"Cannot listen on {host}:{port} (port in use?): choose another with --port.", file=sys.stderr)
        return 2
    mode = "已启用登录" if policy.enabled else "本机单用户模式（无需登录）"
    print(f"京津冀协同发展政策助手已启动：{url}（{mode}，按 Ctrl+C 停止）", flush=True)
    if not policy.enabled:
        print("提示：用 assistant users add 用户名 --role admin 添加第一个账号后，网页在下一次请求时即改为要求登录，无需重启。",
              flush=True)
    if not is_loopback(host):
        print("提示：服务对其他机器可见，建议置于 HTTPS 反向代理之后使用。", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
    return 0
