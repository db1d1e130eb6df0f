"""Validation of the conversation history the Python API and the HTTP endpoint take (filters: ``filters``).

Each function returns the clean value or raises a typed error (a subclass of
``InvalidQuestionError``) whose Chinese ``user_message`` says what is wrong and how to write it;
nothing raw (ValueError, TypeError, AttributeError, a Chroma error) reaches the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import InvalidHistoryError
from .models import Answer
from .text import CONTROL_RE, SURROGATE_RE


def _history_error(detail: str, reason: str) -> InvalidHistoryError:
    return InvalidHistoryError(detail, f"对话历史无效：{reason}")


def _turn_text(value: Any, n: int, part: str, max_chars: int) -> str:
    if isinstance(value, Answer):
        value = value.text
    if not isinstance(value, str):
        raise _history_error(f"turn {n} {part}: {type(value).__name__}", f"第 {n} 轮的{part}应为文字。")
    if SURROGATE_RE.search(value):
        raise _history_error(f"turn {n} {part}: lone surrogate", f"第 {n} 轮的{part}含有无法识别的字符。")
    return CONTROL_RE.sub("", value).strip()[:max_chars]


def validate_history(value: Any, max_turns: int, max_chars_per_turn: int) -> list[tuple[str, str]]:
    """``None`` or a list of ``(question, answer)`` pairs (the answer a string or an
    :class:`Answer`) → the last ``max_turns`` pairs, each part cut to ``max_chars_per_turn``."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Sequence):
        raise _history_error(f"history: {type(value).__name__}", "应为（问题, 回答）二元组的列表。")
    turns: Iterable[Any] = value
    checked: list[tuple[Any, Any]] = []
    for n, turn in enumerate(turns, start=1):
        if isinstance(turn, (str, bytes, Mapping)) or not isinstance(turn, (list, tuple)) or len(turn) != 2:
            raise _history_error(f"turn {n}: {type(turn).__name__}", f"第 {n} 轮应为（问题, 回答）两项。")
        checked.append((turn[0], turn[1]))
    start = len(checked) - max_turns if max_turns > 0 else len(checked)
    out: list[tuple[str, str]] = []
    for n, (question, answer) in enumerate(checked, start=1):
        if n <= start:
            continue
        q = _turn_text(question, n, "问题", max_chars_per_turn)
        a = _turn_text(answer, n, "回答", max_chars_per_turn)
        if q:
            out.append((q, a))
    return out
