"""Moved to ``assistant/uploads.py`` (the service stores uploads itself); kept for existing imports."""

from ..uploads import (
    MAX_NAME_CHARS,
    UploadError,
    is_uploaded,
    remove_upload,
    safe_filename,
    store_upload,
    uploads_root,
)

__all__ = ["MAX_NAME_CHARS", "UploadError", "is_uploaded", "remove_upload", "safe_filename", "store_upload",
           "uploads_root"]
