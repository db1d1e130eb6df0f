"""Chinese text rules, in one place: sentence ends, CJK, regions, numbers, units and measure words.

The chunker, the loaders, the writers, the verifier, the evidence scorer, the rewriter and the
question analysis all read these definitions; nothing else defines its own set of sentence-ending
characters or region names.
"""

from __future__ import annotations

import re

# -- sentences ---------------------------------------------------------------------------------
SENTENCE_END = "。！？；!?;"  # ends of a sentence (the semicolon ends a policy clause)
STRONG_END = "。！？!?"  # ends of a full sentence
CLAUSE_END = "，、：,:"  # a line ending in one of these continues on the next line
CLOSERS = "”’」』）)]】"  # closing quotes and brackets that stay with the sentence before them
_END_CLASS, _CLOSE_CLASS, _CLAUSE_CLASS = re.escape(SENTENCE_END), re.escape(CLOSERS), re.escape(CLAUSE_END)
SENTENCE_RE = re.compile(rf"[^{_END_CLASS}\n]+[{_END_CLASS}]*[{_CLOSE_CLASS}]*")
SENTENCE_END_RE = re.compile(rf"[{_END_CLASS}][{_CLOSE_CLASS}]*")
CLAUSE_END_RE = re.compile(rf"[{_CLAUSE_CLASS}][{_CLOSE_CLASS}]*")

# -- characters --------------------------------------------------------------------------------
CJK_RANGE = "\u3400-\u9fff"
CJK_RE = re.compile(f"[{CJK_RANGE}]")
WORD_CHAR_RE = re.compile(f"[{CJK_RANGE}A-Za-z0-9]")  # a character that carries content
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def has_cjk(text: str) -> bool:
    return CJK_RE.search(text) is not None


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


# -- regions -----------------------------------------------------------------------------------
# Name variants → canonical region. 国家 stands for the central government (国务院, 全国).
REGION_ALIASES: dict[str, str] = {
    "北京市": "北京", "北京": "北京", "京": "北京",
    "天津市": "天津", "天津": "天津", "津": "天津",
    "河北省": "河北", "河北": "河北", "冀": "河北",
    "国务院": "国家", "中华人民共和国": "国家",
}  # fmt: skip
CANONICAL_REGIONS = ("北京", "天津", "河北", "国家")  # the region metadata of documents and the filter choices
FULL_NAMES = {"北京": "北京市", "天津": "天津市", "河北": "河北省", "国家": "国务院"}
# Places inside a region that documents and questions name on their own.
LOCALITIES = {"雄安新区": "河北", "雄安": "河北", "城市副中心": "北京", "北京城市副中心": "北京", "通州": "北京"}
# Aliases that are words on their own (not single characters) and safe to look for in running text.
REGION_WORDS = tuple(k for k in REGION_ALIASES if len(k) >= 2)
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏",
    "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)  # fmt: skip


def regions_in(text: str) -> list[str]:
    """Canonical regions named in ``text`` (multi-character names only), in order of first mention."""
    found: dict[str, int] = {}
    for alias in sorted(REGION_WORDS, key=len, reverse=True):
        pos = text.find(alias)
        if pos >= 0:
            region = REGION_ALIASES[alias]
            found[region] = min(found.get(region, pos), pos)
    return sorted(found, key=found.__getitem__)


def provinces_in(text: str) -> list[str]:
    return [p for p in PROVINCES if p in text]


# -- numbers, units, measure words ---------------------------------------------------------------
CN_DIGITS = "零〇一二三四五六七八九十百千万亿两"
NUMBER = rf"(?:\d+(?:[.,]\d+)*|[{CN_DIGITS}]+|\d+(?:\.\d+)?[万亿])"
# Units and measure words an answer can carry, longest first so that 平方公里 wins over 公里.
UNITS = tuple(sorted((
    "平方公里", "平方米", "公顷", "亩", "公里", "千米", "米", "万吨", "亿吨", "吨", "千瓦", "万千瓦", "亿千瓦时",
    "万亿元", "亿元", "万元", "元", "美元", "亿美元", "人次", "万人次", "亿人次", "万人", "人", "户", "家", "个",
    "项", "条", "所", "座", "名", "位", "批", "种", "件", "次", "倍", "%", "％", "个百分点", "百分点", "岁",
    "年", "天", "小时", "分钟", "辆", "架", "套", "张", "台", "册", "床", "标箱", "万标箱", "场", "届", "期",
    "部", "支", "处", "区", "园", "村", "镇", "县", "城", "线", "站", "国",
), key=len, reverse=True))  # fmt: skip
UNIT_ALT = "|".join(re.escape(u) for u in UNITS)
QUANTITY_RE = re.compile(rf"{NUMBER}\s*(?:{UNIT_ALT})")
DIGIT_RE = re.compile(r"\d")
HAS_NUMBER_RE = re.compile(rf"\d|[{CN_DIGITS}]+(?:{UNIT_ALT})")
PERCENT_RE = re.compile(r"\d(?:\.\d+)?\s*[%％]|百分之|个百分点")

