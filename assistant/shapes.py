"""Timelines and side-by-side answers: "how has this been put over the years?" and "what does each
of Beijing, Tianjin and Hebei say?".

``scope_of(analysis, catalog, filters)`` recognises the two shapes from the question's words and the
index's own metadata (``DocCatalog``) and returns a typed ``ShapeScope``, or None for a plain question:

- *timeline* (rows = years, ascending): 历年, 这几年, 近三年, 演变, 每年的报告, 逐年, a span of years
  (2014年到2025年, 2019—2023年), or 变化/对比/有何不同 together with two or more years of one kind of
  document (2014年和2015年的国务院政府工作报告). With no year named, every indexed year of the series;
  with no issuer named, the longest series of one issuer and kind (the State Council's reports).
- *comparison* (rows = regions in the order asked, or named documents): 分别, 各自, 对比, 比较, 异同,
  三地 / 京津冀三地 with a document kind, or two or more regions named with a kind or one of those words.

``stream_rows`` answers each row through the ordinary pipeline restricted to that row's document(s)
(``RowAnswerer.answer_scoped``, i.e. ``Answering.answer_scoped``: the same retrieval, evidence and answer model as any question), keeps
the row's verified sentences (at most ``shape_row_sentences``), renumbers their markers into one
citation list and says plainly when a row's document has nothing on the topic (2016年：报告未提及).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol

from index.zh import (
    CN_SMALL_NUMBERS,
    FULL_NAMES,
    ISSUER_NAME_ALT,
    JJJ_NAME_ALT,
    JJJ_REGIONS,
    QUESTION_END,
    SENTENCE_END,
)

from .analysis import DocCatalog, DocEntryView, QuestionAnalysis, analyse
from .filters import Filters
from .models import Answer, AnswerSection, Citation, StreamEvent
from .run import Run
from .settings import Settings
from .text import char_bigrams
from .verify import split_claims
from .writers.base import REFUSAL_PHRASE

Layout = Literal["timeline", "comparison"]


class RowAnswerer(Protocol):
    """What answering a shape needs of the pipeline (``answering.Answering``): one row's answer."""

    settings: Settings

    def catalog(self) -> DocCatalog: ...

    def answer_scoped(self, question: str, filters: Filters, writer: str | None = None) -> Answer: ...

# -- cues ------------------------------------------------------------------------------------------
# Evolution over time, on their own.
_TIME_CUE = re.compile(
    r"历年|历次|历届|这几年|这些年|这两年|这三年|近几年|近些年|近年来|多年来|各年|每一年|演变|演进|变迁|沿革"
    r"|每年(?:都)?(?:怎么|如何|是怎么|是如何)"
    r"|每年(?:的)?(?:政府工作报告|工作报告|报告)|每年都(?:怎么|如何|是|有|提|讲|说)"
    rf"|逐年(?:来看|看|梳理|对比|比较|列出|说明|的)|近(?P<recent>[{CN_SMALL_NUMBERS}\d]{{1,2}})年"
)
# A span of years: 2014年到2025年, 从2014年至2025年, 2019—2023年, 2019-2023.
_SPAN = re.compile(
    r"(?:从|自)?\s*(?P<a>(?:19|20)\d{2})\s*年?\s*(?:[-—–~～至到]+|一直到)\s*(?P<b>(?:19|20)\d{2})\s*年?(?:间|期间)?"
)
# Change or difference: a timeline only when two or more years of one kind of document are named.
_CHANGE_CUE = re.compile(r"变化|变了|改变|不同|异同|区别|差异|对比|比较(?!优势)|相比|前后|调整")
# Side by side.
_SIDE_CUE = re.compile(r"分别|各自|各地|各有|对比|比较(?!优势)|异同|有何不同|有什么不同|不同之处|区别|差异")
_THREE = re.compile(r"京津冀三地|三地|三省市|各地")
_REGION_NAME = rf"(?:{JJJ_NAME_ALT}|国务院)"
_REGION_LIST = re.compile(rf"{_REGION_NAME}(?:\s*(?:[、，,和与及跟同]|以及)\s*{_REGION_NAME})+")
_YEAR_LIST = re.compile(
    r"(?:(?:19|20)\d{2}\s*年?(?:度|修订版|修正版|版本|版)?(?:的)?\s*(?:[、，,和与及跟同至到—–~～-]|以及|一直到)?\s*)+")
