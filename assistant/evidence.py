"""Evidence scoring for refusal: decide "not in the documents" before any answer is written.

The score of a question is the best, over the top passages, of a blend of (a) the IDF-weighted
share of the question's terms found in the passage (with its title and heading path) and (b)
the passage's dense cosine similarity rescaled to 0..1. Rare terms dominate (a): a question
about 三甲医院 in 雄安 is not answered by a passage that only mentions 雄安. The blend weight,
the cosine range and the threshold are calibrated on the development question set
(``python -m eval.calibrate``); see README for the error rates.
"""

from __future__ import annotations

from collections.abc import Sequence

from .models import Hit
from .text import TermWeights, coverage

# Calibrated on eval/sets/jjj_dev.jsonl (see eval/calibrate.py); not tuned on the test set.
LEXICAL_WEIGHT = 0.7
COSINE_FLOOR = 0.78
COSINE_CEIL = 0.92
TOP_PASSAGES = 3


class EvidenceScorer:
    def __init__(self, weights: TermWeights, threshold: float,
                 lexical_weight: float = LEXICAL_WEIGHT, cosine_floor: float = COSINE_FLOOR,
                 cosine_ceil: float = COSINE_CEIL) -> None:
        self.weights = weights
        self.threshold = threshold
        self.lexical_weight = lexical_weight
        self.cosine_floor = cosine_floor
        self.cosine_ceil = cosine_ceil

    def passage_score(self, terms: dict[str, float], hit: Hit) -> float:
        chunk = hit.chunk
        lexical = coverage(terms, f"{chunk.title} {chunk.section} {chunk.text}")
        dense = hit.dense_score if hit.dense_score is not None else self.cosine_floor
        span = max(1e-6, self.cosine_ceil - self.cosine_floor)
        semantic = min(1.0, max(0.0, (dense - self.cosine_floor) / span))
        return self.lexical_weight * lexical + (1 - self.lexical_weight) * semantic

    def score(self, question: str, hits: Sequence[Hit]) -> float:
        if not hits:
            return 0.0
        terms = self.weights.weighted_terms(question)
        return max(self.passage_score(terms, h) for h in hits[:TOP_PASSAGES])

    def is_answerable(self, question: str, hits: Sequence[Hit]) -> bool:
        return self.score(question, hits) >= self.threshold
