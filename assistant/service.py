"""The service layer: ``Assistant`` *is* the Python API; the CLI, the app and the evaluation call it.

Pipeline per question: validate → rewrite follow-up → retrieve (hybrid) → (rerank) → evidence
score → refuse, or write (extractive | llm, with fallback) → verify citations → Answer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from index.embedder import Embedder, get_embedder
from index.errors import AssistantError, InvalidQuestionError, LLMUnavailableError
from index.keyword import KeywordIndex
from index.locking import WaitFn, read_generation
from index.manifest import DocEntry, Manifest
from index.models import IndexReport
from index.pipeline import Indexer, ProgressFn
from index.settings import Settings
from index.store import ChromaStore

from .evidence import EvidenceScorer
from .models import Answer, Filters, Hit, StreamEvent, Suggestion
from .retrieval import CrossEncoderReranker, HybridRetriever, Mode
from .text import TermWeights, has_cjk
from .validation import validate_filters, validate_history
from .verify import verify
from .writers.base import REFUSAL_PHRASE, AnswerWriter, History
from .writers.extractive import ExtractiveWriter

log = logging.getLogger(__name__)

REFUSAL_TEXT = f"{REFUSAL_PHRASE}。已收录的文件中没有足以回答这个问题的内容，以下文件可能相关，可供查阅。"
FALLBACK_NOTICE = "大模型服务暂不可用或回答无效，已改用摘录式回答。"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MEANINGFUL = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")


def clean_question(question: Any, max_chars: int) -> str:
    """Validate a question; raise InvalidQuestionError with a Chinese reason if it is unusable."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"question must be str, got {type(question).__name__}")
    if _SURROGATE.search(question):
        raise InvalidQuestionError("lone surrogate in question",
                                   "问题中含有无法识别的字符（不完整的 Unicode 编码），请删除后重新输入。")
    text = _CONTROL.sub("", question).strip()
    if not text:
        raise InvalidQuestionError("empty question", "请输入问题。")
    if len(text) > max_chars:
        raise InvalidQuestionError(
            f"question too long: {len(text)} > {max_chars}", f"问题过长（{len(text)} 字），请精简到 {max_chars} 字以内。"
        )
    if not _MEANINGFUL.search(text):
        raise InvalidQuestionError("question has no words", "问题中没有可识别的文字，请用中文描述您的问题。")
    return text


