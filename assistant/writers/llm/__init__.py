"""The LLM answer writer: a local OpenAI-compatible model writes the draft with [n] markers.

- ``prompt``: the messages (a fixed system prompt and few-shot prefix, then the chosen sentences as
  numbered, delimited DATA within a token budget);
- ``client``: the LangChain ``ChatOpenAI`` client of the OpenAI-compatible server and its errors;
- ``checks``: the draft's markers normalised, garbage and declining drafts recognised, a rewrite cleaned;
- ``writer``: ``LLMWriter``, which composes them.

The passages are handed to the model as clearly delimited DATA (``<资料 编号="n"> … </资料>``,
with any such tags inside the passage text neutralised) and the system prompt tells the model to
ignore instructions found inside them; instruction-like sentences are never sent (the rules of
``index.injection``, the same for every writer and the index). Connection errors, timeouts and HTTP
errors become ``LLMUnavailableError`` so the service can fall back to the extractive writer, and so
does a finished draft that ``looks_like_garbage`` (``reason="garbage"``); ``is_refusal`` is ``declined``.
"""

from __future__ import annotations

from .checks import MarkerStream, clean_rewrite, declined, looks_like_garbage, normalise_markers
from .prompt import (
    EXPAND_MIN_BUDGET,
    MAX_PASSAGE_CHARS,
    MAX_TOTAL_PASSAGE_CHARS,
    SYSTEM_PROMPT,
    Prompt,
    build_messages,
    build_prompt,
    build_rewrite_messages,
    estimate_tokens,
    format_passages,
    mark_sentences,
    messages_tokens,
)
from .writer import MIN_ANSWER_TOKENS, REWRITE_MAX_TOKENS, LLMStats, LLMWriter

__all__ = [
    "EXPAND_MIN_BUDGET", "MAX_PASSAGE_CHARS", "MAX_TOTAL_PASSAGE_CHARS", "MIN_ANSWER_TOKENS", "REWRITE_MAX_TOKENS",
    "SYSTEM_PROMPT", "LLMStats", "LLMWriter", "MarkerStream", "Prompt", "build_messages", "build_prompt",
    "build_rewrite_messages", "clean_rewrite", "declined", "estimate_tokens", "format_passages", "looks_like_garbage",
    "mark_sentences", "messages_tokens", "normalise_markers",
]
