"""Answering: one question through analyse → retrieve → rank → decide → write → verify, as events.

``Answering.stream`` lists the pipeline; each stage is a plain call inside ``with run.stage(...)``:

1. *start* — validate the question, history and filters; make a follow-up self-contained (``rewrite``);
2. *analyse* — the typed question analysis (``analysis``: scope, answer type, focus, parts, named documents);
3. *shape* — a timeline or side-by-side question is answered row by row (``shapes``, each row through
   ``answer_scoped``: the same pipeline within the row's documents);
4. *retrieve* — hybrid candidates within the named documents, ranked by the second stage (``candidates``);
5. *decide* — answered | partial | not_found from the trained answer model (``decide``);
6. *write* — a generating writer's draft, checked once against its passages, or the extractive answer;
7. *verify* — every sentence's citation checked against the passage it cites (``verify``) → ``Answer``.

A refusal reuses the candidates it has; only a refusal under filters asks the whole collection once more
(to say whether the answer lies outside the chosen range).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from typing import Any

from index.zh import SENTENCE_END, WORD_CHAR_RE, has_cjk

from .analysis import DocCatalog, QuestionAnalysis, analyse
from .decide import MAX_BODY_CHARS, MAX_SOURCES, Decision, decide, filters_label, related_windows
from .errors import InvalidQuestionError, LLMUnavailableError
from .evidence import SentenceEvidence
from .filters import Filters, validate_filters
from .markup import strip_markup
from .models import Answer, Citation, Hit, StreamEvent, Suggestion
from .ranking import EvidenceRanker, header_candidates, passage_body
from .resources import Resources
from .retrieval import Mode, merge_overlapping
from .run import Run
from .shapes import scope_of, stream_rows
from .text import CONTROL_RE, SURROGATE_RE
from .validation import validate_history
from .verify import Verified, split_claims, verify, without_flagged
from .writers.base import REFUSAL_PHRASE, DraftStats, History

log = logging.getLogger(__name__)

REFUSAL_TEXT = f"{REFUSAL_PHRASE}。已收录的文件中没有足以回答这个问题的内容，以下文件可能相关，可供查阅。"
FALLBACK_NOTICE = "大模型服务暂不可用或回答无效，已改用摘录式回答。"
FALLBACK_NOTICES = {  # per Answer.fallback_reason
    "unsupported": "大模型的回答有未能在原文中核对到依据的句子，已改用摘录式回答。",
    "declined": "大模型未能根据所选原文作答，已改用摘录式回答。",
}


def clean_question(question: Any, max_chars: int) -> str:
    """Validate a question; raise InvalidQuestionError with a Chinese reason if it is unusable."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"question must be str, got {type(question).__name__}")
    if SURROGATE_RE.search(question):
        raise InvalidQuestionError("lone surrogate in question",
                                   "问题中含有无法识别的字符（不完整的 Unicode 编码），请删除后重新输入。")
    text = strip_markup(CONTROL_RE.sub("", question)).strip()  # <b>雄安新区</b> reads as 雄安新区
    if not text:
        raise InvalidQuestionError("empty question", "请输入问题。")
    if len(text) > max_chars:
        raise InvalidQuestionError(
            f"question too long: {len(text)} > {max_chars}", f"问题过长（{len(text)} 字），请精简到 {max_chars} 字以内。"
        )
    if not WORD_CHAR_RE.search(text):
        raise InvalidQuestionError("question has no words", "问题中没有可识别的文字，请用中文描述您的问题。")
    return text