class Assistant:
    """Ask questions about the indexed policy documents.

    ``Assistant()`` uses the ``ASSISTANT_*`` settings; keyword arguments override fields
    (``Assistant(data_dir=..., writer="llm")``) or pass a whole ``settings=Settings(...)``.
    Heavy resources (model, stores) load lazily on first use, once, and are thread-safe.
    """

    def __init__(self, settings: Settings | None = None, *, writer: str | AnswerWriter | None = None, **overrides: Any) -> None:
        base = settings or Settings()
        if isinstance(writer, str):
            overrides["writer"] = writer
        self.settings = base.model_copy(update=overrides) if overrides else base
        if "data_dir" in overrides:
            self.settings.data_dir = Path(overrides["data_dir"])
        self._custom_writer = writer if isinstance(writer, AnswerWriter) else None
        self._lock = threading.RLock()
        self._embedder: Embedder | None = None
        self._store: ChromaStore | None = None
        self._keyword: KeywordIndex | None = None
        self._manifest: Manifest | None = None
        self._weights: TermWeights | None = None
        self._reranker: CrossEncoderReranker | None = None
        self._llm_writer: AnswerWriter | None = None

    # -- resources ------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings)
            return self._embedder

    @property
    def store(self) -> ChromaStore:
        with self._lock:
            if self._store is None:
                self._store = ChromaStore(self.settings)
            return self._store

    def indexer(self) -> Indexer:
        return Indexer(self.settings, embedder=self.embedder, store=self.store)

    def _load_indexes(self) -> None:
        """Load the manifest and keyword index once, and again whenever the index generation
        changed (a write by another process or another Assistant): checked before each answer."""
        generation = read_generation(self.settings)
        with self._lock:
            if (self._keyword is not None and self._manifest is not None
                    and getattr(self, "_generation", None) == generation):
                return
            indexer = self.indexer()
            manifest = indexer.load_manifest()
            keyword = indexer.keyword_for_reader(manifest)
            self._manifest, self._keyword = manifest, keyword
            self._weights = TermWeights(keyword)
            self._generation: int | None = generation

    def reload(self) -> None:
        """Reload the indexes before the next answer (they also reload by themselves when the
        index generation changes). The loaded ones stay usable until then: no thread sees None."""
        with self._lock:
            self._generation = None

    @property
    def manifest(self) -> Manifest:
        self._load_indexes()
        assert self._manifest is not None
        return self._manifest

    def retriever(self, mode: Mode | None = None) -> HybridRetriever:
        self._load_indexes()
        assert self._keyword is not None and self._manifest is not None
        s = self.settings
        return HybridRetriever(
            self.embedder, self.store, self._keyword, self._manifest.chunk_ids(),
            dense_k=s.dense_k, keyword_k=s.keyword_k, fusion=s.fusion, rrf_k=s.rrf_k,
            dense_weight=s.dense_weight, keyword_weight=s.keyword_weight, mode=mode or s.retrieval_mode,
        )

    def writer(self, name: str | None = None) -> AnswerWriter:
        if self._custom_writer is not None and name in (None, self._custom_writer.name):
            return self._custom_writer
        name = name or self.settings.writer
        if name == "llm":
            with self._lock:
                if self._llm_writer is None:
                    from .writers.llm import LLMWriter

                    self._llm_writer = LLMWriter(self.settings)
                return self._llm_writer
        if name != "extractive":
            raise AssistantError(f"unknown writer {name!r}", "未知的回答方式。")
        self._load_indexes()
        assert self._weights is not None
        return ExtractiveWriter(self._weights, self.settings.max_answer_sentences)

    def _rerank(self, question: str, hits: list[Hit]) -> list[Hit]:
        if self.settings.reranker_model is None:
            return hits
        with self._lock:
            if self._reranker is None:
                self._reranker = CrossEncoderReranker(str(self.settings.reranker_model))
        return self._reranker.rerank(question, hits)

    # -- documents ------------------------------------------------------------------------
    def documents(self) -> list[DocEntry]:
        return sorted(self.manifest.documents.values(), key=lambda e: e.doc_id)

    def index(self, paths: Sequence[Path], rebuild: bool = False, prune: bool = True,
              progress: ProgressFn | None = None, *, allow_drop: bool = False,
              on_wait: WaitFn | None = None) -> IndexReport:
        """Index ``paths`` (see ``Indexer.run``). Writers take the data folder's lock, not this
        Assistant's: questions keep being answered while a run (or its wait for another) goes on."""
        try:
            return self.indexer().run(paths, rebuild=rebuild, prune=prune, progress=progress,
                                      allow_drop=allow_drop, on_wait=on_wait)
        finally:
            self.reload()

    def delete_document(self, doc_id: str, on_wait: WaitFn | None = None) -> bool:
        try:
            return self.indexer().delete_document(doc_id, on_wait=on_wait)
        finally:
            self.reload()

    # -- asking ---------------------------------------------------------------------------
    def retrieve(self, question: str, k: int | None = None, filters: Filters | dict[str, Any] | None = None,
                 mode: Mode | None = None) -> list[Hit]:
        question = clean_question(question, self.settings.max_question_chars)
        hits = self.retriever(mode).retrieve(question, k or self.settings.top_k, validate_filters(filters))
        return self._rerank(question, hits)

    def ask(self, question: str, history: History | None = None, filters: Filters | dict[str, Any] | None = None,
            writer: str | None = None) -> Answer:
        answer: Answer | None = None
        for event in self.stream(question, history, filters, writer):
            if event.type == "final":
                answer = event.answer
        assert answer is not None
        return answer

    def stream(self, question: str, history: History | None = None, filters: Filters | dict[str, Any] | None = None,
               writer: str | None = None) -> Iterator[StreamEvent]:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        history = validate_history(history, self.settings.history_max_turns, self.settings.history_max_chars_per_turn)
        chosen = self.writer(writer)

        rewritten = chosen.rewrite(text, history) if history else text
        timings["rewrite"] = time.perf_counter() - t0

        t = time.perf_counter()
        hits = self.retriever().retrieve(rewritten, self.settings.top_k, validate_filters(filters))
        hits = self._rerank(rewritten, hits)
        timings["retrieve"] = time.perf_counter() - t

        self._load_indexes()
        assert self._weights is not None
        scorer = EvidenceScorer(self._weights, self.settings.refusal_threshold)
        evidence = scorer.score(rewritten, hits)
        base = Answer(question=text, text="", rewritten_question=rewritten if rewritten != text else None,
                      writer=chosen.name, evidence_score=round(evidence, 4), timings=timings)
        if not has_cjk(text) and evidence < self.settings.refusal_threshold:
            base.notice = "请尽量用中文提问。"
        if evidence < self.settings.refusal_threshold:
            yield from self._refuse(base, hits, t0)
            return

        t = time.perf_counter()
        draft_parts: list[str] = []
        try:
            for delta in chosen.stream(rewritten, hits, history):
                draft_parts.append(delta)
                yield StreamEvent("delta", text=delta)
            draft = "".join(draft_parts)
            if chosen.name == "llm":
                from .writers.llm import looks_like_garbage

                if looks_like_garbage(draft):
                    raise LLMUnavailableError("LLM returned an unusable answer")
        except LLMUnavailableError as exc:
            log.warning("LLM writer failed (%s); falling back to the extractive writer", exc)
            chosen = self.writer("extractive")
            draft = chosen.write(rewritten, hits, history)
            base.writer = chosen.name
            base.notice = FALLBACK_NOTICE
        timings["write"] = time.perf_counter() - t

        if REFUSAL_PHRASE in draft and len(draft) < len(REFUSAL_PHRASE) + 30:
            yield from self._refuse(base, hits, t0)
            return
        t = time.perf_counter()
        verified = verify(draft, hits)
        timings["verify"] = time.perf_counter() - t
        if not verified.citations:
            yield from self._refuse(base, hits, t0)
            return
        base.text = verified.text
        base.citations = verified.citations
        base.unsupported = verified.unsupported
        timings["total"] = time.perf_counter() - t0
        yield StreamEvent("final", text=base.text, answer=base)

    def _refuse(self, answer: Answer, hits: Sequence[Hit], t0: float) -> Iterator[StreamEvent]:
        answer.refused = True
        answer.text = REFUSAL_TEXT
        answer.citations = []
        seen: set[str] = set()
        for hit in hits:
            if hit.chunk.doc_id in seen:
                continue
            seen.add(hit.chunk.doc_id)
            answer.suggestions.append(Suggestion(hit.chunk.doc_id, hit.chunk.title, hit.chunk.source,
                                                 round(hit.score, 6), hit.chunk.section))
            if len(answer.suggestions) >= 3:
                break
        answer.timings["total"] = time.perf_counter() - t0
        yield StreamEvent("delta", text=answer.text)
        yield StreamEvent("final", text=answer.text, answer=answer)

    # -- helpers for the surfaces ---------------------------------------------------------
    def example_questions(self, n: int = 6) -> list[str]:
        """Example questions drawn from the indexed documents' section headings."""
        from .examples import examples_from_manifest

        self._load_indexes()
        assert self._keyword is not None
        return examples_from_manifest(self._keyword.chunks, n)


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant()
        return _default


def ask(question: str, history: History | None = None, filters: Filters | dict[str, Any] | None = None) -> Answer:
    """Module-level convenience: ask with the default settings."""
    return default_assistant().ask(question, history=history, filters=filters)
