"""One chat session's turns, as plain dicts kept in a per-session ``gr.State``."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from ..models import Answer, Filters

_counter = itertools.count(1)
MAX_HISTORY_TURNS = 3  # previous exchanges handed to the service for follow-up questions


class Turn(TypedDict):
    id: str
    question: str
    answer: dict[str, Any]
    filters: dict[str, Any]
    writer: str | None
    time: str
    index_version: NotRequired[str]  # the index that answered (shown in exports)


def new_turn_id() -> str:
    return f"t{next(_counter)}{uuid.uuid4().hex[:6]}"


def make_turn(turn_id: str, question: str, answer: Answer, filters: Filters, writer: str | None,
              index_version: str = "") -> Turn:
    turn = Turn(
        id=turn_id,
        question=question,
        answer=answer.to_dict(),
        filters={k: v for k, v in vars(filters).items() if v},
        writer=writer,
        time=datetime.now().astimezone().isoformat(timespec="seconds"),
    )
    if index_version:
        turn["index_version"] = index_version
    return turn


def turn_answer(turn: Turn) -> Answer:
    return Answer.from_dict(turn["answer"])


def chat_history(turns: list[Turn]) -> list[tuple[str, str]]:
    """(question, answer) pairs of the last answered turns, for follow-up rewriting."""
    pairs = [(t["question"], t["answer"]["text"]) for t in turns if not t["answer"].get("refused")]
    return pairs[-MAX_HISTORY_TURNS:]


def find_turn(turns: list[Turn], turn_id: str) -> Turn | None:
    return next((t for t in turns if t["id"] == turn_id), None)