# A trailing clause that only asks for the change (…怎么规定的？有什么变化？): dropped from the row question.
_CHANGE_CLAUSE = re.compile(rf"(?<=[，,{QUESTION_END}])\s*(?:前后|两者|二者)?(?:有没有|有|发生了|出现了)?(?:什么|哪些|何)?(?:样的)?"
                            rf"(?:变化|不同|区别|差异|异同)(?:吗)?[{QUESTION_END}]?$")
_TITLE_LIST = re.compile(r"《[^》]{2,80}》(?:\s*(?:[、，,和与及跟同]|以及)\s*《[^》]{2,80}》)*")
_CONGRESS_LIST = re.compile(r"(?:党的)?(?:十[五六七八九]大|二十大)(?:\s*(?:[、，,和与及跟同]|以及)\s*(?:党的)?(?:十[五六七八九]大|二十大))*(?:的)?(?:报告)?")
_CONGRESS_ORDER = ("十五大", "十六大", "十七大", "十八大", "十九大", "二十大")
_REPORT_KINDS = ("工作报告", "报告")
MAX_ROWS = 20


@dataclass
class ShapeRow:
    """One row in scope: its label and the documents it is answered from."""

    label: str
    doc_ids: list[str]
    year: int | None = None
    region: str | None = None


@dataclass
class ShapeScope:
    """A recognised timeline or comparison: the rows in order and the question each row answers."""

    layout: Layout
    rows: list[ShapeRow]
    topic_question: str  # the question without its shape words: asked of every row
    missing: list[str] = field(default_factory=list)  # years of the series in scope that are not indexed
    cue: str = ""  # the words that made the shape

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- recognition ---------------------------------------------------------------------------------
def _cn_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + digits.get(text[1:], 0)
    if text.endswith("十"):
        return digits.get(text[0], 0) * 10
    return digits.get(text, 0)


def _meta(doc: DocEntryView) -> dict[str, Any]:
    return {"region": doc.region, "year": doc.year, "kind": doc.kind, "doc_id": doc.doc_id}


def _congress_of(doc: DocEntryView) -> str | None:
    return next((c for c in _CONGRESS_ORDER if c in doc.title or c in doc.doc_id), None)


def _is_report(docs: Sequence[DocEntryView]) -> bool:
    return bool(docs) and all(d.kind in _REPORT_KINDS or _congress_of(d) for d in docs)


def _series_key(doc: DocEntryView) -> tuple[str, str]:
    return str(doc.region or ""), str(doc.kind or "")


def _longest_series(docs: Sequence[DocEntryView]) -> list[DocEntryView]:
    """Of documents of several issuers and kinds, the series (one issuer, one kind) that spans the most
    years (reports first on a tie): "历年政府工作报告" reads as the State Council's twelve reports."""
    groups: dict[tuple[str, str], list[DocEntryView]] = {}
    for d in docs:
        if d.year is not None:
            groups.setdefault(_series_key(d), []).append(d)
    if not groups:
        return []
    key = max(groups, key=lambda k: (len({d.year for d in groups[k]}), k[1] in _REPORT_KINDS, k))
    return groups[key]


def _short_title(doc: DocEntryView) -> str:
    congress = _congress_of(doc)
    if congress:
        return f"{congress}报告"
    return re.sub(r"[（(][^）)]*[）)]$", "", doc.title).strip() or doc.doc_id


def _series_name(docs: Sequence[DocEntryView]) -> str:
    """How a series reads in Chinese (国务院政府工作报告), for the years it lacks."""
    regions = {d.region for d in docs}
    kinds = {d.kind for d in docs}
    region = FULL_NAMES.get(next(iter(regions)) or "", "") if len(regions) == 1 else ""
    kind = next(iter(kinds)) if len(kinds) == 1 else ""
    kind = "政府工作报告" if kind == "工作报告" else (kind or "文件")
    return f"{region}{kind}"


