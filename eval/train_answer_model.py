"""Train the answer model: ``python -m eval.train_answer_model`` (deterministic, seeded).

The pool (never the held-out set ``jjj``):

- the development sets over the policy corpus (``jjj_dev``, ``broad_dev``, ``shapes_dev`` when present);
- ``ncpqa`` (``../shared/eval-external/ncpqa_train.jsonl``, 356 government-policy questions over their
  319 documents);
- CMRC2018 and DRCD rows the evaluation never asks (an offset past its rows), and RGB rows past the
  evaluation's, each also asked over its negative passages only (unanswerable by construction).

Every question goes through the pipeline's own analysis, hybrid retrieval and second stage; each
candidate window becomes one row of features (``assistant.answer_model.FEATURES``). A window is
positive when it comes from a gold document and holds the gold evidence (or all key points, or one
accepted answer); windows of unanswerable questions, other documents, years and regions are negatives.

A logistic regression is fitted with 5-fold cross-validation grouped by question; isotonic calibration
is fitted on the out-of-fold predictions; the decision threshold is the highest probability that keeps
the out-of-fold false refusal of the in-domain answerable questions at or below ``--max-false-refusal``.
Features are cached per question under the data folder, so a rerun extracts only new questions.
Writes ``assistant/resources/answer_model.json`` (plain JSON coefficients) and a model card beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer_model import FEATURES, MODEL_PATH, feature_vector
from assistant.decide import is_broad
from assistant.models import Filters
from assistant.ranking import SentenceEvidence
from assistant.rewrite import rewrite_followup
from assistant.service import Assistant
from assistant.settings import Settings

from .datasets import SETS_DIR, Question, load_external_set, load_own_set
from .run import _eval_settings, own_index_name

SEED = 20261204
IN_DOMAIN = ("jjj_dev", "broad_dev", "shapes_dev", "ncpqa")
# External rows used for training start past those the evaluation asks (at most 200 per set).
EXTERNAL_PLAN = {"ncpqa": (0, None, 1), "cmrc2018": (1000, 200, 2), "drcd": (400, 120, 2), "rgb": (200, 100, 1)}
_VERSION = hashlib.sha1(("|".join(FEATURES) + "v2").encode()).hexdigest()[:10]


@dataclass
class QuestionRows:
    """The windows of one question as training rows."""

    qid: str
    dataset: str
    answerable: bool
    broad: bool
    rows: list[list[float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    eligible: list[bool] = field(default_factory=list)  # could answer (no heading, in scope, type present)
    lexical: list[float] = field(default_factory=list)  # the lexical score (the old ranking, for comparison)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


def label(q: Question, w: SentenceEvidence, doc_id: str) -> int:
    """1 when the window holds the gold evidence of ``q`` (from a gold document)."""
    if not q.answerable or doc_id not in q.gold_docs:
        return 0
    text = w.text
    if q.answers:
        return int(any(a in text for a in q.answers))
    if q.evidence and (q.evidence in text or (text in q.evidence and len(text) >= 0.5 * len(q.evidence))):
        return 1
    return int(bool(q.key_points) and all(k in text for k in q.key_points))


def eligible(w: SentenceEvidence) -> bool:
    return (not w.heading and w.scope_ok and w.places_ok and not (w.has_anchor and w.anchor <= 0)
            and (w.open_type or w.type_ok))


def extract(bot: Assistant, q: Question, dataset: str, filters: Filters | None = None,
            force_unanswerable: bool = False) -> QuestionRows:
    question = rewrite_followup(q.question, q.history) if q.history else q.question
    analysis = bot.analyse(question)
    answerable = q.answerable and not force_unanswerable
    out = QuestionRows(q.id + ("#neg" if force_unanswerable else ""), dataset, answerable, is_broad(analysis))
    if analysis.missing_document:
        return out
    hits, windows = bot.candidates(question, analysis, filters or Filters())
    for w in windows:
        out.rows.append([round(v, 5) for v in feature_vector(w)])
        out.labels.append(label(q, w, hits[w.hit].chunk.doc_id) if answerable else 0)
        out.eligible.append(eligible(w))
        out.lexical.append(w.score)
    return out


def _cached(path: Path) -> dict[str, QuestionRows]:
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        out[data["qid"]] = QuestionRows(**data)
    return out


def collect(base: Settings, sets: Sequence[str], cache_dir: Path, quiet: bool) -> list[QuestionRows]:
    """Features of every question of ``sets`` (cached per question)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    pool: list[QuestionRows] = []
    no_model = {"answer_model_path": cache_dir / "none.json"}  # features do not depend on a model
    for name in sets:
        cache = cache_dir / f"{name}-{_VERSION}.jsonl"
        known = _cached(cache)
        if name in EXTERNAL_PLAN:
            offset, limit, factor = EXTERNAL_PLAN[name]
            index_name = f"train-{name}-{offset}-{limit}x{factor}"
            work = base.data_dir / "eval" / index_name
            try:
                eval_set = load_external_set(name, base.shared_dir, work, limit, offset=offset, factor=factor)
            except FileNotFoundError as exc:
                print(f"跳过 {name}：{exc}", file=sys.stderr)
                continue
        else:
            path = SETS_DIR / f"{name}.jsonl"
            if not path.is_file():
                continue
            eval_set = load_own_set(name, base.corpus_dir, base.shared_dir)
            index_name = own_index_name(base)
        bot = Assistant(_eval_settings(base, index_name, **no_model))
        todo = [q for q in eval_set.questions if q.id not in known]
        negatives = [q for q in eval_set.questions if q.negative_docs and f"{q.id}#neg" not in known]
        if todo or negatives:
            t0 = time.perf_counter()
            bot.index(eval_set.corpus, prune=True)
            if not quiet:
                print(f"[{name}] 索引就绪（{time.perf_counter() - t0:.0f} 秒），提取 {len(todo) + len(negatives)} 题特征",
                      file=sys.stderr, flush=True)
        with open(cache, "a", encoding="utf-8") as fh:
            for i, q in enumerate(todo):
                rows = extract(bot, q, name)
                known[rows.qid] = rows
                fh.write(rows.to_json() + "\n")
                if not quiet and i % 25 == 0:
                    print(f"[{name}] {i}/{len(todo)}", file=sys.stderr, flush=True)
            for q in negatives:  # RGB: asked over its negative passages only: nothing answers
                rows = extract(bot, q, name, Filters(doc_id=list(q.negative_docs)), force_unanswerable=True)
                known[rows.qid] = rows
                fh.write(rows.to_json() + "\n")
        wanted = {q.id for q in eval_set.questions} | {f"{q.id}#neg" for q in eval_set.questions if q.negative_docs}
        pool.extend(r for qid, r in known.items() if qid in wanted)
    return pool


