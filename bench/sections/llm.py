"""The ``llm`` section: time to first token and tokens/s of the llm writer."""

from __future__ import annotations

import importlib.util
import json
import time
import urllib.request
from typing import TYPE_CHECKING, Any

from assistant.llm.server import LLMServer, is_up
from assistant.service import Assistant

from ..common import free_port, percentile
from ..plan import Plan, ensure_index, progress
from ..results import LlmResult, LlmRun

if TYPE_CHECKING:
    from eval.datasets import Question


def _token_count(base_url: str, text: str) -> int | None:
    root = base_url.rstrip("/").removesuffix("/v1")
    for route, key in (("/extras/tokenize/count", "count"), ("/extras/tokenize", "tokens")):
        try:
            req = urllib.request.Request(root + route, data=json.dumps({"input": text}).encode("utf-8"),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                value = json.loads(resp.read().decode("utf-8")).get(key)
            return int(value) if key == "count" else len(value)
        except Exception:  # try the next route, then give up
            continue
    return None


GENERATED_FALLBACKS = ("unsupported", "declined", "garbage")  # the LLM did generate before the fallback


def section_llm(plan: Plan) -> LlmResult:
    settings = plan.base
    base_url = settings.llm_base_url
    server: LLMServer | None = None
    out = LlmResult()
    started = 0.0
    if not is_up(base_url):
        if not settings.llm_gguf_path.is_file():
            return LlmResult(skipped=f"no LLM server at {base_url} and no GGUF at {settings.llm_gguf_path}")
        if importlib.util.find_spec("llama_cpp") is None:
            return LlmResult(skipped=f"no LLM server at {base_url} and llama_cpp is not installed")
        progress("llm: starting a llama.cpp server on the local GGUF")
        t0 = time.perf_counter()
        try:
            server = LLMServer.from_settings(settings, port=free_port(), log_path=plan.root / "llm-server.log")
            server.start()
        except Exception as exc:  # reported, the section is skipped
            if server is not None:
                server.stop()
            return LlmResult(skipped=f"could not start the LLM server: {exc!r}"[:600])
        started = time.perf_counter() - t0
        base_url = server.base_url
        out.server_start_s = round(started, 2)
    out.base_url = base_url
    try:
        ensure_index(plan, plan.topic_dir, plan.topic_paths)
        update: dict[str, Any] = {"llm_base_url": base_url}
        if plan.quick:  # a shorter prompt and answer: prompt processing dominates on a small CPU
            update.update(llm_max_tokens=32, top_k=3)
        bot = Assistant(plan.settings_for(plan.topic_dir, **update), writer="llm")
        out.settings = {"llm_max_tokens": bot.settings.llm_max_tokens, "top_k": bot.settings.top_k,
                           "llm_model": bot.settings.llm_model, "llm_threads": bot.settings.llm_threads}
        # questions the assistant does not refuse (the refusal path never reaches the LLM)
        chosen: list[Question] = []
        for q in plan.questions:
            if len(chosen) >= plan.args.llm_questions:
                break
            if q.answerable and not q.history and not bot.ask(q.question, writer="extractive").refused:
                chosen.append(q)
        if not chosen:
            out.skipped = "every candidate question was refused before reaching the LLM"
        runs: list[LlmRun] = []
        for q in chosen:
            t0 = time.perf_counter()
            first: float | None = None
            deltas: list[str] = []
            final = None
            for event in bot.stream(q.question):
                if event.type == "delta":
                    if first is None:
                        first = time.perf_counter()
                    deltas.append(event.text)
                elif event.type == "final":
                    final = event.answer
            end = time.perf_counter()
            text = "".join(deltas)
            tokens = _token_count(base_url, text)
            gen_s = end - first if first is not None else 0.0
            count = tokens if tokens is not None else len(deltas)
            # the first token's time is TTFT; the rate counts the tokens that came after it
            rate = round((count - 1) / gen_s, 2) if len(deltas) >= 2 and count > 1 and gen_s > 0 else None
            runs.append(LlmRun(
                question=q.question,
                writer=final.writer if final else None,
                refused=bool(final.refused) if final else None,
                fell_back=bool(final and final.writer != "llm"),
                fallback_reason=getattr(final, "fallback_reason", None) if final else None,
                ttft_s=round(first - t0, 3) if first is not None else None,
                total_s=round(end - t0, 3),
                tokens=count,
                token_count="llama.cpp tokenizer" if tokens is not None else "stream deltas",
                tokens_per_s=rate,
            ))
        # speed counts every run the LLM generated for, whatever the verifier then decided
        # (an answer that fell back after verification still timed the LLM's own generation)
        llm_runs = [r for r in runs if r.ttft_s is not None
                    and (r.writer == "llm" or r.fallback_reason in GENERATED_FALLBACKS)]
        out.fallbacks = {str(r.fallback_reason): sum(1 for x in runs if x.fallback_reason == r.fallback_reason)
                         for r in runs if r.fallback_reason}
        out.runs = runs
        out.refused_after_generation = sum(1 for r in llm_runs if r.refused)
        out.ttft_p50_s = round(percentile([r.ttft_s for r in llm_runs if r.ttft_s is not None], 50), 3) if llm_runs else None
        rates = [r.tokens_per_s for r in llm_runs if r.tokens_per_s]
        out.tokens_per_s_mean = round(sum(rates) / len(rates), 2) if rates else None
    finally:
        if server is not None:
            server.stop()
    return out
