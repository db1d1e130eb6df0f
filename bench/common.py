"""Helpers shared by ``bench.run`` and ``bench.load_test``: the app in a subprocess, RSS, percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from assistant.llm.server import stop_process_group

from .worker import percentile

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"

__all__ = ["REPO_ROOT", "RESULTS_DIR", "AppProcess", "free_port", "percentile", "rss_bytes", "stamp", "summarize"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def summarize(latencies: Sequence[float]) -> dict[str, float]:
    if not latencies:
        return {"n": 0}
    return {
        "n": len(latencies),
        "p50_s": round(percentile(latencies, 50), 4),
        "p95_s": round(percentile(latencies, 95), 4),
        "mean_s": round(sum(latencies) / len(latencies), 4),
        "max_s": round(max(latencies), 4),
    }


def rss_bytes(pid: int) -> int | None:
    """Current resident set size of ``pid`` (psutil if installed, else /proc/<pid>/status VmRSS)."""
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except ImportError:
        pass
    except Exception:  # the process is gone
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def app_env(data_dir: Path, model: Path | None) -> dict[str, str]:
    """Environment for the app subprocess: our own, pointed at ``data_dir``, no login configured."""
    env = dict(os.environ)
    for key in ("ASSISTANT_USERS", "ASSISTANT_AUTH_FILE", "ASSISTANT_HOST", "ASSISTANT_PORT"):
        env.pop(key, None)
    env.update({
        "ASSISTANT_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "PYTHONUNBUFFERED": "1",
    })
    if model is not None:  # never let the app convert the model into the bench data dir
        env["ASSISTANT_EMBEDDING_MODEL"] = str(model)
    pythonpath = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + pythonpath if pythonpath else "")
    return env


class AppProcess:
    """``python -m assistant serve --no-index --port P`` on loopback, against an indexed data dir."""

    def __init__(self, data_dir: Path, model: Path | None, log_path: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.model = model
        self.log_path = log_path
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> AppProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "assistant", "serve", "--no-index", "--host", "127.0.0.1",
               "--port", str(self.port)]
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=app_env(self.data_dir, self.model), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def client(self, timeout: float) -> Any:
        """A gradio_client ``Client``, retried until the app answers or ``timeout`` seconds pass."""
        from gradio_client import Client

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the app exited with {self.proc.returncode if self.proc else '?'}; "
                                   f"log tail:\n{self.log_tail()}")
            try:
                return Client(self.url, verbose=False, download_files=False,
                              httpx_kwargs={"timeout": 300.0})
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.25)
        raise TimeoutError(f"the app did not answer within {timeout:.0f}s ({last!r}); log tail:\n{self.log_tail()}")

    def log_tail(self, n_chars: int = 1500) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-n_chars:].decode("utf-8", "replace")

    def stop(self, timeout: float = 15.0) -> None:
        proc, self.proc = self.proc, None
        stop_process_group(proc, timeout)  # our own session: the app and nothing else
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> AppProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
