"""The service layer: ``Assistant`` *is* the Python API; the CLI, the app and the evaluation call it.

Pipeline per question: validate → rewrite follow-up → analyse (``analysis``) → retrieve (hybrid,
within the named documents) → rank (second stage, ``ranking``) → decide (answered | partial |
not_found, ``decide``) → write (extractive | llm, with fallback) → verify citations → Answer.
"""

from __future__ import annotations

import filecmp
import logging
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from index.embedder import Embedder, get_embedder
from index.keyword import KeywordIndex
from index.locking import WaitFn, read_generation
from index.manifest import DocEntry, Manifest
from index.models import IndexReport
from index.pipeline import Indexer, ProgressFn, doc_id_of
from index.store import ChromaStore
from index.zh import CANONICAL_REGIONS, SENTENCE_END, WORD_CHAR_RE

from . import shapes
from .analysis import DocCatalog, QuestionAnalysis, analyse
from .answer_model import AnswerModel, load_model
from .decide import MAX_BODY_CHARS, MAX_SOURCES, Decision, decide, filters_label, related_windows
from .errors import AssistantError, InvalidQuestionError, LLMUnavailableError
from .markup import strip_markup
from .models import Answer, Citation, Facets, Filters, Hit, StreamEvent, Suggestion
from .ranking import EvidenceRanker, Gate, SentenceEvidence, header_candidates, passage_body, sentence_texts
from .retrieval import CrossEncoderReranker, HybridRetriever, Mode, merge_overlapping
from .semantic import SentenceSimilarity
from .settings import Settings
from .text import TermWeights, has_cjk
from .uploads import DuplicateUploadError, UploadError, remove_upload, safe_filename, shortened, store_upload
from .validation import validate_filters, validate_history
from .verify import Verified, split_claims, verify, without_flagged
from .writers.base import REFUSAL_PHRASE, AnswerWriter, DraftStats, History
from .writers.extractive import ExtractiveWriter

log = logging.getLogger(__name__)

