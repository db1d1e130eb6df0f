"""The HTTP API of the web app (Gradio's ``/ask`` endpoint): a thin translation to ``Assistant.ask``.

What leaves the server names a document by its id (``doc_id``) and its file name (``source``),
never by a path on the server (:func:`public_answer`).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from index.injection import redact_flagged

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
    return public_answer(assistant.ask(text, filters=filters, writer=writer or None).to_dict())


def file_name(source: Any) -> str:
    """The file name of a document source (a server path), for display."""
    return PurePath(str(source or "").replace("\\", "/")).name


def public_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """An ``Answer.to_dict()`` for a client: every ``source`` (citations, related, suggestions) is
    cut to the file name (the document id stays in ``doc_id``), and instruction-like lines in the llm
    writer's raw draft (``llm.draft``) are replaced by a placeholder."""
    out = dict(answer)
    for key in ("citations", "related", "suggestions"):
        out[key] = [{**item, "source": file_name(item.get("source"))} for item in answer.get(key) or []]
    llm = answer.get("llm") or {}
    if isinstance(llm.get("draft"), str):  # the llm writer's raw draft: no instruction-like line either
        out["llm"] = {**llm, "draft": redact_flagged(llm["draft"])}
    return out
