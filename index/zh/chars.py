"""Character classes of Chinese text: the CJK ranges (two of them, kept apart), content characters,
zero-width characters.

The ranges are written without brackets, to be put inside a regex character class
(``rf"[{CJK_UNIFIED_RANGE}]{{2}}"``).
"""

from __future__ import annotations

import re

# CJK Unified Ideographs with Extension A (U+3400–U+9FFF): every Chinese character of a text. The
# keyword index, the content test of sentences and the question analysis count these.
CJK_RANGE = "\u3400-\u9fff"
# CJK Unified Ideographs alone (U+4E00–U+9FFF), without Extension A: the range of the rules written
# for names, titles and phrases (issuers, news leads, regulation names, quoted phrases). Not the same
# set as ``CJK_RANGE``: an Extension A character (㐀) is in that one only.
CJK_UNIFIED_RANGE = "\u4e00-\u9fff"
# CJK symbols and punctuation (U+3000–U+303F: 。、「」 and the ideographic space) and full-width forms
# (U+FF00–U+FFEF: ，！？（）％ and full-width letters and digits).
CJK_PUNCT_RANGE = "\u3000-\u303f\uff00-\uffef"

CJK_RE = re.compile(f"[{CJK_RANGE}]")  # one Chinese character
CJK_UNIFIED_RE = re.compile(f"[{CJK_UNIFIED_RANGE}]")  # one character of the unified block
# A Chinese character or a full-width mark: what a Qwen-style tokenizer spends ~0.65 tokens on.
CJK_CHAR_RE = re.compile(f"[{CJK_RANGE}{CJK_PUNCT_RANGE}]")
# A unified-block character or a full-width mark: where Chinese text joins without a space.
CJK_TEXT_RE = re.compile(f"[{CJK_PUNCT_RANGE}{CJK_UNIFIED_RANGE}]")
WORD_CHAR_RE = re.compile(f"[{CJK_RANGE}A-Za-z0-9]")  # a character that carries content
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def has_cjk(text: str) -> bool:
    return CJK_RE.search(text) is not None
