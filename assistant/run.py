"""One question on its way through the answering pipeline: its cleaned arguments and its stage timings.

Each stage is a plain call inside ``with run.stage("analyse"):``, so that the pipeline reads as the
list of its steps and each step's time lands in ``timings`` (``Answer.timings``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .filters import Filters
from .writers.base import AnswerWriter


@dataclass
class Run:
    """The cleaned question (``text``), the question answered (the rewritten follow-up, or ``text``), the
    history, the filters, the writer and the timings of the stages so far (seconds, by stage name)."""

    writer: AnswerWriter
    t0: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    text: str = ""
    question: str = ""
    history: list[tuple[str, str]] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``."""
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = time.perf_counter() - t

    def finish(self) -> None:
        """Record the total time since the question arrived."""
        self.timings["total"] = time.perf_counter() - self.t0
