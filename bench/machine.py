"""What the machine was doing while a figure was measured: load, this process's CPU time, the others' share.

A wall time on a shared machine says as much about the neighbours as about the code. :func:`measure` records,
around any timed part: the load average at its start and end (``os.getloadavg``), the CPU seconds this process
used (all its threads), the share of the machine's CPU time that was busy, the share this process had, and the
share stolen by the hypervisor (``/proc/stat``; steal does not show in the load average, and on a virtual machine it
can slow the same code several-fold from one day to the next). A figure with ``own_share`` well below
``busy_share`` was measured while something else ran.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .results import MachineState


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_ticks() -> tuple[int, int, int] | None:
    """(total, idle incl. iowait, steal) jiffies of all CPUs since boot; None where /proc/stat is absent."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    steal = fields[7] if len(fields) > 7 else 0
    return sum(fields[:8]), idle, steal


@dataclass
class Span:
    """Filled in when the ``with measure() as span`` block ends."""

    wall_s: float = 0.0
    state: MachineState = field(default_factory=MachineState)


@contextmanager
def measure() -> Iterator[Span]:
    span = Span()
    load_start, ticks_start = _load(), _cpu_ticks()
    cpu_start, t0 = time.process_time(), time.perf_counter()
    try:
        yield span
    finally:
        span.wall_s = time.perf_counter() - t0
        cpu_s = time.process_time() - cpu_start
        cpus = os.cpu_count() or 1
        state = MachineState(cpu_s=round(cpu_s, 2), cpus=cpus, load_start=load_start, load_end=_load(),
                             own_share=round(cpu_s / (span.wall_s * cpus), 3) if span.wall_s > 0 else None)
        ticks_end = _cpu_ticks()
        if ticks_start and ticks_end and ticks_end[0] > ticks_start[0]:
            total = ticks_end[0] - ticks_start[0]
            state.busy_share = round(1 - (ticks_end[1] - ticks_start[1]) / total, 3)
            state.steal_share = round((ticks_end[2] - ticks_start[2]) / total, 3)
        span.state = state
