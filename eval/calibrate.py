"""Calibrate the refusal evidence score on the development set (never on the held-out set).

``python -m eval.calibrate [--set jjj_dev]`` retrieves for every question once, then grid-searches
the blend weight, the cosine range and the threshold of :class:`assistant.evidence.EvidenceScorer`
for the best balanced accuracy between answering answerable questions and refusing the others,
and prints both error rates for the chosen values.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence

from assistant.evidence import EvidenceScorer
from assistant.rewrite import rewrite_followup
from assistant.service import Assistant
from index.settings import Settings

from .datasets import load_own_set
from .run import _eval_settings, own_index_name


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate")
    parser.add_argument("--set", default="jjj_dev")
    args = parser.parse_args(argv)
    base = Settings()
    eval_set = load_own_set(args.set, base.corpus_dir, base.shared_dir)
    bot = Assistant(_eval_settings(base, own_index_name(base)))
    bot.index(eval_set.corpus)
    bot._load_indexes()
    weights = bot._weights
    assert weights is not None
    rows = []
    for q in eval_set.questions:
        question = rewrite_followup(q.question, q.history) if q.history else q.question
        rows.append((q, question, bot.retrieve(question)))

    best: tuple[float, dict[str, float]] | None = None
    for lexical, floor, ceil in itertools.product((0.6, 0.7, 0.8, 0.9, 1.0), (0.82, 0.85, 0.88), (0.92, 0.95)):
        scorer = EvidenceScorer(weights, 0.0, lexical, floor, ceil)
        scored = [(q.answerable, scorer.score(text, hits)) for q, text, hits in rows]
        for threshold in [t / 100 for t in range(20, 91, 2)]:
            false_refusal = sum(1 for a, s in scored if a and s < threshold) / max(1, sum(1 for a, _ in scored if a))
            false_accept = sum(1 for a, s in scored if not a and s >= threshold) / max(
                1, sum(1 for a, _ in scored if not a))
            # Weigh false refusals more: refusing an answerable question hides policy from officials,
            # while a wrongly accepted one still only shows verified source sentences.
            cost = 0.75 * false_refusal + 0.25 * false_accept
            params = {"lexical_weight": lexical, "cosine_floor": floor, "cosine_ceil": ceil, "threshold": threshold,
                      "false_refusal_rate": round(false_refusal, 4), "false_accept_rate": round(false_accept, 4)}
            if best is None or cost < best[0] - 1e-9:
                best = (cost, params)
    assert best is not None
    chosen = best[1]
    scorer = EvidenceScorer(weights, 0.0, chosen["lexical_weight"], chosen["cosine_floor"], chosen["cosine_ceil"])
    scored = [(q.answerable, scorer.score(text, hits)) for q, text, hits in rows]
    n_ans = max(1, sum(1 for a, _ in scored if a))
    n_unans = max(1, sum(1 for a, _ in scored if not a))
    print("threshold  false_refusal  false_accept", file=sys.stderr)
    for threshold in [t / 100 for t in range(30, 86, 4)]:
        fr = sum(1 for a, s in scored if a and s < threshold) / n_ans
        fa = sum(1 for a, s in scored if not a and s >= threshold) / n_unans
        print(f"{threshold:9.2f}  {fr:13.3f}  {fa:12.3f}", file=sys.stderr)
    print(json.dumps(chosen, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
