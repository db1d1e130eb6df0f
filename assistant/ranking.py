"""The second ranking stage and the evidence it finds: which sentence answers the analysed question.

Every sentence (and two-sentence window) of the fused candidates is scored for the question's
analysis:

- *focus*: IDF-weighted share of the focus words (the thing whose value is asked) found in the
  window itself; a compound focus word also counts when all its parts are there;
- *topic*: share of the topic words found in the window or its passage's title and heading path;
- *type*: the asked type is present in the window (a number with the measure word asked, a date,
  a person, a place, an organisation or meeting);
- *scope*: the window belongs to a named document, or to the asked year and region.

A passage's second-stage score is its best window's score plus a prior from its fused rank.
The windows' features go to the trained answer model (``answer_model``), which gives each window its
calibrated probability; the lexical score above is one of its features (and the fallback order
when no model is installed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import lru_cache

import numpy as np

from index.keyword import tokenize
from index.zh import (
    CJK_RE,
    CJK_UNIFIED_RANGE,
    CN_NUMERALS,
    DATE_RE,
    ENUMERATED_LINE_RE,
    HAS_NUMBER_RE,
    JJJ_REGIONS,
    NUMBER,
    PERCENT_RE,
    PROVINCES,
    REGION_ALIASES,
    SENTENCE_END,
    YEAR_RE,
    regions_in,
    sentence_spans,
    variants,
)

from .analysis import QuestionAnalysis, QuestionPart
from .answer_model import AnswerModel
from .evidence import DEFAULT_GATE, Gate, SentenceEvidence
from .models import Hit
from .semantic import SentenceSimilarity, mean_unit
from .text import TermWeights

# Hand-set weights (checked on eval/sets/jjj_dev.jsonl).
FOCUS_WEIGHT = 0.6
TOPIC_WEIGHT = 0.25
TYPE_WEIGHT = 0.15
TYPE_MISS_FACTOR = 0.55
SCOPE_MISS_FACTOR = 0.5
RANK_PRIOR = 0.25  # weight of the fused rank in the second-stage passage score
SEM_TOP = 12  # passages whose every window is scored by meaning (lower ones only when they share words)


MIN_PLACES = 0.75  # share of the named places (雄安新区 …) in the window, its heading or its title
VERB_WEIGHT = 0.5  # a focus verb (改善, 完成) weighs half: questions reword verbs more than nouns
_OPEN_TYPES = frozenset({"explanation", "fact", "list", "yesno"})
RELATED_MIN = 0.25  # below this a passage is not even "related"
MAX_SENTENCE = 260

_ORG = re.compile(rf"委员会|人民代表大会|人大|常委会|会议|政府|国务院|[{CJK_UNIFIED_RANGE}]部(?![分署门])|厅|局|办公室|联合办|小组|中心|集团|公司|大学|学院|银行|协会|联盟|机构")
_ROLE = re.compile(r"组长|副组长|主任|书记|部长|市长|省长|总理|主席|局长|厅长|负责人|同志|院长|委员")
_NOT_QUANTITY = re.compile(
    r"(?:19|20)\d{2}\s*年(?:\d{1,2}月(?:\d{1,2}日)?)?|\d{1,2}月\d{1,2}日|\d{1,2}月|"
    rf"[A-Z][a-z]{{2}}\.? \d{{1,2}}, \d{{4}}|第[\d{CN_NUMERALS}百]+[届次季期批条款章节轮]|[一二三四]季度"
)
_IN_FORCE = re.compile(r"自\S{2,16}起(?:施行|实施|生效)")
_ADOPTION = re.compile(r"通过|施行|实施|公布|颁布|发布|修订|修正|批准")


@lru_cache(maxsize=4096)
def _subterms(term: str) -> tuple[str, ...]:
    parts = tuple(t for t in tokenize(term) if t != term.lower() and len(t) >= 2)
    return parts


@lru_cache(maxsize=8192)
def _forms(term: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the written forms of ``term``, its parts): computed once per term, not per window."""
    return variants(term), _subterms(term)