def _folds(pool: Sequence[QuestionRows], k: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pool))
    fold = [0] * len(pool)
    for rank, idx in enumerate(order):
        fold[idx] = rank % k
    return fold


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=2000, random_state=SEED).fit(scaler.transform(x), y)
    return scaler, model


def _predict(fitted: Any, x: np.ndarray) -> np.ndarray:
    scaler, model = fitted
    return np.asarray(model.predict_proba(scaler.transform(x))[:, 1])


def question_scores(pool: Sequence[QuestionRows], probs: Sequence[np.ndarray]) -> list[dict[str, Any]]:
    """Per question: the best eligible window's probability and whether that window is a positive."""
    out = []
    for q, p in zip(pool, probs, strict=True):
        cand = [(float(pi), lab) for pi, lab, ok in zip(p, q.labels, q.eligible, strict=True) if ok]
        best = max(cand, default=(0.0, 0))
        top3 = sorted(cand, reverse=True)[:3]
        out.append({"qid": q.qid, "dataset": q.dataset, "answerable": q.answerable, "p": best[0],
                    "top_ok": bool(best[1]), "top3_ok": any(lab for _p, lab in top3),
                    "has_pos": any(q.labels)})
    return out


def decision_figures(scores: Sequence[dict[str, Any]], threshold: float) -> dict[str, Any]:
    ans = [s for s in scores if s["answerable"]]
    una = [s for s in scores if not s["answerable"]]
    answered = [s for s in ans if s["p"] >= threshold]
    return {
        "answerable": len(ans), "unanswerable": len(una),
        "false_refusal": round(1 - len(answered) / len(ans), 4) if ans else None,
        "unanswerable_refused": round(sum(s["p"] < threshold for s in una) / len(una), 4) if una else None,
        "top_window_holds_evidence": round(sum(s["top_ok"] for s in ans) / len(ans), 4) if ans else None,
        "answered_and_top_right": round(sum(s["top_ok"] for s in answered) / len(ans), 4) if ans else None,
    }


