"""The trained answer model: the calibrated probability that a window answers (a part of) a question.

Each candidate window of the second stage (``ranking.SentenceEvidence``) is described by the features
below: meaning (the window's USE cosine to the question, its gap to the best window, the passage's e5
cosine), the lexical focus and topic shares, the asked type present, the scope (named document, the
year a work-report passage is about, region, article), the core-topic anchor, heading or body, and the
fused rank. A logistic regression over them, followed by isotonic calibration, gives the probability;
both are trained by ``python -m eval.train_answer_model`` on the development sets and the external
training sets (never the held-out set) and stored as plain JSON coefficients in
``assistant/resources/answer_model.json`` with a model card beside it.

Inference is numpy only. Without a model file (a fresh checkout before training) the probability falls
back to the lexical evidence score, so the pipeline still runs (and the training script can extract
features from it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .evidence import SentenceEvidence

MODEL_PATH = Path(__file__).with_name("resources") / "answer_model.json"
ANSWER_TYPES = ("number", "date", "person", "place", "org", "list", "yesno", "explanation", "fact")
SCOPE_ISSUES = ("year", "region", "document", "article")
TIE = 1e-3  # the raw probability's share in a calibrated one: windows the model orders never tie

FEATURES: tuple[str, ...] = (
    "focus", "topic", "type_ok", "scope_ok", "places_ok", *(f"issue_{i}" for i in SCOPE_ISSUES),
    "sem", "sem_gap", "sem_best", "dense", "dense_gap", "rank_log", "in_keyword", "in_dense",
    "heading", "kind_pair", "kind_body", "len_log", "anchor", "anchor_window", "has_anchor", "has_number",
    "names_doc", "in_target_doc", *(f"type_{t}" for t in ANSWER_TYPES),
    "focus_x_type", "sem_x_type", "focus_x_sem", "sem_x_scope", "focus_x_scope", "sem_x_anchor", "sem_gap_x_type",
    "lex", "lex_gap", "focus_gap", "pinned",
)  # fmt: skip


def feature_vector(w: SentenceEvidence) -> list[float]:
    """The model's inputs for one window, in the order of ``FEATURES``."""
    t = float(w.type_ok)
    s = float(w.scope_ok and w.places_ok)
    values: dict[str, float] = {
        "focus": w.focus, "topic": w.topic, "type_ok": t, "scope_ok": float(w.scope_ok), "places_ok": float(w.places_ok),
        **{f"issue_{i}": float(w.scope_issue == i) for i in SCOPE_ISSUES},
        "sem": w.sem, "sem_gap": w.sem_gap, "sem_best": float(w.sem_gap >= -1e-6), "dense": w.semantic,
        "dense_gap": w.dense_gap, "rank_log": math.log1p(w.rank0), "in_keyword": float(w.in_keyword),
        "in_dense": float(w.in_dense), "heading": float(w.heading), "kind_pair": float(w.kind == "pair"),
        "kind_body": float(w.kind == "body"), "len_log": math.log1p(len(w.text)) / 6.0, "anchor": w.anchor,
        "anchor_window": w.anchor_window, "has_anchor": float(w.has_anchor), "has_number": float(w.has_number),
        "names_doc": float(w.names_doc), "in_target_doc": float(w.in_target_doc),
        **{f"type_{a}": float(w.answer_type == a) for a in ANSWER_TYPES},
        "focus_x_type": w.focus * t, "sem_x_type": w.sem * t, "focus_x_sem": w.focus * w.sem, "sem_x_scope": w.sem * s,
        "focus_x_scope": w.focus * s, "sem_x_anchor": w.sem * w.anchor, "sem_gap_x_type": w.sem_gap * t,
        "lex": w.score, "lex_gap": w.lex_gap, "focus_gap": w.focus_gap, "pinned": float(w.pinned),
    }  # fmt: skip
    return [values[name] for name in FEATURES]


QUESTION_FEATURES: tuple[str, ...] = (
    "p1", "p2", "p_gap", "p1_logit", "n_half", "sem1", "lex1", "focus1", "dense1", "names_doc", "has_anchor",
    "value_type", "out_of_scope", "anchor1", "type_ok1",
)  # fmt: skip
_AT = {name: i for i, name in enumerate(FEATURES)}


def question_features(rows: np.ndarray, probs: np.ndarray, eligible: np.ndarray) -> list[float]:
    """What decides a whole question (part): how good its best eligible windows are, and how the best
    ones compare; ``rows`` are the windows' ``feature_vector``s."""
    if len(rows) == 0 or not eligible.any():
        return [0.0] * len(QUESTION_FEATURES)
    ok = np.flatnonzero(eligible)
    order = ok[np.argsort(-probs[ok])]
    p1 = float(probs[order[0]])
    p2 = float(probs[order[1]]) if len(order) > 1 else 0.0
    top = rows[order[0]]
    value_type = 1.0 - sum(float(top[_AT[f"type_{t}"]]) for t in ("list", "yesno", "explanation", "fact"))
    out = rows[~eligible]
    out_of_scope = float(((out[:, _AT["scope_ok"]] < 0.5) & (out[:, _AT["focus"]] >= 0.6)).any()) if len(out) else 0.0
    return [p1, p2, p1 - p2, float(np.log((p1 + 1e-4) / (1 - p1 + 1e-4))), float((probs[ok] >= 0.5).sum()),
            float(rows[ok, _AT["sem"]].max()), float(rows[ok, _AT["lex"]].max()), float(rows[ok, _AT["focus"]].max()),
            float(rows[ok, _AT["dense"]].max()), float(top[_AT["names_doc"]]), float(top[_AT["has_anchor"]]),
            value_type, out_of_scope, float(top[_AT["anchor"]]), float(top[_AT["type_ok"]])]


