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
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .ranking import SentenceEvidence

MODEL_PATH = Path(__file__).with_name("resources") / "answer_model.json"
ANSWER_TYPES = ("number", "date", "person", "place", "org", "list", "yesno", "explanation", "fact")
SCOPE_ISSUES = ("year", "region", "document", "article")

FEATURES: tuple[str, ...] = (
    "focus", "topic", "type_ok", "scope_ok", "places_ok", *(f"issue_{i}" for i in SCOPE_ISSUES),
    "sem", "sem_gap", "sem_best", "dense", "dense_gap", "rank_log", "in_keyword", "in_dense",
    "heading", "kind_pair", "kind_body", "len_log", "anchor", "anchor_window", "has_anchor", "has_number",
    "names_doc", "in_target_doc", *(f"type_{t}" for t in ANSWER_TYPES),
    "focus_x_type", "sem_x_type", "focus_x_sem", "sem_x_scope", "focus_x_scope", "sem_x_anchor", "sem_gap_x_type",
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
    }  # fmt: skip
    return [values[name] for name in FEATURES]


@dataclass
class AnswerModel:
    """Logistic regression + isotonic calibration, from JSON (see ``python -m eval.train_answer_model``)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    iso_x: np.ndarray  # isotonic calibration: raw probability → calibrated (piecewise linear)
    iso_y: np.ndarray
    threshold: float  # a window at or above this probability answers (chosen on validation)
    follow_ratio: float = 0.6  # further windows need this share of the best window's probability
    meta: dict[str, Any] | None = None

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerModel | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            return None  # trained on other features: retrain (python -m eval.train_answer_model)
        return cls(
            features=tuple(data["features"]), mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64), coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=float(data["intercept"]), iso_x=np.asarray(data["iso_x"], dtype=np.float64),
            iso_y=np.asarray(data["iso_y"], dtype=np.float64), threshold=float(data["threshold"]),
            follow_ratio=float(data.get("follow_ratio", 0.6)), meta=data.get("meta"),
        )

    def raw(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        if len(self.iso_x) < 2:
            return raw
        return np.interp(raw, self.iso_x, self.iso_y)

    def predict(self, windows: Sequence[SentenceEvidence]) -> np.ndarray:
        if not windows:
            return np.zeros(0)
        rows = np.asarray([feature_vector(w) for w in windows], dtype=np.float64)
        return self.calibrate(self.raw(rows))


@lru_cache(maxsize=4)
def load_model(path: str = str(MODEL_PATH)) -> AnswerModel | None:
    return AnswerModel.load(Path(path))
