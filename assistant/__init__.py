"""京津冀协同发展政策助手 — a Chinese policy assistant with verified citations.

Python API::

    from assistant import Assistant, Answer, Citation
    bot = Assistant()
    ans = bot.ask("雄安新区承接疏解有哪些支持政策？")
"""

from __future__ import annotations

from .errors import (
    AssistantError,
    DocumentLoadError,
    IndexBusyError,
    IndexConfigMismatchError,
    IndexNotReadyError,
    InvalidFiltersError,
    InvalidHistoryError,
    InvalidQuestionError,
    InvalidSettingsError,
    LLMUnavailableError,
    PermissionDeniedError,
    RebuildWouldDropError,
    StoreUnavailableError,
)
from .models import Answer, AnswerSection, Citation, Filters, Hit, StreamEvent, Suggestion
from .service import Assistant, ask, default_assistant
from .settings import Settings, get_settings

__all__ = [
    "Answer",
    "AnswerSection",
    "Assistant",
    "AssistantError",
    "Citation",
    "DocumentLoadError",
    "Filters",
    "Hit",
    "IndexBusyError",
    "IndexConfigMismatchError",
    "IndexNotReadyError",
    "InvalidFiltersError",
    "InvalidHistoryError",
    "InvalidQuestionError",
    "InvalidSettingsError",
    "LLMUnavailableError",
    "PermissionDeniedError",
    "RebuildWouldDropError",
    "Settings",
    "StoreUnavailableError",
    "StreamEvent",
    "Suggestion",
    "ask",
    "default_assistant",
    "get_settings",
]
