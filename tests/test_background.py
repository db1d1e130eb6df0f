"""The ordered background writer of an ingest run (pure logic: no model, no store)."""

from __future__ import annotations

import threading
import time

import pytest

from index.background import OrderedWriter


def test_writes_run_in_order_on_one_other_thread() -> None:
    seen: list[tuple[int, str]] = []
    with OrderedWriter() as writer:
        for i in range(20):
            # Earlier writes sleep longer: only strict ordering keeps them first.
            writer.submit(lambda i=i: (time.sleep(0.002 * (20 - i)), seen.append((i, threading.current_thread().name))))
    assert [i for i, _ in seen] == list(range(20))
    names = {name for _, name in seen}
    assert len(names) == 1 and names != {threading.current_thread().name}


def test_first_failure_stops_later_writes_and_is_raised() -> None:
    done: list[int] = []

    def write(i: int) -> None:
        if i == 3:
            raise ValueError("boom")
        done.append(i)

    writer = OrderedWriter()
    for i in range(6):
        try:
            writer.submit(write, i)
        except ValueError:
            break  # submit re-raises once the failure has happened
    with pytest.raises(ValueError, match="boom"):
        writer.drain()
    writer.close()
    assert done == [0, 1, 2]


def test_caller_error_still_lets_queued_writes_finish() -> None:
    done: list[int] = []
    with pytest.raises(RuntimeError), OrderedWriter() as writer:
        writer.submit(lambda: (time.sleep(0.05), done.append(1)))
        raise RuntimeError("embedding failed")
    assert done == [1]
