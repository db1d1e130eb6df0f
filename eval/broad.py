"""Measures of whole answers to broad questions (issue #24): what the official reads.

- key-point recall: the share of a question's verbatim key points found in the answer text once the
  ``[n]`` markers are removed (and, separately, in the text plus every opened citation);
- headings only: an answer whose every sentence is a heading (``（二）纵深推动京津冀协同发展``);
- off topic: an answer none of whose sentences holds the question's core topic (京津冀, 雄安, 一卡通 …).

The core topic is defined here, apart from the system under test: the topic named by the question
analysis when it has one (``core_topic``), joined with the question's own non-generic topic and focus
words, quoted names and known programme or place names. Joining them is conservative: a sentence that
holds any of them counts as on topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assistant.models import Citation
from assistant.text import MARKER
from assistant.verify import split_claims
from index.zh import CJK_RANGE, PROVINCES, REGION_ALIASES, SENTENCE_END, heading_kind, variants

_SPACE = re.compile(r"\s+")
_EMPHASIS = re.compile(r"\*\*|__|<[/]?(?:mark|b|strong|em)>")  # highlighting a writer may add around measures
_ATTRIBUTION = re.compile(r"^(?:根据|据|依据|按照)?《[^》]{1,80}》[^：:，,]{0,12}[：:，,]\s*")  # 根据《…》：
_HEADING_MAX = 40  # the chunker's limit for a heading's own words
# Named programmes and places that are a question's core topic wherever they occur in it.
KNOWN_TOPICS = (
    "京津冀", "雄安", "副中心", "一卡通", "六链五群", "非首都功能", "北三县", "通州", "中关村", "自贸",
    "冬奥", "大兴机场", "滨海新区", "天津港", "曹妃甸", "张家口", "数字经济", "营商环境", "中医药", "乡村振兴",
)
# Words that never anchor a topic alone (asked by every broad question, or scope, or framing).
GENERIC = frozenset((
    "部署", "协同", "推进", "加强", "发展", "工作", "任务", "重点任务", "措施", "举措", "安排", "重点", "方面",
    "建设", "采取", "提出", "推动", "开展", "实施", "落实", "主要", "情况", "内容", "规定", "要求", "目标",
    "政策", "方案", "用来", "用于", "开始", "促进", "协同发展", "高质量发展", "纵深", "深入", "持续", "全面",
    "加快", "进一步", "有关", "相关", "问题", "领域", "方向", "哪些", "如何", "什么", "怎么", "怎样", "为什么",
    "做", "有", "是", "政府", "报告", "政府工作报告", "工作报告", "文件", "条例", "通知", "意见", "办法", "决定",
    "今年", "去年", "明年", "全年", "年度", "提到", "说", "讲", "写", "表述", "打算", "计划", "部门", "单位",
    "地方", "地区", "全国", "国家", "中央", "我国", "本市", "全市", "全省", "三地", "两地", "区域", "一体化",
    "生效", "施行", "时间", "日期", "多少", "哪天", "哪年", "规模", "数量", "进展", "成效", "成果", "作用",
    "支持", "提升", "增加", "业务", "稳定", "引导", "激励", "内部", "融合", "保障", "服务", "管理", "体系",
    "哪几个", "哪几", "几个", "实际", "办好", "能不能", "不能", "可以", "需要", "应该", "上作", "开通", "新增",
))


def normalise(text: str) -> str:
    """Text as matched: no ``[n]`` markers, no highlighting marks, no white space."""
    return _SPACE.sub("", _EMPHASIS.sub("", MARKER.sub("", text or "")))


def key_point_recall(points: Sequence[str], texts: Iterable[str]) -> float:
    """Share of ``points`` found verbatim (white space aside) in any of ``texts``."""
    wanted = [normalise(p) for p in points if normalise(p)]
    if not wanted:
        return 0.0
    haystack = [normalise(t) for t in texts]
    return sum(1 for p in wanted if any(p in h for h in haystack)) / len(wanted)


def answer_sentences(text: str) -> list[str]:
    """The answer's sentences without markers, attribution prefix (根据《…》：) or trailing end mark."""
    out = []
    for sentence, _numbers in split_claims(text or ""):
        bare = _ATTRIBUTION.sub("", _EMPHASIS.sub("", sentence).strip()).strip()
        bare = bare.rstrip(SENTENCE_END).strip()
        if re.search(rf"[{CJK_RANGE}A-Za-z0-9]", bare):
            out.append(bare)
    return out


