"""Train the answer model: ``python -m eval.train_answer_model`` (deterministic, seeded).

The pool (never the held-out set ``jjj``):

- the development sets over the policy corpus (``jjj_dev``, ``broad_dev``);
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

from assistant.answer_model import FEATURES, MODEL_PATH, QUESTION_FEATURES, TIE, feature_vector, question_features
from assistant.decide import is_broad
from assistant.errors import IndexConfigMismatchError
from assistant.evidence import MIN_FOCUS_WORDS, SentenceEvidence
from assistant.models import Filters
from assistant.rewrite import rewrite_followup
from assistant.service import Assistant
from assistant.settings import Settings

from .datasets import SETS_DIR, Question, load_external_set, load_own_set
from .run import eval_settings, own_index_name

SEED = 20261204
IN_DOMAIN = ("jjj_dev", "broad_dev", "ncpqa")
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
    return w.eligible


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


def _cached(cache_dir: Path, name: str) -> dict[str, QuestionRows]:
    out = {}
    for path in sorted(cache_dir.glob(f"{name}-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            data = json.loads(line)
            rows = QuestionRows(**data)
            if not rows.rows or len(rows.rows[0]) == len(FEATURES):  # rows of other features: extracted again
                out[data["qid"]] = rows
    return out


def collect(base: Settings, sets: Sequence[str], cache_dir: Path, quiet: bool,
            cached_only: bool = False) -> list[QuestionRows]:
    """Features of every question of ``sets`` (cached per question; ``cached_only``: no extraction)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    pool: list[QuestionRows] = []
    no_model = {"answer_model_path": cache_dir / "none.json"}  # features do not depend on a model
    for name in sets:
        cache = cache_dir / f"{name}-{_VERSION}.jsonl"
        known = _cached(cache_dir, name)
        if cached_only:
            pool.extend(known.values())
            continue
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
        bot = Assistant(eval_settings(base, index_name, **no_model))
        todo = [q for q in eval_set.questions if q.id not in known]
        negatives = [q for q in eval_set.questions if q.negative_docs and f"{q.id}#neg" not in known]
        if todo or negatives:
            t0 = time.perf_counter()
            try:
                bot.index(eval_set.corpus, prune=True)
            except IndexConfigMismatchError:  # derived data of its own: rebuilt rather than stop
                bot.index(eval_set.corpus, rebuild=True, prune=True, allow_drop=True)
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


def _fit(x: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=SEED, early_stopping=False, **params).fit(x, y)