def choose_threshold(scores: Sequence[dict[str, Any]], max_false_refusal: float) -> float:
    """The highest threshold whose false refusal on in-domain answerable questions stays within the limit."""
    ans = sorted((s["p"] for s in scores if s["answerable"] and s["dataset"] in IN_DOMAIN), reverse=True)
    if not ans:
        return 0.5
    keep = int(np.ceil(len(ans) * (1 - max_false_refusal)))
    return round(float(ans[min(len(ans), keep) - 1]) - 1e-6, 6)


def reliability(scores: Sequence[dict[str, Any]], bins: int = 10) -> list[dict[str, Any]]:
    """Predicted vs observed, per probability bin: observed = answerable and the top window right."""
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [s for s in scores if lo <= s["p"] < hi or (b == bins - 1 and s["p"] == 1.0)]
        if inside:
            rows.append({"bin": f"{lo:.1f}–{hi:.1f}", "n": len(inside),
                         "predicted": round(float(np.mean([s["p"] for s in inside])), 3),
                         "observed": round(float(np.mean([s["answerable"] and s["top_ok"] for s in inside])), 3)})
    return rows


def train(pool: Sequence[QuestionRows], max_false_refusal: float, c: float = 0.5, k: int = 5) -> dict[str, Any]:
    from sklearn.isotonic import IsotonicRegression

    pool = [q for q in pool if q.rows]
    fold = _folds(pool, k, SEED)
    xs = [np.asarray(q.rows, dtype=np.float64) for q in pool]
    ys = [np.asarray(q.labels, dtype=np.int64) for q in pool]
    oof: list[np.ndarray] = [np.zeros(len(q.rows)) for q in pool]
    for f in range(k):
        train_idx = [i for i in range(len(pool)) if fold[i] != f]
        fitted = _fit(np.concatenate([xs[i] for i in train_idx]), np.concatenate([ys[i] for i in train_idx]), c)
        for i in range(len(pool)):
            if fold[i] == f:
                oof[i] = _predict(fitted, xs[i])
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(np.concatenate(oof), np.concatenate(ys))
    oof_cal = [iso.predict(p) for p in oof]
    scores = question_scores(pool, oof_cal)
    threshold = choose_threshold(scores, max_false_refusal)
    final = _fit(np.concatenate(xs), np.concatenate(ys), c)
    fit_cal = [iso.predict(_predict(final, x)) for x in xs]
    fit_scores = question_scores(pool, fit_cal)
    lexical = question_scores(pool, [np.asarray(q.lexical) for q in pool])
    scaler, model = final
    knots = np.unique(np.concatenate([iso.X_thresholds_, [0.0, 1.0]]))
    per_dataset = {}
    for name in sorted({q.dataset for q in pool}):
        own = [s for s in scores if s["dataset"] == name]
        per_dataset[name] = {
            "questions": len(own),
            "validation": decision_figures(own, threshold),
            "lexical_top_window_holds_evidence": decision_figures(
                [s for s in lexical if s["dataset"] == name], 0.0)["top_window_holds_evidence"],
        }
    in_domain = [s for s in scores if s["dataset"] in IN_DOMAIN]
    return {
        "features": list(FEATURES),
        "mean": scaler.mean_.round(6).tolist(), "scale": np.where(scaler.scale_ > 0, scaler.scale_, 1.0).round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(), "intercept": round(float(model.intercept_[0]), 6),
        "iso_x": knots.round(6).tolist(), "iso_y": iso.predict(knots).round(6).tolist(),
        "threshold": threshold, "follow_ratio": 0.6,
        "meta": {
            "trained": datetime.now(UTC).isoformat(timespec="seconds"), "seed": SEED, "folds": k, "C": c,
            "questions": len(pool), "windows": int(sum(len(q.rows) for q in pool)),
            "positives": int(sum(sum(q.labels) for q in pool)),
            "max_false_refusal": max_false_refusal,
            "validation_in_domain": decision_figures(in_domain, threshold),
            "training_fit_in_domain": decision_figures([s for s in fit_scores if s["dataset"] in IN_DOMAIN], threshold),
            "per_dataset": per_dataset,
            "reliability_validation": reliability(scores),
        },
    }


