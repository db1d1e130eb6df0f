"""Question analysis: which documents a question names, what kind of item it asks for, and about what.

``analyse(question, catalog)`` returns a typed ``QuestionAnalysis``:

- *scope*: years, regions/issuers, document kinds, 《titles》, congress reports (十九大), article
  numbers (第十二条) and editions (2024年修订版), resolved against the index's own metadata
  (``DocCatalog``: title, year, region, kind of every indexed document), never a list of files;
- *answer type*: number (with the unit or measure word asked), date, person/role, place,
  organisation/meeting, list, yes/no, explanation, or a plain fact;
- *focus*: the words naming the thing whose value is asked, apart from the *topic* words that only
  place it (a region, 京津冀, the document's name);
- *parts*: a question with several sub-questions is split; each part carries its own type and focus.

The rules are about Chinese questions in general (interrogative words, measure words, jieba's
part-of-speech tags for places, people and organisations); none is keyed to any evaluation question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from index.keyword import STOPWORDS, warm_tokenizer
from index.zh import (
    ANY_CLAUSE_BREAK,
    CANONICAL_REGIONS,
    CJK_RANGE,
    CJK_UNIFIED_RANGE,
    CN_DIGITS,
    FULL_NAME_ALT,
    FULL_NAMES,
    ISSUER_REGIONS,
    JJJ_NAME_ALT,
    JJJ_REGIONS,
    PROVINCES,
    QUESTION_END,
    REGION_ALIASES,
    SUBQUESTION_BREAK,
    UNIT_ALT,
    UNITS,
    YEAR_RE,
    normalize_colloquial,
    provinces_in,
    regions_in,
)

AnswerType = Literal["number", "date", "person", "place", "org", "list", "yesno", "explanation", "fact"]

# -- interrogatives → answer type ------------------------------------------------------------------
_ASK_NUMBER = re.compile(
    rf"多少(?P<u1>{UNIT_ALT})?|几(?P<u2>{UNIT_ALT})|多大|多高|多长|多远|多重|多久|几成|百分之几|占比|比重|比例(?:是|为)?多少"
)
_HEAD_NUMBER = re.compile(
    rf"(?:人数|数量|总数|个数|次数|件数|户数|病例数|[^{CJK_UNIFIED_RANGE}]数|总量|规模|金额|总额|投资额|票房|吞吐量|产量|销量|交付量|"
    r"增速|增长率|增幅|涨幅|降幅|比例|占比|比重|面积|长度|里程|高度|价格|收入|总值|生产总值|GDP|人口|年龄|得分|比分)$"
)
_HEAD_DATE = re.compile(r"(?:时间|日期|时候|年份|开幕日|开售日)$")
_HEAD_PLACE = re.compile(r"(?:地点|举办地|所在地|发源地|总部)$")
_HEAD_ENTITY = re.compile(r"(?:冠军|亚军|得主|获得者|获奖者|负责人|主席|首相|总统|总理|主教练|作者|导演|主演|创始人|董事长)$")
_ASK_DATE = re.compile(r"什么时候|什麼時候|何时|何時|什麼時間|几点|哪一?年|哪一?天|哪一?日|几月|几号|何年|什么时间|何日|日期|哪个月|哪一个月")
_ASK_PERSON = re.compile(r"由谁|是谁|谁|誰|哪位|何人|哪个人|什么人|叫什么名字|姓名")
_ASK_PLACE = re.compile(r"哪里|哪儿|哪裡|何地|何处|何處|在哪(?![种種个個些类類])|什么地方|哪个(?:城市|地区|省|市|区|县|地方)|哪座城市|哪些(?:城市|地区|地方)")
_ASK_ORG = re.compile(r"哪个(?:部门|机构|单位|组织|会议)|哪家|哪些(?:部门|机构|单位)|什么(?:机构|部门|组织|会议)|哪次(?:会议)?|哪一次(?:会议)?|哪届")
_ASK_LIST = re.compile(r"哪些|哪几|哪幾|有什么|有哪|包括什么|包含什么|几项|几个方面|什么措施|什么举措")
_ASK_YESNO = re.compile(r"是否|是不是|有没有|能否|可否|能不能|会不会|可不可以|吗[？?]?$")
_ASK_EXPLAIN = re.compile(r"为什么|为何|為什麼|為何|如何|怎样|怎么|什么意思|含义|意义|目的|原因")
_INTERROGATIVE = re.compile(
    "|".join(p.pattern for p in (_ASK_NUMBER, _ASK_DATE, _ASK_PERSON, _ASK_PLACE, _ASK_ORG, _ASK_LIST, _ASK_YESNO,
                                 _ASK_EXPLAIN)) + r"|什么|什麼|哪|何"
)

# -- document scope -------------------------------------------------------------------------------
_TITLE = re.compile(r"《([^》]{2,80})》")
_ARTICLE = re.compile(rf"第([{CN_DIGITS}\d]+)条")
_EDITION = re.compile(r"((?:19|20)\d{2})\s*年(?:修订|修正|修改)?(?:版|本|稿)")
_CONGRESS = re.compile(r"(十[一二三四五六七八九]大|二十大)(?:报告)?")
_REPORT_YEAR = re.compile(
    rf"((?:19|20)\d{{2}})\s*年(?:的|度)?(?P<i1>国务院|中央|[{CJK_UNIFIED_RANGE}]{{2,4}}?[省市区])?(?:政府)?(?:工作)?报告"
    rf"|(?P<i2>国务院|[{CJK_UNIFIED_RANGE}]{{2,3}}?[省市区]?)((?:19|20)\d{{2}})\s*年(?:的|度)?(?:政府)?(?:工作)?报告"
)
# A regulation named without 《》: a region or body, then the name, then 条例/规定/办法 (e.g. 北京市…条例).
_INLINE_TITLE = re.compile(rf"((?:{FULL_NAME_ALT})[{CJK_UNIFIED_RANGE}、]{{2,30}}?(?:条例|规定|办法|决定))")
_REVIEW = re.compile(r"回顾|过去一年|去年|上一年|取得|完成了|实现了|成效|成绩|进展|已经|已")
# Document kinds as a question names them → the kind the index's metadata uses (index.loaders).
KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("政府工作报告", "工作报告"), ("工作报告", "工作报告"), ("党代会报告", "报告"), ("代表大会报告", "报告"),
    ("条例", "条例"), ("规定", "规定"), ("决定", "决定"), ("办法", "办法"), ("规划", "规划"), ("纲要", "规划"),
    ("方案", "方案"), ("意见", "意见"), ("通知", "通知"),
)  # fmt: skip

# Words that place a question but never are the item asked for.
GENERIC_TOPIC = frozenset(
    ["京津冀", "协同发展", "京津冀协同发展", "协同", "三地", "两地", "政府", "工作", "报告", "政府工作报告", "文件", "规定", "条例", "提出", "要求", "明确", "表示", "指出", "今年", "去年", "明年", "全年", "年度", "方面", "有关", "相关", "主要", "重点", "具体", "进一步", "推进", "推动", "加快", "加强", "开展", "实施", "建设", "发展", "工作", "已收录", "文件中", "根据", "按照", "依据", "据", "提到", "讲", "说", "写", "怎么说", "是", "有", "为", "做", "了", "的",
     # the asker's framing, not the asked item
     "文章", "文中", "里", "还有", "之外", "名字", "叫", "打算", "希望", "表述", "提法", "说法", "内容", "情况", "问题",
     "哪些方面", "起来", "目前", "现行", "现在", "进展", "举措", "措施", "部署", "安排",
     "回顾", "回顾过去", "过去五年", "过去一年", "时候", "开始", "具体"]
)
_FOCUS_TAGS = frozenset("nvljaqi")  # nouns, verbs, idioms, abbreviations, adjectives, measure words
# Generic words that carry no content even as a fallback focus.
_FILLER = frozenset(
    ["政府", "工作", "报告", "政府工作报告", "文件", "规定", "条例", "提出", "要求", "明确", "表示", "指出", "今年", "去年", "明年", "全年", "年度", "方面", "有关", "相关", "主要", "重点", "具体", "进一步", "已收录", "文件中", "根据", "按照", "依据", "据", "提到", "讲", "说", "写", "怎么说", "是", "有", "为", "做", "了", "的", "对", "文章", "文中", "里", "还有", "之外", "名字", "叫", "打算", "希望", "哪些方面", "方面"]
)
_QUESTION_FILLER = re.compile(r"^(?:请问|请|想问一下|想知道|我想知道|能不能告诉我)[，,]?")
_SUB_SPLIT = re.compile(rf"[{SUBQUESTION_BREAK}]+|(?<=[吗呢])[，,]")


@dataclass
class DocEntryView:
    """What the analysis needs to know of an indexed document (from the manifest)."""

    doc_id: str
    title: str
    year: int | None = None
    region: str | None = None
    kind: str | None = None
    date: str | None = None


class DocCatalog:
    """The index's documents, by their own metadata: resolves the documents a question names."""

    def __init__(self, docs: Iterable[DocEntryView]) -> None:
        self.docs = list(docs)
        self.by_id = {d.doc_id: d for d in self.docs}

    @classmethod
    def from_manifest(cls, manifest: Any) -> DocCatalog:
        views = []
        for entry in manifest.documents.values():
            meta = entry.metadata or {}
            year = meta.get("year")
            views.append(DocEntryView(
                doc_id=entry.doc_id, title=entry.title or entry.doc_id,
                year=int(year) if isinstance(year, int) or (isinstance(year, str) and year.isdigit()) else None,
                region=meta.get("region"), kind=meta.get("kind"), date=meta.get("date"),
            ))
        return cls(views)

    def _region_of(self, doc: DocEntryView) -> str | None:
        if doc.region:
            return str(doc.region)
        found = regions_in(doc.title) or provinces_in(doc.title)
        return found[0] if found else None

    def matching(self, *, years: Sequence[int] = (), regions: Sequence[str] = (), kinds: Sequence[str] = (),
                 titles: Sequence[str] = (), congress: Sequence[str] = ()) -> list[DocEntryView]:
        """Documents that satisfy every given constraint (an empty constraint does not filter)."""
        out = []
        for doc in self.docs:
            title = doc.title + " " + doc.doc_id
            if titles and not any(_title_matches(t, title) for t in titles):
                continue
            if congress and not any(c in title for c in congress):
                continue
            if years and doc.year not in years:
                continue
            if regions and self._region_of(doc) not in regions:
                continue
            if kinds and not any(k == doc.kind or k in doc.title for k in kinds):
                continue
            out.append(doc)
        return out

    def closest(self, *, years: Sequence[int], regions: Sequence[str], kinds: Sequence[str], n: int = 3) -> list[str]:
        """Indexed documents nearest to a named one that is missing: same kind and region, nearest years."""
        pool = self.matching(regions=regions, kinds=kinds) or self.matching(kinds=kinds) or self.matching(regions=regions)
        if years:
            target = years[0]
            pool.sort(key=lambda d: (abs((d.year or 0) - target) if d.year else 999, d.doc_id))
        return [d.doc_id for d in pool[:n]]


