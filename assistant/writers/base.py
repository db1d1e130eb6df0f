"""The answer-writer stage: turn a question and numbered passages into a draft with [n] markers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from ..models import Hit

if TYPE_CHECKING:
    from ..ranking import SentenceEvidence

History = Sequence[tuple[str, str]]

# The fixed phrase every writer uses when the passages do not answer the question.
REFUSAL_PHRASE = "未在已收录文件中找到依据"


class AnswerWriter(ABC):
    """One implementation per backend (extractive, llm). Markers ``[n]`` are 1-based indexes
    into ``passages``; the service verifies them and turns them into citations afterwards."""

    name: ClassVar[str]

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

    def rewrite(self, question: str, history: History) -> str:
        """Make a follow-up self-contained. Default: the rule-based rewriter."""
        from ..rewrite import rewrite_followup

        return rewrite_followup(question, history)
