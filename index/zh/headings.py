"""Heading kinds of Chinese documents (第X章, 第X条, 一、, （一）, 1. …) and a page's source lines
(来源：…, 责任编辑：…), which are never headings."""

from __future__ import annotations

import re

from .numbers import CN_NUMERALS

HEADING_NUMERALS = "一二三四五六七八九十百千零〇两"  # the numerals of a numbered heading
_NUM = HEADING_NUMERALS
# (kind, pattern) in no particular order: the chunker learns the nesting from the order they appear in.
HEADING_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("part", re.compile(rf"^第[{_NUM}\d]+编")),
    ("chapter", re.compile(rf"^第[{_NUM}\d]+章")),
    ("section", re.compile(rf"^第[{_NUM}\d]+节")),
    ("article", re.compile(rf"^第[{_NUM}\d]+条")),
    ("cn", re.compile(rf"^[{_NUM}]+、")),
    ("paren_cn", re.compile(rf"^[（(][{_NUM}]+[）)]")),
    ("arabic", re.compile(r"^\d{1,2}[\.．、](?!\d)")),
    ("paren_arabic", re.compile(r"^[（(]\d{1,2}[）)]")),
]
HEADING_PATTERNS_BY_KIND = dict(HEADING_PATTERNS)


# A line that opens with a list or chapter number: （一）, 一、 (one to three numerals), 第X章/节/编 (not 第X条),
# white space before it allowed. The evidence stage reads such a short line as a heading or list item.
ENUMERATED_LINE_RE = re.compile(
    rf"^\s*(?:[（(][{CN_NUMERALS}\d]{{1,3}}[）)]|[{CN_NUMERALS}]{{1,3}}、|第[{CN_NUMERALS}百]+[章节编])")
# The number that opens a heading (（一）, 一、, 第X章/条/节/编) and the space after it: stripped off to keep
# the heading's own words (the suggested example questions).
HEADING_NUMBER_RE = re.compile(
    rf"^(?:[（(][{CN_NUMERALS}\d]+[）)]|[{CN_NUMERALS}]+、|第[{CN_NUMERALS}百\d]+[章条节编])\s*")


def heading_kind(line: str) -> str | None:
    """The kind of numbered heading ``line`` starts with (``"article"`` for 第十条 …), None when none."""
    for kind, pattern in HEADING_PATTERNS:
        if pattern.match(line):
            return kind
    return None


# -- source lines --------------------------------------------------------------------------------
# A page's furniture, not its structure: where it was published, who edited it, when, the font switch
# (来源：北京日报, 来源: 新华社, 责任编辑：张三, 作者：李四, 时间：2026-02-02, 【字体：大 中 小】, 首页>要闻).
# Never a heading, never part of a heading path, never joined to the lines around it.
SOURCE_LINE_RE = re.compile(
    r"^\s*[【\[]?\s*(?:来源|稿源|信息来源|文章来源|新闻来源|出处|责任编辑|责编|编辑|校对|审核|作者|撰稿|记者|通讯员|摄影|"
    r"时间|发布时间|发布日期|发文日期|日期|浏览次数|阅读次数|点击数|访问量|字体|字号|分享到|分享|打印|"
    r"您的位置|您现在的位置|当前位置)\s*[:：]"
    r"|^\s*首页\s*[>＞›»/]"
)


def is_source_line(line: str) -> bool:
    """``来源：北京日报`` and the like: a line about the page, not a heading or a sentence of the text."""
    return SOURCE_LINE_RE.match(line) is not None
