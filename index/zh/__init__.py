"""Chinese text rules, in one place: punctuation (sentence and clause ends), CJK ranges, regions and
their names, numbers, units and dates, heading kinds, and the vocabulary of policy texts.

The chunker, the cleaner, the loaders, the attribution rules, the injection rules, the writers, the
verifier, the evidence scorer, the rewriter, the question analysis, the app and the evaluation read
these definitions; nothing else defines its own set of sentence-ending characters, CJK range or
region names (``tests/unit/test_zh_home.py`` scans the source).

- ``punctuation``: sentence ends, clause ends, closers, the sentence splitter;
- ``chars``: the two CJK ranges (with and without Extension A) and the full-width marks;
- ``regions``: canonical regions, aliases, full names, localities, provinces;
- ``numbers``: numerals, units and measure words, quantities, dates and years;
- ``headings``: numbered heading kinds and source lines;
- ``vocabulary``: abbreviations, synonyms, colloquial question words.
"""

from __future__ import annotations

from .chars import (
    CJK_CHAR_RE,
    CJK_PUNCT_RANGE,
    CJK_RANGE,
    CJK_RE,
    CJK_TEXT_RE,
    CJK_UNIFIED_RANGE,
    CJK_UNIFIED_RE,
    WORD_CHAR_RE,
    ZERO_WIDTH,
    has_cjk,
)
from .headings import (
    ENUMERATED_LINE_RE,
    HEADING_NUMBER_RE,
    HEADING_NUMERALS,
    HEADING_PATTERNS,
    HEADING_PATTERNS_BY_KIND,
    SOURCE_LINE_RE,
    heading_kind,
    is_source_line,
)
from .numbers import (
    CN_DIGITS,
    CN_NUMERALS,
    CN_ORDINAL_VALUES,
    CN_SMALL_NUMBERS,
    DATE_RE,
    DIGIT_RE,
    HAS_NUMBER_RE,
    NUMBER,
    PERCENT_RE,
    PLAIN_YEAR_RE,
    QUANTITY_RE,
    TIME_WORDS_RE,
    UNIT_ALT,
    UNITS,
    YEAR_MENTION_RE,
    YEAR_RE,
    YMD_DATE_RE,
)
from .punctuation import (
    ANY_CLAUSE_BREAK,
    CLAUSE_END,
    CLAUSE_END_RE,
    CLOSERS,
    HEADING_END_PUNCT,
    MARKER_TRAILING_PUNCT,
    MARKER_TRAILING_PUNCT_CN,
    PHRASE_END,
    QUESTION_END,
    QUOTE_CLOSERS,
    SENTENCE_BREAK_RE,
    SENTENCE_END,
    SENTENCE_END_CN,
    SENTENCE_END_RE,
    SENTENCE_END_RUN_RE,
    SENTENCE_RE,
    STATEMENT_END,
    STRONG_END,
    SUBQUESTION_BREAK,
    ends_sentence,
    last_sentence_end,
    sentence_spans,
)
from .regions import (
    CANONICAL_REGIONS,
    FILE_NAME_REGIONS,
    FULL_NAME_ALT,
    FULL_NAMES,
    ISSUER_NAME_ALT,
    ISSUER_REGIONS,
    JJJ_FULL_NAMES,
    JJJ_NAME_ALT,
    JJJ_REGIONS,
    LOCALITIES,
    PLACE_SUFFIX_ALT,
    PLACE_SUFFIXES,
    PROVINCE_FULL_NAMES,
    PROVINCES,
    REGION_ALIASES,
    REGION_MENTIONS,
    REGION_WORDS,
    provinces_in,
    regions_in,
)
from .vocabulary import ABBREVIATIONS, COLLOQUIAL, SYNONYMS, normalize_colloquial, variants

__all__ = [
    "ABBREVIATIONS", "ANY_CLAUSE_BREAK", "CANONICAL_REGIONS", "CJK_CHAR_RE", "CJK_PUNCT_RANGE", "CJK_RANGE", "CJK_RE",
    "CJK_TEXT_RE", "CJK_UNIFIED_RANGE", "CJK_UNIFIED_RE", "CLAUSE_END", "CLAUSE_END_RE", "CLOSERS", "CN_DIGITS",
    "CN_NUMERALS", "CN_ORDINAL_VALUES", "CN_SMALL_NUMBERS", "COLLOQUIAL", "DATE_RE", "DIGIT_RE", "ENUMERATED_LINE_RE",
    "FILE_NAME_REGIONS", "FULL_NAMES", "FULL_NAME_ALT", "HAS_NUMBER_RE", "HEADING_END_PUNCT", "HEADING_NUMBER_RE",
    "HEADING_NUMERALS", "HEADING_PATTERNS", "HEADING_PATTERNS_BY_KIND", "ISSUER_NAME_ALT", "ISSUER_REGIONS",
    "JJJ_FULL_NAMES", "JJJ_NAME_ALT", "JJJ_REGIONS", "LOCALITIES", "MARKER_TRAILING_PUNCT",
    "MARKER_TRAILING_PUNCT_CN", "NUMBER", "PERCENT_RE", "PHRASE_END", "PLACE_SUFFIXES", "PLACE_SUFFIX_ALT", "PLAIN_YEAR_RE", "PROVINCES",
    "PROVINCE_FULL_NAMES", "QUANTITY_RE", "QUESTION_END", "QUOTE_CLOSERS", "REGION_ALIASES", "REGION_MENTIONS",
    "REGION_WORDS", "SENTENCE_BREAK_RE", "SENTENCE_END", "SENTENCE_END_CN", "SENTENCE_END_RE", "SENTENCE_END_RUN_RE",
    "SENTENCE_RE", "SOURCE_LINE_RE", "STATEMENT_END", "STRONG_END", "SUBQUESTION_BREAK", "SYNONYMS", "TIME_WORDS_RE",
    "UNITS", "UNIT_ALT", "WORD_CHAR_RE", "YEAR_MENTION_RE", "YEAR_RE", "YMD_DATE_RE", "ZERO_WIDTH", "ends_sentence",
    "has_cjk", "heading_kind", "is_source_line", "last_sentence_end", "normalize_colloquial", "provinces_in",
    "regions_in", "sentence_spans", "variants",
]
