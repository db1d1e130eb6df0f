"""The project's exception family: the index's errors (``index/errors.py``) and the answering stage's.

Every exception carries a Chinese ``user_message`` safe to show to officials (no paths to
secrets, no tracebacks) while ``str(exc)`` keeps the developer-facing English detail.
"""

from __future__ import annotations

from index.errors import (
    AssistantError,
    ConversionError,
    DocumentLoadError,
    FileTooLargeError,
    IndexBusyError,
    IndexConfigMismatchError,
    IndexNotReadyError,
    ModelNotAvailableError,
    RebuildWouldDropError,
    StoreUnavailableError,
    UnsupportedFileError,
)

__all__ = [
    "AssistantError",
    "ConversionError",
    "DocumentLoadError",
    "FileTooLargeError",
    "IndexBusyError",
    "IndexConfigMismatchError",
    "IndexNotReadyError",
    "InvalidFiltersError",
    "InvalidHistoryError",
    "InvalidQuestionError",
    "InvalidSettingsError",
    "LLMUnavailableError",
    "ModelNotAvailableError",
    "PermissionDeniedError",
    "RebuildWouldDropError",
    "StoreUnavailableError",
    "UnsupportedFileError",
]


class InvalidQuestionError(AssistantError):
    user_message = "问题无效，请输入一个中文问题。"


class InvalidFiltersError(InvalidQuestionError):
    user_message = "检索范围（filters）无效。"


class InvalidHistoryError(InvalidQuestionError):
    user_message = "对话历史（history）无效。"


class InvalidSettingsError(AssistantError):
    """A setting given to ``Assistant(**overrides)`` is unknown or has a value of the wrong kind."""

    user_message = "设置项无效。"


class LLMUnavailableError(AssistantError):
    """A generating writer could not write a usable draft. ``reason`` is what ``Answer.fallback_reason``
    reports: ``"unavailable"`` (connection error, timeout, HTTP error) or ``"garbage"`` (the model wrote
    an empty, non-Chinese or degenerate draft)."""

    user_message = "大模型服务暂不可用，已改用摘录式回答。"

    def __init__(self, detail: str = "", user_message: str | None = None, reason: str = "unavailable") -> None:
        super().__init__(detail, user_message)
        self.reason = reason


class PermissionDeniedError(AssistantError):
    user_message = "没有权限执行此操作。"
