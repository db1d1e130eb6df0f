"""Choose the decide stage's thresholds on the development set (never on the held-out set).

``python -m eval.calibrate [--set jjj_dev]`` analyses, retrieves and scores every question once,
then grid-searches the ``Gate`` thresholds (``answer_min_focus``, ``answer_min_focus_open``,
``answer_min_topic``) and prints, for the best combinations, the share of unanswerable questions
refused and of answerable questions wrongly refused. The cost weighs a wrong refusal 0.6 and a
wrong answer 0.4: a wrongly refused question hides policy, a wrongly answered one still shows only
verified source sentences (and now says when the year or region differs).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import replace

from assistant.analysis import QuestionAnalysis
from assistant.decide import decide
from assistant.models import Filters
from assistant.ranking import SentenceEvidence
from assistant.rewrite import rewrite_followup
from assistant.service import Assistant
from assistant.settings import Settings

from .datasets import Question, load_own_set
from .run import _eval_settings, own_index_name

FOCUS = (0.5, 0.55, 0.6, 0.65, 0.7)
FOCUS_OPEN = (0.35, 0.4, 0.45, 0.5, 0.55)
TOPIC = (0.25, 0.3, 0.35, 0.4, 0.5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description="在开发集上选择判定阈值（从不用留出集）")
    parser.add_argument("--set", default="jjj_dev", help="开发集名称或 JSONL 路径（默认 jjj_dev）")
    parser.add_argument("--top", type=int, default=8, help="打印最好的 N 组阈值")
    args = parser.parse_args(argv)
    if args.set in ("jjj", "eval/sets/jjj.jsonl"):
        print("拒绝：留出集 jjj 不能用于选择阈值。", file=sys.stderr)
        return 2
    base = Settings()
    eval_set = load_own_set(args.set, base.corpus_dir, base.shared_dir)
    bot = Assistant(_eval_settings(base, own_index_name(base)))
    bot.index(eval_set.corpus)
    rows: list[tuple[Question, QuestionAnalysis, list[SentenceEvidence] | None]] = []
    for q in eval_set.questions:
        question = rewrite_followup(q.question, q.history) if q.history else q.question
        analysis = bot.analyse(question)
        if analysis.missing_document:
            rows.append((q, analysis, None))
            continue
        _hits, windows = bot.candidates(question, analysis, Filters())
        rows.append((q, analysis, windows))
    results = []
    for focus, focus_open, topic in itertools.product(FOCUS, FOCUS_OPEN, TOPIC):
        gate = replace(bot.gate(), min_focus=focus, min_focus_open=focus_open, min_topic=topic)
        refused_ok = false_refusals = n_ans = n_un = 0
        for q, analysis, scored in rows:
            if scored is None:
                refused = True
            else:
                regated = [replace(w, gate=gate) for w in scored]
                refused = decide(analysis, regated).status == "not_found"
            if q.answerable:
                n_ans += 1
                false_refusals += refused
            else:
                n_un += 1
                refused_ok += refused
        fr = false_refusals / max(1, n_ans)
        rej = refused_ok / max(1, n_un)
        results.append({"answer_min_focus": focus, "answer_min_focus_open": focus_open, "answer_min_topic": topic,
                        "false_refusal": round(fr, 4), "refused_unanswerable": round(rej, 4),
                        "cost": round(0.6 * fr + 0.4 * (1 - rej), 4)})
    results.sort(key=lambda r: (r["cost"], r["false_refusal"]))
    current = {"answer_min_focus": bot.settings.answer_min_focus,
               "answer_min_focus_open": bot.settings.answer_min_focus_open,
               "answer_min_topic": bot.settings.answer_min_topic}
    print(json.dumps({"set": args.set, "questions": len(rows), "current": current, "best": results[: args.top]},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
