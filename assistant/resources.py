"""What answering and the knowledge base share: the encoder, the stores, the loaded indexes and the models.

Everything heavy loads lazily on first use, once, under one lock, and is thread-safe. The manifest
and the keyword index are read again whenever the index generation changed (a write by another
process or another ``Assistant``), checked before each answer; ``reload`` forces it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from index.embedder import get_embedder
from index.embedder_base import Embedder
from index.keyword import KeywordIndex
from index.locking import read_generation
from index.manifest import Manifest
from index.pipeline import Indexer
from index.reader import IndexReader
from index.store import ChromaStore

from .analysis import DocCatalog
from .answer_model import AnswerModel, load_model
from .errors import AssistantError
from .evidence import Gate
from .models import Hit
from .retrieval import CrossEncoderReranker, HybridRetriever, Mode
from .semantic import SentenceSimilarity
from .settings import Settings
from .text import TermWeights
from .writers.base import AnswerWriter
from .writers.extractive import ExtractiveWriter
from .writers.llm import LLMWriter

DEFAULT_LEXICAL_THRESHOLD = 0.62  # without a trained model: the lexical evidence score a window needs


class Resources:
    """The shared, lazily loaded parts of one ``Assistant`` (its ``settings`` decide each of them)."""

    def __init__(self, settings: Settings, custom_writer: AnswerWriter | None = None,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.custom_writer = custom_writer
        self.lock = threading.RLock()
        self._embedder: Embedder | None = embedder
        self._store: ChromaStore | None = None
        self._keyword: KeywordIndex | None = None
        self._manifest: Manifest | None = None
        self._generation: int | None = None
        self._weights: TermWeights | None = None
        self._reranker: CrossEncoderReranker | None = None
        self._llm_writer: AnswerWriter | None = None
        self._catalog: DocCatalog | None = None
        self._catalog_of: Manifest | None = None
        self._first: dict[str, list[Hit]] | None = None
        self._first_of: KeywordIndex | None = None
        self._similarity: SentenceSimilarity | None = None

    # -- encoder and stores -----------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self.lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings)
            return self._embedder

    @property
    def store(self) -> ChromaStore:
        with self.lock:
            if self._store is None:
                self._store = ChromaStore(self.settings)
            return self._store

    def indexer(self) -> Indexer:
        return Indexer(self.settings, embedder=self.embedder, store=self.store)

    # -- the loaded indexes -----------------------------------------------------------------
    def _load_indexes(self) -> tuple[Manifest, KeywordIndex]:
        """The manifest and keyword index, read again when the index generation changed."""
        generation = read_generation(self.settings)
        with self.lock:
            if self._keyword is None or self._manifest is None or self._generation != generation:
                reader = IndexReader(self.settings, self.store, self.embedder)
                manifest = reader.load_manifest()
                keyword = reader.keyword_for_reader(manifest)
                self._manifest, self._keyword = manifest, keyword
                self._weights = TermWeights(keyword)
                self._generation = generation
            return self._manifest, self._keyword

    def reload(self) -> None:
        """Reload the indexes before the next answer. The loaded ones stay usable until then: no
        thread sees None."""
        with self.lock:
            self._generation = None

    @property
    def manifest(self) -> Manifest:
        return self._load_indexes()[0]

    def keyword_index(self) -> KeywordIndex:
        """The loaded keyword index (every indexed chunk, in the manifest's order)."""
        return self._load_indexes()[1]

    def term_weights(self) -> TermWeights:
        """IDF weights of the indexed collection (the ranker's, the extractive writer's, the evaluation's)."""
        self._load_indexes()
        assert self._weights is not None
        return self._weights

    def catalog(self) -> DocCatalog:
        """The indexed documents by their metadata (what question analysis resolves names against)."""
        manifest = self.manifest
        with self.lock:
            if self._catalog is None or self._catalog_of is not manifest:
                self._catalog, self._catalog_of = DocCatalog.from_manifest(manifest), manifest
            return self._catalog

    def first_passages(self) -> dict[str, list[Hit]]:
        """Per document: its first passages (the header: title, issuer, adoption record) and its last
        one (the closing article, 本条例自…起施行), the candidates a named document always gets."""
        keyword = self.keyword_index()
        with self.lock:
            if self._first is None or self._first_of is not keyword:
                first: dict[str, list[Hit]] = {}
                last: dict[str, Hit] = {}
                for chunk in keyword.chunks:
                    if chunk.ordinal == 0:
                        first.setdefault(chunk.doc_id, []).insert(0, Hit(chunk=chunk, score=0.0))
                    held = last.get(chunk.doc_id)
                    if held is None or chunk.ordinal > held.chunk.ordinal:
                        last[chunk.doc_id] = Hit(chunk=chunk, score=0.0)
                for doc_id, hit in last.items():
                    if hit.chunk.ordinal > 0:
                        first.setdefault(doc_id, []).append(hit)
                self._first, self._first_of = first, keyword
            return self._first

    # -- retrieval and ranking --------------------------------------------------------------
    def retriever(self, mode: Mode | None = None) -> HybridRetriever:
        manifest, keyword = self._load_indexes()
        s = self.settings
        return HybridRetriever(
            self.embedder, self.store, keyword, manifest.chunk_ids(),
            dense_k=s.dense_k, keyword_k=s.keyword_k, fusion=s.fusion, rrf_k=s.rrf_k,
            dense_weight=s.dense_weight, keyword_weight=s.keyword_weight, mode=mode or s.retrieval_mode,
        )

    def rerank(self, question: str, hits: list[Hit]) -> list[Hit]:
        """The optional cross-encoder (``ASSISTANT_RERANKER_MODEL``); the hits unchanged without one."""
        if self.settings.reranker_model is None:
            return hits
        with self.lock:
            if self._reranker is None:
                self._reranker = CrossEncoderReranker(str(self.settings.reranker_model))
        return self._reranker.rerank(question, hits)

    def sentence_vectors_path(self) -> Path:
        return self.settings.data_dir / "sentence_vectors"

    def similarity(self) -> SentenceSimilarity | None:
        """The semantic-evidence encoder (USE multilingual), loaded once; None when switched off."""
        if not self.settings.semantic_evidence:
            return None
        with self.lock:
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

    # -- writers ----------------------------------------------------------------------------
    def writer(self, name: str | None = None) -> AnswerWriter:
        """The writer ``name`` (default: ``settings.writer``); a custom writer object wins for its name."""
        if self.custom_writer is not None and name in (None, self.custom_writer.name):
            return self.custom_writer
        name = name or self.settings.writer
        if name == "llm":
            with self.lock:
                if self._llm_writer is None:
                    self._llm_writer = LLMWriter(self.settings)
                return self._llm_writer
        if name != "extractive":
            raise AssistantError(f"unknown writer {name!r}", "未知的回答方式。")
        return ExtractiveWriter(self.term_weights(), self.settings.max_answer_sentences)

    def extractive_writer(self) -> ExtractiveWriter:
        """The extractive writer (a custom one named "extractive" when it is one): the fallback of every writer."""
        custom = self.custom_writer
        if isinstance(custom, ExtractiveWriter) and custom.name == "extractive":
            return custom
        return ExtractiveWriter(self.term_weights(), self.settings.max_answer_sentences)