@dataclass
class Trees:
    """Gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier, exported as arrays)."""

    baseline: float
    feature: list[np.ndarray]
    threshold: list[np.ndarray]
    left: list[np.ndarray]
    right: list[np.ndarray]
    value: list[np.ndarray]
    leaf: list[np.ndarray]
    missing_left: list[np.ndarray]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trees:
        def arrays(key: str, dtype: Any) -> list[np.ndarray]:
            return [np.asarray(t[key], dtype=dtype) for t in data["trees"]]

        return cls(float(data["baseline"]), arrays("feature", np.int64), arrays("threshold", np.float64),
                   arrays("left", np.int64), arrays("right", np.int64), arrays("value", np.float64),
                   arrays("leaf", bool), arrays("missing_left", bool))

    def raw(self, rows: np.ndarray) -> np.ndarray:
        z = np.full(len(rows), self.baseline)
        index = np.arange(len(rows))
        for feat, thr, left, right, value, leaf, missing in zip(self.feature, self.threshold, self.left, self.right,
                                                                self.value, self.leaf, self.missing_left, strict=True):
            node = np.zeros(len(rows), dtype=np.int64)
            while not leaf[node].all():
                x = rows[index, feat[node]]
                go_left = np.where(np.isnan(x), missing[node], x <= thr[node])
                node = np.where(leaf[node], node, np.where(go_left, left[node], right[node]))
            z += value[node]
        return 1.0 / (1.0 + np.exp(-z))


@dataclass
class AnswerModel:
    """Window classifier + isotonic calibrations, from JSON (see ``python -m eval.train_answer_model``).

    ``predict`` gives each window's calibrated probability of answering; ``confidence`` turns the best
    window's probability into the calibrated probability that the question is answered rightly."""

    features: tuple[str, ...]
    trees: Trees
    iso_x: np.ndarray  # window calibration: raw probability → calibrated (piecewise linear)
    iso_y: np.ndarray
    q_iso_x: np.ndarray  # question calibration: best window probability → P(answered rightly)
    q_iso_y: np.ndarray
    threshold: float  # a window at or above this probability answers (chosen on validation)
    follow_ratio: float = 0.6  # further windows need this share of the best window's probability
    meta: dict[str, Any] | None = None
    q_mean: np.ndarray | None = None  # the question model: logistic regression over QUESTION_FEATURES
    q_scale: np.ndarray | None = None
    q_coef: np.ndarray | None = None
    q_intercept: float = 0.0
    q_threshold: float = 0.5  # a question (part) is answered at or above this probability
    relevance_floor: float = 0.0  # USE cosine a window with few of the question's words needs (from data)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerModel | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            return None  # trained on other features: retrain (python -m eval.train_answer_model)

        def arr(key: str) -> np.ndarray:
            return np.asarray(data[key], dtype=np.float64)

        q = data["question_model"]
        return cls(features=tuple(data["features"]), trees=Trees.from_json(data["model"]), iso_x=arr("iso_x"),
                   iso_y=arr("iso_y"), q_iso_x=arr("q_iso_x"), q_iso_y=arr("q_iso_y"),
                   threshold=float(data["threshold"]), follow_ratio=float(data.get("follow_ratio", 0.6)),
                   meta=data.get("meta"), q_mean=np.asarray(q["mean"]), q_scale=np.asarray(q["scale"]),
                   q_coef=np.asarray(q["coef"]), q_intercept=float(q["intercept"]), q_threshold=float(q["threshold"]),
                   relevance_floor=float(data.get("relevance_floor", 0.0)))

    def predict(self, windows: Sequence[SentenceEvidence]) -> np.ndarray:
        if not windows:
            return np.zeros(0)
        rows = np.asarray([feature_vector(w) for w in windows], dtype=np.float64)
        raw = self.trees.raw(rows)
        return np.minimum(1.0, np.interp(raw, self.iso_x, self.iso_y) + TIE * raw)

    def question_score(self, windows: Sequence[SentenceEvidence], eligible: Sequence[bool]) -> float:
        """The question model's probability that the documents answer the question (part); compared with
        ``q_threshold`` (chosen on this scale, which is continuous; the calibrated one has steps)."""
        if not windows or self.q_coef is None or self.q_mean is None or self.q_scale is None:
            return 0.0
        rows = np.asarray([feature_vector(w) for w in windows], dtype=np.float64)
        probs = np.asarray([w.prob for w in windows], dtype=np.float64)
        x = (np.asarray(question_features(rows, probs, np.asarray(eligible, dtype=bool))) - self.q_mean) / self.q_scale
        return float(1.0 / (1.0 + np.exp(-float(x @ self.q_coef + self.q_intercept))))

    def confidence(self, score: float) -> float:
        """The calibrated probability that an answer with this question score is right."""
        return float(np.interp(score, self.q_iso_x, self.q_iso_y))

    def question_probability(self, windows: Sequence[SentenceEvidence], eligible: Sequence[bool]) -> float:
        """The calibrated probability that the best eligible window answers the question (part)."""
        return self.confidence(self.question_score(windows, eligible))


@lru_cache(maxsize=4)
def load_model(path: str = str(MODEL_PATH)) -> AnswerModel | None:
    return AnswerModel.load(Path(path))