def _title_matches(named: str, title: str) -> bool:
    """A 《title》 in a question matches an indexed title when one contains the other (editions and
    dates appended to file names are ignored)."""
    core = re.sub(r"[（(][^）)]*[）)]$", "", named).strip()
    plain = re.sub(r"\s+", "", title)
    return bool(core) and (core in plain or plain.split("(")[0] in core)


@dataclass
class QuestionPart:
    text: str
    answer_type: AnswerType
    unit: str | None = None
    focus: list[str] = field(default_factory=list)
    topic: list[str] | None = None  # None: the whole question's (one-part questions)
    places: list[str] | None = None


@dataclass
class QuestionAnalysis:
    question: str
    answer_type: AnswerType = "fact"
    unit: str | None = None
    focus: list[str] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # named places below the region level (雄安新区, 滨海新区)
    parts: list[QuestionPart] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)  # canonical: 北京 天津 河北 国家
    other_provinces: list[str] = field(default_factory=list)  # provinces outside 京津冀 that the question names
    kinds: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    congress: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    edition_years: list[int] = field(default_factory=list)
    doc_years: list[int] = field(default_factory=list)  # years written as part of a report's name (2016年政府工作报告)
    inline_titles: list[str] = field(default_factory=list)  # regulation names written without 《》
    doc_regions: list[str] = field(default_factory=list)  # issuers written as part of a report's name
    review: bool = False  # asks what was done (a report of year N reviews year N−1)
    comparison: bool = False
    names_document: bool = False  # the question names one document (or a few) explicitly
    document_label: str = ""  # how the named document reads in Chinese, e.g. 2020年国务院政府工作报告
    target_docs: list[str] = field(default_factory=list)  # indexed documents it names
    missing_document: bool = False  # it names a document that is not indexed
    closest_docs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def date_granularity(self) -> str:
        """"day" when the question asks for a day (哪天, 几号), "month", else "any"."""
        if re.search(r"哪一?天|哪一?日|几号|几月几[日号]|何日|具体日期", self.question):
            return "day"
        if re.search(r"几月|哪个月|哪一个月", self.question):
            return "month"
        return "any"

    @property
    def wants_header(self) -> bool:
        """Asks when/where/by whom a document was adopted: the answer is in its header lines."""
        return self.answer_type in ("date", "org") and bool(
            re.search(r"通过|施行|实施|公布|颁布|发布|修订|修正|批准|生效|实行", self.question))