def _predict(fitted: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(fitted.predict_proba(x)[:, 1])


def calibrated(iso: Any, raw: np.ndarray) -> np.ndarray:
    """Isotonic calibration with the raw probability as a tie-breaker (a step function would tie
    windows the model orders)."""
    return np.asarray(np.minimum(1.0, iso.predict(raw) + TIE * raw))


def export_trees(fitted: Any) -> dict[str, Any]:
    """The fitted trees as plain arrays (``assistant.answer_model.Trees`` reads them back).

    scikit-learn has no public API to read a HistGradientBoosting model's trees, so this reads its
    ``_predictors`` and ``_baseline_prediction``; ``tests/unit/test_answer_model.py`` checks that the exported
    trees predict what the fitted model does (to 1e-5) on features stored like the pool's (5 decimals; a midpoint
    threshold between two of them has at most 6, so rounding thresholds to 6 loses nothing), so a scikit-learn
    change that moves them fails there."""
    trees = []
    for (predictor,) in fitted._predictors:
        nodes = predictor.nodes
        trees.append({"feature": nodes["feature_idx"].tolist(), "threshold": nodes["num_threshold"].round(6).tolist(),
                      "left": nodes["left"].tolist(), "right": nodes["right"].tolist(),
                      "value": nodes["value"].round(6).tolist(), "leaf": nodes["is_leaf"].astype(bool).tolist(),
                      "missing_left": nodes["missing_go_to_left"].astype(bool).tolist()})
    return {"kind": "hist_gradient_boosting", "baseline": float(np.ravel(fitted._baseline_prediction)[0]),
            "trees": trees}


def question_scores(pool: Sequence[QuestionRows], probs: Sequence[np.ndarray]) -> list[dict[str, Any]]:
    """Per question: the best eligible window's probability and whether that window is a positive
    (ties go to the earlier window, never to the positive one)."""
    out = []
    for q, p in zip(pool, probs, strict=True):
        cand = [i for i, ok in enumerate(q.eligible) if ok]
        order = sorted(cand, key=lambda i: (-float(p[i]), i))
        best = order[0] if order else None
        out.append({"qid": q.qid, "dataset": q.dataset, "answerable": q.answerable,
                    "p": float(p[best]) if best is not None else 0.0,
                    "top_ok": bool(q.labels[best]) if best is not None else False,
                    "top3_ok": any(q.labels[i] for i in order[:3]), "has_pos": any(q.labels)})
    return out


def question_rows(pool: Sequence[QuestionRows], probs: Sequence[np.ndarray]) -> np.ndarray:
    return np.asarray([question_features(np.asarray(q.rows, dtype=np.float64), np.asarray(p, dtype=np.float64),
                                         np.asarray(q.eligible, dtype=bool)) for q, p in zip(pool, probs, strict=True)])


def fit_question_model(qx: np.ndarray, qy: np.ndarray, fold: Sequence[int], k: int) -> tuple[Any, np.ndarray]:
    """Logistic regression over the question features: fitted on all, and its out-of-fold probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def fit(x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        scaler = StandardScaler().fit(x)
        return scaler, LogisticRegression(C=1.0, max_iter=2000, random_state=SEED).fit(scaler.transform(x), y)

    oof = np.zeros(len(qx))
    folds = np.asarray(fold)
    for f in range(k):
        scaler, lr = fit(qx[folds != f], qy[folds != f])
        oof[folds == f] = lr.predict_proba(scaler.transform(qx[folds == f]))[:, 1]
    return fit(qx, qy), oof


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


PARAMS = {"max_iter": 80, "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 40,
          "l2_regularization": 1.0, "max_bins": 64}
WINDOW_FLOOR = 0.02  # a window below this probability never answers, whatever the question model says
KEEP_TOP = 40  # training rows per question: every positive, the top windows by each score, a few others
KEEP_RANDOM = 15


def sample(q: QuestionRows, seed: int) -> QuestionRows:
    """The windows that teach the model (every positive, the hardest negatives by lexical score and by
    meaning, a few random others); prediction on all windows is unaffected."""
    n = len(q.rows)
    if n <= KEEP_TOP + KEEP_RANDOM:
        return q
    sem_at = FEATURES.index("sem")
    by_lex = np.argsort([-v for v in q.lexical])[:KEEP_TOP // 2]
    by_sem = np.argsort([-r[sem_at] for r in q.rows])[:KEEP_TOP // 2]
    keep = set(by_lex.tolist()) | set(by_sem.tolist()) | {i for i, lab in enumerate(q.labels) if lab}
    rest = [i for i in range(n) if i not in keep]
    rng = np.random.default_rng(seed)
    keep |= set(rng.choice(rest, size=min(KEEP_RANDOM, len(rest)), replace=False).tolist())
    idx = sorted(keep)
    return QuestionRows(q.qid, q.dataset, q.answerable, q.broad, [q.rows[i] for i in idx], [q.labels[i] for i in idx],
                        [q.eligible[i] for i in idx], [q.lexical[i] for i in idx])


def relevance_floor(pool: Sequence[QuestionRows], share: float = 5.0) -> float:
    """The meaning a window must have when it shares few of the question's words: the ``share`` percentile
    of the USE cosine of the answering windows (of answerable questions) that share fewer than
    ``MIN_FOCUS_WORDS`` of them, so that almost no answer is lost to it."""
    focus_at, sem_at = FEATURES.index("focus"), FEATURES.index("sem")
    sems = [r[sem_at] for q in pool if q.answerable for r, lab in zip(q.rows, q.labels, strict=True)
            if lab and r[focus_at] < MIN_FOCUS_WORDS]
    return round(float(np.percentile(sems, share)), 4) if sems else 0.0


VALUE_TYPES = ("number", "date", "person", "place", "org")


def apply_floor(pool: Sequence[QuestionRows], floor: float) -> None:
    """``SentenceEvidence.eligible`` for cached rows: a window with few of the asked item's words is eligible
    only for an open question, and only when close enough in meaning."""
    focus_at, sem_at = FEATURES.index("focus"), FEATURES.index("sem")
    value_at = [FEATURES.index(f"type_{t}") for t in VALUE_TYPES]
    for q in pool:
        q.eligible = [ok and (r[focus_at] >= MIN_FOCUS_WORDS
                              or (not any(r[i] for i in value_at) and r[sem_at] >= floor))
                      for ok, r in zip(q.eligible, q.rows, strict=True)]


def train(pool: Sequence[QuestionRows], max_false_refusal: float, k: int = 5) -> dict[str, Any]:
    from sklearn.isotonic import IsotonicRegression

    pool = [q for q in pool if q.rows]
    floor = relevance_floor(pool)
    apply_floor(pool, floor)
    fold = _folds(pool, k, SEED)
    xs = [np.asarray(q.rows, dtype=np.float64) for q in pool]
    ys = [np.asarray(q.labels, dtype=np.int64) for q in pool]
    sampled = [sample(q, SEED + i) for i, q in enumerate(pool)]
    sx = [np.asarray(q.rows, dtype=np.float64) for q in sampled]
    sy = [np.asarray(q.labels, dtype=np.int64) for q in sampled]
    oof: list[np.ndarray] = [np.zeros(len(q.rows)) for q in pool]
    for f in range(k):
        train_idx = [i for i in range(len(pool)) if fold[i] != f]
        fitted = _fit(np.concatenate([sx[i] for i in train_idx]), np.concatenate([sy[i] for i in train_idx]), PARAMS)
        for i in range(len(pool)):
            if fold[i] == f:
                oof[i] = _predict(fitted, xs[i])
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(np.concatenate(oof), np.concatenate(ys))
    oof_cal = [calibrated(iso, p) for p in oof]
    window_scores = question_scores(pool, oof_cal)
    qx = question_rows(pool, oof_cal)
    # The question model learns whether the documents answer the question at all; its isotonic calibration
    # maps that to the probability that the answer given is right (answerable and the lead window right).
    qy = np.asarray([float(s["answerable"]) for s in window_scores])
    right = np.asarray([float(s["answerable"] and s["top_ok"]) for s in window_scores])
    (q_scaler, q_lr), q_oof = fit_question_model(qx, qy, fold, k)
    q_iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(q_oof, right)
    q_cal = q_iso.predict(q_oof)
    # The threshold lives on the question model's own (continuous) scale; the calibrated one has steps.
    threshold = choose_threshold([dict(s, p=float(p)) for s, p in zip(window_scores, q_oof, strict=True)],
                                 max_false_refusal)
    raw_scores = [dict(s, p=float(pc), score=float(p)) for s, pc, p in zip(window_scores, q_cal, q_oof, strict=True)]
    final = _fit(np.concatenate(sx), np.concatenate(sy), PARAMS)
    fit_probs = [calibrated(iso, _predict(final, x)) for x in xs]
    fit_q = q_lr.predict_proba(q_scaler.transform(question_rows(pool, fit_probs)))[:, 1]
    fit_scores = [dict(s, p=float(p)) for s, p in zip(question_scores(pool, fit_probs), fit_q, strict=True)]
    lexical = question_scores(pool, [np.asarray(q.lexical) for q in pool])
    knots = np.unique(np.concatenate([iso.X_thresholds_, [0.0, 1.0]]))
    q_knots = np.unique(np.concatenate([q_iso.X_thresholds_, [0.0, 1.0]]))
    confidence = raw_scores
    raw_scores = [dict(s, p=s["score"]) for s in raw_scores]  # decisions on the question model's scale
    per_dataset = {}
    for name in sorted({q.dataset for q in pool}):
        own = [s for s in raw_scores if s["dataset"] == name]
        per_dataset[name] = {
            "questions": len(own),
            "validation": decision_figures(own, threshold),
            "training_fit": decision_figures([s for s in fit_scores if s["dataset"] == name], threshold),
            "lexical_top_window_holds_evidence": decision_figures(
                [s for s in lexical if s["dataset"] == name], 0.0)["top_window_holds_evidence"],
        }
    in_domain = [s for s in raw_scores if s["dataset"] in IN_DOMAIN]
    return {
        "features": list(FEATURES), "model": export_trees(final),
        "iso_x": knots.round(6).tolist(), "iso_y": iso.predict(knots).round(6).tolist(),
        "q_iso_x": q_knots.round(6).tolist(), "q_iso_y": q_iso.predict(q_knots).round(6).tolist(),
        "threshold": WINDOW_FLOOR, "follow_ratio": 0.6, "relevance_floor": floor,
        "question_model": {"features": list(QUESTION_FEATURES), "mean": q_scaler.mean_.round(6).tolist(),
                           "scale": np.where(q_scaler.scale_ > 0, q_scaler.scale_, 1.0).round(6).tolist(),
                           "coef": q_lr.coef_[0].round(6).tolist(), "intercept": round(float(q_lr.intercept_[0]), 6),
                           "threshold": threshold},
        "meta": {
            "trained": datetime.now(UTC).isoformat(timespec="seconds"), "seed": SEED, "folds": k, "params": PARAMS,
            "questions": len(pool), "windows": int(sum(len(q.rows) for q in pool)),
            "positives": int(sum(sum(q.labels) for q in pool)),
            "max_false_refusal": max_false_refusal,
            "validation_in_domain": decision_figures(in_domain, threshold),
            "training_fit_in_domain": decision_figures([s for s in fit_scores if s["dataset"] in IN_DOMAIN], threshold),
            "per_dataset": per_dataset,
            "reliability_validation": reliability(confidence),
            "trade_off_validation": [
                {"max_false_refusal": fr, "threshold": (t := choose_threshold(raw_scores, fr)),
                 **{k: v for k, v in decision_figures(in_domain, t).items()
                    if k in ("false_refusal", "unanswerable_refused")},
                 "jjj_dev": {k: v for k, v in decision_figures(
                     [x for x in raw_scores if x["dataset"] == "jjj_dev"], t).items()
                     if k in ("false_refusal", "unanswerable_refused")}}
                for fr in (0.03, 0.05, 0.08, 0.10, 0.15, 0.20)],
            "brier_validation": round(float(np.mean([(s["p"] - float(s["answerable"] and s["top_ok"])) ** 2
                                                     for s in confidence])), 4),
        },
    }


def model_card(model: dict[str, Any]) -> str:
    meta = model["meta"]
    lines = ["# Answer model card", "",
             "Gradient-boosted trees (scikit-learn HistGradientBoostingClassifier) over the window features below, "
             "isotonic calibration (per window, and per question for `Answer.confidence`) fitted on 5-fold "
             "out-of-fold predictions (folds grouped by question), decision threshold chosen on the same "
             f"out-of-fold predictions for false refusal ≤ {meta['max_false_refusal']:.0%} on in-domain answerable "
             "questions. Rebuild: `python -m eval.train_answer_model` (seeded, deterministic). The held-out set "
             "`eval/sets/jjj.jsonl` is never used.", "",
             f"- trained: {meta['trained']} · seed {meta['seed']} · trees {meta['params']}",
             f"- questions: {meta['questions']} · windows: {meta['windows']} · positive windows: {meta['positives']}",
             f"- question threshold: {model['question_model']['threshold']:.4f} (window floor {model['threshold']}; "
             f"meaning floor for windows with few of the question's words: {model['relevance_floor']})", "", "## Validation (out-of-fold) vs training fit, in-domain", "",
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
    lines += ["", f"## Reliability of the question confidence (out-of-fold, all questions; Brier {meta['brier_validation']})",
              "", "| bin | n | predicted | observed |", "|---|---|---|---|"]
    lines += [f"| {r['bin']} | {r['n']} | {r['predicted']} | {r['observed']} |" for r in meta["reliability_validation"]]
    lines += ["", "## Trade-off (out-of-fold): the threshold for other false-refusal limits", "",
              "| limit | threshold | in-domain false refusal | in-domain unanswerable refused | jjj_dev false refusal | "
              "jjj_dev unanswerable refused |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['max_false_refusal']} | {r['threshold']:.3f} | {r['false_refusal']} | {r['unanswerable_refused']} | "
              f"{r['jjj_dev']['false_refusal']} | {r['jjj_dev']['unanswerable_refused']} |"
              for r in meta["trade_off_validation"]]
    lines += ["", "## Features", "", ", ".join(f"`{n}`" for n in model["features"])]
    return "\n".join(lines) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_answer_model",
                                     description="训练回答模型（开发集与外部训练集；从不使用留出集）")
    parser.add_argument("--sets", default="jjj_dev,broad_dev,ncpqa,cmrc2018,drcd,rgb")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--max-false-refusal", type=float, default=0.05)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--extract-only", action="store_true", help="只提取并缓存特征，不训练")
    parser.add_argument("--cached-only", action="store_true", help="只用已缓存的特征训练（不提取）")
    args = parser.parse_args(list(argv) if argv is not None else None)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if "jjj" in sets:
        print("拒绝：留出集 jjj 不能用于训练。", file=sys.stderr)
        return 2
    base = Settings()
    pool = collect(base, sets, base.data_dir / "train_cache", args.quiet, args.cached_only)
    if args.extract_only:
        print(f"{len(pool)} 题特征已缓存", file=sys.stderr)
        return 0
    model = train(pool, args.max_false_refusal)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
    args.out.with_suffix(".md").write_text(model_card(model), encoding="utf-8")
    print(json.dumps(model["meta"]["validation_in_domain"], ensure_ascii=False))
    print(f"写入 {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