def term_share(terms: dict[str, float], text: str) -> float:
    """IDF-weighted share of ``terms`` in ``text``; a compound counts 0.8 when all its parts occur."""
    total = sum(terms.values())
    if total <= 0:
        return 1.0
    lowered = text.lower()
    got = 0.0
    for term, weight in terms.items():
        forms, parts = _forms(term)
        if any(v in lowered for v in forms):
            got += weight
        elif parts and all(p in lowered for p in parts):
            got += 0.8 * weight
    return got / total


def _has_unit(text: str, unit: str) -> bool:
    return re.search(rf"{NUMBER}\s*(?:多|余|左右)?\s*[万亿千百]?\s*{re.escape(unit)}", text) is not None


def type_present(part: QuestionPart, text: str, granularity: str = "any", asked_years: Sequence[int] = (),
                 question_words: Sequence[str] = ()) -> bool:
    """Whether ``text`` holds an item of the asked type that the question does not already give
    (the question's own years are no answer to "how many", its own names no answer to "who/where")."""
    kind = part.answer_type
    for year in asked_years:
        text = re.sub(rf"{year}\s*年(?:度)?", "", text)
    if kind == "number":  # dates, years and ordinals are not quantities
        text = _NOT_QUANTITY.sub("", text)
    if kind in ("person", "place", "org"):
        for word in sorted(question_words, key=len, reverse=True):
            if len(word) >= 2:
                text = text.replace(word, "")
    if kind == "number":
        if part.unit:
            return _has_unit(text, part.unit) or (part.unit in ("%", "％") and PERCENT_RE.search(text) is not None)
        return HAS_NUMBER_RE.search(text) is not None
    if kind == "date":
        if granularity == "day":
            return re.search(r"\d{1,2}月\d{1,2}日|[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日", text) is not None
        if granularity == "month":
            return re.search(r"\d{1,2}月|[一二三四五六七八九十]{1,2}月", text) is not None
        return DATE_RE.search(text) is not None or YEAR_RE.search(text) is not None or re.search(r"\d{1,2}月", text) is not None
    if kind == "person":  # 由谁牵头/负责: a department answers as often as a person
        return _has_pos(text, ("nr",)) or _ROLE.search(text) is not None or _ORG.search(text) is not None
    if kind == "place":
        return _has_pos(text, ("ns",))
    if kind == "org":
        return _ORG.search(text) is not None or _has_pos(text, ("nt",))
    return True


@lru_cache(maxsize=8192)
def _pos_tags(text: str) -> frozenset[str]:
    import jieba.posseg as pseg

    # No HMM: unknown words are not guessed (the guessing was most of the second stage's time).
    return frozenset(p.flag for p in pseg.lcut(text, HMM=False))


def _has_pos(text: str, tags: tuple[str, ...]) -> bool:
    return any(flag.startswith(tags) for flag in _pos_tags(text[:MAX_SENTENCE]))