def _heading_labels(citations: Sequence[Citation]) -> tuple[set[str], set[str]]:
    """(headings, cut headings) of the cited passages: the labels of their heading paths (a label the chunker
    cut at 40 characters, ``…``, as a prefix) and their whole short lines without an end mark."""
    labels: set[str] = set()
    cut: set[str] = set()
    for c in citations:
        for label in (c.section or "").split(" › "):
            label = label.strip()
            if label.endswith("…"):
                cut.add(normalise(label.rstrip("…")))
            elif label:
                labels.add(normalise(label))
        for line in (c.text or "").splitlines():
            line = line.strip()
            if line and len(line) <= _HEADING_MAX and line[-1] not in SENTENCE_END:
                labels.add(normalise(line))
    return labels, cut


def is_heading(sentence: str, labels: set[str], cut: frozenset[str] | set[str] = frozenset(),
               quoted: bool = False) -> bool:
    """A sentence that is a heading: one of the cited passages' headings (or starts with a heading label cut
    at 40 characters). A sentence not quoted from any cited passage (a generated one) is a heading when it
    reads as a numbered heading (一、… （二）… 第三章 …, not an article with its text) with no end inside.
    An item of a list (``（三）城市副中心行政办公区；``) or an article with its text is no heading."""
    bare = normalise(sentence)
    if not bare:
        return False
    if bare in labels or any(len(prefix) >= 8 and bare.startswith(prefix) for prefix in cut):
        return True
    if quoted:
        return False
    kind = heading_kind(sentence)
    return (kind is not None and kind != "article" and len(sentence) <= _HEADING_MAX
            and not any(ch in SENTENCE_END for ch in sentence))


def headings_only(text: str, citations: Sequence[Citation]) -> bool:
    """The answer has sentences and every one of them is a heading."""
    sentences = answer_sentences(text)
    labels, cut = _heading_labels(citations)
    passages = [normalise(c.text) for c in citations]
    return bool(sentences) and all(
        is_heading(s, labels, cut, quoted=any(normalise(s) in p for p in passages)) for s in sentences)


def _words(analysis: Mapping[str, Any], key: str) -> list[str]:
    value = analysis.get(key)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v]
    return []


def answer_topic_terms(question: str, analysis: Mapping[str, Any] | None) -> list[str]:
    """The question's core topic terms (see the module note); empty when it names none."""
    analysis = analysis or {}
    terms: list[str] = []
    for key in ("core_topic", "core_topics"):
        terms += _words(analysis, key)
    quoted = re.findall(r"[“\"「『‘]([^”\"」』’]{2,30})[”\"」』’]", question)
    candidates = [*_words(analysis, "topic"), *_words(analysis, "focus"), *_words(analysis, "places"), *quoted]
    for part in analysis.get("parts") or []:
        if isinstance(part, Mapping):
            candidates += _words(part, "topic") + _words(part, "focus")
    for word in candidates:
        if word in GENERIC or word in REGION_ALIASES or word in PROVINCES or len(word) < 2:
            continue
        if re.fullmatch(r"[\d年月日号.%％]+", word):
            continue
        terms.append(word)
    terms += [t for t in KNOWN_TOPICS if t in question]
    # a long term also counts through the named programme or place inside it (纵深推动京津冀协同发展 → 京津冀)
    terms += [t for term in terms for t in KNOWN_TOPICS if t in term and t != term]
    return list(dict.fromkeys(terms))


def _forms(term: str) -> set[str]:
    """``term``, its written variants (社保卡 / 社会保障卡) and its own non-generic words (吸引外资 → 外资)."""
    import jieba

    words = [w for w in jieba.lcut_for_search(term) if len(w) >= 2 and w not in GENERIC and w != term] if len(term) >= 4 else []
    return {v for w in (term, *words) for v in variants(w) if v}


def off_topic(text: str, terms: Sequence[str]) -> bool:
    """No sentence of the answer holds any of ``terms`` (or a written variant, or one of its own words)."""
    forms = {f for t in terms for f in _forms(t)}
    return not any(form in sentence.lower() for sentence in answer_sentences(text) for form in forms)
