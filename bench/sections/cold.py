"""The ``cold`` section: seconds from launching the app to its first answer; the app helpers."""

from __future__ import annotations

import time
from typing import Any

from ..common import AppProcess
from ..plan import Plan, ensure_index
from ..results import ColdResult


def ask_app(client: Any, question: str) -> dict[str, Any]:
    result = client.predict(question, api_name="/ask")
    if not isinstance(result, dict):
        raise TypeError(f"/ask returned {type(result).__name__}")
    return result


def start_app(plan: Plan) -> AppProcess:
    ensure_index(plan, plan.topic_dir, plan.topic_paths)
    return AppProcess(plan.topic_dir, plan.model, plan.root / "app.log").start()


def section_cold(plan: Plan, app_holder: list[AppProcess]) -> ColdResult:
    ensure_index(plan, plan.topic_dir, plan.topic_paths)
    question = next((q.question for q in plan.questions if q.answerable and not q.history), plan.questions[0].question)
    app = AppProcess(plan.topic_dir, plan.model, plan.root / "app.log")
    app.start()
    app_holder.append(app)
    client = app.client(timeout=plan.args.start_timeout)
    ready = time.perf_counter() - app.started_at
    answer = ask_app(client, question)
    first = time.perf_counter() - app.started_at
    t = time.perf_counter()
    ask_app(client, question)
    warm = time.perf_counter() - t
    return ColdResult(data_dir=str(plan.topic_dir), api_ready_s=round(ready, 2), first_answer_s=round(first, 2),
                      first_answer_refused=bool(answer.get("refused")), second_answer_s=round(warm, 3),
                      command="python -m assistant serve --no-index --port P")