def _answer_type(text: str) -> tuple[AnswerType, str | None]:
    if m := _ASK_NUMBER.search(text):
        unit = m.group("u1") or m.group("u2")
        if unit == "年" and re.search(r"哪一?年|几年级", text):
            return "date", None
        if m.group(0).startswith("多久"):
            return "number", None
        return "number", unit
    if _ASK_DATE.search(text):
        return "date", None
    if _ASK_PERSON.search(text) and not re.search(r"谁的|为谁", text):
        return "person", None
    if _ASK_ORG.search(text):
        return "org", None
    if _ASK_PLACE.search(text):
        return "place", None
    if _ASK_LIST.search(text):
        return "list", None
    if _ASK_EXPLAIN.search(text):
        return "explanation", None
    if _ASK_YESNO.search(text):
        return "yesno", None
    # A question written as a noun phrase ("…的死亡人数", "…开幕时间", "…冠军") asks for what its head noun is.
    head = text.rstrip(QUESTION_END + " ")
    if m := _HEAD_NUMBER.search(head):
        return "number", "人" if m.group(0) in ("人数", "人口") else None
    if _HEAD_DATE.search(head):
        return "date", None
    if _HEAD_PLACE.search(head):
        return "place", None
    if _HEAD_ENTITY.search(head):
        return "person", None
    return "fact", None


