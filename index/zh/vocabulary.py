"""Words of policy texts: abbreviations, everyday synonyms, colloquial question words."""

from __future__ import annotations

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
    "生效": ("施行", "起施行"), "开始实施": ("施行",), "开始施行": ("施行",), "实行": ("施行", "实施"), "实施": ("施行",),
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
