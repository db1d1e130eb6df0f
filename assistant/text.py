"""Small text helpers shared by the writers, the verifier and the evidence scorer: citation markers,
character bigrams, IDF-weighted term coverage. The Chinese text rules themselves are ``index.zh``'s."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable

from index.keyword import KeywordIndex, tokenize
from index.zh import WORD_CHAR_RE

MARKER = re.compile(r"\[(\d{1,2})\]")
# Input hygiene of the API's arguments (question, history, filters): C0 controls but tab/newline/CR, and lone
# UTF-16 surrogates (unencodable; they come from broken clients).
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
__all__ = ["CONTROL_RE", "MARKER", "SURROGATE_RE", "TermWeights", "char_bigrams", "coverage", "join_nonempty", "strip_markers"]


def strip_markers(text: str) -> str:
    return MARKER.sub("", text)


def char_bigrams(text: str) -> set[str]:
    chars = [ch for ch in text if WORD_CHAR_RE.match(ch)]
    return {a + b for a, b in itertools.pairwise(chars)} or set(chars)


class TermWeights:
    """IDF weights of query terms, taken from the keyword index (shared, loaded once)."""

    def __init__(self, keyword: KeywordIndex) -> None:
        self.n_docs = max(1, len(keyword.chunks))
        self.df: dict[str, int] = {}
        for tokens in keyword.tokens.values():
            for token in set(tokens):
                self.df[token] = self.df.get(token, 0) + 1

    def idf(self, token: str) -> float:
        df = self.df.get(token, 0)
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def weighted_terms(self, question: str) -> dict[str, float]:
        terms: dict[str, float] = {}
        for token in tokenize(question):
            terms[token] = max(terms.get(token, 0.0), self.idf(token))
        return terms


def coverage(terms: dict[str, float], text: str) -> float:
    """IDF-weighted share of the terms that occur in ``text`` (0..1)."""
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    lowered = text.lower()
    return sum(w for t, w in terms.items() if t in lowered) / total


def join_nonempty(parts: Iterable[str], sep: str = "") -> str:
    return sep.join(p for p in parts if p)