def model_card(model: dict[str, Any]) -> str:
    meta = model["meta"]
    lines = ["# Answer model card", "",
             "Logistic regression over the window features below, isotonic calibration fitted on 5-fold "
             "out-of-fold predictions (folds grouped by question), decision threshold chosen on the same "
             f"out-of-fold predictions for false refusal ≤ {meta['max_false_refusal']:.0%} on in-domain answerable "
             "questions. Rebuild: `python -m eval.train_answer_model` (seeded, deterministic). The held-out set "
             "`eval/sets/jjj.jsonl` is never used.", "",
             f"- trained: {meta['trained']} · seed {meta['seed']} · C {meta['C']}",
             f"- questions: {meta['questions']} · windows: {meta['windows']} · positive windows: {meta['positives']}",
             f"- threshold: {model['threshold']:.4f}", "", "## Validation (out-of-fold) vs training fit, in-domain", "",
             "| | false refusal | unanswerable refused | top window holds evidence | answered with the right window |",
             "|---|---|---|---|---|"]
    for name in ("validation_in_domain", "training_fit_in_domain"):
        f = meta[name]
        lines.append(f"| {name} | {f['false_refusal']} | {f['unanswerable_refused']} | {f['top_window_holds_evidence']} "
                     f"| {f['answered_and_top_right']} |")
    lines += ["", "## Per data set (out-of-fold)", "",
              "| data set | questions | answerable | unanswerable | false refusal | unanswerable refused | "
              "top window holds evidence (model) | (lexical score, before) |", "|---|---|---|---|---|---|---|---|"]
    for name, d in meta["per_dataset"].items():
        v = d["validation"]
        lines.append(f"| {name} | {d['questions']} | {v['answerable']} | {v['unanswerable']} | {v['false_refusal']} | "
                     f"{v['unanswerable_refused']} | {v['top_window_holds_evidence']} | "
                     f"{d['lexical_top_window_holds_evidence']} |")
    lines += ["", "## Reliability (out-of-fold, all questions)", "", "| bin | n | predicted | observed |", "|---|---|---|---|"]
    lines += [f"| {r['bin']} | {r['n']} | {r['predicted']} | {r['observed']} |" for r in meta["reliability_validation"]]
    lines += ["", "## Features and coefficients (standardised)", "", "| feature | coefficient |", "|---|---|"]
    lines += [f"| {n} | {c:+.3f} |" for n, c in sorted(zip(model["features"], model["coef"], strict=True),
                                                      key=lambda t: -abs(t[1]))]
    return "\n".join(lines) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_answer_model",
                                     description="训练回答模型（开发集与外部训练集；从不使用留出集）")
    parser.add_argument("--sets", default="jjj_dev,broad_dev,shapes_dev,ncpqa,cmrc2018,drcd,rgb")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--max-false-refusal", type=float, default=0.05)
    parser.add_argument("--C", type=float, default=0.5)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--extract-only", action="store_true", help="只提取并缓存特征，不训练")
    args = parser.parse_args(list(argv) if argv is not None else None)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if "jjj" in sets:
        print("拒绝：留出集 jjj 不能用于训练。", file=sys.stderr)
        return 2
    base = Settings()
    pool = collect(base, sets, base.data_dir / "train_cache", args.quiet)
    if args.extract_only:
        print(f"{len(pool)} 题特征已缓存", file=sys.stderr)
        return 0
    model = train(pool, args.max_false_refusal, c=args.C)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
    args.out.with_suffix(".md").write_text(model_card(model), encoding="utf-8")
    print(json.dumps(model["meta"]["validation_in_domain"], ensure_ascii=False))
    print(f"写入 {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
