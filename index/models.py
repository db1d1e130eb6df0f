"""Typed data models of the index stage: a loaded document and its chunks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# Metadata keys a document may carry (sidecar / front matter / inferred from the file name).
META_KEYS = ("title", "issuer", "region", "date", "year", "kind")


@dataclass(frozen=True)
class PageSpan:
    """Character range [start, end) of one page in the loaded document text (PDF only)."""

    page: int
    start: int
    end: int


@dataclass
class DocPart:
    """One article of a page that holds several (``index.attribution.split_articles``): its span of
    the document text, the root of its passages' heading path and its own attribution (issuer, byline)."""

    start: int
    end: int
    heading: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Document:
    """A loaded source file: its full text as the assistant sees it, plus metadata."""

    doc_id: str  # stable id: the path relative to the corpus root, without suffix
    source: str  # file path as given to the indexer
    title: str
    text: str
    content_hash: str
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: list[PageSpan] = field(default_factory=list)
    parts: list[DocPart] = field(default_factory=list)  # articles, when the file holds several

    def part_at(self, offset: int) -> DocPart | None:
        for part in self.parts:
            if part.start <= offset < part.end:
                return part
        return None

    def page_at(self, offset: int) -> int | None:
        for span in self.pages:
            if span.start <= offset < span.end:
                return span.page
        return self.pages[-1].page if self.pages and offset >= self.pages[-1].end else None


@dataclass
class Chunk:
    """A passage of a document. ``text == document.text[start:end]`` always holds."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    section: str = ""  # heading path, e.g. "三、… › （二）…"
    page: int | None = None
    ordinal: int = 0  # position of the chunk in its document
    metadata: dict[str, Any] = field(default_factory=dict)

    def embed_text(self) -> str:
        """What the embedder sees: title and heading path give context to a bare passage."""
        head = " › ".join(p for p in (self.title, self.section) if p)
        return f"{head}\n{self.text}" if head else self.text

    def to_metadata(self) -> dict[str, str | int | float | bool]:
        """Flat metadata for Chroma (scalars only; None dropped)."""
        flat: dict[str, str | int | float | bool] = {
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "section": self.section,
            "start": self.start,
            "end": self.end,
            "ordinal": self.ordinal,
        }
        if self.page is not None:
            flat["page"] = self.page
        for key, value in self.metadata.items():
            if isinstance(value, (str, int, float, bool)) and key not in flat:
                flat[key] = value
        return flat

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


@dataclass
class SkippedFile:
    source: str
    reason: str  # Chinese, shown to users


@dataclass
class FlaggedLine:
    """A sentence of a document that reads like an instruction to the assistant (possible prompt
    injection, see ``index.injection``); reported at index time, skipped by the answer writers."""

    source: str
    doc_id: str
    line: int  # 1-based line of the loaded document text
    text: str  # the sentence (at most 200 characters)


@dataclass
class IndexReport:
    """Summary of one ``assistant index`` run (the ``--json`` contract)."""

    documents: int = 0
    chunks: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0
    embedded_chunks: int = 0
    flagged: list[FlaggedLine] = field(default_factory=list)  # instruction-like sentences found
    waited: float = 0.0  # seconds spent waiting for another index writer
    # lengths (characters) of all indexed chunks: count, mean, p10, p50, p90, under_50, under_120
    chunk_lengths: dict[str, float] = field(default_factory=dict)

    def summary_zh(self, action: Literal["index", "sync", "add", "rebuild"] = "index",
                   documents_before: int | None = None) -> str:
        """The one-line Chinese summary of this run, as every surface shows it: ``index`` (assistant
        index), ``sync`` (the document folder at start-up), ``add`` (documents added: uploads,
        ``assistant docs add``), ``rebuild`` (``documents_before``: the count before)."""
        waited = f"（曾等待另一个索引任务 {self.waited:.0f} 秒）" if self.waited >= 1 else ""
        if action == "sync":
            return (f"索引就绪：共 {self.documents} 个文件、{self.chunks} 个段落（新增 {self.added}、"
                    f"更新 {self.updated}、删除 {self.deleted}）{waited}。")
        if action == "add":
            indexed = self.added + self.updated + self.unchanged
            return (f"已收录 {indexed} 个文件（新增 {self.added}、更新 {self.updated}、未变 {self.unchanged}），"
                    f"嵌入 {self.embedded_chunks} 个段落，用时 {self.seconds:.1f} 秒{waited}。现在可以就这些文件提问。")
        if action == "rebuild":
            before = f"（重建前 {documents_before} 个）" if documents_before is not None else ""
            text = (f"索引已重建：共 {self.documents} 个文件{before}、{self.chunks} 个段落，"
                    f"用时 {self.seconds:.1f} 秒{waited}。")
            return text + (f"移除 {self.deleted} 个源文件已不存在的文件。" if self.deleted else "")
        return (f"索引完成：共 {self.documents} 个文件、{self.chunks} 个段落；本次新增 {self.added}、"
                f"更新 {self.updated}、删除 {self.deleted}、未变 {self.unchanged}，"
                f"嵌入 {self.embedded_chunks} 段，用时 {self.seconds:.1f} 秒{waited}。")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [asdict(s) for s in self.skipped]
        data["flagged"] = [asdict(f) for f in self.flagged]
        return data
