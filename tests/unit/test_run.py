"""``Run.stage``: each stage of the answering pipeline is a plain call inside ``with run.stage(name):``."""

from __future__ import annotations

import pytest

from assistant.run import Run
from assistant.text import TermWeights
from assistant.writers.extractive import ExtractiveWriter


def test_stages_are_timed_in_the_order_they_run_even_when_one_fails(weights: TermWeights) -> None:
    run = Run(writer=ExtractiveWriter(weights), text="q", question="q")
    with run.stage("analyse"):
        pass
    with pytest.raises(ValueError), run.stage("retrieve"):
        raise ValueError("store down")
    run.finish()
    assert list(run.timings) == ["analyse", "retrieve", "total"]
    assert all(t >= 0 for t in run.timings.values())
    assert run.timings["total"] >= run.timings["analyse"] + run.timings["retrieve"]
