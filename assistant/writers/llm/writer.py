"""The ``LLMWriter``: the prompt (``prompt``), the server (``client``) and the checks of the draft
(``checks``) composed into an answer writer."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from ...errors import LLMUnavailableError
from ...models import Hit
from ...ranking import SentenceEvidence
from ...settings import Settings, get_settings
from ..base import AnswerWriter, DraftStats, History
from .checks import MarkerStream, clean_rewrite, declined, looks_like_garbage
from .client import content_text, is_unavailable, make_chat, to_messages
from .prompt import build_prompt, build_rewrite_messages

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

REWRITE_MAX_TOKENS = 96
MIN_ANSWER_TOKENS = 48  # the answer's token cap: about the evidence's length plus this, at most llm_max_tokens

LLMStats = DraftStats  # what one streamed answer cost (the name the llm tests and the bench use)


class LLMWriter(AnswerWriter):
    """Answers with a local OpenAI-compatible chat model (``llama_cpp.server`` by default)."""

    name: ClassVar[str] = "llm"
    generates: ClassVar[bool] = True

    def __init__(self, settings: Settings | None = None, chat: BaseChatModel | None = None) -> None:
        self.settings = settings if settings is not None else get_settings()
        self._chat = chat
        self._rewrite_chat: BaseChatModel | None = None

    def _make_chat(self, max_tokens: int, streaming: bool) -> BaseChatModel:
        return make_chat(self.settings, max_tokens, streaming)

    @property
    def chat(self) -> BaseChatModel:
        if self._chat is None:
            self._chat = self._make_chat(self.settings.llm_max_tokens, streaming=True)
        return self._chat

    def stream(self, question: str, passages: Sequence[Hit], history: History = (),
               evidence: Sequence[SentenceEvidence] | None = None, *,
               stats: LLMStats | None = None) -> Iterator[str]:
        """Yield the draft's deltas, composed from ``evidence`` (the chosen sentences) when given.

        ``history`` is not sent: the question is already self-contained. ``stats`` (optional) is
        filled with the prompt estimate, time to first token and streamed tokens. Closing this
        generator closes the HTTP stream, which stops generation on a llama.cpp server.
        """
        prompt = build_prompt(question, passages, evidence, self.settings.llm_prompt_budget)
        max_tokens = min(self.settings.llm_max_tokens, int(1.5 * prompt.evidence_tokens) + MIN_ANSWER_TOKENS)
        stats = stats if stats is not None else LLMStats()
        stats.prompt_tokens_est, stats.max_tokens = prompt.tokens, max_tokens
        markers = MarkerStream()
        t0 = time.perf_counter()
        chunks = self.chat.stream(to_messages(prompt.messages), stop=["\n问题：", "资料：", "<资料"],
                                  extra_body={"max_tokens": max_tokens})
        try:
            for chunk in chunks:
                piece = content_text(chunk.content)
                if not piece:
                    continue
                stats.tokens += 1  # llama.cpp streams one token per chunk
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - t0
                delta = markers.feed(piece)
                if delta:
                    yield delta
        except Exception as exc:
            if is_unavailable(exc):
                raise LLMUnavailableError(f"LLM request to {self.settings.llm_base_url} failed: {exc!r}") from exc
            raise
        finally:
            stats.seconds = time.perf_counter() - t0
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # on cancel too: ends the HTTP stream, so the server stops generating
        tail = markers.flush()
        if tail:
            yield tail

    def draft(self, question: str, passages: Sequence[Hit], history: History = (),
              evidence: Sequence[SentenceEvidence] | None = None, *,
              stats: DraftStats | None = None) -> Iterator[str]:
        """``stream``, then ``LLMUnavailableError(reason="garbage")`` when the finished draft
        ``looks_like_garbage`` (its deltas were streamed: the service resets them)."""
        parts: list[str] = []
        deltas = self.stream(question, passages, history, evidence, stats=stats)
        try:
            for delta in deltas:
                parts.append(delta)
                yield delta
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()  # on cancel too: ends the HTTP stream
        if looks_like_garbage("".join(parts)):
            raise LLMUnavailableError("the model's draft is empty, not Chinese or degenerate", reason="garbage")

    def is_refusal(self, draft: str) -> bool:
        return declined(draft)

    def rewrite(self, question: str, history: History) -> str:
        """Rewrite a follow-up into a self-contained question with the LLM; rule-based on any failure."""
        if not history:
            return question
        try:
            result = self._llm_rewrite(question, history)
        except Exception:
            result = None
        return result if result else super().rewrite(question, history)

    def _llm_rewrite(self, question: str, history: History) -> str | None:
        if self._rewrite_chat is None:
            self._rewrite_chat = self._make_chat(REWRITE_MAX_TOKENS, streaming=False)
        pairs = build_rewrite_messages(question, history)
        reply = self._rewrite_chat.invoke(to_messages(pairs), stop=["\n", "<资料", "对话历史"])
        return clean_rewrite(content_text(reply.content), question)
