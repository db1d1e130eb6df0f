"""The answer-writer stage: turn a question and numbered passages into a draft with [n] markers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..models import Hit
from ..rewrite import rewrite_followup

if TYPE_CHECKING:
    from ..ranking import SentenceEvidence

History = Sequence[tuple[str, str]]

# The fixed phrase every writer uses when the passages do not answer the question.
REFUSAL_PHRASE = "未在已收录文件中找到依据"
# A bare refusal: the phrase and at most this many other characters (markers, punctuation).
REFUSAL_MAX_EXTRA = 10


def is_bare_refusal(text: str) -> bool:
    """True for a draft that is the refusal phrase and (almost) nothing else."""
    stripped = text.strip()
    return REFUSAL_PHRASE in stripped and len(stripped) <= len(REFUSAL_PHRASE) + REFUSAL_MAX_EXTRA


@dataclass
class DraftStats:
    """What one generated draft cost (filled by a generating writer's ``draft``)."""

    prompt_tokens_est: int = 0
    max_tokens: int = 0
    first_token_s: float | None = None  # from the request to the first streamed token
    tokens: int = 0  # streamed tokens (chunks)
    seconds: float = 0.0  # the whole request

    @property
    def tokens_per_s(self) -> float | None:
        if self.first_token_s is None or self.tokens < 2 or self.seconds <= self.first_token_s:
            return None
        return (self.tokens - 1) / (self.seconds - self.first_token_s)

    def to_dict(self) -> dict[str, Any]:
        rate = self.tokens_per_s
        return {"prompt_tokens_est": self.prompt_tokens_est, "max_tokens": self.max_tokens,
                "first_token_s": None if self.first_token_s is None else round(self.first_token_s, 3),
                "tokens": self.tokens, "seconds": round(self.seconds, 3),
                "tokens_per_s": None if rate is None else round(rate, 2)}


class AnswerWriter(ABC):
    """One implementation per backend (extractive, llm). Markers ``[n]`` are 1-based indexes
    into ``passages``; the service verifies them and turns them into citations afterwards.

    The service asks a writer three things and nothing else: whether it ``generates`` (its draft is
    streamed and checked, with the extractive answer as the fallback) or not (the service composes
    the extractive answer from the decide stage's windows), its ``draft`` (which raises
    ``LLMUnavailableError`` with a ``reason`` when no usable draft came), and ``is_refusal`` of a draft.
    """

    name: ClassVar[str]
    generates: ClassVar[bool] = False

    @abstractmethod
    def stream(self, question: str, passages: Sequence[Hit], history: History = (),
               evidence: Sequence[SentenceEvidence] | None = None) -> Iterator[str]:
        """Yield text deltas; their concatenation is the draft answer.

        ``evidence``: the decide stage's chosen windows (``SentenceEvidence.hit`` indexes
        ``passages``), the lead first; a writer may compose from them alone.
        """

    def write(self, question: str, passages: Sequence[Hit], history: History = (),
              evidence: Sequence[SentenceEvidence] | None = None) -> str:
        return "".join(self.stream(question, passages, history, evidence))

    def draft(self, question: str, passages: Sequence[Hit], history: History = (),
              evidence: Sequence[SentenceEvidence] | None = None, *,
              stats: DraftStats | None = None) -> Iterator[str]:
        """The deltas of a draft as the service streams them (``stats`` filled where the writer can).
        Raises ``LLMUnavailableError`` (with its ``reason``) when the writer could not write a usable
        draft. Default: ``stream``. Closing the iterator stops the writing."""
        return self.stream(question, passages, history, evidence)

    def is_refusal(self, draft: str) -> bool:
        """True when ``draft`` declines to answer (the evidence gate has already decided there is an
        answer: such a draft is not used). Default: the fixed refusal phrase."""
        return REFUSAL_PHRASE in draft

    def rewrite(self, question: str, history: History) -> str:
        """Make a follow-up self-contained. Default: the rule-based rewriter."""
        return rewrite_followup(question, history)
