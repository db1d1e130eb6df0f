"""Chinese, policy-aware chunking that follows the document's own structure.

Hand-written rather than a langchain splitter because we need three things no splitter gives
together: the heading path of every chunk (``三、… › （二）…``, ``第二章 … › 第十条``), exact
character offsets into the loaded text, and sentence-end splitting at Chinese punctuation
without ever cutting a sentence unless it alone exceeds the maximum size.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .models import Chunk, DocPart, Document
from .zh import CLAUSE_END_RE, DATE_RE, HEADING_PATTERNS_BY_KIND, SENTENCE_END_RE, heading_kind, is_source_line

# Bump when the chunks of an unchanged file would differ: recorded in the manifest's chunking
# settings, so an index built by an older chunker asks for ``assistant index --rebuild``.
# 2: cleaned text (index/clean.py), list items kept with their article, small pieces merged.
# 3: titles and header attribution from the text, one heading path and byline per article of a page.
# 4: source lines (来源：北京日报, 责任编辑：…) are never headings nor joined to their neighbours.
CHUNKER_VERSION = 4

# Heading kinds, sentence and clause ends come from index.zh (one definition for the whole project).
_SENTENCE_END = SENTENCE_END_RE
_CLAUSE_END = CLAUSE_END_RE
_HEADING_LABEL_MAX = 40
_PLAIN_HEADING_MAX = 30
# Numbered lines that may be items of a list ("第十条 …下列行为：\n（一）…；\n（二）…。").
_ITEM_KINDS = ("paren_cn", "arabic", "paren_arabic")


@dataclass
class _Piece:
    start: int
    end: int
    section: tuple[str, ...]
    is_heading_only: bool = False
    part: int = -1  # index of the article (Document.parts) it belongs to; -1: none


def _label(line: str) -> str:
    """The heading's own words: up to the first sentence end, capped in length."""
    match = _SENTENCE_END.search(line)
    label = line[: match.start()] if match else line
    return label if len(label) <= _HEADING_LABEL_MAX else label[:_HEADING_LABEL_MAX] + "…"


def _is_plain_heading(line: str, next_line: str | None, after: str | None = None) -> bool:
    """A short unnumbered line without end punctuation, followed by a longer paragraph, or by
    another such line that is (a headline in two lines: title, then subtitle)."""
    if len(line) > _PLAIN_HEADING_MAX or _SENTENCE_END.search(line) or _CLAUSE_END.search(line[-1:]):
        return False
    if is_source_line(line):
        return False  # 来源：北京日报, 责任编辑：…: about the page, not a heading
    if DATE_RE.match(line):
        return False  # a header line ("2017年10月1日 施行", "2024年9月27日 …通过"), not a heading
    if next_line is not None and after is not None and _is_plain_heading(next_line, after):
        return True
    return next_line is not None and len(next_line) > len(line) * 2


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Non-empty lines as (start, end), stripped of surrounding white space."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        left = len(line) - len(line.lstrip())
        right = len(line.rstrip())
        if right > left:
            spans.append((match.start() + left, match.start() + right))
    return spans


def _sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((pos, match.end()))
        pos = match.end()
    if pos < end:
        spans.append((pos, end))
    return spans


