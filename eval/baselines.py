"""The naive LangChain pipeline we compare against (as Langchain-Chatchat and most tutorials do):
RecursiveCharacterTextSplitter 500/50 with Chinese separators + the same embedder + Chroma
``similarity_search`` k=5; optionally a BM25Retriever rebuilt from the documents on each query."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings

from assistant.models import Hit
from index.embedder_base import Embedder
from index.keyword import tokenize
from index.loaders import load_document
from index.models import Chunk
from index.pipeline import discover

CHINESE_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "，", ""]


class SharedEmbeddings(Embeddings):
    """LangChain adapter over our Embedder, so both pipelines use the very same model."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


class NaiveLangChainPipeline:
    def __init__(self, embedder: Embedder, paths: Sequence[Path], persist_dir: Path, k: int = 5) -> None:
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.k = k
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=500, chunk_overlap=50, separators=CHINESE_SEPARATORS, keep_separator="end",
            add_start_index=True,
        )
        self.documents: list[LCDocument] = []
        for source in discover(paths):
            try:
                doc = load_document(source.path, source.doc_id)
            except Exception:
                continue
            meta = {"doc_id": doc.doc_id, "title": doc.title, "source": doc.source}
            self.documents.extend(splitter.create_documents([doc.text], metadatas=[meta]))
        key = hashlib.sha1("".join(sorted(d.metadata["doc_id"] for d in self.documents)).encode()).hexdigest()[:10]
        self.store = Chroma(
            collection_name=f"naive_{key}",
            embedding_function=SharedEmbeddings(embedder),
            persist_directory=str(persist_dir),
            client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True,
                                           persist_directory=str(persist_dir)),
            collection_metadata={"hnsw:space": "cosine"},
        )
        if len(self.store.get(include=[])["ids"]) != len(self.documents):
            ids = [f"{d.metadata['doc_id']}:{d.metadata['start_index']}" for d in self.documents]
            self.store.delete_collection()
            self.store = Chroma(
                collection_name=f"naive_{key}", embedding_function=SharedEmbeddings(embedder),
                persist_directory=str(persist_dir),
                client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True,
                                               persist_directory=str(persist_dir)),
                collection_metadata={"hnsw:space": "cosine"},
            )
            for i in range(0, len(self.documents), 256):
                self.store.add_documents(self.documents[i : i + 256], ids=ids[i : i + 256])

    @staticmethod
    def _to_hit(doc: LCDocument, score: float) -> Hit:
        start = int(doc.metadata.get("start_index", 0))
        chunk = Chunk(
            chunk_id=f"{doc.metadata['doc_id']}:{start}",
            doc_id=doc.metadata["doc_id"],
            title=doc.metadata.get("title", ""),
            source=doc.metadata.get("source", ""),
            text=doc.page_content,
            start=start,
            end=start + len(doc.page_content),
        )
        return Hit(chunk=chunk, score=score, dense_score=score)

    def retrieve(self, question: str) -> list[Hit]:
        pairs = self.store.similarity_search_with_score(question, k=self.k)
        return [self._to_hit(d, 1.0 - float(dist)) for d, dist in pairs]

    def retrieve_with_bm25_per_query(self, question: str) -> list[Hit]:
        """Langchain-Chatchat style: a BM25Retriever built from all documents on every query."""
        from langchain_community.retrievers import BM25Retriever

        bm25 = BM25Retriever.from_documents(self.documents, preprocess_func=tokenize, k=self.k)
        dense = self.retrieve(question)
        sparse = [self._to_hit(d, 0.0) for d in bm25.invoke(question)]
        seen: dict[str, Hit] = {}
        for hit in dense + sparse:
            seen.setdefault(hit.chunk_id, hit)
        return list(seen.values())[: self.k]
