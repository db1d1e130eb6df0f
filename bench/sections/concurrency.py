"""The ``concurrency`` section: simultaneous gradio_client users against one app."""

from __future__ import annotations

import threading
import time

from ..common import AppProcess, summarize
from ..plan import Plan
from ..results import ConcurrencyResult, Latency
from .cold import ask_app, start_app


def section_concurrency(plan: Plan, app_holder: list[AppProcess]) -> ConcurrencyResult:
    if not app_holder or not app_holder[0].alive():
        app_holder[:] = [start_app(plan)]
    app = app_holder[0]
    clients_n = plan.args.clients
    per = plan.args.concurrency_questions
    pool = [q.question for q in plan.questions if not q.history] or [q.question for q in plan.questions]
    warm = app.client(timeout=plan.args.start_timeout)
    ask_app(warm, pool[0])  # the model is loaded before the clock starts
    barrier = threading.Barrier(clients_n + 1)
    latencies: list[list[float]] = [[] for _ in range(clients_n)]
    errors: list[str] = []
    mixups: list[dict[str, str]] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        mine = [pool[(i * per + j) % len(pool)] for j in range(per)]
        try:
            client = app.client(timeout=60)
        except Exception as exc:  # reported
            with lock:
                errors.append(f"client {i}: {exc!r}")
            barrier.wait()
            return
        barrier.wait()
        for question in mine:
            t = time.perf_counter()
            try:
                result = ask_app(client, question)
            except Exception as exc:  # reported
                with lock:
                    errors.append(f"client {i}: {exc!r}"[:300])
                continue
            latencies[i].append(time.perf_counter() - t)
            if str(result.get("question", "")).strip() != question.strip():
                with lock:
                    mixups.append({"client": str(i), "asked": question, "got": str(result.get("question"))})

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients_n)]
    for th in threads:
        th.start()
    barrier.wait(timeout=300)
    t0 = time.perf_counter()
    for th in threads:
        th.join(timeout=plan.args.start_timeout + 60 * per)
    wall = time.perf_counter() - t0
    flat = [x for lat in latencies for x in lat]
    return ConcurrencyResult(
        clients=clients_n,
        questions_per_client=per,
        requests=clients_n * per,
        answers=len(flat),
        wall_s=round(wall, 3),
        answers_per_s=round(len(flat) / wall, 3) if wall > 0 else None,
        latency=Latency.model_validate(summarize(flat)),
        errors=len(errors),
        error_samples=errors[:5],
        mixups=len(mixups),
        mixup_samples=mixups[:5],
        app_concurrency_limit=plan.base.concurrency_limit,
    )
