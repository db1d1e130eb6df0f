"""The HTTP API of the web app (Gradio's ``/ask`` endpoint): a thin translation to ``Assistant.ask``."""

from __future__ import annotations

from typing import Any

from ..errors import AssistantError
from ..markup import strip_markup
from ..models import Filters
from ..service import Assistant

WRITERS = ("extractive", "llm")


def api_ask(assistant: Assistant, question: str, region: str = "", year: str = "", kind: str = "",
            doc_id: str = "", writer: str = "") -> dict[str, Any]:
    """Ask ``question``; the Answer as a JSON object (text, citations, refused, suggestions, …).

    Filters are comma-separated strings (``region="北京,天津"``, ``year="2024"``; ``Filters.parse``);
    ``writer`` is ``extractive`` or ``llm`` (empty: the setting). Errors are ``AssistantError``s
    with a Chinese ``user_message``; the page turns them into ``gr.Error``.
    """
    if writer and writer not in WRITERS:
        raise AssistantError(f"unknown writer {writer!r}", "未知的回答方式（可选 extractive 或 llm）。")
    filters = Filters.parse(region, year, kind, doc_id)
    text = strip_markup(question) if isinstance(question, str) else question
    return assistant.ask(text, filters=filters, writer=writer or None).to_dict()
