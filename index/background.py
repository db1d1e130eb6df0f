"""One background thread that runs an ingest run's writes in order, overlapped with embedding.

onnxruntime (and torch) release the GIL while they encode, and on two cores their threads leave
gaps; the Chroma upserts, manifest saves and keyword tokenization of batch *n* fill those gaps
while batch *n + 1* is embedded. Writes stay strictly in submission order (one worker), so the
crash-safety order of the pipeline (chunks stored → manifest saved → stale chunks deleted) holds.

Hand-written because ``concurrent.futures`` alone would keep running later writes after an
earlier one failed; here the first failure stops the rest and is re-raised to the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any


class OrderedWriter:
    """``submit`` queues a write; ``drain`` waits for all of them and re-raises the first error."""

    def __init__(self, name: str = "index-writer") -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._futures: list[Future[None]] = []
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self.raise_if_failed()
        self._futures.append(self._pool.submit(self._guarded, fn, *args))

    def _guarded(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            if self._error is not None:
                return  # an earlier write failed: later ones must not run past it
        try:
            fn(*args)
        except BaseException as exc:
            with self._lock:
                self._error = self._error or exc
            raise

    def raise_if_failed(self) -> None:
        with self._lock:
            error = self._error
        if error is not None:
            raise error

    def drain(self) -> None:
        """Wait for every queued write; raise the first failure, if any."""
        futures, self._futures = self._futures, []
        for future in futures:
            future.exception()  # waits; the error itself is kept in self._error
        self.raise_if_failed()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> OrderedWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Even when the caller failed, let queued writes finish: they are complete batches.
        try:
            if exc is None:
                self.drain()
        finally:
            self.close()
