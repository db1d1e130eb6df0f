"""Sentence and clause punctuation of Chinese text: the sets, the sentence splitter built on them.

Each set is written so that it can go inside a regex character class as it is
(``rf"[^{STRONG_END}\\n]"``); sets with a ``]`` in them (``CLOSERS``) are escaped with ``re.escape``.
"""

from __future__ import annotations

import re

from .chars import WORD_CHAR_RE

# -- sentence ends ---------------------------------------------------------------------------------
SENTENCE_END = "。！？；!?;"  # ends of a sentence (the semicolon ends a policy clause)
SENTENCE_END_CN = "。！？；"  # the same, full-width marks only (where a prompt excerpt may be cut)
STRONG_END = "。！？!?"  # ends of a full sentence
STATEMENT_END = "。；;"  # a full stop or semicolon: never inside a headline (which may ask or exclaim)
QUESTION_END = "？?。"  # what a question ends with (trimmed from it, or a clause boundary in it)
SUBQUESTION_BREAK = "？?；;"  # where a question with several parts is split into them
ANY_CLAUSE_BREAK = "，,：:；;。？?！!"  # any clause or sentence boundary of a question or a passage

# -- clause ends and closers -----------------------------------------------------------------------
CLAUSE_END = "，、：,:"  # a line ending in one of these continues on the next line
CLOSERS = "”’」』）)]】"  # closing quotes and brackets that stay with the sentence before them
QUOTE_CLOSERS = "”’」』）)"  # closing quotes and parentheses (``CLOSERS`` without the square brackets)
# A line ending in one of these is not an unnumbered heading (the evaluation sets' check).
HEADING_END_PUNCT = "。；，：:;,.！？!?）)”"
# A phrase (a project, a place) ends at one of these in a list of measures.
PHRASE_END = "，、。；"

# -- around citation markers -----------------------------------------------------------------------
# Punctuation that follows a citation marker ``[n]`` and is kept with it (full-width).
MARKER_TRAILING_PUNCT_CN = "。，、；：！？）」』”’"
# The same with the ASCII marks.
MARKER_TRAILING_PUNCT = MARKER_TRAILING_PUNCT_CN + ",.;:!?)"

_END_CLASS, _CLOSE_CLASS, _CLAUSE_CLASS = re.escape(SENTENCE_END), re.escape(CLOSERS), re.escape(CLAUSE_END)
SENTENCE_RE = re.compile(rf"[^{_END_CLASS}\n]+[{_END_CLASS}]*[{_CLOSE_CLASS}]*")
SENTENCE_END_RE = re.compile(rf"[{_END_CLASS}][{_CLOSE_CLASS}]*")
CLAUSE_END_RE = re.compile(rf"[{_CLAUSE_CLASS}][{_CLOSE_CLASS}]*")
# A run of sentence ends (a prompt puts a passage marker before each).
SENTENCE_END_RUN_RE = re.compile(rf"([{SENTENCE_END}]+)")
# Where a text splits into sentence pieces for a repetition check: a sentence end or a line break.
SENTENCE_BREAK_RE = re.compile(rf"[{SENTENCE_END}\n]")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, surrounding white space excluded."""
    spans = []
    for match in SENTENCE_RE.finditer(text):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start and WORD_CHAR_RE.search(text, start, end):
            spans.append((start, end))
    return spans


def ends_sentence(text: str) -> bool:
    stripped = text.rstrip().rstrip(CLOSERS)
    return bool(stripped) and stripped[-1] in SENTENCE_END


def last_sentence_end(text: str) -> int:
    """The offset of the last full-width sentence end (。！？；) in ``text``, -1 when there is none."""
    return max(text.rfind(c) for c in SENTENCE_END_CN)
