"""The rank stage's data model: a candidate window (``SentenceEvidence``) and when it answers (``Gate``).

``ranking`` builds the windows and their features; ``answer_model`` scores them; ``decide`` and the
writers read them. Kept apart so that none of those modules needs another only for these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Gate:
    """When a window answers: the answer model's thresholds (chosen on out-of-fold predictions of the
    training pool by ``python -m eval.train_answer_model``; ``ASSISTANT_ANSWER_THRESHOLD`` overrides
    the question threshold)."""

    threshold: float = 0.5  # a window below this probability never answers
    follow_ratio: float = 0.6  # further windows need this share of the best window's probability
    question_threshold: float = 0.5  # a question (part) is answered when its probability reaches this
    sem_floor: float = 0.0  # a window sharing too few words (focus < MIN_FOCUS_WORDS) must be this close in meaning


DEFAULT_GATE = Gate()
MIN_FOCUS_WORDS = 0.2  # below this share of the asked item's words a window needs the meaning floor


@dataclass
class SentenceEvidence:
    """One window of a candidate passage and how well it answers (a part of) the question.

    A window is a sentence, two adjacent sentences (``kind="pair"``) or the body of a passage under
    its heading (``kind="body"``: what a broad question is answered with). ``prob`` is the trained
    answer model's calibrated probability that it answers its part (``answer_model``).
    """

    hit: int  # index into the hits
    start: int  # offsets in the chunk's text
    end: int
    text: str
    focus: float
    topic: float
    type_ok: bool
    scope_ok: bool
    scope_issue: str  # "" | "document" | "year" | "region" | "article"
    score: float  # the lexical evidence score (ordering before the model, and its fallback)
    part: int = 0  # which part of the question it answers
    doc_id: str = ""

    open_type: bool = False  # explanation / fact / list / yes-no: no value to look for
    places_ok: bool = True
    semantic: float = 0.0  # the passage's dense (e5) cosine
    gate: Gate = field(default=DEFAULT_GATE, repr=False, compare=False)
    kind: str = "sentence"  # sentence | pair | body
    heading: bool = False  # a heading line: it labels a body, it never answers
    sem: float = 0.0  # the window's USE cosine to the question
    sem_gap: float = 0.0  # sem minus the best sem of the question's windows (0 for the best)
    dense_gap: float = 0.0  # the passage's e5 cosine minus the best passage's
    rank0: int = 0  # the passage's place in the fused first-stage order
    in_keyword: bool = False
    in_dense: bool = False
    anchor: float = 1.0  # share of the question's core-topic terms in the window, its heading or title
    anchor_window: float = 1.0  # … in the window itself
    has_anchor: bool = False  # the question has core-topic terms
    has_number: bool = False
    names_doc: bool = False
    in_target_doc: bool = False
    answer_type: str = "fact"
    pinned: bool = False  # the window's passage was added by a rule (a named document's header/closing)
    chinese: bool = True  # the question is written in Chinese (the documents' language)
    lex_gap: float = 0.0  # lexical score minus the best of the question's windows
    focus_gap: float = 0.0  # focus share minus the best
    prob: float = 0.0  # calibrated probability that the window answers its part

    @property
    def eligible(self) -> bool:
        """Could answer at all: no heading, within scope, the core topic (when the question has one)
        in it, its heading or title, and for a value question the asked type."""
        if self.heading or not (self.scope_ok and self.places_ok):
            return False
        if self.has_anchor and self.anchor <= 0.0:
            return False
        if self.focus < MIN_FOCUS_WORDS and (not self.open_type or not self.chinese or self.sem < self.gate.sem_floor):
            return False  # a value needs its item named beside it; anything else at least the meaning (in Chinese)
        return self.open_type or self.type_ok

    @property
    def answers(self) -> bool:
        """Eligible, and the model's probability reaches the window threshold."""
        return self.eligible and self.prob >= self.gate.threshold