REFUSAL_TEXT = f"{REFUSAL_PHRASE}。已收录的文件中没有足以回答这个问题的内容，以下文件可能相关，可供查阅。"
FALLBACK_NOTICE = "大模型服务暂不可用或回答无效，已改用摘录式回答。"
FALLBACK_NOTICES = {  # per Answer.fallback_reason
    "unsupported": "大模型的回答有未能在原文中核对到依据的句子，已改用摘录式回答。",
    "declined": "大模型未能根据所选原文作答，已改用摘录式回答。",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MEANINGFUL = WORD_CHAR_RE
DEFAULT_LEXICAL_THRESHOLD = 0.62  # without a trained model: the lexical evidence score a window needs


def clean_question(question: Any, max_chars: int) -> str:
    """Validate a question; raise InvalidQuestionError with a Chinese reason if it is unusable."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"question must be str, got {type(question).__name__}")
    if _SURROGATE.search(question):
        raise InvalidQuestionError("lone surrogate in question",
                                   "问题中含有无法识别的字符（不完整的 Unicode 编码），请删除后重新输入。")
    text = strip_markup(_CONTROL.sub("", question)).strip()  # <b>雄安新区</b> reads as 雄安新区
    if not text:
        raise InvalidQuestionError("empty question", "请输入问题。")
    if len(text) > max_chars:
        raise InvalidQuestionError(
            f"question too long: {len(text)} > {max_chars}", f"问题过长（{len(text)} 字），请精简到 {max_chars} 字以内。"
        )
    if not _MEANINGFUL.search(text):
        raise InvalidQuestionError("question has no words", "问题中没有可识别的文字，请用中文描述您的问题。")
    return text


T = TypeVar("T")


@dataclass
class _Run:
    """One question on its way through ``stream``: the cleaned arguments and the stage timings."""

    t0: float
    timings: dict[str, float] = field(default_factory=dict)
    text: str = ""  # the cleaned question
    question: str = ""  # the question answered (the rewritten follow-up, or ``text``)
    history: list[tuple[str, str]] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    writer: AnswerWriter = field(default=None)  # type: ignore[assignment]

    def timed(self, stage: str, fn: Callable[..., T], *args: Any) -> T:
        t = time.perf_counter()
        result = fn(*args)
        self.timings[stage] = time.perf_counter() - t
        return result

    def timed_stream(self, stage: str, steps: Generator[StreamEvent, None, T]) -> Generator[StreamEvent, None, T]:
        t = time.perf_counter()
        result = yield from steps
        self.timings[stage] = time.perf_counter() - t
        return result


class Assistant:
    """Ask questions about the indexed policy documents.

    ``Assistant()`` uses the ``ASSISTANT_*`` settings; keyword arguments override fields
    (``Assistant(data_dir=..., writer="llm")``, validated: ``InvalidSettingsError`` for an unknown
    name or a bad value) or pass a whole ``settings=Settings(...)``.
    Heavy resources (model, stores) load lazily on first use, once, and are thread-safe.
    """

    def __init__(self, settings: Settings | None = None, *, writer: str | AnswerWriter | None = None, **overrides: Any) -> None:
        base = settings or Settings()
        if isinstance(writer, str):
            overrides["writer"] = writer
        # Validated like the environment: an unknown name or a bad value raises InvalidSettingsError.
        self.settings = base.with_overrides(overrides) if overrides else base
        self._custom_writer = writer if isinstance(writer, AnswerWriter) else None
        self._lock = threading.RLock()
        self._embedder: Embedder | None = None
        self._store: ChromaStore | None = None
        self._keyword: KeywordIndex | None = None
        self._manifest: Manifest | None = None
        self._weights: TermWeights | None = None
        self._reranker: CrossEncoderReranker | None = None
        self._llm_writer: AnswerWriter | None = None
        self._catalog: DocCatalog | None = None
        self._catalog_of: Manifest | None = None
        self._first: dict[str, list[Hit]] | None = None
        self._first_of: KeywordIndex | None = None
        self._similarity: SentenceSimilarity | None = None

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

    def term_weights(self) -> TermWeights:
        """IDF weights of the indexed collection (the ranker's, the extractive writer's, the evaluation's)."""
        self._load_indexes()
        assert self._weights is not None
        return self._weights

    def keyword_index(self) -> KeywordIndex:
        """The loaded keyword index (every indexed chunk, in the manifest's order)."""
        self._load_indexes()
        assert self._keyword is not None
        return self._keyword

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
        return ExtractiveWriter(self.term_weights(), self.settings.max_answer_sentences)

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
            report = self.indexer().run(paths, rebuild=rebuild, prune=prune, progress=progress,
                                        allow_drop=allow_drop, on_wait=on_wait)
        finally:
            self.reload()
        self.warm_sentences()
        return report

    def sentence_vectors_path(self) -> Path:
        return self.settings.data_dir / "sentence_vectors"

    def warm_sentences(self) -> int:
        """Encode every sentence of the indexed passages for the semantic evidence (once per sentence;
        kept beside the index), so that answers never wait for it. Returns how many were new."""
        similarity = self.similarity()
        if similarity is None:
            return 0
        texts = sentence_texts([c.text for c in self.keyword_index().chunks])
        new = similarity.warm(texts)
        if new:
            similarity.save(self.sentence_vectors_path(), keep=texts)
        return new

    def delete_document(self, doc_id: str, on_wait: WaitFn | None = None) -> bool:
        """Remove a document from the index (False when it is not there); a document that was added
        with ``add_documents`` (a copy in the data folder's uploads) loses that copy too."""
        entry = self.manifest.documents.get(doc_id)
        try:
            deleted = self.indexer().delete_document(doc_id, on_wait=on_wait)
        finally:
            self.reload()
        if deleted and entry is not None:
            remove_upload(entry.source, self.settings)
        return deleted

    def add_documents(self, files: Sequence[Path | tuple[Path, str]], progress: ProgressFn | None = None,
                      on_wait: WaitFn | None = None, *, replace: bool = False) -> AddResult:
        """Add documents to the knowledge base: each file (or ``(temp path, original name)``, an upload)
        is copied under a safe name into the data folder's uploads, then the copies are indexed
        incrementally (nothing else is pruned). A name whose document id another document holds is
        refused; a copy that cannot be indexed is removed again. A file with the name of an earlier
        upload replaces it only with ``replace=True``; otherwise it is refused
        (:class:`DuplicateUploadError`, listed in ``AddResult.duplicates`` so that a surface can ask
        and call again). A name cut to fit the file system is noted in ``AddResult.notes``. Problems are
        reported per file in ``AddResult.problems`` (Chinese reasons), never raised; index errors
        (busy, store) are."""
        existing = {d.doc_id: d for d in self.documents()}
        result = AddResult()
        for item in files:
            source, original = item if isinstance(item, tuple) else (Path(item), Path(item).name)
            try:
                result.stored.append(self._store_copy(Path(source), original, existing, result.stored, replace))
                note = shortened(original)
                if note:
                    result.notes.append((original, note))
            except DuplicateUploadError as exc:
                result.duplicates.append((Path(source), original))
                result.problems.append((original, exc.user_message))
            except AssistantError as exc:
                result.problems.append((original, exc.user_message))
            except OSError:
                log.exception("storing %r failed", original)
                result.problems.append((original, "保存文件失败。"))
        if result.stored:
            result.report = self.index(result.stored, prune=False, progress=progress, on_wait=on_wait)
            for skipped in result.report.skipped:
                remove_upload(skipped.source, self.settings)
                result.problems.append((skipped.source, skipped.reason))
        return result

    def _store_copy(self, source: Path, original: str, existing: dict[str, DocEntry], stored: list[Path],
                    replace: bool = False) -> Path:
        """The upload rule: the document id is the stored name's (``doc_id_of``); it may not clash,
        and an earlier upload of the same name is replaced only when ``replace``."""
        name = safe_filename(original)
        doc_id = doc_id_of(Path(name))
        uploads = self.settings.uploads_dir
        clash = existing.get(doc_id)
        if clash is not None and Path(clash.source).resolve() != (uploads / name).resolve():
            raise UploadError(f"doc id {doc_id!r} taken by {clash.source}",
                              f"与已收录的文件《{clash.title}》同名，请改名后上传。")
        if any(doc_id_of(p) == doc_id and p.name != name for p in stored) or (
            uploads.is_dir() and any(doc_id_of(p) == doc_id and p.name != name for p in uploads.iterdir())
        ):
            raise UploadError(f"doc id {doc_id!r} used by another upload",
                              "已有同名（扩展名不同）的上传文件，请改名后上传。")
        if any(p.name == name for p in stored):
            raise UploadError(f"{name!r} twice in one upload", f"同一批上传中有两个同名文件《{name}》，请改名后上传。")
        if not replace and (uploads / name).is_file() and not _same_bytes(uploads / name, source):
            title = clash.title if clash is not None else name
            raise DuplicateUploadError(
                f"{name!r} already uploaded",
                f"已有同名的上传文件《{title}》（文件ID：{doc_id}）；如要用新文件替换它，请确认替换。")
        return store_upload(source, original, self.settings)

    def leftover_uploads(self) -> list[Path]:
        """Files in the uploads folder that the index does not know (a copy saved, then the process
        stopped before indexing it), and partial copies (``.upload-*``)."""
        root = self.settings.uploads_dir
        if not root.is_dir():
            return []
        known = {Path(d.source).resolve() for d in self.documents()}
        return sorted(p for p in root.iterdir()
                      if not p.is_symlink() and p.is_file() and (p.name.startswith(".upload-") or p.resolve() not in known))

    def recover_uploads(self, on_wait: WaitFn | None = None) -> AddResult:
        """Index the uploads a crash left unindexed (partial ``.upload-*`` copies are deleted);
        what was done is in the result (``stored``: indexed, ``problems``: not indexable, removed)."""
        result = AddResult()
        pending = []
        for path in self.leftover_uploads():
            if path.name.startswith(".upload-"):
                path.unlink(missing_ok=True)
                result.problems.append((path.name, "上传中断留下的不完整副本，已删除。"))
            else:
                pending.append(path)
        if pending:
            result.stored = pending
            result.report = self.index(pending, prune=False, on_wait=on_wait)
            for skipped in result.report.skipped:
                remove_upload(skipped.source, self.settings)
                result.problems.append((Path(skipped.source).name, f"{skipped.reason}（已删除该副本）"))
        return result

    def facets(self) -> Facets:
        """What the indexed documents can be filtered by: regions, years (newest first), kinds, documents."""
        years: set[str] = set()
        kinds: set[str] = set()
        docs: list[tuple[str, str]] = []
        for e in self.documents():
            meta = e.metadata or {}
            year = meta.get("year") or str(meta.get("date") or "")[:4]
            if str(year).isdigit():
                years.add(str(year))
            if meta.get("kind"):
                kinds.add(str(meta["kind"]))
            docs.append((e.title if e.title == e.doc_id else f"{e.title}（{e.doc_id}）", e.doc_id))
        return Facets(list(CANONICAL_REGIONS), sorted(years, reverse=True), sorted(kinds), docs)

    # -- asking ---------------------------------------------------------------------------
    def retrieve(self, question: str, k: int | None = None, filters: Filters | dict[str, Any] | None = None,
                 mode: Mode | None = None) -> list[Hit]:
        question = clean_question(question, self.settings.max_question_chars)
        analysis = self.analyse(question)
        if analysis.missing_document:
            return []
        hits, _windows = self.candidates(question, analysis, validate_filters(filters), mode)
        return hits[: k or self.settings.top_k]

    def catalog(self) -> DocCatalog:
        """The indexed documents by their metadata (what question analysis resolves names against)."""
        with self._lock:
            manifest = self.manifest
            if self._catalog is None or self._catalog_of is not manifest:
                self._catalog, self._catalog_of = DocCatalog.from_manifest(manifest), manifest
            return self._catalog

    def analyse(self, question: str) -> QuestionAnalysis:
        """The typed analysis of one question (scope, answer type, focus, parts, named documents)."""
        return analyse(question, self.catalog())

    def _first_passages(self) -> dict[str, list[Hit]]:
        self._load_indexes()
        assert self._keyword is not None
        with self._lock:
            if self._first is None or self._first_of is not self._keyword:
                first: dict[str, list[Hit]] = {}
                last: dict[str, Hit] = {}
                for chunk in self._keyword.chunks:
                    if chunk.ordinal == 0:
                        first.setdefault(chunk.doc_id, []).insert(0, Hit(chunk=chunk, score=0.0))
                    held = last.get(chunk.doc_id)
                    if held is None or chunk.ordinal > held.chunk.ordinal:
                        last[chunk.doc_id] = Hit(chunk=chunk, score=0.0)
                for doc_id, hit in last.items():  # the closing article (本条例自…起施行)
                    if hit.chunk.ordinal > 0:
                        first.setdefault(doc_id, []).append(hit)
                self._first, self._first_of = first, self._keyword
            return self._first

    def candidates(self, question: str, analysis: QuestionAnalysis, filters: Filters,
                   mode: Mode | None = None) -> tuple[list[Hit], list[SentenceEvidence]]:
        """Fused candidates (within the named documents when there are any), ranked by the second stage,
        and their sentence windows: what the decide stage sees (``eval.train_answer_model`` learns from them)."""
        retriever = self.retriever(mode)
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
            for pinned in header_candidates(analysis, self._first_passages()):
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
        hits = self._rerank(question, hits)
        ranker = EvidenceRanker(self.term_weights(), self.gate(), self.similarity(), self.answer_model())
        return ranker.rerank(analysis, hits)

    def similarity(self) -> SentenceSimilarity | None:
        """The semantic-evidence encoder (USE multilingual), loaded once; None when switched off."""
        if not self.settings.semantic_evidence:
            return None
        with self._lock:
            if self._similarity is None:
                self._similarity = SentenceSimilarity()
                self._similarity.load(self.sentence_vectors_path())
            return self._similarity

    def answer_model(self) -> AnswerModel | None:
        """The trained answer model (None before ``python -m eval.train_answer_model`` has run)."""
        path = self.settings.answer_model_path
        return load_model(str(path)) if path is not None else load_model()

    def gate(self) -> Gate:
        """When a window answers: the model's threshold (or ``answer_threshold`` from the settings)."""
        model = self.answer_model()
        if model is None:
            return Gate(threshold=self.settings.answer_threshold or DEFAULT_LEXICAL_THRESHOLD, follow_ratio=0.8)
        question = self.settings.answer_threshold
        return Gate(threshold=model.threshold, follow_ratio=model.follow_ratio,
                    question_threshold=model.q_threshold if question is None else question,
                    sem_floor=model.relevance_floor)

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
        """analyse → retrieve (scoped) → rank (second stage) → decide → write → verify, as events.
        A timeline or side-by-side question (``shapes``) is answered row by row (``_answer_scoped``)."""
        run = self._start(question, history, filters, writer)
        shaped = shapes.shaped_stream(self, run) if self.settings.shapes else None
        if shaped is not None:
            yield from shaped
            return
        yield from self._stream_plain(run)

    def _answer_scoped(self, question: str, filters: Filters, writer: str | None = None) -> Answer:
        """One row of a timeline or comparison: the ordinary pipeline within ``filters``, no shape detection."""
        answer: Answer | None = None
        for event in self._stream_plain(self._start(question, None, filters, writer)):
            if event.type == "final":
                answer = event.answer
        assert answer is not None
        return answer

    def _stream_plain(self, run: _Run) -> Iterator[StreamEvent]:
        analysis = run.timed("analyse", self.analyse, run.question)
        hits, windows = run.timed("retrieve", self.candidates, run.question, analysis, run.filters)
        base = Answer(question=run.text, text="", rewritten_question=run.question if run.question != run.text else None,
                      writer=run.writer.name, timings=run.timings, analysis=analysis.to_dict())
        if analysis.missing_document:
            yield from self._missing_document(base, run.question, analysis, run.t0)
            return
        decision = run.timed("decide", decide, analysis, windows, self.settings.max_answer_sentences,
                             self.answer_model())
        base.evidence_score = round(decision.score, 4)
        base.confidence = decision.confidence
        if decision.status == "not_found":
            yield from self._refuse(run, base, analysis, decision, hits)
            return
        hits = self._whole_sections(decision, hits)
        draft = yield from run.timed_stream("write", self._write(run, base, hits, decision))
        verified = run.timed("verify", lambda: verify(draft, hits, question=run.question))
        if not verified.citations:
            yield from self._not_found(base, decision.message or REFUSAL_TEXT, decision.missing,
                                       decision.related, hits, run.t0)
            return
        yield self._final(run, base, decision, verified)

    def _start(self, question: str, history: History | None, filters: Filters | dict[str, Any] | None,
               writer: str | None) -> _Run:
        """Validate the arguments and make a follow-up self-contained (the "rewrite" stage)."""
        run = _Run(t0=time.perf_counter())
        run.text = clean_question(question, self.settings.max_question_chars)
        run.history = validate_history(history, self.settings.history_max_turns,
                                       self.settings.history_max_chars_per_turn)
        run.writer = self.writer(writer)
        run.filters = validate_filters(filters)
        run.question = run.writer.rewrite(run.text, run.history) if run.history else run.text
        run.timings["rewrite"] = time.perf_counter() - run.t0
        return run

    def _refuse(self, run: _Run, base: Answer, analysis: QuestionAnalysis, decision: Decision,
                hits: list[Hit]) -> Iterator[StreamEvent]:
        """The decide stage found no answer: say so (within the filters, when there are any)."""
        if not has_cjk(run.text):
            base.notice = "请尽量用中文提问。"
        message = decision.message
        if not run.filters.is_empty():
            message = self._outside_filters(run.question, analysis, run.filters, message)
        yield from self._not_found(base, message, decision.missing, decision.related, hits, run.t0)

    def _whole_sections(self, decision: Decision, hits: list[Hit]) -> list[Hit]:
        """A broad answer quotes a section whole: each chosen passage body is followed by the next passages
        of the same section (same document and heading path), each quoted whole (up to ``MAX_BODY_CHARS``),
        while the answer holds at most ``MAX_SOURCES`` passages. Returns the hits with those passages
        appended; their bodies join ``decision.chosen`` right after their section's."""
        bodies = [w for w in decision.chosen if w.kind == "body"]
        if not bodies:
            return hits
        by_place = {(c.doc_id, c.ordinal): c for c in self.keyword_index().chunks}
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

    def _write(self, run: _Run, base: Answer, hits: list[Hit], decision: Decision) -> Generator[StreamEvent, None, str]:
        """A generating writer's draft when it is usable, else the extractive answer from the chosen windows."""
        draft = ""
        chosen = without_flagged(decision.chosen, hits)  # a document's instructions are never written (verify drops them too)
        if run.writer.generates:
            draft = yield from self._generated_draft(run.writer, base, run.question, hits, run.history, chosen)
        if not draft:
            draft = self._extractive().compose(chosen, hits)
            yield StreamEvent("delta", text=draft)
        return draft

    def _final(self, run: _Run, base: Answer, decision: Decision, verified: Verified) -> StreamEvent:
        base.text = verified.text
        base.citations = verified.citations
        base.unsupported = verified.unsupported
        base.status = decision.status
        base.missing = decision.missing
        run.timings["total"] = time.perf_counter() - run.t0
        return StreamEvent("final", text=base.text, answer=base)

    def _generated_draft(self, writer: AnswerWriter, base: Answer, question: str, hits: list[Hit],
                         history: History, evidence: Sequence[SentenceEvidence]) -> Generator[StreamEvent, None, str]:
        """A generating writer's draft from the chosen evidence, streamed; "" (with the fallback notice and
        ``base.fallback_reason``) when the writer raises ``LLMUnavailableError`` (unavailable, garbage),
        declines (``writer.is_refusal``), or writes a sentence its cited passage does not support.

        Refusal is decided before any LLM call; a model that declines anyway is not trusted. Closing
        the stream (cancel) closes the writer's stream, which stops generation on the server.
        """
        parts: list[str] = []
        stats = DraftStats()
        before = sum(base.timings.values())  # the stages before writing: the first token's offset
        t = time.perf_counter()
        reason: str | None = None
        try:
            deltas = writer.draft(question, hits, history, evidence, stats=stats)
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
            checked = verify(draft, hits, question=question)
            base.llm = {**stats.to_dict(), "draft": draft, "sentences": len(split_claims(draft)),
                        "unsupported": list(checked.unsupported)}
            if reason is None and writer.is_refusal(draft):
                reason = "declined"
            elif reason is None and (checked.unsupported or not checked.citations):
                reason = "unsupported"
        if reason is None:
            return draft
        log.info("大模型回答未采用（%s），改用摘录式回答", reason)
        base.writer = "extractive"
        base.notice = FALLBACK_NOTICES.get(reason, FALLBACK_NOTICE)
        base.fallback_reason = reason
        if parts:
            yield StreamEvent("reset", text="")
        return ""

    def _extractive(self) -> ExtractiveWriter:
        writer = self.writer("extractive")
        assert isinstance(writer, ExtractiveWriter)
        return writer

    def _related_citations(self, windows: Sequence[SentenceEvidence], hits: Sequence[Hit]) -> list[Citation]:
        """Verified citations of the related windows (shown apart as 相关内容)."""
        if not windows:
            return []
        draft = "\n".join(f"{w.text.rstrip(SENTENCE_END)}[{w.hit + 1}]。" for w in windows)
        return verify(draft, hits).citations

    def _not_found(self, answer: Answer, message: str, missing: list[str], related: Sequence[SentenceEvidence],
                   hits: Sequence[Hit], t0: float) -> Iterator[StreamEvent]:
        answer.refused = True
        answer.status = "not_found"
        answer.text = message
        answer.missing = list(missing)
        answer.citations = []
        answer.related = self._related_citations(related, hits)
        seen: set[str] = set()
        for citation in answer.related:
            if citation.doc_id in seen:
                continue
            seen.add(citation.doc_id)
            answer.suggestions.append(Suggestion(citation.doc_id, citation.title, citation.source,
                                                 citation.score, citation.section))
        answer.timings["total"] = time.perf_counter() - t0
        yield StreamEvent("delta", text=answer.text)
        yield StreamEvent("final", text=answer.text, answer=answer)

    def _missing_document(self, answer: Answer, question: str, analysis: QuestionAnalysis,
                          t0: float) -> Iterator[StreamEvent]:
        """The question names a document that is not indexed: say so, list the nearest ones."""
        titles = [self.manifest.documents[d].title for d in analysis.closest_docs if d in self.manifest.documents]
        message = f"{REFUSAL_PHRASE}。未收录《{analysis.document_label}》。"
        if titles:
            message += "已收录的相近文件有：" + "、".join(f"《{t}》" for t in titles) + "。以下相关内容摘自这些文件，并非《" + \
                analysis.document_label + "》。"
        related: list[SentenceEvidence] = []
        hits: list[Hit] = []
        if analysis.closest_docs:
            scoped = replace(analysis, target_docs=list(analysis.closest_docs), missing_document=False)
            hits, windows = self.candidates(question, scoped, Filters(doc_id=list(analysis.closest_docs)))
            related = related_windows([w for w in windows if w.focus >= 0.4])
        missing = [f"未收录《{analysis.document_label}》"]
        yield from self._not_found(answer, message, missing, related, hits, t0)

    def _outside_filters(self, question: str, analysis: QuestionAnalysis, filters: Filters, message: str) -> str:
        """A refusal under filters: say so, and whether the whole collection holds an answer."""
        label = filters_label(filters)
        _hits, windows = self.candidates(question, analysis, Filters())
        if decide(analysis, windows, self.settings.max_answer_sentences, self.answer_model()).status != "not_found":
            return (f"{REFUSAL_PHRASE}。在所选范围（{label}）内未找到相关内容；全部文件中有可能的答案，"
                    "可清除筛选条件后再问一次。")
        return message.replace(f"{REFUSAL_PHRASE}。", f"{REFUSAL_PHRASE}。在所选范围（{label}）内，", 1)

    # -- helpers for the surfaces ---------------------------------------------------------
    def example_questions(self, n: int = 6) -> list[str]:
        """Example questions drawn from the indexed documents' section headings."""
        from .examples import examples_from_manifest

        self._load_indexes()
        assert self._keyword is not None
        return examples_from_manifest(self._keyword.chunks, n)


def _same_bytes(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (re-adding an unchanged file needs no confirmation)."""
    try:
        return a.stat().st_size == b.stat().st_size and filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


@dataclass
class AddResult:
    """What ``Assistant.add_documents`` did: the stored copies, the indexing run, the refused files."""

    stored: list[Path] = field(default_factory=list)
    report: IndexReport | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file name or path, Chinese reason)
    duplicates: list[tuple[Path, str]] = field(default_factory=list)  # refused: same name as an upload
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file name, Chinese note), e.g. a name cut

    def summary_zh(self) -> str:
        """The Chinese outcome (the indexing summary, then the files not added)."""
        lines = []
        if self.report is not None and self.report.added + self.report.updated + self.report.unchanged:
            lines.append(self.report.summary_zh("add"))
        lines += [note for _, note in self.notes]
        if self.problems:
            lines.append("以下文件未收录：" + "；".join(f"《{Path(name).name}》：{why}" for name, why in self.problems))
        return "\n".join(lines) or "没有文件被收录。"


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
