"""Validation of the Python API's and the HTTP endpoint's arguments besides the question.

Each function returns the clean value or raises a typed error (a subclass of
``InvalidQuestionError``) whose Chinese ``user_message`` says what is wrong and how to write it;
nothing raw (ValueError, TypeError, AttributeError, a Chroma error) reaches the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import InvalidFiltersError, InvalidHistoryError
from .models import Answer, Filters

FILTER_KEYS = ("region", "year", "kind", "doc_id")
FILTER_ALIASES = {"document": "doc_id", "doc": "doc_id"}
MAX_FILTER_VALUES = 100
MAX_FILTER_CHARS = 200
YEAR_RANGE = (1900, 2100)

_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YEAR_TEXT = re.compile(r"\s*(\d{4})\s*年?\s*")
_FIELD_NAMES = {"region": "地区", "year": "年份", "kind": "文件类型", "doc_id": "文件"}


def _filters_error(detail: str, reason: str) -> InvalidFiltersError:
    return InvalidFiltersError(detail, f"检索范围无效：{reason}")


def _values(key: str, value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if len(items) > MAX_FILTER_VALUES:
            raise _filters_error(f"{key}: {len(items)} values", f"{_FIELD_NAMES[key]}最多 {MAX_FILTER_VALUES} 项。")
        return items
    raise _filters_error(f"{key}: {type(value).__name__}",
                         f"{_FIELD_NAMES[key]}应为文字或文字列表（如 [\"北京\", \"天津\"]）。")


def _year(value: Any) -> int:
    year: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, str) and (match := _YEAR_TEXT.fullmatch(value)):
        year = int(match.group(1))
    if year is None or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise _filters_error(f"year: {value!r}", "年份应为四位数字，如 2024。")
    return year


def _text(key: str, value: Any) -> str | None:
    if key == "doc_id" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _filters_error(f"{key}: element {type(value).__name__}", f"{_FIELD_NAMES[key]}的每一项都应为文字。")
    if _BAD_CHARS.search(value):
        raise _filters_error(f"{key}: control or surrogate characters", f"{_FIELD_NAMES[key]}中含有无法识别的字符。")
    text = value.strip()
    if len(text) > MAX_FILTER_CHARS:
        raise _filters_error(f"{key}: {len(text)} characters", f"{_FIELD_NAMES[key]}过长。")
    return text or None


def validate_filters(value: Any) -> Filters:
    """``None``, a :class:`Filters` or a mapping with the keys region / year / kind / doc_id
    (alias document, doc), each a value or a list of values → a clean :class:`Filters`."""
    if value is None:
        return Filters()
    if isinstance(value, Filters):
        value = {k: getattr(value, k) for k in FILTER_KEYS}
    if not isinstance(value, Mapping):
        raise _filters_error(f"filters: {type(value).__name__}",
                             "应为字典，如 {\"region\": [\"北京\"], \"year\": [2024]}。")
    fields: dict[str, list[Any]] = {k: [] for k in FILTER_KEYS}
    for raw_key, raw in value.items():
        key = FILTER_ALIASES.get(raw_key, raw_key) if isinstance(raw_key, str) else raw_key
        if key not in fields:
            shown = str(raw_key)[:40] if isinstance(raw_key, str) and not _SURROGATE.search(raw_key) else "?"
            raise _filters_error(f"unknown filter key {raw_key!r}",
                                 f"未知的字段“{shown}”（可用 region、year、kind、doc_id）。")
        for item in _values(key, raw):
            clean = _year(item) if key == "year" else _text(key, item)
            if clean is not None and clean not in fields[key]:
                fields[key].append(clean)
    return Filters(**fields)


def _history_error(detail: str, reason: str) -> InvalidHistoryError:
    return InvalidHistoryError(detail, f"对话历史无效：{reason}")


def _turn_text(value: Any, n: int, part: str, max_chars: int) -> str:
    if isinstance(value, Answer):
        value = value.text
    if not isinstance(value, str):
        raise _history_error(f"turn {n} {part}: {type(value).__name__}", f"第 {n} 轮的{part}应为文字。")
    if _SURROGATE.search(value):
        raise _history_error(f"turn {n} {part}: lone surrogate", f"第 {n} 轮的{part}含有无法识别的字符。")
    return _CONTROL.sub("", value).strip()[:max_chars]


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
