"""Talking to the OpenAI-compatible server: the LangChain chat model, the message objects, the text of
a reply, and which errors mean the endpoint is unavailable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from ...settings import Settings

_CLIENT_MODULES = ("openai", "httpx", "httpcore", "langchain_openai", "h11", "anyio")


def make_chat(settings: Settings, max_tokens: int, streaming: bool) -> BaseChatModel:
    """A ``ChatOpenAI`` for the configured endpoint: no retries, temperature 0, ``max_tokens`` capped."""
    from langchain_openai import ChatOpenAI

    s = settings
    return ChatOpenAI(
        base_url=s.llm_base_url,
        model=s.llm_model,
        api_key=s.llm_api_key or "not-needed",  # type: ignore[arg-type]
        timeout=s.llm_timeout,
        max_retries=0,
        max_tokens=max_tokens,  # type: ignore[call-arg]
        temperature=0,
        streaming=streaming,
        # llama.cpp's server knows "max_tokens"; newer clients may only send "max_completion_tokens".
        extra_body={"max_tokens": max_tokens},
    )


def to_messages(pairs: Sequence[tuple[str, str]]) -> list[BaseMessage]:
    """(role, content) pairs → LangChain messages (``system``, ``human``, ``ai``)."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "human": HumanMessage, "ai": AIMessage}
    return [kinds[role](content=content) for role, content in pairs]


def content_text(content: Any) -> str:
    """The text of a reply's or a chunk's content (a string, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content if p)
    return ""


def is_unavailable(exc: BaseException) -> bool:
    """Connection errors, timeouts and HTTP errors of the client stack (whatever its httpx flavour)."""
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    return any(cls.__module__.split(".")[0].startswith(_CLIENT_MODULES) for cls in type(exc).__mro__)
