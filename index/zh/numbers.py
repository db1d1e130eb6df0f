"""Numbers, units, measure words and dates as Chinese texts and questions write them."""

from __future__ import annotations

import re

# -- numerals ----------------------------------------------------------------------------------------
CN_DIGITS = "零〇一二三四五六七八九十百千万亿两"  # every character of a number written in Chinese
CN_NUMERALS = "一二三四五六七八九十"  # one to ten
CN_SMALL_NUMBERS = "一二两三四五六七八九十"  # one to ten with 两 (近两年, 第两点)
# The value of an ordinal written in Chinese (第二点 → 2).
CN_ORDINAL_VALUES = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
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

# A date with its day, in digits only: 2024年9月27日 → ("2024", "9", "27").
YMD_DATE_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
# A year written 2025年 (in a file name): no guard against 1990年代 or a longer number, unlike ``YEAR_RE``.
PLAIN_YEAR_RE = re.compile(r"((?:19|20)\d{2})年")
# A year in a question, 年 optional (2024年呢？, 2024呢？).
YEAR_MENTION_RE = re.compile(r"(?:19|20)\d{2}年?")