def _years_named(analysis: QuestionAnalysis, text: str, latest: int | None) -> tuple[list[int], bool]:
    """(years named, whether a span was named). A span reaching past the indexed years is a plan's
    horizon (2025年到2035年的目标), not a timeline."""
    years = set(analysis.years) | set(analysis.edition_years)
    spanned = False
    for m in _SPAN.finditer(text):
        a, b = sorted((int(m.group("a")), int(m.group("b"))))
        if latest is not None and b > latest:
            return [], False
        if b - a <= 40:
            years |= set(range(a, b + 1))
            spanned = True
    return sorted(years), spanned


_ISSUER = re.compile(rf"(?P<name>{ISSUER_NAME_ALT})(?:市|省)?")
_ISSUER_AFTER = re.compile(
    r"(?:的)?(?:人民政府|政府|人大常委会|人大)?(?:政府工作报告|工作报告|报告|条例|规定|办法|决定|规划|方案|意见|通知)"
    rf"|\s*(?:19|20)\d{{2}}\s*年|\s*(?:[、，,和与及跟同]|以及)\s*(?:{ISSUER_NAME_ALT})"
    r"|(?:这[几些两三]年|历年|历次|近[几些两三四五六七八九十\d]+年|近年|每年|逐年|分别|各自|在|对|关于|怎么|如何|是怎么|是如何)"
)
_ISSUER_BEFORE = re.compile(r"(?:(?:19|20)\d{2}\s*年(?:的|度)?|[、，,和与及跟同]|以及|比较|对比)\s*$")


def issuers_in(text: str) -> list[str]:
    """Regions a question names as the issuer of documents (北京市政府工作报告, 北京和天津2025年…, 北京这几年…),
    in order of mention; a region inside a topic (北京冬奥会, 疏解北京非首都功能) is not one."""
    found: list[str] = []
    for m in _ISSUER.finditer(text):
        region = "国家" if m.group("name") == "国务院" else m.group("name")
        if region in found:
            continue
        if _ISSUER_AFTER.match(text, m.end()) or _ISSUER_BEFORE.search(text[: m.start()]) or m.start() == 0:
            found.append(region)
    return found


def _regions_asked(analysis: QuestionAnalysis, text: str) -> list[str]:
    if _THREE.search(text):
        named = [r for r in issuers_in(text) if r in JJJ_REGIONS]
        return named if len(named) >= 2 else list(JJJ_REGIONS)
    return issuers_in(text)


def _allowed(docs: Sequence[DocEntryView], filters: Filters | None) -> list[DocEntryView]:
    if filters is None or filters.is_empty():
        return list(docs)
    return [d for d in docs if filters.matches(_meta(d))]


def _named_docs(analysis: QuestionAnalysis, catalog: DocCatalog) -> list[DocEntryView]:
    """The documents a question names (《titles》, 十九大报告, …) in the order it names them."""
    docs = [catalog.by_id[d] for d in analysis.target_docs if d in catalog.by_id]
    text = analysis.question

    def first_mention(doc: DocEntryView) -> int:
        keys = [_congress_of(doc) or "", _short_title(doc), str(doc.year or "")]
        positions = [text.find(k) for k in keys if k and text.find(k) >= 0]
        return min(positions) if positions else len(text)

    return sorted(docs, key=first_mention)