def _hard_split(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Split an over-long sentence, preferring clause marks (，、：) near the size limit."""
    spans = []
    pos = start
    while end - pos > size:
        cut = pos + size
        best = None
        for match in _CLAUSE_END.finditer(text, pos + size // 2, cut):
            best = match.end()
        cut = best or cut
        spans.append((pos, cut))
        pos = cut
    spans.append((pos, end))
    return spans


def _is_list_item(line: str) -> bool:
    """One sentence or clause after its number ("（二）不得妨碍行人通行；"): an item, not a heading."""
    match = _SENTENCE_END.search(line)
    return match is not None and not line[match.end():].strip()


def _is_source_line_at(text: str, paragraphs: list[tuple[int, int]], i: int) -> bool:
    """A source line (来源：北京日报), or the rest of one broken over two lines: the value after a bare
    ``来源:`` or the last step of a breadcrumb (``首页>政务信息>`` then ``宁夏要闻``, ``首页>云南要闻``
    then ``云南要闻``)."""
    line = text[paragraphs[i][0] : paragraphs[i][1]]
    if is_source_line(line):
        return True
    if i == 0:
        return False
    prev = text[paragraphs[i - 1][0] : paragraphs[i - 1][1]].rstrip()
    if not is_source_line(prev):
        return False
    return prev.endswith((":", "：", ">", "＞", "›", "»", "/")) or prev.endswith(line)


def _section_of(group: list[_Piece], last: bool = False) -> tuple[str, ...]:
    return group[-1].section if last else group[0].section


def _is_prefix(parent: tuple[str, ...], child: tuple[str, ...]) -> bool:
    return len(parent) <= len(child) and child[: len(parent)] == parent


class PolicyChunker:
    """Split a Document into Chunks no longer than ``chunk_size`` characters.

    Paragraphs of one section are packed together up to ``chunk_size``; a heading never stands
    alone (it goes with what follows it); a piece shorter than ``min_chunk_chars`` is merged with
    the rest of its section, its parent's introduction or its first subsection, so that only a
    section that is short as a whole gives a short chunk.
    """

    def __init__(self, chunk_size: int = 400, overlap: int = 1, min_chunk_chars: int = 120) -> None:
        if chunk_size < 50:
            raise ValueError("chunk_size must be at least 50 characters")
        self.chunk_size = chunk_size
        self.overlap = overlap
        self.min_chunk_chars = min_chunk_chars

    # -- structure ------------------------------------------------------------------------
    def _pieces(self, text: str, parts: list[DocPart] | None = None, title: str = "") -> list[_Piece]:
        paragraphs = _paragraphs(text)
        stack: list[tuple[str, str]] = []  # (kind, label)
        pieces: list[_Piece] = []
        in_list = False  # the previous line introduced a list ("…：") or was an item of one
        part: DocPart | None = None
        part_no = -1
        prev_plain = False  # the previous line was an unnumbered heading (a two-line headline)
        for i, (start, end) in enumerate(paragraphs):
            line = text[start:end]
            kind = heading_kind(line)
            source_line = _is_source_line_at(text, paragraphs, i)
            if source_line:
                kind = None
            here = next((p for p in parts or () if p.start <= start < p.end), None)
            if here is not part:
                # Each article of a page gets its own heading path, rooted at its own heading.
                part = here
                part_no = parts.index(part) if parts and part else -1
                stack = [("part", part.heading)] if part and part.heading else []
                if part and part.heading == line:
                    kind = "part_root"
            if kind == "part_root" or source_line:
                pass
            elif kind in _ITEM_KINDS and in_list and _is_list_item(line):
                kind = None  # an item stays in its article's section, beside its siblings
                in_list = True
            else:
                in_list = line.rstrip().endswith(("：", ":"))
            if kind is None and not source_line:
                nxt = text[paragraphs[i + 1][0] : paragraphs[i + 1][1]] if i + 1 < len(paragraphs) else None
                after = text[paragraphs[i + 2][0] : paragraphs[i + 2][1]] if i + 2 < len(paragraphs) else None
                if i > 0 and _is_plain_heading(line, nxt, after) and not (title and line in title):
                    kind = "plain"  # (the title repeated in the header, "政府工作报告", is no heading)
            if kind is not None and kind != "part_root":
                match = HEADING_PATTERNS_BY_KIND[kind].match(line) if kind == "article" else None
                label = match.group() if match else _label(line)
                if kind == "plain" and prev_plain and stack and stack[-1][0] == "plain":
                    label = f"{stack[-1][1]} {label}"  # title and subtitle: one heading
                kinds = [k for k, _ in stack]
                if kind in kinds:
                    del stack[kinds.index(kind) :]
                stack.append((kind, label))
            prev_plain = kind == "plain"
            section = tuple(label for _, label in stack)
            heading_only = kind is not None and len(line) <= _HEADING_LABEL_MAX and _label(line) == line
            if end - start <= self.chunk_size:
                pieces.append(_Piece(start, end, section, heading_only, part_no))
                continue
            for s_start, s_end in _sentence_spans(text, start, end):
                for h_start, h_end in (
                    _hard_split(text, s_start, s_end, self.chunk_size)
                    if s_end - s_start > self.chunk_size
                    else [(s_start, s_end)]
                ):
                    pieces.append(_Piece(h_start, h_end, section, part=part_no))
        return pieces

    # -- packing --------------------------------------------------------------------------
    def split(self, doc: Document) -> list[Chunk]:
        text = doc.text
        groups: list[list[_Piece]] = []
        current: list[_Piece] = []

        def size_with(piece: _Piece) -> int:
            return piece.end - current[0].start if current else piece.end - piece.start

        for piece in self._pieces(text, doc.parts, doc.title):
            if current:
                only_headings = all(p.is_heading_only for p in current)
                new_part = piece.part != current[-1].part  # two articles of a page never share a chunk
                new_section = new_part or (piece.section != current[-1].section and not only_headings)
                too_big = size_with(piece) > self.chunk_size
                if new_section or too_big:
                    groups.append(current)
                    carry: list[_Piece] = []
                    if too_big and not new_section and self.overlap > 0:
                        # Repeat the last sentence(s) of a long section for context.
                        for prev in reversed(current[-self.overlap :]):
                            if piece.end - prev.start <= self.chunk_size and not prev.is_heading_only:
                                carry.insert(0, prev)
                            else:
                                break
                    current = carry
            current.append(piece)
        if current:
            groups.append(current)

        merged = self._merge_small(groups)

        chunks = []
        for ordinal, group in enumerate(merged):
            if not group:
                continue
            start, end = group[0].start, group[-1].end
            section_parts = max((p.section for p in group), key=lambda sec: (len(sec), sum(map(len, sec))))
            section = " › ".join(section_parts)
            body = text[start:end]
            digest = hashlib.sha1(f"{doc.doc_id}\x00{start}\x00{section}\x00{body}".encode()).hexdigest()[:20]
            chunks.append(
                Chunk(
                    chunk_id=digest,
                    doc_id=doc.doc_id,
                    title=doc.title,
                    source=doc.source,
                    text=body,
                    start=start,
                    end=end,
                    section=section,
                    page=doc.page_at(start),
                    ordinal=ordinal,
                    metadata={**doc.metadata, **(part.metadata if (part := doc.part_at(start)) else {})},
                )
            )
        return chunks

    def _merge_small(self, groups: list[list[_Piece]]) -> list[list[_Piece]]:
        """Merge groups shorter than ``min_chunk_chars`` (and lone headings) into a related
        neighbour when the result fits: the previous group of the same section or of its parent
        section, else the next group when that one is the same section or a subsection of it.
        Sibling sections (two articles, two list headings) are never merged."""

        def length(group: list[_Piece]) -> int:
            return group[-1].end - group[0].start

        def small(group: list[_Piece]) -> bool:
            return length(group) < self.min_chunk_chars or all(p.is_heading_only for p in group)

        def fits(a: list[_Piece], b: list[_Piece]) -> bool:
            return b[-1].end - a[0].start <= self.chunk_size

        def combine(a: list[_Piece], b: list[_Piece]) -> list[_Piece]:
            return a + [p for p in b if p.start >= a[-1].end]  # b may repeat a's last sentence

        def back(prev: list[_Piece], group: list[_Piece]) -> bool:
            if prev[-1].part != group[0].part or not fits(prev, group):
                return False
            parent, child = _section_of(prev, last=True), _section_of(group)
            if not parent:  # the preamble (title, issuing body, date) takes only more header lines
                return not child or all(p.is_heading_only for p in group)
            return parent == child or _is_prefix(parent, child)

        def forward(group: list[_Piece], nxt: list[_Piece]) -> bool:
            if group[-1].part != nxt[0].part or not fits(group, nxt):
                return False
            parent, child = _section_of(group, last=True), _section_of(nxt)
            return (bool(parent) or parent == child) and _is_prefix(parent, child)

        out: list[list[_Piece]] = []
        pending: list[_Piece] | None = None  # a small group waiting to be put before the next one
        for group in groups:
            if pending is not None:
                if forward(pending, group):
                    group = combine(pending, group)
                elif out and back(out[-1], pending):
                    out[-1] = combine(out[-1], pending)
                else:
                    out.append(pending)
                pending = None
            if out and small(group) and back(out[-1], group) and not all(p.is_heading_only for p in group):
                out[-1] = combine(out[-1], group)
            elif small(group):
                pending = group
            else:
                out.append(group)
        if pending is not None:
            if out and back(out[-1], pending):
                out[-1] = combine(out[-1], pending)
            else:
                out.append(pending)
        return out
