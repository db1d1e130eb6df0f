"""The audit log: one JSON line per administrative action in ``<data_dir>/audit.jsonl``.

Each line records who (the logged-in user, or the operating-system user for the command line),
when (UTC, ISO 8601), what (``action``: login, lockout, session, users-reload, upload, delete,
rebuild, index, users-add, users-unlock, users-enable, …), on which file(s), and the result (``ok``, ``error``,
``denied``, ``throttled``, ``locked``) with a short Chinese message; logins add the client ``address``. Lines are
appended with one ``write`` each (whole lines even with several writers) to a file of mode 600.
Writing the log never stops the action it records: a failure to write is logged instead.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..settings import Settings

log = logging.getLogger(__name__)

Outcome = Literal["ok", "error", "denied", "throttled", "locked"]
SYSTEM_USER = "系统"
_lock = threading.Lock()


def os_user() -> str:
    """The operating-system user running a command-line action."""
    try:
        return f"{getpass.getuser()}（命令行）"
    except Exception:  # no passwd entry, no LOGNAME
        return "命令行"


def record(settings: Settings, user: str | None, action: str, files: Sequence[str | Path] | str | None = None,
           result: Outcome = "ok", message: str = "", **extra: Any) -> None:
    """Append one audit line; never raises."""
    if isinstance(files, (str, Path)):
        files = [files]
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "user": user or "",
        "action": action,
        "files": [str(f) for f in files or []],
        "result": result,
        "message": message,
        **extra,
    }
    line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    path = settings.audit_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
    except OSError:
        log.exception("could not write the audit log %s", path)


def read(settings: Settings) -> list[dict[str, Any]]:
    """All audit entries (oldest first); unreadable lines are skipped."""
    try:
        lines = settings.audit_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