class EvidenceRanker:
    """Scores windows of candidate passages for a question's analysis; reranks the passages."""

    def __init__(self, weights: TermWeights, gate: Gate = DEFAULT_GATE, similarity: SentenceSimilarity | None = None,
                 model: AnswerModel | None = None) -> None:
        self.weights = weights
        self.gate = gate
        self.similarity = similarity
        self.model = model

    def _terms(self, words: Sequence[str]) -> dict[str, float]:
        """IDF weights of the words; a verb weighs less, and a word the corpus never uses (nor its
        parts) weighs like the rarest word the corpus does use among them: it is most likely the
        asker's own wording, and must not outweigh every word the documents share."""
        terms: dict[str, float] = {}
        unseen: list[str] = []
        for word in words:
            w = word.lower()
            known = w in self.weights.df or any(p in self.weights.df for p in _subterms(w))
            if not known:
                unseen.append(w)
                continue
            weight = self.weights.idf(w) if w in self.weights.df else self._compound_idf(w)
            if _is_verb(word):
                weight *= VERB_WEIGHT
            terms[w] = max(terms.get(w, 0.0), weight)
        cap = max(terms.values(), default=self.weights.idf("\x00"))
        for w in unseen:
            terms[w] = cap * (VERB_WEIGHT if _is_verb(w) else 1.0)
        return terms

    def _compound_idf(self, word: str) -> float:
        parts = _subterms(word)
        return max((self.weights.idf(p) for p in parts), default=self.weights.idf(word))

    def scope(self, analysis: QuestionAnalysis, hit: Hit, window: str) -> tuple[bool, str]:
        chunk = hit.chunk
        meta = chunk.metadata or {}
        if analysis.articles and not any(f"第{n}条" in window or f"第{n}条" in chunk.section for n in analysis.articles):
            return False, "article"
        if analysis.target_docs:
            if chunk.doc_id not in analysis.target_docs:
                return False, "document"
            if not analysis.years or analysis.doc_years or analysis.titles or analysis.inline_titles:
                return True, ""
        if analysis.years:
            asked = set(analysis.years) - set(analysis.doc_years if analysis.target_docs else ())
            asked = asked or set(analysis.years)
            said = {int(y) for y in YEAR_RE.findall(window)}
            if said & asked:
                return True, ""
            period = period_years(hit, window)
            if period and not (period & asked):
                return False, "year"
            if said and not period:
                return False, "year"
            if not period and not any(str(y) in chunk.text or str(y) in chunk.title for y in asked):
                return False, "year"  # an undated passage that never names the asked year
        asked_regions = [r for r in analysis.regions if r in JJJ_REGIONS]
        if asked_regions and len(asked_regions) < 3:
            doc_region = meta.get("region")
            if doc_region in JJJ_REGIONS and doc_region not in asked_regions:
                return False, "region"  # one region's report is no answer about another (那天津呢？)
            context = regions_in(window + chunk.section)
            mentions_all = "京津冀" in window
            if not mentions_all and not (set(asked_regions) & set(context)) and doc_region not in asked_regions and doc_region is not None:
                return False, "region"
        if analysis.other_provinces and not any(p in window + chunk.title for p in analysis.other_provinces):
            return False, "region"
        return True, ""

    def windows(self, analysis: QuestionAnalysis, hits: Sequence[Hit]) -> list[SentenceEvidence]:
        """Every sentence, two-sentence window and passage body of the hits, described for each part of
        the question (lexical shares, asked type, scope, core topic, meaning) and scored by the answer
        model. Windows of passages below ``SEM_TOP`` are kept only when they share the focus words."""
        parts = analysis.parts or [QuestionPart(analysis.question, analysis.answer_type, analysis.unit, analysis.focus)]
        granularity = analysis.date_granularity
        if granularity == "any" and analysis.years:
            granularity = "month"  # a year is given: "when" asks for more than that year
        question_words = [*analysis.focus, *analysis.topic, *analysis.places]
        chinese = CJK_RE.search(analysis.question) is not None
        best_dense = max((h.dense_score or 0.0 for h in hits), default=0.0)
        units = [list(_units(hit.chunk.text)) for hit in hits]
        sem_rows = self._semantic(analysis.question, hits, units)
        out: list[SentenceEvidence] = []
        for p_index, part in enumerate(parts):
            focus_words = part.focus or analysis.focus or analysis.topic
            focus_terms = self._terms(focus_words)
            asks_nothing = not focus_terms  # no content word at all (啊啊啊): no window holds the asked item
            topic_words = analysis.topic if part.topic is None else part.topic
            places = analysis.places if part.places is None else part.places
            topic_terms = self._terms([t for t in topic_words if t not in REGION_ALIASES and t not in PROVINCES
                                       and t not in places])
            place_terms = {p.lower(): 1.0 for p in places}
            # A question without a content word asks nothing a window could hold: no meaning-only windows.
            open_type = part.answer_type in _OPEN_TYPES and not asks_nothing
            anchors = anchor_terms(analysis, part if len(parts) > 1 else None)
            anchor_weights = {a.lower(): 1.0 for a in anchors}
            part_sem = sem_rows  # the whole question's meaning carries the context a short part lacks
            for h_index, hit in enumerate(hits):
                text = hit.chunk.text
                context = f"{hit.chunk.title} {hit.chunk.section}"
                near = h_index < SEM_TOP or hit.pinned
                for u_index, (kind, start, end, heading) in enumerate(units[h_index]):
                    window = text[start:end]
                    focus = 0.0 if asks_nothing else term_share(focus_terms, window)
                    if focus < 0.2 and not near:
                        continue
                    if kind == "pair":
                        focus *= 0.95  # a pair is weaker evidence than one sentence
                    topic = term_share(topic_terms, window + " " + context) if topic_terms else 1.0
                    type_ok = type_present(part, window, granularity, analysis.years, question_words) \
                        if (focus >= 0.4 or near) and not heading else False
                    scope_ok, issue = self.scope(analysis, hit, window)
                    places_ok = not place_terms or term_share(place_terms, window + " " + context) >= MIN_PLACES
                    score = FOCUS_WEIGHT * focus + TOPIC_WEIGHT * topic + TYPE_WEIGHT * float(type_ok)
                    if not type_ok:
                        score *= TYPE_MISS_FACTOR
                    if not scope_ok:
                        score *= SCOPE_MISS_FACTOR
                    if not places_ok:
                        score *= SCOPE_MISS_FACTOR
                    sims = part_sem[h_index]
                    sem = float(sims[u_index]) if sims is not None else 0.0
                    out.append(SentenceEvidence(
                        h_index, start, end, window, round(focus, 4), round(topic, 4), type_ok, scope_ok,
                        "" if scope_ok else issue, round(score, 4), p_index, hit.chunk.doc_id, open_type, places_ok,
                        hit.dense_score or 0.0, self.gate, kind=kind, heading=heading, sem=round(sem, 4),
                        dense_gap=round((hit.dense_score or 0.0) - best_dense, 4), rank0=h_index,
                        in_keyword=hit.keyword_score is not None, in_dense=hit.dense_score is not None,
                        anchor=term_share(anchor_weights, window + " " + context) if anchors else 1.0,
                        anchor_window=term_share(anchor_weights, window) if anchors else 1.0,
                        has_anchor=bool(anchors), has_number=HAS_NUMBER_RE.search(window) is not None,
                        names_doc=bool(analysis.target_docs),
                        in_target_doc=hit.chunk.doc_id in analysis.target_docs, answer_type=part.answer_type,
                        pinned=hit.pinned, chinese=chinese,
                    ))
        self._score(out, len(parts))
        return out

    def _semantic(self, question: str, hits: Sequence[Hit],
                  units: Sequence[Sequence[tuple[str, int, int, bool]]]) -> list[np.ndarray | None]:
        """USE cosine of the question to every unit of the top ``SEM_TOP`` passages (None below)."""
        if self.similarity is None:
            return [None] * len(hits)
        rows: list[np.ndarray | None] = []
        sentences: list[str] = []
        near = [h_index < SEM_TOP or hit.pinned for h_index, hit in enumerate(hits)]
        for h_index, hit in enumerate(hits):
            if not near[h_index]:
                continue
            text = hit.chunk.text
            sentences += [text[s:e] for kind, s, e, _h in units[h_index] if kind == "sentence"]
        vectors = self.similarity.vectors([question, *dict.fromkeys(sentences)])
        q, table = vectors[0], dict(zip(dict.fromkeys(sentences), vectors[1:], strict=True))
        for h_index, hit in enumerate(hits):
            if not near[h_index]:
                rows.append(None)
                continue
            text = hit.chunk.text
            own = {(s, e): table[text[s:e]] for kind, s, e, _h in units[h_index] if kind == "sentence"}
            sims = []
            for kind, s, e, _h in units[h_index]:
                if kind == "sentence":
                    vec = own[(s, e)]
                else:
                    inside = [v for (a, b), v in own.items() if a >= s and b <= e]
                    vec = mean_unit(np.stack(inside)) if inside else q * 0
                sims.append(float(vec @ q))
            rows.append(np.asarray(sims))
        return rows

    def _score(self, windows: list[SentenceEvidence], n_parts: int) -> None:
        """Fill ``sem_gap`` per part, then the model's probabilities (the lexical score without a model)."""
        best: dict[tuple[int, str], float] = {}
        for w in windows:
            for key, value in (("sem", w.sem), ("lex", w.score), ("focus", w.focus)):
                best[(w.part, key)] = max(best.get((w.part, key), 0.0), value)
        for w in windows:
            w.sem_gap = round(w.sem - best[(w.part, "sem")], 4)
            w.lex_gap = round(w.score - best[(w.part, "lex")], 4)
            w.focus_gap = round(w.focus - best[(w.part, "focus")], 4)
        model = self.model
        if model is None:
            for w in windows:
                w.prob = w.score
        else:
            for w, p in zip(windows, model.predict(windows), strict=True):
                w.prob = round(float(p), 5)
        windows.sort(key=lambda e: (e.prob, e.score, -e.hit), reverse=True)

    def rerank(self, analysis: QuestionAnalysis, hits: Sequence[Hit],
               windows: Sequence[SentenceEvidence] | None = None) -> tuple[list[Hit], list[SentenceEvidence]]:
        """Second stage: passages ordered by their best window's probability plus a prior from the
        fused rank. Returns the reranked hits and the windows re-pointed at the new order."""
        windows = list(windows) if windows is not None else self.windows(analysis, hits)
        best: dict[int, float] = {}
        for w in windows:
            if not w.heading:
                best[w.hit] = max(best.get(w.hit, 0.0), w.prob + (0.15 if w.answers else 0.0))
        scored = []
        for i, _hit in enumerate(hits):
            prior = RANK_PRIOR / (1.0 + 0.2 * i)
            scored.append((best.get(i, 0.0) + prior, i))
        scored.sort(key=lambda t: t[0], reverse=True)
        new_pos = {old: new for new, (_, old) in enumerate(scored)}
        reranked = [replace(hits[old], rerank_score=round(s, 6)) for s, old in scored]
        moved = [replace(w, hit=new_pos[w.hit]) for w in windows]
        return reranked, moved


