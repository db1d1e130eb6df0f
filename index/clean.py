"""Text clean-up before chunking: join lines broken inside a sentence, drop zero-width characters
and BOMs, remove web residue (footnote markers such as ``[\\nCPC 1\\n]``).

The cleaned text becomes the document's text, so chunk offsets and highlighted quotes slice it
exactly; :class:`Cleaned` also maps offsets of the raw text (PDF page spans) into it.

Hand-written: no library joins hard-wrapped Chinese lines (text wrappers and langchain splitters
split, they do not join), and the rules must use the project's own heading patterns and the
punctuation of ``index.zh``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .zh import (
    CJK_RE,
    CLAUSE_END,
    CLOSERS,
    DATE_RE,
    HEADING_PATTERNS_BY_KIND,
    SENTENCE_END,
    WORD_CHAR_RE,
    ZERO_WIDTH,
    heading_kind,
    is_source_line,
)

_ZERO_WIDTH_RE = re.compile(f"[{re.escape(ZERO_WIDTH)}]")
# Scraped footnote / citation markers: a bracket, a line break, an optional short label and a
# number, a line break, the closing bracket ("[\nCPC 1\n]", "[\n3\n]"). Inline "[1]" is kept.
# The line break before it goes too, so that the line join below decides about the one after it.
RESIDUE_RE = re.compile(r"\n?[ \t]*\[[ \t]*\n[ \t]*[A-Za-z]{0,6}[ \t]*\d{1,3}[ \t]*\n[ \t]*\]")
_ENDS = SENTENCE_END + CLAUSE_END
_PLAIN_HEADING_MAX = 30  # the chunker's limit for an unnumbered heading line


@dataclass
class Cleaned:
    """The cleaned text and the edits that produced it (to map raw offsets)."""

    text: str
    # (raw start, raw end, cumulative length change after this edit), sorted by raw start
    _edits: list[tuple[int, int, int]] = field(default_factory=list)

    def map_offset(self, raw: int) -> int:
        """Position in the cleaned text of raw offset ``raw`` (inside a removed span: its start)."""
        starts = [s for s, _, _ in self._edits]
        i = bisect.bisect_right(starts, raw) - 1
        if i < 0:
            return raw
        start, end, delta = self._edits[i]
        before = self._edits[i - 1][2] if i > 0 else 0
        if raw < end:
            return start + before
        return raw + delta


def _apply(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int, int]]]:
    out: list[str] = []
    record: list[tuple[int, int, int]] = []
    pos = delta = 0
    for start, end, repl in edits:
        out.append(text[pos:start])
        out.append(repl)
        pos = end
        delta += len(repl) - (end - start)
        record.append((start, end, delta))
    out.append(text[pos:])
    return "".join(out), record


def _is_heading(line: str) -> bool:
    """A numbered heading line (第X条, 一、, （一） …: the chunker's heading kinds)."""
    return heading_kind(line) is not None


def _is_article_with_body(line: str) -> bool:
    """``第十条 为了…``: an article's number starts its running text, which may wrap."""
    match = HEADING_PATTERNS_BY_KIND["article"].match(line)
    return match is not None and bool(line[match.end():].strip())


def _ends_clause(line: str) -> bool:
    stripped = line.rstrip(CLOSERS)
    return bool(stripped) and stripped[-1] in _ENDS


def _looks_like_plain_heading(line: str, nxt: str) -> bool:
    """The chunker's unnumbered heading: short, no end punctuation, a much longer line after it."""
    content = len(WORD_CHAR_RE.findall(line))
    return content >= 4 and len(line) <= _PLAIN_HEADING_MAX and len(nxt) > 2 * len(line)


def _starts_continuation(line: str) -> bool:
    return line[:1] in SENTENCE_END + CLAUSE_END + CLOSERS


def _headline(line: str) -> bool:
    """A short line of at least four CJK characters and no punctuation: a title or subtitle."""
    return (len(line) <= _PLAIN_HEADING_MAX and len(CJK_RE.findall(line)) >= 4
            and not any(ch in SENTENCE_END + CLAUSE_END + CLOSERS for ch in line))


def _join(prev: str, nxt: str, after: str | None, prev_is_first: bool, prev_joined: bool) -> bool:
    if is_source_line(prev) or is_source_line(nxt):
        return False  # 来源：北京日报, 责任编辑：… stay lines of their own (never part of a heading or a sentence)
    if not _is_heading(prev) and _is_heading(prev + nxt):
        return False  # the join would make a numbered heading of what was none ("2\n." → "2.")
    if _starts_continuation(nxt):
        return True  # a line cannot start with these: it continues the one before ("PM\n2.5\n）和…")
    if _ends_clause(prev) or _is_heading(nxt) or (_is_heading(prev) and not _is_article_with_body(prev)):
        return False
    if after is not None and not _starts_continuation(after) and _looks_like_plain_heading(nxt, after):
        return False  # the next line is an unnumbered heading
    if not prev_joined and _headline(prev) and _headline(nxt):
        return False  # a two-line headline ("全面深化与京津对接合作\n深入推进区域内部协同")
    if DATE_RE.match(nxt):
        return False  # header lines: "…条例\n2007年1月31日 国务院第167次常务会议通过"
    # the title line and unnumbered subheadings stay lines of their own
    return prev_joined or not (prev_is_first or _looks_like_plain_heading(prev, nxt))


def clean_text(text: str) -> Cleaned:
    """Clean ``text`` (line endings already unified to ``\\n``)."""
    edits: list[tuple[int, int, str]] = [(m.start(), m.end(), "") for m in _ZERO_WIDTH_RE.finditer(text)]
    first, first_record = _apply(text, edits)
    edits = [(m.start(), m.end(), "") for m in RESIDUE_RE.finditer(first)]
    second, second_record = _apply(first, edits)
    # Line joins: the white space between two lines (exactly one newline, no blank line) goes; a
    # space stays between two Latin letters ("the\nnext" → "the next"), none between CJK.
    edits = []
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]*", second) if m.group().strip()]
    joined = False
    for i in range(len(lines) - 1):
        (a_start, a_end), (b_start, b_end) = lines[i], lines[i + 1]
        a_text = second[a_start:a_end]
        a_stripped = a_text.rstrip()
        b_text = second[b_start:b_end].lstrip()
        gap_start = a_start + len(a_stripped)
        gap_end = b_end - len(b_text)
        if second.count("\n", gap_start, gap_end) != 1:
            joined = False
            continue
        # the accumulated line so far (for the punctuation test) is the last piece plus what was joined
        after = second[lines[i + 2][0] : lines[i + 2][1]].strip() if i + 2 < len(lines) else None
        if _join(a_stripped.lstrip(), b_text.rstrip(), after, i == 0, joined):
            left, right = second[gap_start - 1], second[gap_end]
            space = " " if left.isascii() and left.isalpha() and right.isascii() and right.isalpha() else ""
            edits.append((gap_start, gap_end, space))
            joined = True
        else:
            joined = False
    final, third_record = _apply(second, edits)
    cleaned = Cleaned(final)
    if first_record or second_record or third_record:
        steps = [Cleaned("", first_record), Cleaned("", second_record), Cleaned("", third_record)]
        cleaned = _Composed(final, steps)
    return cleaned


class _Composed(Cleaned):
    def __init__(self, text: str, steps: list[Cleaned]) -> None:
        super().__init__(text)
        self._steps = steps

    def map_offset(self, raw: int) -> int:
        for step in self._steps:
            raw = step.map_offset(raw)
        return raw
