"""Load test: N concurrent gradio_client users against one running app, for a fixed time.

``python -m bench.load_test --users 20 --seconds 120 [--url URL]``

Without ``--url`` the app is started here (``python -m assistant serve --no-index`` on a free
loopback port) against ``--data-dir`` (default ``<data_dir>/bench/load``, indexed from ``--corpus``
first if it holds no index yet, then kept). Every user asks questions from a mixed list
(answerable and unanswerable) with its own random 4-digit tag in the question; the Answer's
``question`` field must echo exactly what that user sent, otherwise it counts as a mix-up. The
server's RSS is sampled every few seconds (psutil if installed, else /proc/<pid>/status).
Reports requests, errors, mix-ups (both must be 0), p50/p95 latency, throughput and RSS
start/max/end, and writes ``bench/results/load-<timestamp>.json``. Exit status 0 only when there
were requests and neither errors nor mix-ups.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.service import Assistant
from assistant.settings import Settings
from eval.datasets import load_own_set
from index.manifest import manifest_path

from .common import RESULTS_DIR, AppProcess, rss_bytes, stamp, summarize

FALLBACK_QUESTIONS = [
    ("京津冀协同发展中河北承担了哪些任务？", True),
    ("“六链五群”指的是什么？", True),
    ("雄安新区在疏解北京非首都功能中起什么作用？", True),
    ("火星基地的建设预算是多少？", False),
    ("2030年世界杯在哪里举办？", False),
]


def question_pool(settings: Any, limit: int = 60) -> list[tuple[str, bool]]:
    """Single-turn evaluation questions, about ¼ unanswerable; a built-in list without ../shared."""
    try:
        questions = load_own_set("jjj", settings.corpus_dir, settings.shared_dir).questions
    except (FileNotFoundError, OSError):
        return list(FALLBACK_QUESTIONS)
    single = [q for q in questions if not q.history]
    answerable = [(q.question, True) for q in single if q.answerable]
    unanswerable = [(q.question, False) for q in single if not q.answerable]
    n_un = min(len(unanswerable), limit // 4)
    pool = answerable[: limit - n_un] + unanswerable[:n_un]
    random.Random(0).shuffle(pool)
    return pool or list(FALLBACK_QUESTIONS)


def ensure_data_dir(args: argparse.Namespace, settings: Any, model: Path) -> Path:
    data_dir: Path = args.data_dir or settings.data_dir / "bench" / "load"
    if manifest_path(data_dir).exists():
        return data_dir
    corpus = args.corpus or [settings.corpus_dir]
    print(f"[load] indexing {', '.join(map(str, corpus))} into {data_dir} (once; kept)", file=sys.stderr, flush=True)
    report = Assistant(settings.model_copy(update={"data_dir": data_dir, "embedding_model": model})).index(corpus)
    print(f"[load] indexed {report.documents} documents, {report.chunks} chunks", file=sys.stderr, flush=True)
    return data_dir


class Sampler(threading.Thread):
    """Samples the server's RSS every ``every`` seconds until stopped."""

    def __init__(self, pid: int | None, every: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()
        self.t0 = time.monotonic()

    def sample(self) -> None:
        if self.pid is None:
            return
        value = rss_bytes(self.pid)
        if value is not None:
            self.samples.append((round(time.monotonic() - self.t0, 2), value))

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.sample()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=self.every + 5)
        self.sample()