_RECORD_LINE = re.compile(r"^\s*(?:19|20)\d{2}年\d{1,2}月\d{1,2}日|会议(?:审议)?通过|起施行|批准|公布施行|修正|修订")


def heading_line(text: str, start: int, end: int) -> bool:
    """A heading labels, it never answers: a whole short line without end punctuation, or a short
    numbered line that opens a line (（六）聚力生态环境治理，加快全面绿色转型。) even with one."""
    if _RECORD_LINE.search(text[start:end]):
        return False  # 2018年3月30日 …常务委员会第三次会议通过: the adoption record, an answer
    at_line_start = start == 0 or text[start - 1] == "\n"
    whole_line = at_line_start and (end == len(text) or text[end] == "\n")
    if whole_line and end - start <= 60 and text[end - 1] not in SENTENCE_END:
        return True
    return at_line_start and end - start <= 40 and ENUMERATED_LINE_RE.match(text[start:end]) is not None


def _units(text: str) -> Iterator[tuple[str, int, int, bool]]:
    """(kind, start, end, is heading) of a passage: its sentences, adjacent pairs that do not cross a
    line break, and its body (every sentence after its leading heading lines) when it has two or more."""
    spans = sentence_spans(text) or [(0, len(text))]
    heads = [heading_line(text, s, e) for s, e in spans]
    for (s, e), head in zip(spans, heads, strict=True):
        yield "sentence", s, e, head
    for i in range(len(spans) - 1):
        (s, _e), (_s2, e2) = spans[i], spans[i + 1]
        if heads[i] or heads[i + 1] or e2 - s > 2 * MAX_SENTENCE or "\n" in text[spans[i][1]:spans[i + 1][0]]:
            continue
        yield "pair", s, e2, False
    body = [(s, e) for (s, e), head in zip(spans, heads, strict=True) if not head]
    first = next((i for i, head in enumerate(heads) if not head), None)
    if first is not None and len(body) >= 2 and not any(heads[first:]):
        yield "body", spans[first][0], spans[-1][1], False


