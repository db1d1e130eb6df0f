"""Retrieval filters: the ``Filters`` model and its validation (one module owns the type and its rules).

``validate_filters`` returns the clean value or raises ``InvalidFiltersError`` whose Chinese
``user_message`` says what is wrong and how to write it; nothing raw (ValueError, TypeError, a Chroma
error) reaches the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidFiltersError
from .text import CONTROL_RE, SURROGATE_RE


@dataclass
class Filters:
    """Narrow retrieval by metadata. Empty fields do not filter."""

    region: list[str] = field(default_factory=list)  # 北京/天津/河北/国家
    year: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)  # 工作报告/条例/规定/…
    doc_id: list[str] = field(default_factory=list)

    @classmethod
    def coerce(cls, value: Filters | dict[str, Any] | None) -> Filters:
        if value is None:
            return cls()
        if isinstance(value, Filters):
            return value

        def as_list(v: Any) -> list[Any]:
            if v is None or v == "":
                return []
            return list(v) if isinstance(v, (list, tuple, set)) else [v]

        return cls(
            region=[str(v) for v in as_list(value.get("region"))],
            year=[int(v) for v in as_list(value.get("year"))],
            kind=[str(v) for v in as_list(value.get("kind"))],
            doc_id=[str(v) for v in as_list(value.get("doc_id") or value.get("document") or value.get("doc"))],
        )

    @classmethod
    def parse(cls, region: Any = None, year: Any = None, kind: Any = None, doc_id: Any = None) -> Filters:
        """Filters from what a surface collects: each field a list of values, or one string of values
        separated by commas (``"北京,天津"``, full-width ``，`` too), or empty. A year that is not a
        number is left out (as the web page and the HTTP endpoint always did); everything else is
        validated (``validate_filters``: ``InvalidFiltersError`` with a Chinese reason)."""
        def values(value: Any) -> list[Any]:
            if value is None or value == "":
                return []
            if isinstance(value, str):
                return [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
            if isinstance(value, (list, tuple, set)):
                return [v for v in value if v is not None and v != ""]
            return [value]

        years = [y for y in values(year) if isinstance(y, int) or str(y).strip().isdigit()]
        return validate_filters({"region": values(region), "year": [int(y) for y in years],
                                 "kind": values(kind), "doc_id": values(doc_id)})

    def is_empty(self) -> bool:
        return not (self.region or self.year or self.kind or self.doc_id)

    def matches(self, meta: dict[str, Any]) -> bool:
        if self.region and meta.get("region") not in self.region:
            return False
        if self.year and meta.get("year") not in self.year:
            return False
        if self.kind and meta.get("kind") not in self.kind:
            return False
        return not (self.doc_id and meta.get("doc_id") not in self.doc_id)

    def to_chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        for key, values in (("region", self.region), ("year", self.year), ("kind", self.kind), ("doc_id", self.doc_id)):
            if values:
                clauses.append({key: {"$in": list(values)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


FILTER_KEYS = ("region", "year", "kind", "doc_id")
FILTER_ALIASES = {"document": "doc_id", "doc": "doc_id"}
MAX_FILTER_VALUES = 100
MAX_FILTER_CHARS = 200
YEAR_RANGE = (1900, 2100)

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
    if CONTROL_RE.search(value) or SURROGATE_RE.search(value):
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
            shown = str(raw_key)[:40] if isinstance(raw_key, str) and not SURROGATE_RE.search(raw_key) else "?"
            raise _filters_error(f"unknown filter key {raw_key!r}",
                                 f"未知的字段“{shown}”（可用 region、year、kind、doc_id）。")
        for item in _values(key, raw):
            clean = _year(item) if key == "year" else _text(key, item)
            if clean is not None and clean not in fields[key]:
                fields[key].append(clean)
    return Filters(**fields)
