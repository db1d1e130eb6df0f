"""The second ranking stage (``EvidenceRanker``) and the gate of the decide stage, on a small collection."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.analysis import analyse
from assistant.decide import decide
from assistant.evidence import Gate, SentenceEvidence
from assistant.ranking import EvidenceRanker
from assistant.text import TermWeights
from index.models import Chunk
from tests.fakes import hit

NUMBER_QUESTION = "天津市一般公共预算收入增长多少？"


def evidence(**kw: object) -> SentenceEvidence:
    base = SentenceEvidence(hit=0, start=0, end=10, text="某句话。", focus=0.7, topic=0.5, type_ok=True, scope_ok=True,
                            scope_issue="", score=1.0, gate=Gate(threshold=0.5))
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kw", "answers"), [
    ({}, True),
    ({"prob": 0.49}, False),  # below the model's threshold
    ({"type_ok": False}, False),  # a value question needs the asked type …
    ({"type_ok": False, "open_type": True}, True),  # … an open question does not
    ({"scope_ok": False}, False),
    ({"places_ok": False}, False),
    ({"heading": True}, False),  # a heading labels, it never answers
    ({"has_anchor": True, "anchor": 0.0}, False),  # the core topic (京津冀, 雄安 …) is nowhere near
    ({"has_anchor": True, "anchor": 0.5}, True),
])
def test_the_gate(kw: dict[str, object], answers: bool) -> None:
    assert evidence(prob=0.7, **kw).answers is answers if "prob" not in kw else evidence(**kw).answers is answers


def test_the_gate_follows_its_threshold() -> None:
    strict = Gate(threshold=0.8)
    assert not evidence(prob=0.7, gate=strict).answers
    assert evidence(prob=0.8, gate=strict).answers


def test_the_window_holding_the_asked_figure_scores_best(passages: list[Chunk], weights: TermWeights) -> None:
    ranker = EvidenceRanker(weights)
    hits = [hit(c) for c in passages]
    windows = ranker.windows(analyse(NUMBER_QUESTION), hits)
    assert windows, "no window scored"
    assert [w.score for w in windows] == sorted((w.score for w in windows), reverse=True)
    best = windows[0]
    assert hits[best.hit].chunk.doc_id == "tianjin" and "11.8%" in best.text
    assert best.answers and best.type_ok


def test_rerank_puts_the_answering_passage_first_and_repoints_windows(passages: list[Chunk],
                                                                      weights: TermWeights) -> None:
    ranker = EvidenceRanker(weights)
    hits = [hit(c) for c in passages]  # the tianjin passage comes last from the first stage
    reranked, windows = ranker.rerank(analyse(NUMBER_QUESTION), hits)
    assert reranked[0].chunk.doc_id == "tianjin"
    assert sorted(h.chunk_id for h in reranked) == sorted(h.chunk_id for h in hits)
    for w in windows:
        assert w.text in reranked[w.hit].chunk.text  # every window points at its passage's new place
    assert [h.rerank_score for h in reranked] == sorted((h.rerank_score or 0.0 for h in reranked), reverse=True)


def test_decide_answers_from_the_gate_and_refuses_without_evidence(passages: list[Chunk],
                                                                   weights: TermWeights) -> None:
    ranker = EvidenceRanker(weights)
    analysis = analyse(NUMBER_QUESTION)
    _hits, windows = ranker.rerank(analysis, [hit(c) for c in passages])
    decision = decide(analysis, windows)
    assert decision.status == "answered" and "11.8%" in decision.chosen[0].text
    _hits, none = ranker.rerank(analysis, [hit(c) for c in passages if c.doc_id != "tianjin"])
    refused = decide(analysis, none)
    assert refused.status == "not_found" and refused.message.startswith("未在已收录文件中找到依据")