def run_users(url: str, users: int, seconds: float, pool: list[tuple[str, bool]], request_timeout: float,
              think: float, seed: int) -> dict[str, Any]:
    from gradio_client import Client

    rng = random.Random(seed)
    tags = rng.sample(range(1000, 10000), users)  # a distinct 4-digit tag per user
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    mixups: list[dict[str, str]] = []
    outcome = {"answered": 0, "refused": 0}
    per_user = [0] * users
    deadline = [0.0]
    started = [0.0]

    def start_clock() -> None:  # runs once all users are connected, before any of them is released
        started[0] = time.perf_counter()
        deadline[0] = time.monotonic() + seconds

    barrier = threading.Barrier(users + 1, action=start_clock)

    def user(i: int) -> None:
        client = None
        try:
            client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": request_timeout})
        except Exception as exc:  # reported; this user sends nothing
            with lock:
                errors.append(f"user {i} connect: {exc!r}"[:300])
        barrier.wait()
        if client is None:
            return
        n = 0
        order = list(range(len(pool)))
        random.Random(seed + i).shuffle(order)
        while time.monotonic() < deadline[0] and n < 100_000:
            text, _answerable = pool[order[n % len(order)]]
            sent = f"{text}（编号{tags[i]}）"
            n += 1
            t = time.perf_counter()
            try:
                result = client.predict(sent, api_name="/ask")
            except Exception as exc:  # reported
                with lock:
                    errors.append(f"user {i}: {exc!r}"[:300])
                continue
            elapsed = time.perf_counter() - t
            got = str(result.get("question", "")) if isinstance(result, dict) else repr(result)[:200]
            with lock:
                latencies.append(elapsed)
                per_user[i] += 1
                if got.strip() != sent.strip() or str(tags[i]) not in got:
                    mixups.append({"user": str(i), "sent": sent, "got": got})
                elif isinstance(result, dict) and result.get("refused"):
                    outcome["refused"] += 1
                else:
                    outcome["answered"] += 1
            if think > 0:
                time.sleep(think)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for th in threads:
        th.start()
    barrier.wait(timeout=300)
    t0 = started[0]
    for th in threads:
        th.join(timeout=max(1.0, deadline[0] - time.monotonic()) + request_timeout + 30)
    wall = time.perf_counter() - t0
    stuck = sum(th.is_alive() for th in threads)
    requests = len(latencies) + len([e for e in errors if "connect" not in e])
    return {
        "users": users,
        "seconds": seconds,
        "wall_s": round(wall, 2),
        "requests": requests,
        "completed": len(latencies),
        **outcome,
        "errors": len(errors),
        "error_samples": errors[:5],
        "mixups": len(mixups),
        "mixup_samples": mixups[:5],
        "stuck_users": stuck,
        "throughput_per_s": round(len(latencies) / wall, 3) if wall > 0 else None,
        "latency": summarize(latencies),
        "requests_per_user": {"min": min(per_user), "max": max(per_user)},
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.load_test", description="concurrent gradio_client users")
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--url", default=None, help="a running app (loopback); default: start one here")
    p.add_argument("--pid", type=int, default=None, help="server pid for RSS samples when --url is given")
    p.add_argument("--data-dir", type=Path, default=None, help="indexed data dir for the app we start")
    p.add_argument("--corpus", type=Path, action="append", default=None, help="what to index if --data-dir is empty")
    p.add_argument("--sample-every", type=float, default=2.0, help="RSS sampling interval (s)")
    p.add_argument("--request-timeout", type=float, default=300.0)
    p.add_argument("--start-timeout", type=float, default=300.0)
    p.add_argument("--think", type=float, default=0.0, help="pause between one user's requests (s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(argv) if argv is not None else sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    if args.users < 1 or args.seconds <= 0:
        print("--users must be ≥ 1 and --seconds > 0", file=sys.stderr)
        return 2
    settings = Settings()
    model = settings.embedding_model or settings.embedding_model_path
    pool = question_pool(settings)
    app: AppProcess | None = None
    out: dict[str, Any] = {"timestamp": stamp(), "questions_in_pool": len(pool),
                           "unanswerable_in_pool": sum(not a for _, a in pool)}
    try:
        if args.url:
            url, pid = args.url, args.pid
            out["server"] = {"url": url, "started_here": False}
        else:
            data_dir = ensure_data_dir(args, settings, model)
            log_path = (args.data_dir or settings.data_dir / "bench" / "load").parent / "load-app.log"
            app = AppProcess(data_dir, model, log_path).start()
            url, pid = app.url, app.pid
            t0 = time.perf_counter()
            client = app.client(timeout=args.start_timeout)
            out["server"] = {"url": url, "started_here": True, "data_dir": str(data_dir),
                             "api_ready_s": round(time.perf_counter() - t0, 2)}
            rss_cold = rss_bytes(pid) if pid else None
            client.predict(pool[0][0], api_name="/ask")  # model and indexes loaded before the clock starts
            out["server"]["first_answer_s"] = round(time.perf_counter() - t0, 2)
            out["server"]["rss_before_first_answer_bytes"] = rss_cold
        sampler = Sampler(pid, args.sample_every)
        sampler.sample()
        sampler.start()
        print(f"[load] {args.users} users × {args.seconds:.0f} s against {url}", file=sys.stderr, flush=True)
        out["load"] = run_users(url, args.users, args.seconds, pool, args.request_timeout, args.think, args.seed)
        sampler.stop()
        rss = [v for _, v in sampler.samples]
        out["rss"] = {
            "pid": pid,
            "start_bytes": rss[0] if rss else None,
            "max_bytes": max(rss) if rss else None,
            "end_bytes": rss[-1] if rss else None,
            "samples": sampler.samples,
        }
    finally:
        if app is not None:
            app.stop()
    args.results_dir.mkdir(parents=True, exist_ok=True)
    target = args.results_dir / f"load-{out['timestamp']}.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    load, rss_info = out["load"], out["rss"]

    def mib(value: int | None) -> str:
        return f"{value / 2**20:.0f} MiB" if value else "—"

    print(f"requests {load['requests']} (answered {load['answered']}, refused {load['refused']}), "
          f"errors {load['errors']}, mix-ups {load['mixups']}, "
          f"p50 {load['latency'].get('p50_s', '—')} s, p95 {load['latency'].get('p95_s', '—')} s, "
          f"{load['throughput_per_s']} answers/s; RSS start {mib(rss_info['start_bytes'])}, "
          f"max {mib(rss_info['max_bytes'])}, end {mib(rss_info['end_bytes'])}")
    print(f"results: {target}")
    ok = load["completed"] > 0 and load["errors"] == 0 and load["mixups"] == 0 and load["stuck_users"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