def scope_of(analysis: QuestionAnalysis, catalog: DocCatalog, filters: Filters | None = None) -> ShapeScope | None:
    """The timeline or comparison a question asks for, or None (a plain question)."""
    text = analysis.question
    time_cue = _TIME_CUE.search(text)
    side_cue = _SIDE_CUE.search(text)
    three = _THREE.search(text)
    change_cue = _CHANGE_CUE.search(text)
    if not (time_cue or side_cue or three or change_cue or _SPAN.search(text) or _REGION_LIST.search(text)):
        return None
    if analysis.missing_document:
        return None  # a named document that is not indexed: the ordinary answer says so
    latest = max((d.year for d in catalog.docs if d.year is not None), default=None)
    years, spanned = _years_named(analysis, text, latest)
    regions = _regions_asked(analysis, text)
    main_regions = [r for r in regions if r in FULL_NAMES]
    if analysis.names_document and len(analysis.target_docs) == 1 and len(years) < 2 and len(main_regions) < 2:
        return None  # one named document: "这几年" is the document's own review, not a timeline
    kinds = list(analysis.kinds)
    named = _named_docs(analysis, catalog) if len(analysis.target_docs) >= 2 else []

    # Side by side, per region.
    if len(main_regions) >= 2 and (side_cue or (three and kinds) or (_REGION_LIST.search(text) and (kinds or side_cue))):
        return _comparison_by_region(analysis, catalog, filters, main_regions, years, kinds,
                                     cue=_cue(side_cue, three, _REGION_LIST.search(text)))

    if named:
        allowed = _allowed(named, filters)
        if len(allowed) >= 2 and (time_cue or side_cue or change_cue or spanned):
            same_series = len({_series_key(d) for d in allowed}) == 1 and all(d.year for d in allowed) \
                and len({d.year for d in allowed}) == len(allowed)
            congress = all(_congress_of(d) for d in allowed)
            if same_series or congress:
                rows_docs = sorted(allowed, key=lambda d: (d.year or 0, _CONGRESS_ORDER.index(_congress_of(d) or "十五大")
                                                           if congress else 0))
                rows = [ShapeRow(_short_title(d) if congress else f"{d.year}年", [d.doc_id], d.year, d.region)
                        for d in rows_docs]
                return _finish("timeline", rows, analysis, _cue(time_cue, change_cue, side_cue, default="年份"),
                               named_docs=True)
            if side_cue or change_cue:
                rows = [ShapeRow(_short_title(d), [d.doc_id], d.year, d.region) for d in allowed]
                return _finish("comparison", rows, analysis, _cue(side_cue, change_cue), named_docs=True)
        return None

    # Over time.
    recent = time_cue.group("recent") if time_cue else None
    clean_only = False
    if not (time_cue or spanned):
        if not (change_cue and len(years) >= 2 and (kinds or analysis.doc_years)):
            return None
        clean_only = True  # 变化 + named years: only a series with one document a year
    if len(main_regions) >= 2:
        return None  # over time and per region at once, without a side-by-side word: left to the plain answer
    docs = catalog.matching(years=years, regions=main_regions, kinds=kinds)
    docs = _allowed(docs, filters)
    if not main_regions:
        docs = _longest_series(docs)
    docs = [d for d in docs if d.year is not None]
    by_year: dict[int, list[DocEntryView]] = {}
    for d in sorted(docs, key=lambda d: (d.year or 0, d.doc_id)):
        by_year.setdefault(int(d.year or 0), []).append(d)
    if clean_only and any(len(v) > 1 for v in by_year.values()):
        return None
    ordered = sorted(by_year)
    if recent:
        ordered = ordered[-_cn_number(recent):] if _cn_number(recent) else ordered
    if len(ordered) > MAX_ROWS:
        ordered = ordered[-MAX_ROWS:]
    if len(ordered) < 2:
        return None
    rows = [ShapeRow(f"{y}年", [d.doc_id for d in by_year[y]], y, _one({d.region for d in by_year[y]}))
            for y in ordered]
    scope = _finish("timeline", rows, analysis, _cue(time_cue, change_cue, default="年份"))
    if scope is not None:
        series = [d for y in ordered for d in by_year[y]]
        if _is_report(series) and len({_series_key(d) for d in series}) == 1:
            wanted = set(years) if years else set(range(ordered[0], ordered[-1] + 1))
            if recent:
                wanted = {y for y in wanted if y >= ordered[0]}
            if latest is not None:
                wanted = {y for y in wanted if y <= latest}
            name = _series_name(series)
            scope.missing = [f"未收录{y}年{name}" for y in sorted(wanted - set(ordered))]
    return scope


def _cue(*matches: re.Match[str] | None, default: str = "") -> str:
    """The first of the matched cue words (for the scope's record)."""
    return next((m.group(0) for m in matches if m is not None), default)


def _one(values: set[Any]) -> Any:
    return next(iter(values)) if len(values) == 1 else None


