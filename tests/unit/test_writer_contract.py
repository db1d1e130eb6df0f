"""The writers' shared contract: one test base, run against the extractive and the llm writer.

The llm writer talks to a scripted chat model here (``tests.fakes.ScriptedChat``): what is tested
is the writer's own logic (prompt → deltas → markers → its checks). ``tests/test_llm.py`` runs it
against a fake HTTP server and the real llama.cpp model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from assistant.errors import LLMUnavailableError
from assistant.evidence import SentenceEvidence
from assistant.models import Answer, Hit, StreamEvent
from assistant.run import Run
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.text import TermWeights
from assistant.verify import verify
from assistant.writers.base import REFUSAL_PHRASE, AnswerWriter, DraftStats, History, is_bare_refusal
from assistant.writers.extractive import ExtractiveWriter
from assistant.writers.llm import LLMWriter
from index.models import Chunk
from tests.fakes import ScriptedChat, hit

QUESTION = "天津市一般公共预算收入增长多少？"
ANSWER_SENTENCE = "一般公共预算收入增长11.8%"


def tianjin_passages(passages: list[Chunk]) -> list[Hit]:
    return [hit(c) for c in passages if c.doc_id == "tianjin"] + [hit(c) for c in passages if c.doc_id != "tianjin"]


def lead_window(hits: list[Hit]) -> SentenceEvidence:
    text = hits[0].chunk.text
    return SentenceEvidence(hit=0, start=0, end=len(text), text=text, focus=1.0, topic=1.0, type_ok=True,
                            scope_ok=True, scope_issue="", score=1.0)


class WriterContract:
    """What the service relies on, for every writer."""

    @pytest.fixture
    def writer(self, weights: TermWeights) -> AnswerWriter:
        raise NotImplementedError

    def test_name_and_kind_are_declared(self, writer: AnswerWriter) -> None:
        assert isinstance(type(writer).name, str) and type(writer).name
        assert isinstance(type(writer).generates, bool)

    def test_write_is_the_concatenated_stream(self, writer: AnswerWriter, passages: list[Chunk]) -> None:
        hits = tianjin_passages(passages)
        evidence = [lead_window(hits)]
        assert writer.write(QUESTION, hits, (), evidence) == "".join(writer.stream(QUESTION, hits, (), evidence))

    def test_markers_point_into_the_passages(self, writer: AnswerWriter, passages: list[Chunk]) -> None:
        hits = tianjin_passages(passages)
        draft = writer.write(QUESTION, hits, (), [lead_window(hits)])
        markers = [int(n) for n in re.findall(r"\[(\d+)\]", draft)]
        assert markers and all(1 <= n <= len(hits) for n in markers), draft

    def test_a_draft_from_the_evidence_verifies(self, writer: AnswerWriter, passages: list[Chunk]) -> None:
        hits = tianjin_passages(passages)
        draft = "".join(writer.draft(QUESTION, hits, (), [lead_window(hits)], stats=DraftStats()))
        checked = verify(draft, hits)
        assert ANSWER_SENTENCE in checked.text
        assert checked.citations and not checked.unsupported, draft
        assert not writer.is_refusal(draft)

    def test_the_refusal_phrase_is_a_refusal(self, writer: AnswerWriter) -> None:
        assert writer.is_refusal(f"{REFUSAL_PHRASE}。")

    def test_a_question_without_history_is_not_rewritten(self, writer: AnswerWriter) -> None:
        assert writer.rewrite(QUESTION, ()) == QUESTION


class TestExtractiveWriter(WriterContract):
    @pytest.fixture
    def writer(self, weights: TermWeights) -> AnswerWriter:
        return ExtractiveWriter(weights)

    def test_without_passages_it_writes_the_refusal(self, writer: AnswerWriter) -> None:
        draft = writer.write(QUESTION, [])
        assert writer.is_refusal(draft) and is_bare_refusal(draft)


class TestLLMWriter(WriterContract):
    reply: ClassVar[str] = f"天津市{ANSWER_SENTENCE}[1]。"

    @pytest.fixture
    def writer(self, weights: TermWeights) -> AnswerWriter:
        return LLMWriter(Settings(), chat=ScriptedChat(self.reply))

    def test_the_prompt_holds_the_evidence_and_the_question(self, passages: list[Chunk]) -> None:
        chat = ScriptedChat(self.reply)
        hits = tianjin_passages(passages)
        LLMWriter(Settings(), chat=chat).write(QUESTION, hits, (), [lead_window(hits)])
        last = chat.requests[-1][-1].content
        assert QUESTION in last and "11.8%" in last and "[1]" in last

    @pytest.mark.parametrize("garbage", ["", "The answer is 42 [1].", "哈" * 200])
    def test_a_garbage_draft_raises_with_its_reason(self, passages: list[Chunk], garbage: str) -> None:
        writer = LLMWriter(Settings(), chat=ScriptedChat(garbage))
        hits = tianjin_passages(passages)
        with pytest.raises(LLMUnavailableError) as info:
            "".join(writer.draft(QUESTION, hits, (), [lead_window(hits)]))
        assert info.value.reason == "garbage"

    def test_a_declining_draft_is_a_refusal(self) -> None:
        writer = LLMWriter(Settings(), chat=ScriptedChat(""))
        assert writer.is_refusal("资料中没有提到社保卡的用途。")
        assert writer.is_refusal("抱歉，无法回答。")

    def test_a_connection_error_is_unavailable(self, passages: list[Chunk]) -> None:
        class Down(ScriptedChat):
            def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
                raise ConnectionRefusedError("no server")

        writer = LLMWriter(Settings(), chat=Down(""))
        with pytest.raises(LLMUnavailableError) as info:
            "".join(writer.draft(QUESTION, tianjin_passages(passages)))
        assert info.value.reason == "unavailable"

    def test_stats_are_filled(self, passages: list[Chunk]) -> None:
        stats = DraftStats()
        hits = tianjin_passages(passages)
        "".join(LLMWriter(Settings(), chat=ScriptedChat(self.reply)).draft(QUESTION, hits, (), [lead_window(hits)],
                                                                           stats=stats))
        assert stats.tokens > 0 and stats.prompt_tokens_est > 0 and stats.first_token_s is not None


# -- the service's use of a generating writer (fallback causes) -----------------------------------


class Scripted(AnswerWriter):
    """A generating writer with a fixed draft (or a fixed failure)."""

    name: ClassVar[str] = "scripted"
    generates: ClassVar[bool] = True

    def __init__(self, draft: str, fail: str | None = None) -> None:
        self.text, self.fail = draft, fail

    def stream(self, question: str, passages: Any, history: History = (), evidence: Any = None) -> Iterator[str]:
        yield from (self.text[i : i + 3] for i in range(0, len(self.text), 3))
        if self.fail:
            raise LLMUnavailableError("scripted failure", reason=self.fail)


@pytest.mark.parametrize(("writer", "reason"), [
    (Scripted(f"天津市{ANSWER_SENTENCE}[1]。"), None),
    (Scripted(f"{REFUSAL_PHRASE}。"), "declined"),
    (Scripted("天津市还将给每位市民发放五百元交通补贴[1]。"), "unsupported"),
    (Scripted("天津市一般公共预算收入增长11.8%。"), "unsupported"),  # no marker
    (Scripted("天津市", fail="unavailable"), "unavailable"),
    (Scripted("zzz", fail="garbage"), "garbage"),
])
def test_the_service_falls_back_with_the_writers_reason(passages: list[Chunk], writer: Scripted,
                                                        reason: str | None) -> None:
    hits = tianjin_passages(passages)
    base = Answer(question=QUESTION, text="", writer=writer.name)
    run = Run(writer=writer, text=QUESTION, question=QUESTION)
    gen = Assistant(Settings()).answering.generated_draft(run, base, hits, [lead_window(hits)])
    events: list[StreamEvent] = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            draft, checked = stop.value
            break
    assert base.fallback_reason == reason
    if reason is None:  # the draft's one verification travels with it (the verify stage reuses it)
        assert draft == writer.text and base.writer == "scripted" and base.notice is None
        assert checked is not None and len(checked.citations) == 1
        assert base.llm["sentences"] == 1 and base.llm["unsupported"] == []
    else:
        assert draft == "" and checked is None and base.writer == "extractive" and base.notice and "摘录" in base.notice
        assert events[-1].type == "reset"
        assert ("sentences" in base.llm) is (reason != "unavailable")