def passage_body(text: str) -> tuple[int, int] | None:
    """(start, end) of a passage's body: its sentences after any leading heading lines (None: all heading)."""
    spans = sentence_spans(text) or [(0, len(text))]
    body = [(s, e) for s, e in spans if not heading_line(text, s, e)]
    return (body[0][0], spans[-1][1]) if body else None


def sentence_texts(texts: Sequence[str]) -> list[str]:
    """The sentences the second stage encodes for passages of these texts (to warm the vector cache)."""
    return [text[s:e] for text in texts for kind, s, e, _head in _units(text) if kind == "sentence"]


# Words that name what a question is about beyond any single document (issue #24: the core topic).
CORE_TOPICS = (
    "京津冀", "雄安", "副中心", "一卡通", "非首都功能", "冬奥", "大兴机场", "临空经济区", "北三县", "滨海新区",
    "天津港", "曹妃甸", "张家口", "承德", "廊坊", "保定", "环京", "首都都市圈", "轨道上的京津冀", "自贸试验区",
    "中关村", "服贸会", "京津", "津冀", "京冀",
)  # fmt: skip
GENERIC_ACTIONS = frozenset(
    ["部署", "协同", "推进", "加强", "发展", "工作", "推动", "加快", "落实", "实施", "建设", "开展", "提升", "深化",
     "重点任务", "任务", "措施", "举措", "安排", "方面", "重点", "主要", "哪些", "什么", "如何", "怎么", "怎样",
     "提出", "要求", "情况", "进展", "成效", "有关", "相关"]
)  # fmt: skip


