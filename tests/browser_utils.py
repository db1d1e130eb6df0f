"""Helpers for the app tests: a test corpus, an indexed data dir, a live app server, headless Chromium."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "docs_corpus" / "协同发展看京津冀.txt"
MODEL_DIR = REPO / "data" / "models" / "multilingual-e5-small"

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

ADMIN = ("zhang", "Admin#2024")
USER = ("li", "User#2024")
USERS_SPEC = f"{ADMIN[0]}:{ADMIN[1]}:admin,{USER[0]}:{USER[1]}:user"

XSS_DOC_NAME = "澄水互济机制说明.txt"
XSS_DOC = """---
title: 京津冀“澄水互济”<b>机制</b>说明
issuer: 测试机关
region: 天津
year: 2023
kind: 通知
---
一、“澄水互济”机制

京津冀三地建立“澄水互济”机制<script>window.__xss=1</script>，由天津市水务局牵头，\
每季度互通一次<b>跨界河流水质</b>监测数据<img src=x onerror="window.__xss=2">。

二、工作要求

各地水务部门应当指定专人负责“澄水互济”机制的数据报送，确保监测数据真实、准确、完整。
"""
XSS_QUESTION = "什么是“澄水互济”机制？"

UPLOAD_DOC_NAME = "渤雁联签机制.txt"
UPLOAD_DOC = """---
title: 京津冀“渤雁联签”贸易便利化机制
issuer: 天津市商务局
region: 天津
year: 2025
kind: 通知
---
一、“渤雁联签”机制

2025年，京津冀三地商务部门推出“渤雁联签”贸易便利化机制：在北京、天津、河北任一口岸办理的原产地证书，可在另外两地海关直接核验，无需重复提交纸质材料。

二、试点安排

“渤雁联签”机制由天津市商务局牵头，首批覆盖12家试点企业，2025年底前评估后推广。
"""
UPLOAD_QUESTION = "什么是“渤雁联签”机制？"
SEED_QUESTION = "什么是“六链五群”？"
OUT_OF_CORPUS_QUESTION = "火星探测计划的预算是多少？"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_corpus(folder: Path) -> Path:
    """The seed article (+ its sidecar). Test documents are uploaded by the tests that need them."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(SEED, folder / SEED.name)
    sidecar = SEED.with_name(SEED.name + ".meta.json")
    if sidecar.exists():
        shutil.copy2(sidecar, folder / sidecar.name)
    return folder


def add_xss_document(server: AppServer, folder: Path) -> None:
    """Index the document containing ``<script>``/``<b>``/``<img onerror>`` (as the admin)."""
    path = folder / XSS_DOC_NAME
    path.write_text(XSS_DOC, encoding="utf-8")
    result = server.app.kb.upload([(path, path.name)], ADMIN[0])
    assert result.ok, result.message


_TEMPLATE: Path | None = None
_TEMPLATE_LOCK = threading.Lock()


def settings_for(root: Path, **overrides: Any):  # type: ignore[no-untyped-def]
    from assistant.settings import Settings

    base: dict[str, Any] = {
        "data_dir": root / "data",
        "corpus_dir": root / "corpus",
        "embedding_model": MODEL_DIR,
        "llm_base_url": "http://127.0.0.1:9/v1",  # nothing listens: the writer choice stays hidden
    }
    base.update(overrides)
    return Settings(**base)


def indexed_root(target: Path) -> Path:
    """``target`` with ``corpus/`` and an indexed ``data/`` (indexed once per process, then copied)."""
    global _TEMPLATE
    from assistant.service import Assistant

    with _TEMPLATE_LOCK:
        if _TEMPLATE is None:
            template = Path(tempfile.mkdtemp(prefix="jjj-app-template-"))
            atexit.register(shutil.rmtree, template, ignore_errors=True)
            write_corpus(template / "corpus")
            bot = Assistant(settings_for(template))
            bot.index([template / "corpus"])
            _TEMPLATE = template
    shutil.copytree(_TEMPLATE / "corpus", target / "corpus")
    shutil.copytree(_TEMPLATE / "data", target / "data")
    return target


class AppServer:
    """The real app (``assistant.app``) launched in this process on a free port."""

    def __init__(self, root: Path, **overrides: Any) -> None:
        from assistant.app.auth import load_auth
        from assistant.app.server import build_app, launch
        from assistant.service import Assistant

        self.settings = settings_for(root, **overrides)
        self.assistant = Assistant(self.settings)
        self.policy = load_auth(self.settings)
        self.demo = build_app(self.assistant, self.policy)
        self.app = self.demo.chat_app  # type: ignore[attr-defined]
        self.port = free_port()
        self.url = launch(self.demo, self.settings, self.policy, "127.0.0.1", self.port).rstrip("/")

    def close(self) -> None:
        self.demo.close()


def launch_browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)


def login(context: Any, url: str, user: tuple[str, str]) -> None:
    """Log a browser context in through Gradio's /login form (cookies are shared with its pages)."""
    resp = context.request.post(f"{url}/login", form={"username": user[0], "password": user[1]})
    assert resp.ok, f"login failed for {user[0]}: {resp.status}"


@contextmanager
def temp_root(prefix: str = "jjj-app-") -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def running_app() -> Iterator[AppServer]:
    """One app (users zhang=admin, li=user) over a freshly copied indexed data dir, closed afterwards."""
    with temp_root() as root:
        indexed_root(root)
        srv = AppServer(root, users=USERS_SPEC)
        try:
            yield srv
        finally:
            srv.close()