class Answering:
    """The answering part of one ``Assistant`` (its resources injected)."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.settings = resources.settings

    # -- the stages, callable one by one -----------------------------------------------------
    def catalog(self) -> DocCatalog:
        return self.resources.catalog()

    def analyse(self, question: str) -> QuestionAnalysis:
        """The typed analysis of one question (scope, answer type, focus, parts, named documents)."""
        return analyse(question, self.resources.catalog())

    def retrieve(self, question: str, k: int | None = None, filters: Filters | dict[str, Any] | None = None,
                 mode: Mode | None = None) -> list[Hit]:
        question = clean_question(question, self.settings.max_question_chars)
        analysis = self.analyse(question)
        if analysis.missing_document:
            return []
        hits, _windows = self.candidates(question, analysis, validate_filters(filters), mode)
        return hits[: k or self.settings.top_k]

    def candidates(self, question: str, analysis: QuestionAnalysis, filters: Filters,
                   mode: Mode | None = None) -> tuple[list[Hit], list[SentenceEvidence]]:
        """Fused candidates (within the named documents when there are any), ranked by the second stage,
        and their sentence windows: what the decide stage sees (``eval.train_answer_model`` learns from them)."""
        retriever = self.resources.retriever(mode)
        k = self.settings.candidate_k
        if analysis.target_docs:
            scoped = filters if filters.doc_id else replace(filters, doc_id=list(analysis.target_docs))
            hits = retriever.retrieve(question, k, scoped)
            if analysis.comparison and len(analysis.target_docs) > 1:
                per_doc = max(4, k // len(analysis.target_docs))
                for doc in analysis.target_docs:
                    hits.extend(retriever.retrieve(question, per_doc, replace(filters, doc_id=[doc])))
            by_id: dict[str, Hit] = {}
            for h in hits:
                by_id.setdefault(h.chunk_id, h)
            for pinned in header_candidates(analysis, self.resources.first_passages()):
                held = by_id.get(pinned.chunk_id)
                by_id[pinned.chunk_id] = replace(held, pinned=True) if held is not None else pinned
            hits = merge_overlapping(list(by_id.values()))
        else:
            hits = retriever.retrieve(question, k, filters)
        if len(analysis.parts) > 1:  # several sub-questions: each finds its own passages too
            scoped = replace(filters, doc_id=list(analysis.target_docs)) if analysis.target_docs and not filters.doc_id \
                else filters
            per_part = max(4, k // len(analysis.parts))
            for part in analysis.parts:
                hits.extend(retriever.retrieve(part.text, per_part, scoped))
            hits = merge_overlapping(list({h.chunk_id: h for h in hits}.values()))
        hits = self.resources.rerank(question, hits)
        r = self.resources
        ranker = EvidenceRanker(r.term_weights(), r.gate(), r.similarity(), r.answer_model())
        return ranker.rerank(analysis, hits)

    # -- the pipeline ------------------------------------------------------------------------
    def start(self, question: str, history: History | None, filters: Filters | dict[str, Any] | None,
              writer: str | None) -> Run:
        """Validate the arguments and make a follow-up self-contained (the "rewrite" stage)."""
        t0 = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        turns = validate_history(history, self.settings.history_max_turns, self.settings.history_max_chars_per_turn)
        chosen = self.resources.writer(writer)
        run = Run(writer=chosen, t0=t0, text=text, history=turns, filters=validate_filters(filters))
        run.question = chosen.rewrite(text, turns) if turns else text
        run.timings["rewrite"] = time.perf_counter() - t0
        return run

    def stream(self, question: str, history: History | None = None, filters: Filters | dict[str, Any] | None = None,
               writer: str | None = None) -> Iterator[StreamEvent]:
        """start → analyse → (shape → rows) | retrieve → decide → write → verify, as events."""
        run = self.start(question, history, filters, writer)
        with run.stage("analyse"):
            analysis = self.analyse(run.question)
        if self.settings.shapes:
            with run.stage("shape"):
                scope = scope_of(analysis, self.resources.catalog(), run.filters)
            if scope is not None:
                yield from stream_rows(self, run, scope, analysis)
                return
        yield from self._answer(run, analysis)

    def answer_scoped(self, question: str, filters: Filters, writer: str | None = None) -> Answer:
        """One row of a timeline or comparison: the ordinary pipeline within ``filters``, no shape detection."""
        run = self.start(question, None, filters, writer)
        with run.stage("analyse"):
            analysis = self.analyse(run.question)
        return final_answer(self._answer(run, analysis))

    def _answer(self, run: Run, analysis: QuestionAnalysis) -> Iterator[StreamEvent]:
        base = Answer(question=run.text, text="", rewritten_question=run.question if run.question != run.text else None,
                      writer=run.writer.name, timings=run.timings, analysis=analysis.to_dict())
        if analysis.missing_document:
            yield from self._missing_document(run, base, analysis)
            return
        with run.stage("retrieve"):
            hits, windows = self.candidates(run.question, analysis, run.filters)
        with run.stage("decide"):
            decision = decide(analysis, windows, self.settings.max_answer_sentences, self.resources.answer_model())
        base.evidence_score = round(decision.score, 4)
        base.confidence = decision.confidence
        if decision.status == "not_found":
            yield from self._refuse(run, base, analysis, decision, hits)
            return
        hits = self._whole_sections(decision, hits)
        with run.stage("write"):
            draft, checked = yield from self._write(run, base, hits, decision)
        with run.stage("verify"):
            verified = checked if checked is not None else verify(draft, hits, question=run.question)
        if not verified.citations:
            yield from self._not_found(run, base, decision.message or REFUSAL_TEXT, decision.missing,
                                       decision.related, hits)
            return
        base.text = verified.text
        base.citations = verified.citations
        base.unsupported = verified.unsupported
        base.status = decision.status
        base.missing = decision.missing
        run.finish()
        yield StreamEvent("final", text=base.text, answer=base)

    def _whole_sections(self, decision: Decision, hits: list[Hit]) -> list[Hit]:
        """A broad answer quotes a section whole: each chosen passage body is followed by the next passages
        of the same section (same document and heading path), each quoted whole (up to ``MAX_BODY_CHARS``),
        while the answer holds at most ``MAX_SOURCES`` passages. Returns the hits with those passages
        appended; their bodies join ``decision.chosen`` right after their section's."""
        bodies = [w for w in decision.chosen if w.kind == "body"]
        if not bodies:
            return hits
        by_place = {(c.doc_id, c.ordinal): c for c in self.resources.keyword_index().chunks}
        held = {h.chunk_id for h in hits}
        out = list(hits)
        chosen: list[SentenceEvidence] = []
        sources = len({w.hit for w in decision.chosen})
        for w in decision.chosen:
            chosen.append(w)
            if w.kind != "body":
                continue
            chunk = hits[w.hit].chunk
            for step in (-1, 1):  # back to the section's start first, then on
                ordinal = chunk.ordinal + step
                while (nxt := by_place.get((chunk.doc_id, ordinal))) is not None and nxt.section == chunk.section:
                    body = passage_body(nxt.text)
                    if (body is None or body[1] - body[0] > MAX_BODY_CHARS or nxt.chunk_id in held
                            or sources >= MAX_SOURCES):
                        break
                    sources += 1
                    out.append(Hit(chunk=nxt, score=0.0, pinned=True))
                    held.add(nxt.chunk_id)
                    chosen.append(replace(w, hit=len(out) - 1, start=body[0], end=body[1],
                                          text=nxt.text[body[0]:body[1]]))
                    ordinal += step
        decision.chosen = chosen
        return out

    # -- writing -----------------------------------------------------------------------------
    def _write(self, run: Run, base: Answer, hits: list[Hit],
               decision: Decision) -> Generator[StreamEvent, None, tuple[str, Verified | None]]:
        """A generating writer's draft when it is usable (with its verification, done once), else the
        extractive answer from the chosen windows (verified by the caller)."""
        chosen = without_flagged(decision.chosen, hits)  # a document's instructions are never written (verify drops them too)
        if run.writer.generates:
            draft, checked = yield from self.generated_draft(run, base, hits, chosen)
            if draft:
                return draft, checked
        draft = self.resources.extractive_writer().compose(chosen, hits)
        yield StreamEvent("delta", text=draft)
        return draft, None

    def generated_draft(self, run: Run, base: Answer, hits: list[Hit],
                         evidence: Sequence[SentenceEvidence]) -> Generator[StreamEvent, None, tuple[str, Verified | None]]:
        """A generating writer's draft from the chosen evidence, streamed, and its verification; ("", None)
        (with the fallback notice and ``base.fallback_reason``) when the writer raises
        ``LLMUnavailableError`` (unavailable, garbage), declines (``writer.is_refusal``), or writes a
        sentence its cited passage does not support.

        Refusal is decided before any LLM call; a model that declines anyway is not trusted. Closing
        the stream (cancel) closes the writer's stream, which stops generation on the server.
        """
        writer = run.writer
        parts: list[str] = []
        stats = DraftStats()
        before = sum(base.timings.values())  # the stages before writing: the first token's offset
        t = time.perf_counter()
        reason: str | None = None
        checked: Verified | None = None
        try:
            deltas = writer.draft(run.question, hits, run.history, evidence, stats=stats)
            try:
                for delta in deltas:
                    if not parts:
                        base.timings["first_token"] = before + time.perf_counter() - t
                    parts.append(delta)
                    yield StreamEvent("delta", text=delta)
            finally:
                close = getattr(deltas, "close", None)
                if close is not None:
                    close()
        except LLMUnavailableError as exc:
            log.info("大模型服务不可用或回答无效：%s", exc)
            reason = exc.reason
        draft = "".join(parts)
        if reason == "unavailable":
            base.llm = {**stats.to_dict(), "draft": draft}
        else:
            checked = verify(draft, hits, question=run.question)
            base.llm = {**stats.to_dict(), "draft": draft, "sentences": len(split_claims(draft)),
                        "unsupported": list(checked.unsupported)}
            if reason is None and writer.is_refusal(draft):
                reason = "declined"
            elif reason is None and (checked.unsupported or not checked.citations):
                reason = "unsupported"
        if reason is None:
            return draft, checked
        log.info("大模型回答未采用（%s），改用摘录式回答", reason)
        base.writer = "extractive"
        base.notice = FALLBACK_NOTICES.get(reason, FALLBACK_NOTICE)
        base.fallback_reason = reason
        if parts:
            yield StreamEvent("reset", text="")
        return "", None

    # -- refusals ----------------------------------------------------------------------------
    def _refuse(self, run: Run, base: Answer, analysis: QuestionAnalysis, decision: Decision,
                hits: list[Hit]) -> Iterator[StreamEvent]:
        """The decide stage found no answer: say so (within the filters, when there are any)."""
        if not has_cjk(run.text):
            base.notice = "请尽量用中文提问。"
        message = decision.message
        if not run.filters.is_empty():
            message = self._outside_filters(run.question, analysis, run.filters, message)
        yield from self._not_found(run, base, message, decision.missing, decision.related, hits)

    def _not_found(self, run: Run, answer: Answer, message: str, missing: list[str],
                   related: Sequence[SentenceEvidence], hits: Sequence[Hit]) -> Iterator[StreamEvent]:
        answer.refused = True
        answer.status = "not_found"
        answer.text = message
        answer.missing = list(missing)
        answer.citations = []
        answer.related = self.related_citations(related, hits)
        seen: set[str] = set()
        for citation in answer.related:
            if citation.doc_id in seen:
                continue
            seen.add(citation.doc_id)
            answer.suggestions.append(Suggestion(citation.doc_id, citation.title, citation.source,
                                                 citation.score, citation.section))
        run.finish()
        yield StreamEvent("delta", text=answer.text)
        yield StreamEvent("final", text=answer.text, answer=answer)

    def related_citations(self, windows: Sequence[SentenceEvidence], hits: Sequence[Hit]) -> list[Citation]:
        """Verified citations of the related windows (shown apart as 相关内容)."""
        if not windows:
            return []
        draft = "\n".join(f"{w.text.rstrip(SENTENCE_END)}[{w.hit + 1}]。" for w in windows)
        return verify(draft, hits).citations

    def _missing_document(self, run: Run, answer: Answer, analysis: QuestionAnalysis) -> Iterator[StreamEvent]:
        """The question names a document that is not indexed: say so, list the nearest ones (their related
        passages are the only retrieval this answer makes)."""
        documents = self.resources.manifest.documents
        titles = [documents[d].title for d in analysis.closest_docs if d in documents]
        message = f"{REFUSAL_PHRASE}。未收录《{analysis.document_label}》。"
        if titles:
            message += "已收录的相近文件有：" + "、".join(f"《{t}》" for t in titles) + "。以下相关内容摘自这些文件，并非《" + \
                analysis.document_label + "》。"
        related: list[SentenceEvidence] = []
        hits: list[Hit] = []
        if analysis.closest_docs:
            scoped = replace(analysis, target_docs=list(analysis.closest_docs), missing_document=False)
            with run.stage("retrieve"):
                hits, windows = self.candidates(run.question, scoped, Filters(doc_id=list(analysis.closest_docs)))
            related = related_windows([w for w in windows if w.focus >= 0.4])
        missing = [f"未收录《{analysis.document_label}》"]
        yield from self._not_found(run, answer, message, missing, related, hits)

    def _outside_filters(self, question: str, analysis: QuestionAnalysis, filters: Filters, message: str) -> str:
        """A refusal under filters: say so, and whether the whole collection holds an answer."""
        label = filters_label(filters)
        _hits, windows = self.candidates(question, analysis, Filters())
        if decide(analysis, windows, self.settings.max_answer_sentences,
                  self.resources.answer_model()).status != "not_found":
            return (f"{REFUSAL_PHRASE}。在所选范围（{label}）内未找到相关内容；全部文件中有可能的答案，"
                    "可清除筛选条件后再问一次。")
        return message.replace(f"{REFUSAL_PHRASE}。", f"{REFUSAL_PHRASE}。在所选范围（{label}）内，", 1)


def final_answer(events: Iterator[StreamEvent]) -> Answer:
    """The Answer of a stream's final event (the stream consumed)."""
    answer: Answer | None = None
    for event in events:
        if event.type == "final":
            answer = event.answer
    assert answer is not None
    return answer