def anchor_terms(analysis: QuestionAnalysis, part: QuestionPart | None = None) -> list[str]:
    """The question's (or one part's) core topic: named places and the core topic words it uses (京津冀,
    雄安 …). A window that holds none of them (nor its heading path or title) is not evidence, however
    many generic words (部署, 协同, 推进 …) it shares."""
    q = part.text if part is not None else analysis.question
    found = [t for t in CORE_TOPICS if t in q]
    found = [t for t in found if not any(t != o and t in o for o in found)]  # 京津 inside 京津冀
    places = analysis.places if part is None or part.places is None else part.places
    found += [p for p in places if p in q and p not in found and not any(p in f for f in found)]
    return found


@lru_cache(maxsize=4096)
def _is_verb(word: str) -> bool:
    import jieba.posseg as pseg

    pairs = pseg.lcut(word)
    return len(pairs) == 1 and pairs[0].flag in ("v", "vd", "vi", "vg")


_REVIEW_SECTION = re.compile(r"回顾|过去一年|过去五年|过去的一年|上一年|去年")
_PLAN_SECTION = re.compile(r"今年|总体要求|工作安排|主要任务|重点工作|目标任务|预期目标|工作建议")
_REVIEW_WORDS = re.compile(r"过去一年|去年|上一年|上年")
_PLAN_WORDS = re.compile(r"今年|明年|年内")


def period_years(hit: Hit, window: str) -> set[int]:
    """The years a window of a dated document speaks about.

    A government work report of year N reviews year N−1 (过去一年, the review section) and sets
    the tasks of year N (今年, the plan section); any other dated document speaks about its year.
    Empty when the document has no year.
    """
    year = (hit.chunk.metadata or {}).get("year")
    if not isinstance(year, int):
        return set()
    if not _is_report(hit):
        return {year}
    if _REVIEW_WORDS.search(window):
        return {year - 1}
    if _PLAN_WORDS.search(window):
        return {year}
    section = hit.chunk.section
    if _REVIEW_SECTION.search(section):
        return {year - 1}
    if _PLAN_SECTION.search(section):
        return {year}
    return {year - 1, year}


def _is_report(hit: Hit) -> bool:
    kind = str((hit.chunk.metadata or {}).get("kind", ""))
    return "报告" in kind or "工作报告" in hit.chunk.title


def header_candidates(analysis: QuestionAnalysis, chunks_by_doc: dict[str, list[Hit]]) -> list[Hit]:
    """The first passage of each named document when the question asks when/where it was adopted, and
    its closing passage when it asks when it takes effect (本条例自…起施行)."""
    if not (analysis.wants_header and analysis.target_docs):
        return []
    out: list[Hit] = []
    for doc_id in analysis.target_docs:
        held = chunks_by_doc.get(doc_id, [])
        out.extend(replace(h, pinned=True) for h in held[:1] if _ADOPTION.search(h.chunk.text[:300]))
        out.extend(replace(h, pinned=True) for h in held[1:] if _IN_FORCE.search(h.chunk.text))
    return out