def _comparison_by_region(analysis: QuestionAnalysis, catalog: DocCatalog, filters: Filters | None,
                          regions: list[str], years: list[int], kinds: list[str], cue: str) -> ShapeScope | None:
    rows: list[ShapeRow] = []
    missing: list[str] = []
    for region in regions:
        docs = _allowed(catalog.matching(years=years, regions=[region], kinds=kinds), filters)
        label = FULL_NAMES.get(region, region)
        if not docs:
            what = (f"{'、'.join(f'{y}年' for y in years)}" if years else "") + label + (
                "政府工作报告" if kinds and kinds[0] == "工作报告" else (kinds[0] if kinds else "的文件"))
            missing.append(f"未收录{what}")
            continue
        docs.sort(key=lambda d: (d.year or 0, d.doc_id))
        rows.append(ShapeRow(label, [d.doc_id for d in docs], _one({d.year for d in docs}), region))
    scope = _finish("comparison", rows, analysis, cue)
    if scope is not None:
        scope.missing = missing
    return scope


def _finish(layout: Layout, rows: list[ShapeRow], analysis: QuestionAnalysis, cue: str,
            named_docs: bool = False) -> ShapeScope | None:
    if len(rows) < 2:
        return None
    topic = topic_question(analysis.question, named_docs)
    if not analyse(topic).focus:
        return None  # 历年政府工作报告有什么变化？ names no topic: the plain answer
    return ShapeScope(layout, rows, topic, cue=cue)


# -- the question each row answers ----------------------------------------------------------------
_CHANGE_PHRASE = re.compile(
    r"(?:发生了|有|出现了)?(?:哪些|什么(?:样的?)?|何种|怎样的?|何)(?:变化|不同|区别|差异|异同|调整|演变)(?:吗)?"
    r"|(?:是)?(?:如何|怎样|怎么)(?:变化|演变|演进|变迁|调整)(?:的)?"
    r"|有(?:没有|无)?(?:变化|不同|区别)(?:吗)?"
)
_SHAPE_WORDS = re.compile(
    r"历年来?|历次|历届|这[几些两三]年来?|近几年来?|近些年来?|近年来|多年来|各年|每一年|逐年(?:来看)?|每年(?:的|都)?"
    rf"|近[{CN_SMALL_NUMBERS}\d]{{1,2}}年来?|分别|各自|各有|京津冀三地|三地|三省市|各地|两地"
    r"|的(?:变化|演变|变迁|沿革|异同|区别|不同|差异)|(?:进行)?(?:对比|比较(?!优势))(?:一下)?"
)


def topic_question(question: str, named_docs: bool = False) -> str:
    """The question without its shape words, years and region lists: what each row is asked
    (``named_docs``: the rows are documents the question names; their names go too).

    国务院政府工作报告历年怎么提京津冀协同发展？ → 国务院政府工作报告怎么提京津冀协同发展？
    这几年对雄安新区的表述有什么变化？ → 对雄安新区的表述是什么？"""
    text = question
    if named_docs:
        text = _TITLE_LIST.sub(" ", text)
        text = _CONGRESS_LIST.sub(" ", text)
    text = _CHANGE_CLAUSE.sub("", text)
    text = _SPAN.sub(" ", text)
    text = _YEAR_LIST.sub(" ", text)
    text = _REGION_LIST.sub(" ", text)
    text = _CHANGE_PHRASE.sub("是什么", text)
    text = _SHAPE_WORDS.sub(" ", text)
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"^(?:的|和|与|及|在|从|自|对于|，|,|、)+", "", text)
    text = re.sub(r"(?:是什么)+", "是什么", text)
    text = re.sub(r"[，,、。]+(?=[？?])", "", text).strip("，,、。 ")
    if not text.endswith(("？", "?")):
        text += "？"
    return text


# -- answering ----------------------------------------------------------------------------------
def _rebuild(sentence: str, markers: Sequence[int]) -> str:
    tail = "".join(f"[{m}]" for m in markers)
    if sentence and sentence[-1] in SENTENCE_END + ".":
        return sentence[:-1] + tail + sentence[-1]
    return sentence + tail + "。"


_ATTRIBUTION = re.compile(r"^(?:根据|据|依据)?《[^》]{1,80}》(?:指出|提出|规定|明确|显示|中|要求)?[：:，,]")


def _focus_share(sentence: str, focus: Sequence[str]) -> float:
    """How much of the best-covered asked term the sentence holds (character bigrams)."""
    grams = char_bigrams(sentence)
    best = 0.0
    for term in focus:
        wanted = char_bigrams(term)
        if wanted:
            best = max(best, len(wanted & grams) / len(wanted))
    return best