# -- dates ---------------------------------------------------------------------------------------
DATE_RE = re.compile(
    r"(?:\d{4}|[一二〇○零]{4})年(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})日)?"
)
YEAR_RE = re.compile(r"(?<![\d.])((?:19|20)\d{2})\s*年(?!代)")  # 2025年, not 1990年代
TIME_WORDS_RE = re.compile(r"\d{4}年|\d{1,2}月|年底|年内|年前|今年|明年|去年|过去一年|届时|以前|之前|期间|起")


# -- common abbreviations of policy terms (either form in a question matches the other in a text) --
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "gdp": ("国内生产总值", "地区生产总值", "生产总值"),
    "cpi": ("居民消费价格",),
    "社保卡": ("社会保障卡",),
    "医保": ("医疗保障", "医疗保险"),
    "社保": ("社会保障", "社会保险"),
    "综保区": ("综合保税区",),
    "自贸区": ("自由贸易试验区", "自贸试验区"),
    "人大": ("人民代表大会",),
    "政协": ("政治协商会议",),
    "京津冀一卡通": ("京津冀社会保障卡一卡通",),
}


# Everyday words for what policy texts say otherwise (a question's word → the documents' words).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "生效": ("施行", "起施行"), "开始实施": ("施行",), "开始施行": ("施行",), "实行": ("施行", "实施"),
    "老人": ("老年人",), "看病": ("就医", "医疗"), "买药": ("购药",), "坐车": ("乘车", "出行"),
    "上学": ("入学", "教育"), "房子": ("住房",), "工资": ("薪酬", "收入"), "钱": ("资金", "经费"),
    "搬": ("疏解", "迁"), "搬迁": ("疏解",), "挪": ("疏解",), "修路": ("公路", "道路"), "地铁": ("轨道交通",),
    "高铁": ("铁路",), "罚款": ("罚款", "处"), "管": ("管理",), "目标": ("预期目标", "目标"),
}  # fmt: skip
# Colloquial question words and their written forms (applied before analysis; never to documents).
COLLOQUIAL: tuple[tuple[str, str], ...] = (
    ("啥时候", "什么时候"), ("啥时", "什么时候"), ("哪会儿", "什么时候"), ("多会儿", "什么时候"), ("咋样", "怎么样"),
    ("咋办", "怎么办"), ("咋", "怎么"), ("干点啥", "做什么"), ("干啥", "做什么"), ("为啥", "为什么"), ("啥", "什么"),
    ("咱们", ""), ("咱", ""), ("俺们", ""), ("我们", ""), ("那边", ""), ("这边", ""), ("来着", ""), ("呀", ""),
    ("多少钱", "多少资金"), ("有没有说", "是否提出"), ("能不能说说", ""), ("说说", ""), ("讲讲", ""), ("聊聊", ""),
)  # fmt: skip


def normalize_colloquial(text: str) -> str:
    """A question in everyday words rewritten with the written interrogatives (啥时候 → 什么时候)."""
    for spoken, written in COLLOQUIAL:
        text = text.replace(spoken, written)
    return text


def variants(term: str) -> tuple[str, ...]:
    """``term`` and the other forms it is written in (lower-case)."""
    t = term.lower()
    out = [t, *ABBREVIATIONS.get(t, ()), *SYNONYMS.get(t, ())]
    out += [short for short, longs in ABBREVIATIONS.items() if t in longs]
    return tuple(dict.fromkeys(out))
