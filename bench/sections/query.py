"""The ``query`` section: warm ``Assistant.ask`` latency against the naive LangChain pipeline."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..common import percentile, summarize
from ..plan import GOALS, Plan, ensure_index, get_bot, get_naive, progress, timed_ask
from ..results import Latency, OursLatency, QueryResult, QueryRun

if TYPE_CHECKING:
    from assistant.service import Assistant
    from eval.baselines import NaiveLangChainPipeline


def _query_run(plan: Plan, label: str, bot: Assistant, naive: NaiveLangChainPipeline) -> QueryRun:
    """Ours on every question, the naive baseline on the first ``--naive-questions``, interleaved
    question by question so that load changes on a shared machine hit both alike."""
    questions = plan.questions
    naive_qs = questions[: plan.args.naive_questions] if plan.args.naive_questions else questions
    for q in questions[:3]:  # warm: model, indexes, jieba, torch kernels for a few input lengths
        timed_ask(bot, q)
    naive.retrieve_with_bm25_per_query(questions[0].question)  # one is enough: it rebuilds everything anyway
    ours: list[float] = []
    retrieve: list[float] = []
    naive_lat: list[float] = []
    refused = errors = 0
    by_id: dict[str, float] = {}
    progress(f"query ({label}): ours on {len(questions)} questions, naive on {len(naive_qs)} …")
    for i, q in enumerate(questions):
        try:
            seconds, answer = timed_ask(bot, q)
        except Exception:  # counted
            errors += 1
        else:
            ours.append(seconds)
            by_id[q.id] = seconds
            refused += int(answer.refused)
            if "retrieve" in answer.timings:
                retrieve.append(float(answer.timings["retrieve"]))
        if i < len(naive_qs):
            t = time.perf_counter()
            naive.retrieve_with_bm25_per_query(q.question)
            naive_lat.append(time.perf_counter() - t)
    same = [by_id[q.id] for q in naive_qs if q.id in by_id]
    ours_p50_same = percentile(same, 50) if same else float("nan")
    naive_p50 = percentile(naive_lat, 50)
    return QueryRun(
        chunks=bot.manifest.chunk_count(),
        documents=len(bot.manifest.documents),
        naive_chunks=len(naive.documents),
        ours=OursLatency.model_validate({**summarize(ours), "refused": refused, "errors": errors,
                                         "retrieve_p50_s": round(percentile(retrieve, 50), 4) if retrieve else None}),
        ours_on_naive_questions=Latency.model_validate(summarize(same)),
        naive_bm25_per_query=Latency.model_validate(summarize(naive_lat)),
        ratio_p50_ours_to_naive=round(ours_p50_same / naive_p50, 4) if naive_p50 > 0 else None,
    )


def section_query(plan: Plan) -> QueryResult:
    out = QueryResult(questions=len(plan.questions), writer="extractive",
                      distractor_fraction=plan.args.distractor_fraction, distractor_files=len(plan.distractors),
                      goal_ratio_max=GOALS["query_ratio_max"], goal_p95_b_max_s=GOALS["query_p95_b_max_s"])
    # (a) the topic corpus
    topic = plan.topic_dir
    out.index_a = ensure_index(plan, topic, plan.topic_paths)
    naive_a, build_a = get_naive(plan, "a", plan.topic_paths, topic / "naive_chroma")
    out.a = _query_run(plan, "a", get_bot(plan, topic), naive_a)
    out.a.naive_build_s = round(build_a, 2)
    # (b) topic + distractors
    paths = plan.point_paths(1.0)
    b_dir = plan.mix_root / "p100"
    progress(f"query (b): making sure {b_dir} holds {len(paths)} sources (built once, then kept)")
    out.index_b = ensure_index(plan, b_dir, paths)
    progress("query (b): naive LangChain index (built once, then kept)")
    naive_b, build_b = get_naive(plan, "b", paths, plan.mix_root / "naive_chroma")
    out.b = _query_run(plan, "b", get_bot(plan, b_dir), naive_b)
    out.b.naive_build_s = round(build_b, 2)
    out.b.characters = plan.topic_chars + plan.distractor_total_chars
    # the naive BM25 of (b) holds every split document in memory; let it go before the next sections
    plan.naives.pop("b", None)
    return out