LONG_SENTENCE = 120  # characters: a longer sentence is shown in a row as its clauses about the topic
EXCERPT = 70  # characters such an excerpt grows to (whole clauses) around its first clause about the topic


def excerpt(sentence: str, focus: Sequence[str], limit: int = LONG_SENTENCE, target: int = EXCERPT) -> str:
    """A long sentence cut to the clauses around the first one naming the asked thing, "……" marking
    what is left out (a verbatim slice of the verified sentence: the citation keeps the whole)."""
    if len(sentence) <= limit:
        return sentence
    end_mark = sentence[-1] if sentence[-1] in SENTENCE_END else ""
    body = sentence[: len(sentence) - len(end_mark)]
    pieces = re.split(r"(?<=[，；：,;:])", body)
    hits = [i for i, piece in enumerate(pieces) if _focus_share(piece, focus) >= 0.5]
    if not hits:
        return sentence
    lo = hi = hits[0]
    while True:
        grown = False
        for j in (hi + 1, lo - 1):
            if 0 <= j < len(pieces) and sum(len(p) for p in pieces[min(lo, j):max(hi, j) + 1]) <= target:
                lo, hi, grown = min(lo, j), max(hi, j), True
        if not grown:
            break
    text = "".join(pieces[lo:hi + 1]).rstrip("，；：,;:")
    return ("……" if lo > 0 else "") + text + ("……" if hi < len(pieces) - 1 else "") + (end_mark or "。")


def _row_claims(answer: Answer, focus: Sequence[str], limit: int, docs: Sequence[str]) -> list[tuple[str, list[int]]]:
    """The row's verified sentences (markers into ``answer.citations`` of the row's own documents): those
    naming the asked thing, in the answer's order, at most ``limit``; else the answer's first sentence."""
    in_row = {c.n for c in answer.citations if c.doc_id in docs}
    claims = [(s, [n for n in dict.fromkeys(ns) if n in in_row]) for s, ns in split_claims(answer.text)]
    claims = [(s, ns) for s, ns in claims if ns]
    if not claims:
        return []
    naming = [c for c in claims if _focus_share(c[0], focus) >= 0.5]
    return naming[:limit] if naming else claims[:1]


@dataclass
class _Rows:
    """The rows answered so far, with one citation list across them."""

    citations: list[Citation] = field(default_factory=list)
    sections: list[AnswerSection] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    evidence: list[float] = field(default_factory=list)  # the answered rows' evidence scores
    confidence: list[float] = field(default_factory=list)  # and their confidences, where the answer model gives one


def _answer_row(answerer: RowAnswerer, run: Run, scope: ShapeScope, row: ShapeRow, acc: _Rows,
                focus: Sequence[str], titles: dict[str, DocEntryView]) -> str:
    """Answer one row; returns its line (label：text)."""
    sub = answerer.answer_scoped(scope.topic_question, Filters(doc_id=list(row.doc_ids)), run.writer.name)
    if sub.notice and sub.notice not in acc.notices and sub.status != "not_found":
        acc.notices.append(sub.notice)
    claims = _row_claims(sub, focus, max(1, answerer.settings.shape_row_sentences), row.doc_ids) \
        if not sub.refused and sub.status != "not_found" else []
    by_n = {c.n: c for c in sub.citations}
    renumber: dict[int, int] = {}
    pieces: list[str] = []
    for sentence, numbers in claims:
        markers = []
        for n in numbers:
            c = by_n.get(n)
            if c is None:
                continue
            if n not in renumber:
                renumber[n] = len(acc.citations) + 1
                acc.citations.append(replace(c, n=renumber[n]))
            markers.append(renumber[n])
        if markers:
            pieces.append(_rebuild(excerpt(_ATTRIBUTION.sub("", sentence, count=1), focus), markers))
    cited_docs = list(dict.fromkeys(acc.citations[m - 1].doc_id for m in renumber.values()))
    doc_id = cited_docs[0] if cited_docs else (row.doc_ids[0] if len(row.doc_ids) == 1 else "")
    doc = titles.get(doc_id)
    if pieces:
        body = "".join(pieces)  # the row names its document: no "根据《…》：" before its sentences
        status = "answered"
        acc.evidence.append(sub.evidence_score)
        if getattr(sub, "confidence", None) is not None:
            acc.confidence.append(float(sub.confidence))  # type: ignore[arg-type]
    else:
        docs = [titles[d] for d in row.doc_ids if d in titles]
        body = ("报告" if _is_report(docs) else "文件") + "未提及。"
        status = "not_found"
    section = AnswerSection(label=row.label, doc_id=doc_id, title=doc.title if doc else "",
                            year=row.year if row.year is not None else (doc.year if doc else None),
                            region=row.region if row.region is not None else (doc.region if doc else None),
                            text=body, citations=sorted(renumber.values()), status=status)  # type: ignore[arg-type]
    acc.sections.append(section)
    line = f"{row.label}：{body}"
    acc.lines.append(line)
    return line


