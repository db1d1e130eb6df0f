"""One index writer at a time, across processes, and a generation number readers can watch.

Every write to the index (``assistant index``, an upload, a delete, a rebuild) runs inside
:func:`write_lock`: an exclusive ``filelock`` lock on ``<data_dir>/.index.lock``. A second writer
waits (saying "另一个索引任务正在进行") up to ``settings.index_lock_timeout`` seconds, then fails
with :class:`IndexBusyError`; nothing either of them wrote is lost.

When a write ends (successfully or not), the writer bumps ``<data_dir>/index.generation``. A
reader (``Assistant``) compares the number with the one it loaded and reloads its manifest and
keyword index before answering when another process changed the index.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import IndexBusyError
from .settings import IndexSettings

log = logging.getLogger(__name__)

WAIT_MESSAGE = "另一个索引任务正在进行，正在等待其完成…"
WaitFn = Callable[[str], None]

# A thread that already holds the lock of a data folder may enter it again (e.g. a rebuild that
# indexes): flock locks belong to open files, so a second FileLock object would block on itself.
_held = threading.local()


def _held_paths() -> dict[str, int]:
    if not hasattr(_held, "paths"):
        _held.paths = {}
    return _held.paths  # type: ignore[no-any-return]


def _lock(settings: IndexSettings) -> FileLock:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(settings.lock_path, thread_local=False)


@contextlib.contextmanager
def write_lock(settings: IndexSettings, on_wait: WaitFn | None = None, timeout: float | None = None) -> Iterator[None]:
    """Hold the index write lock of ``settings.data_dir``; bump the generation when leaving."""
    key = str(Path(settings.data_dir).resolve())
    held = _held_paths()
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    lock = _lock(settings)
    limit = settings.index_lock_timeout if timeout is None else timeout
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("%s（最长 %.0f 秒）", WAIT_MESSAGE, limit)
        if on_wait is not None:
            on_wait(WAIT_MESSAGE)
        try:
            lock.acquire(timeout=limit)
        except Timeout as exc:
            raise IndexBusyError(
                f"index lock {settings.lock_path} still held after {limit:.0f}s",
                f"另一个索引任务正在进行，已等待 {limit:.0f} 秒仍未结束，请稍后重试。",
            ) from exc
    held[key] = 1
    try:
        yield
    finally:
        held.pop(key, None)
        try:
            bump_generation(settings)
        finally:
            lock.release()


@contextlib.contextmanager
def try_write_lock(settings: IndexSettings) -> Iterator[bool]:
    """The write lock if it is free right now (``True``), else ``False`` at once (readers use
    this to repair a stale keyword index only when no writer is busy)."""
    key = str(Path(settings.data_dir).resolve())
    if _held_paths().get(key):
        yield True
        return
    if not settings.data_dir.exists():
        yield False
        return
    lock = _lock(settings)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        yield False
        return
    _held_paths()[key] = 1
    try:
        yield True
    finally:
        _held_paths().pop(key, None)
        lock.release()


def read_generation(settings: IndexSettings) -> int:
    """The index generation: 0 before the first write; unreadable counts as 0."""
    try:
        return int(settings.generation_path.read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return 0


def bump_generation(settings: IndexSettings) -> int:
    """Increase the generation by one (call with the write lock held); atomic replace."""
    path = settings.generation_path
    value = read_generation(settings) + 1
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        tmp.write_text(str(value), encoding="ascii")
        os.replace(tmp, path)
    except OSError:
        log.exception("could not write the index generation %s", path)
        tmp.unlink(missing_ok=True)
    return value
