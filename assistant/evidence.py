"""Evidence scoring for refusal: decide "not in the documents" before any answer is written.

An answer has to be *local*: the question's terms must meet in one place of a passage, not be
scattered over 400 characters. The score of a question is therefore the best, over windows of
two consecutive sentences in the top passages (with the passage's title and heading path as
context), of the IDF-weighted share of the question's terms found there — damped when the
question asks for a number or a date and the window has none — blended with the passage's
dense cosine similarity rescaled to 0..1. Rare terms dominate: a question about 三甲医院 in 雄安
is not answered by a passage that only mentions 雄安.

The blend weight, the cosine range and the threshold are calibrated on the development question
set with ``python -m eval.calibrate`` (never on the held-out set); README gives the error rates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .models import Hit
from .text import TermWeights, coverage, sentence_spans

# Calibrated on eval/sets/jjj_dev.jsonl with eval/calibrate.py.
LEXICAL_WEIGHT = 0.6
COSINE_FLOOR = 0.82
COSINE_CEIL = 0.92
TOP_PASSAGES = 3
WINDOW_SENTENCES = 2
TYPE_MISMATCH_FACTOR = 0.7

_ASKS_NUMBER = re.compile(r"多少|几[个项条年次家所座名位场种批]|多大|多高|多长|多远|比例|百分之")
_ASKS_TIME = re.compile(r"什么时候|何时|哪一年|哪年|几月|哪天|截止|期限")
_HAS_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+(?:个|项|条|家|所|座|名|位|场|种|批|万|亿|公里|倍|成)")
_HAS_TIME = re.compile(r"\d{4}|\d{1,2}月|年底|年内|年前|今年|明年")


class EvidenceScorer:
    def __init__(self, weights: TermWeights, threshold: float,
                 lexical_weight: float = LEXICAL_WEIGHT, cosine_floor: float = COSINE_FLOOR,
                 cosine_ceil: float = COSINE_CEIL) -> None:
        self.weights = weights
        self.threshold = threshold
        self.lexical_weight = lexical_weight
        self.cosine_floor = cosine_floor
        self.cosine_ceil = cosine_ceil

    def lexical(self, question: str, terms: dict[str, float], hit: Hit) -> float:
        chunk = hit.chunk
        context = f"{chunk.title} {chunk.section} "
        spans = sentence_spans(chunk.text) or [(0, len(chunk.text))]
        wants_number = bool(_ASKS_NUMBER.search(question))
        wants_time = bool(_ASKS_TIME.search(question))
        best = 0.0
        for i in range(len(spans)):
            window = chunk.text[spans[i][0] : spans[min(i + WINDOW_SENTENCES - 1, len(spans) - 1)][1]]
            score = coverage(terms, context + window)
            if wants_number and not _HAS_NUMBER.search(window):
                score *= TYPE_MISMATCH_FACTOR
            if wants_time and not _HAS_TIME.search(window):
                score *= TYPE_MISMATCH_FACTOR
            best = max(best, score)
        return best

    def semantic(self, hit: Hit) -> float:
        dense = hit.dense_score if hit.dense_score is not None else self.cosine_floor
        span = max(1e-6, self.cosine_ceil - self.cosine_floor)
        return min(1.0, max(0.0, (dense - self.cosine_floor) / span))

    def score(self, question: str, hits: Sequence[Hit]) -> float:
        if not hits:
            return 0.0
        terms = self.weights.weighted_terms(question)
        # Keyword-only retrieval has no cosine: judge on the lexical evidence alone.
        w = self.lexical_weight if any(h.dense_score is not None for h in hits[:TOP_PASSAGES]) else 1.0
        return max(w * self.lexical(question, terms, h) + (1 - w) * self.semantic(h) for h in hits[:TOP_PASSAGES])

    def is_answerable(self, question: str, hits: Sequence[Hit]) -> bool:
        return self.score(question, hits) >= self.threshold
