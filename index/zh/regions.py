"""Regions and their names: the canonical regions of the library, their aliases and full names, the
places inside them, the provinces of China, and the tables and patterns built from them.

Two alias tables, on purpose: ``REGION_ALIASES`` reads running text (multi-character names, 京/津/冀
as abbreviations), ``FILE_NAME_REGIONS`` reads a file name (the first key found wins, 雄安 included).
"""

from __future__ import annotations

# Name variants → canonical region. 国家 stands for the central government (国务院, 全国).
REGION_ALIASES: dict[str, str] = {
    "北京市": "北京", "北京": "北京", "京": "北京",
    "天津市": "天津", "天津": "天津", "津": "天津",
    "河北省": "河北", "河北": "河北", "冀": "河北",
    "国务院": "国家", "中华人民共和国": "国家",
}  # fmt: skip
CANONICAL_REGIONS = ("北京", "天津", "河北", "国家")  # the region metadata of documents and the filter choices
JJJ_REGIONS = CANONICAL_REGIONS[:3]  # 北京, 天津, 河北: the three regions of 京津冀 (the central government apart)
FULL_NAMES = {"北京": "北京市", "天津": "天津市", "河北": "河北省", "国家": "国务院"}
JJJ_FULL_NAMES = {k: v for k, v in FULL_NAMES.items() if k != "国家"}  # 北京 → 北京市, 天津 → 天津市, 河北 → 河北省
# Places inside a region that documents and questions name on their own.
LOCALITIES = {"雄安新区": "河北", "雄安": "河北", "城市副中心": "北京", "北京城市副中心": "北京", "通州": "北京"}
# Aliases that are words on their own (not single characters) and safe to look for in running text.
REGION_WORDS = tuple(k for k in REGION_ALIASES if len(k) >= 2)
# A region named in a file name (``2025年北京市政府工作报告.txt``) → its canonical region; the first key
# found in the name wins. Not ``REGION_ALIASES``: 雄安 counts, the one-character abbreviations do not.
FILE_NAME_REGIONS: dict[str, str] = {
    "北京": "北京", "天津": "天津", "河北": "河北", "雄安": "河北", "国务院": "国家", "中华人民共和国": "国家",
}  # fmt: skip
# A body that names its region by itself when a question names it (国务院 → 国家).
ISSUER_REGIONS = {"国务院": "国家"}
# Every name of a region a follow-up question may swap for another (那天津呢？): full names, short
# names, the places inside them, and 全国.
REGION_MENTIONS = [*FULL_NAMES.values(), *CANONICAL_REGIONS, *LOCALITIES, "全国"]

# -- regex alternations of the names (put inside ``(?:…)``) ---------------------------------------------
ISSUER_NAME_ALT = "|".join((*JJJ_REGIONS, "国务院"))  # 北京|天津|河北|国务院
FULL_NAME_ALT = "|".join(FULL_NAMES.values())  # 北京市|天津市|河北省|国务院
JJJ_NAME_ALT = "|".join(f"{r}{FULL_NAMES[r][len(r):]}?" for r in JJJ_REGIONS)  # 北京市?|天津市?|河北省?

# The suffixes of the name of an administrative division (北京市, 宁夏回族自治区, 雄县, 锡林郭勒盟).
PLACE_SUFFIXES = ("省", "市", "自治区", "特别行政区", "自治州", "州", "盟", "地区", "县", "区")
PLACE_SUFFIX_ALT = "|".join(PLACE_SUFFIXES)  # 省|市|自治区|…|县|区

PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏",
    "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)  # fmt: skip

# Full names of the provincial-level regions, as their governments are named (北京市人民政府, 宁夏回族自治区人民政府).
PROVINCE_FULL_NAMES: dict[str, str] = {
    "北京": "北京市", "天津": "天津市", "上海": "上海市", "重庆": "重庆市", "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区", "西藏": "西藏自治区", "宁夏": "宁夏回族自治区", "新疆": "新疆维吾尔自治区",
    "香港": "香港特别行政区", "澳门": "澳门特别行政区",
    **{p: f"{p}省" for p in ("河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西", "山东",
                              "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾")},
}  # fmt: skip


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