def _clause(quote: str, focus: Sequence[str], limit: int = 40) -> str:
    """The clause of a verified quote that best names the asked thing (a verbatim slice); "" if none
    does or it is too long to quote in one sentence."""
    quote = quote.strip().rstrip(SENTENCE_END)
    clauses = [c.strip() for c in re.split(r"[，；,;]", quote) if c.strip()]
    scored = [(_focus_share(c, focus), -i, c) for i, c in enumerate(clauses) if len(c) <= limit]
    best = max(scored, default=None)
    return best[2] if best is not None and best[0] >= 0.5 else ""


def lead_sentence(scope: ShapeScope, acc: _Rows, focus: Sequence[str]) -> str:
    """"从2014年的“…”[1]，到2025年的“…”[11]。": the first and the latest answered year's own words,
    each a verbatim slice of a verified quote with its marker; "" when that cannot be made."""
    if scope.layout != "timeline":
        return ""
    answered = [s for s in acc.sections if s.status == "answered" and s.citations]
    if len(answered) < 3:
        return ""
    first, last = answered[0], answered[-1]
    pieces = []
    for section in (first, last):
        citation = acc.citations[section.citations[0] - 1]
        clause = _clause(citation.quote, focus)
        if not clause or clause not in citation.text:
            return ""
        pieces.append((section.label, clause, citation.n))
    (l1, c1, n1), (l2, c2, n2) = pieces
    return f"从{l1}的“{c1}”[{n1}]，到{l2}的“{c2}”[{n2}]。"


def stream_rows(answerer: RowAnswerer, run: Run, scope: ShapeScope, analysis: QuestionAnalysis) -> Iterator[StreamEvent]:
    """Answer every row (one delta per row as it is done), then the final Answer."""
    t = time.perf_counter()
    base = Answer(question=run.text, text="", rewritten_question=run.question if run.question != run.text else None,
                  writer=run.writer.name, timings=run.timings, analysis={**analysis.to_dict(), "shape": scope.to_dict()},
                  layout=scope.layout)
    focus = [f for f in analyse(scope.topic_question).focus if len(f) >= 2]
    titles = dict(answerer.catalog().by_id)
    acc = _Rows()
    for row in scope.rows:
        line = _answer_row(answerer, run, scope, row, acc, focus, titles)
        yield StreamEvent("delta", text=line + "\n")
    run.timings["rows"] = time.perf_counter() - t
    base.sections = acc.sections
    base.citations = acc.citations
    base.lead = lead_sentence(scope, acc, focus)
    base.missing = list(scope.missing)
    base.notice = acc.notices[0] if acc.notices else None
    answered = [s for s in acc.sections if s.status == "answered"]
    if not answered:
        base.status, base.refused = "not_found", True
        what = "报告" if all(s.text.startswith("报告") for s in acc.sections) else "文件"
        base.text = "\n".join([f"{REFUSAL_PHRASE}。所查{len(acc.sections)}份{what}均未提及这一内容。", *acc.lines])
    else:
        base.status = "partial" if scope.missing else "answered"
        base.text = "\n".join([base.lead, *acc.lines] if base.lead else acc.lines)
    base.evidence_score = round(sum(acc.evidence) / len(acc.evidence), 4) if acc.evidence else 0.0
    if acc.confidence:
        base.confidence = round(sum(acc.confidence) / len(acc.confidence), 4)
    run.finish()
    yield StreamEvent("final", text=base.text, answer=base)
