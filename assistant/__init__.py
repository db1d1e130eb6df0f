"""京津冀协同发展政策助手 — a Chinese policy assistant with verified citations.

Python API::

    from assistant import Assistant, Answer, Citation
    bot = Assistant()
    ans = bot.ask("雄安新区承接疏解有哪些支持政策？")
"""

from __future__ import annotations

from index.errors import (
    AssistantError,
    DocumentLoadError,
    IndexConfigMismatchError,
    IndexNotReadyError,
    InvalidQuestionError,
    LLMUnavailableError,
    PermissionDeniedError,
    StoreUnavailableError,
)
from index.settings import Settings, get_settings

from .models import Answer, Citation, Filters, Hit, StreamEvent, Suggestion
from .service import Assistant, ask, default_assistant

__all__ = [
    "Answer",
    "Assistant",
    "AssistantError",
    "Citation",
    "DocumentLoadError",
    "Filters",
    "Hit",
    "IndexConfigMismatchError",
    "IndexNotReadyError",
    "InvalidQuestionError",
    "LLMUnavailableError",
    "PermissionDeniedError",
    "Settings",
    "StoreUnavailableError",
    "StreamEvent",
    "Suggestion",
    "ask",
    "default_assistant",
    "get_settings",
]
