"""The service layer: ``Assistant`` *is* the Python API; the CLI, the app and the evaluation call it.

One facade composed of three parts with one job each (components injected, as in PrivateGPT's
``*_service.py`` and canopy's ``context_engine``):

- ``resources`` (``Resources``): the encoder, the stores, the loaded indexes, the answer model, the writers;
- ``knowledge_base`` (``Documents``): index, add, delete, list, recover uploads, facets, example questions;
- ``answering`` (``Answering``): analyse → retrieve → rank → decide → write → verify, as events.

The facade's methods are the public API (``Assistant().ask(...)``); each forwards to its part.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from index.embedder_base import Embedder
from index.keyword import KeywordIndex
from index.locking import WaitFn
from index.manifest import DocEntry, Manifest
from index.models import IndexReport
from index.pipeline import Indexer, ProgressFn
from index.store import ChromaStore

from .analysis import DocCatalog, QuestionAnalysis
from .answer_model import AnswerModel
from .answering import Answering, final_answer
from .documents import AddResult, Documents
from .evidence import Gate, SentenceEvidence
from .filters import Filters
from .models import Answer, Facets, Hit, StreamEvent
from .resources import Resources
from .retrieval import HybridRetriever, Mode
from .semantic import SentenceSimilarity
from .settings import Settings
from .text import TermWeights
from .writers.base import AnswerWriter, History

__all__ = ["AddResult", "Assistant", "ask", "default_assistant"]


class Assistant:
    """Ask questions about the indexed policy documents.

    ``Assistant()`` uses the ``ASSISTANT_*`` settings; keyword arguments override fields
    (``Assistant(data_dir=..., writer="llm")``, validated: ``InvalidSettingsError`` for an unknown
    name or a bad value) or pass a whole ``settings=Settings(...)``. ``writer`` may be a writer object and
    ``embedder`` an already loaded encoder (components injected; tests share one model this way).
    Heavy resources (model, stores) load lazily on first use, once, and are thread-safe.
    """

    def __init__(self, settings: Settings | None = None, *, writer: str | AnswerWriter | None = None,
                 embedder: Embedder | None = None, **overrides: Any) -> None:
        base = settings or Settings()
        if isinstance(writer, str):
            overrides["writer"] = writer
        # Validated like the environment: an unknown name or a bad value raises InvalidSettingsError.
        self.settings = base.with_overrides(overrides) if overrides else base
        self.resources = Resources(self.settings, writer if isinstance(writer, AnswerWriter) else None, embedder)
        self.knowledge_base = Documents(self.resources)
        self.answering = Answering(self.resources)

    # -- asking ---------------------------------------------------------------------------
    def ask(self, question: str, history: History | None = None, filters: Filters | dict[str, Any] | None = None,
            writer: str | None = None) -> Answer:
        """The answer to ``question`` (the final event of ``stream``)."""
        return final_answer(self.stream(question, history, filters, writer))

    def stream(self, question: str, history: History | None = None, filters: Filters | dict[str, Any] | None = None,
               writer: str | None = None) -> Iterator[StreamEvent]:
        """The answer as events: text deltas (a "reset" when a draft is dropped), then one final event."""
        return self.answering.stream(question, history, filters, writer)

    def retrieve(self, question: str, k: int | None = None, filters: Filters | dict[str, Any] | None = None,
                 mode: Mode | None = None) -> list[Hit]:
        """The top ``k`` candidate passages for ``question`` (ranked by the second stage)."""
        return self.answering.retrieve(question, k, filters, mode)

    def analyse(self, question: str) -> QuestionAnalysis:
        return self.answering.analyse(question)

    def candidates(self, question: str, analysis: QuestionAnalysis, filters: Filters,
                   mode: Mode | None = None) -> tuple[list[Hit], list[SentenceEvidence]]:
        return self.answering.candidates(question, analysis, filters, mode)

    # -- the knowledge base ---------------------------------------------------------------
    def documents(self) -> list[DocEntry]:
        return self.knowledge_base.documents()

    def index(self, paths: Sequence[Path], rebuild: bool = False, prune: bool = True,
              progress: ProgressFn | None = None, *, allow_drop: bool = False,
              on_wait: WaitFn | None = None) -> IndexReport:
        """Index ``paths`` (see ``Indexer.run``). Writers take the data folder's lock, not this
        Assistant's: questions keep being answered while a run (or its wait for another) goes on."""
        return self.knowledge_base.index(paths, rebuild, prune, progress, allow_drop=allow_drop, on_wait=on_wait)

    def add_documents(self, files: Sequence[Path | tuple[Path, str]], progress: ProgressFn | None = None,
                      on_wait: WaitFn | None = None, *, replace: bool = False) -> AddResult:
        return self.knowledge_base.add_documents(files, progress, on_wait, replace=replace)

    def delete_document(self, doc_id: str, on_wait: WaitFn | None = None) -> bool:
        return self.knowledge_base.delete_document(doc_id, on_wait)

    def leftover_uploads(self) -> list[Path]:
        return self.knowledge_base.leftover_uploads()

    def recover_uploads(self, on_wait: WaitFn | None = None) -> AddResult:
        return self.knowledge_base.recover_uploads(on_wait)

    def warm_sentences(self) -> int:
        return self.knowledge_base.warm_sentences()

    def facets(self) -> Facets:
        return self.knowledge_base.facets()

    def example_questions(self, n: int = 6) -> list[str]:
        return self.knowledge_base.example_questions(n)

    # -- resources ------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        return self.resources.embedder

    @property
    def store(self) -> ChromaStore:
        return self.resources.store

    @property
    def manifest(self) -> Manifest:
        return self.resources.manifest

    def indexer(self) -> Indexer:
        return self.resources.indexer()

    def reload(self) -> None:
        """Reload the indexes before the next answer (they also reload by themselves when the index
        generation changes)."""
        self.resources.reload()

    def keyword_index(self) -> KeywordIndex:
        return self.resources.keyword_index()

    def term_weights(self) -> TermWeights:
        return self.resources.term_weights()

    def catalog(self) -> DocCatalog:
        return self.resources.catalog()

    def retriever(self, mode: Mode | None = None) -> HybridRetriever:
        return self.resources.retriever(mode)

    def writer(self, name: str | None = None) -> AnswerWriter:
        return self.resources.writer(name)

    def similarity(self) -> SentenceSimilarity | None:
        return self.resources.similarity()

    def answer_model(self) -> AnswerModel | None:
        return self.resources.answer_model()

    def gate(self) -> Gate:
        return self.resources.gate()

    def sentence_vectors_path(self) -> Path:
        return self.resources.sentence_vectors_path()


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