_NONSENSE = re.compile(r"(.)\1+|[啊哦嗯呀哈呃唉嘿哎喔噢]+")


def _content_words(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech) pairs of ``text`` without punctuation, interrogatives and stop words."""
    import jieba.posseg as pseg

    warm_tokenizer()  # the policy-terms dictionary, with its tags
    out = []
    for pair in pseg.lcut(text):
        word, flag = pair.word.strip(), pair.flag
        if not word or not re.search(rf"[{CJK_RANGE}A-Za-z0-9]", word):
            continue
        if word in STOPWORDS or _INTERROGATIVE.fullmatch(word) or flag in ("r", "u", "p", "c", "y", "e", "o", "x", "w"):
            continue
        if _NONSENSE.fullmatch(word):
            continue  # 啊啊啊, 哈哈: one character again and again, or interjections, name nothing
        out.append((word, flag))
    return out


def _strip_scope(text: str) -> str:
    """The question without the words that only name its document or scope."""
    text = _TITLE.sub(" ", text)
    text = _EDITION.sub(" ", text)
    text = YEAR_RE.sub(" ", text)
    text = _CONGRESS.sub(" ", text)
    for word, _kind in KIND_WORDS:
        text = text.replace(word, " ")
    return text


def _focus_and_topic(text: str) -> tuple[list[str], list[str]]:
    """Focus: content words of the clause that holds the interrogative, places and generic terms
    excluded. Topic: the remaining content words (places, 京津冀, other clauses)."""
    scoped = _strip_scope(text)
    clauses = [c for c in re.split(rf"[{ANY_CLAUSE_BREAK}]", scoped) if c.strip()]
    asked = [c for c in clauses if _INTERROGATIVE.search(c)] or clauses[-1:]
    focus: list[str] = []
    topic: list[str] = []
    for clause in clauses:
        in_asked = clause in asked
        for word, flag in _content_words(clause):
            if word in UNITS or flag in ("m", "q", "t"):
                continue  # the measure word is the unit asked; numbers and times are scope
            if word in GENERIC_TOPIC or word in REGION_ALIASES or word in PROVINCES or re.fullmatch(r"\d+", word):
                if word not in GENERIC_TOPIC and word not in topic:
                    topic.append(word)
                continue
            is_place = flag.startswith("ns")
            if in_asked and not is_place and (flag[:1] in _FOCUS_TAGS or flag == "eng"):
                if len(word) < 2 and flag[:1] != "n":
                    continue
                if word not in focus:
                    focus.append(word)
            elif word not in topic:
                topic.append(word)
    return focus, topic


def _topic_words(text: str) -> list[str]:
    """Content words of the whole question, generic policy words included (fillers excluded)."""
    out = []
    for word, flag in _content_words(_strip_scope(text)):
        if word in _FILLER or word in UNITS or flag in ("m", "q", "t") or word in REGION_ALIASES or word in PROVINCES:
            continue
        if word not in out:
            out.append(word)
    return out


def _parts(text: str) -> list[str]:
    pieces = [p.strip(" ，,") for p in _SUB_SPLIT.split(text) if p.strip(" ，,")]
    pieces = [p for p in pieces if _INTERROGATIVE.search(p)]
    if len(pieces) <= 1:
        # "是哪天、在哪次会议上通过的": two interrogatives joined by 、 or 和/以及 in one sentence.
        bits = [b for b in re.split(r"、|以及|，(?:并且?|还有|同时)", text) if b.strip()]
        asking = [b for b in bits if _INTERROGATIVE.search(b)]
        types = {_answer_type(b)[0] for b in asking}
        if len(asking) >= 2 and len(types) >= 2 and "list" not in types:
            return [b.strip(" ，,？?") for b in asking]
        return [text]
    return pieces


def analyse(question: str, catalog: DocCatalog | None = None) -> QuestionAnalysis:
    """Analyse one (self-contained) question; ``catalog`` resolves the documents it names."""
    text = _QUESTION_FILLER.sub("", normalize_colloquial(question.strip())).strip() or question.strip()
    a = QuestionAnalysis(question=question)
    a.titles = [t.strip() for t in _TITLE.findall(text)]
    a.edition_years = [int(y) for y in _EDITION.findall(text)]
    outside_titles = _TITLE.sub(" ", text)
    a.years = sorted({int(y) for y in YEAR_RE.findall(outside_titles)})
    a.congress = sorted(set(_CONGRESS.findall(outside_titles)))
    a.articles = _ARTICLE.findall(text)
    a.regions = [r for r in regions_in(outside_titles)]
    for issuer, region in ISSUER_REGIONS.items():
        if issuer in outside_titles and region not in a.regions:
            a.regions.append(region)
    a.other_provinces = [p for p in PROVINCES if p in outside_titles and p not in JJJ_REGIONS]
    a.kinds = []
    for word, kind in KIND_WORDS:
        if word in outside_titles and kind not in a.kinds:
            a.kinds.append(kind)
            break
    report_names = list(_REPORT_YEAR.finditer(outside_titles))
    a.doc_years = sorted({int(m.group(1) or m.group(4)) for m in report_names})
    issuers = [m.group("i1") or m.group("i2") or "" for m in report_names]
    a.doc_regions = [r for r in dict.fromkeys(
        region for issuer in issuers for region in (regions_in(issuer) + provinces_in(issuer) + (["国家"] if "国务院" in issuer else []))
    )]
    a.inline_titles = [t for t in _INLINE_TITLE.findall(outside_titles) if t not in a.titles]
    if catalog is not None:  # an indexed document's own title written out without 《》
        plain = re.sub(r"\s+", "", outside_titles)
        for doc in catalog.docs:
            core = re.sub(r"[（(][^）)]*[）)]$", "", doc.title).strip()
            if len(core) >= 6 and core in plain and core not in a.inline_titles:
                a.inline_titles.append(core)
        if not a.inline_titles and not a.titles:
            a.inline_titles = _loose_titles(plain, catalog)
    a.review = bool(_REVIEW.search(text))
    a.comparison = bool(re.search(r"相比|比较|对比|区别|不同|异同|变化|多了|少了|新增|增加了哪些", text))

    a.answer_type, a.unit = _answer_type(text)
    a.focus, a.topic = _focus_and_topic(text)
    if not a.focus:  # "…提出了什么要求？": the asked item is the topic itself (京津冀协同发展)
        a.focus = _topic_words(text)
    a.places = [w for w, flag in _content_words(_strip_scope(text)) if flag.startswith("ns") and w not in GENERIC_TOPIC
                and w not in REGION_ALIASES and w not in PROVINCES and w not in a.focus and len(w) >= 3]
    parts = _parts(text)
    if len(parts) > 1:
        for part in parts:
            ptype, punit = _answer_type(part)
            pfocus, ptopic = _focus_and_topic(part)
            pplaces = [w for w in ptopic if w in a.places]
            a.parts.append(QuestionPart(part, ptype, punit, pfocus or list(a.focus), ptopic, pplaces))
    else:
        a.parts = [QuestionPart(text, a.answer_type, a.unit, list(a.focus))]

    _resolve_documents(a, catalog)
    if a.wants_header:  # 何时施行/哪天开始实施: the act asked about is the asked item, not a generic word
        acts = [w for w in ("施行", "实施", "生效", "实行", "通过", "公布", "颁布", "发布", "修订", "修正", "批准") if w in text]
        a.focus = list(dict.fromkeys([*a.focus, *acts]))
        for q_part in a.parts:
            q_part.focus = list(dict.fromkeys([*q_part.focus, *[w for w in acts if w in q_part.text]]))
    if a.target_docs and catalog is not None:  # words of the named document's title place the question
        titles = " ".join(catalog.by_id[d].title for d in a.target_docs if d in catalog.by_id)
        named = [w for w in a.focus if w in titles]
        if named and len(named) < len(a.focus):
            a.focus = [w for w in a.focus if w not in named]
            a.topic = list(dict.fromkeys([*a.topic, *named]))
            for q_part in a.parts:
                kept = [w for w in q_part.focus if w not in named]
                q_part.focus = kept or q_part.focus
    return a


_NAMED_RULE = re.compile(rf"([{CJK_UNIFIED_RANGE}]{{2,18}}?(?:条例|规定|办法|决定))")
_RULE_PREFIX = re.compile(rf"^(?:(?:{JJJ_NAME_ALT}|本市)(?:的|关于)?|关于)")


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _loose_titles(plain: str, catalog: DocCatalog) -> list[str]:
    """A regulation named loosely (北京的数字经济促进条例, 数字经济条例): its words, in order, within an
    indexed title of the same kind. At most three titles (editions of one regulation count once each)."""
    found: list[str] = []
    for phrase in _NAMED_RULE.findall(plain):
        core = _RULE_PREFIX.sub("", phrase)
        if len(core) < 5:
            continue
        for doc in catalog.docs:
            title = re.sub(r"[（(][^）)]*[）)]$", "", doc.title).strip()
            bare = _RULE_PREFIX.sub("", title)
            if bare.endswith(core[-2:]) and _is_subsequence(core, bare) and title not in found:
                found.append(title)
    return found if len(found) <= 3 else []


def _document_label(a: QuestionAnalysis) -> str:
    if a.titles:
        return a.titles[0]
    if a.inline_titles:
        return a.inline_titles[0]
    years = a.doc_years or a.years
    year = f"{years[0]}年" if years else ""
    regions = a.regions + a.other_provinces
    region = FULL_NAMES.get(regions[0], regions[0]) if regions else ""
    kind = "政府工作报告" if a.kinds and a.kinds[0] == "工作报告" else (a.kinds[0] if a.kinds else "")
    return f"{year}{region}{kind}"


def _resolve_documents(a: QuestionAnalysis, catalog: DocCatalog | None) -> None:
    """Does the question name a document, and which indexed ones are it?

    A document is named by a 《title》, a congress report (十九大报告), or a document kind together
    with a year or an issuer ("2016年国务院政府工作报告", "天津2025年政府工作报告"). A year or a
    region alone scopes the question but names no document.
    """
    named = bool(a.titles) or bool(a.congress) or bool(a.doc_years) or bool(a.inline_titles)
    a.names_document = named
    if not named:
        return
    a.document_label = _document_label(a)
    if catalog is None:
        return
    regions = a.doc_regions or ([r for r in a.regions if r in CANONICAL_REGIONS] + a.other_provinces)
    # With several years named, the document is the report each belongs to: keep all of them.
    titles = a.titles or a.inline_titles
    found = catalog.matching(titles=titles, congress=a.congress, years=[] if titles else (a.doc_years or a.years),
                             regions=[] if titles or a.congress else regions, kinds=[] if titles else a.kinds)
    if titles and a.edition_years:
        dated = [d for d in found if d.year in a.edition_years or any(str(y) in d.doc_id for y in a.edition_years)]
        if dated:
            found = dated
    if titles and not found and (a.years or regions):
        # 《…》 quoted loosely: fall back on the year/region/kind it also gives.
        found = catalog.matching(years=a.years, regions=regions, kinds=a.kinds) if a.kinds else []
    if found:
        a.target_docs = [d.doc_id for d in found]
        return
    if a.other_provinces and not regions:
        # "2025年上海市政府工作报告" when only 京津冀 documents are indexed.
        a.document_label = a.document_label or a.other_provinces[0]
    a.missing_document = True
    a.closest_docs = catalog.closest(years=a.years, regions=regions, kinds=a.kinds)
