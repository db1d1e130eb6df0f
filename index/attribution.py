"""Titles and attribution from a document's own text: the title line, the issuing body and date
stated in its header, and the articles of a page that holds several (a news report with its
``本报讯`` lead, a signed commentary ending in ``（作者系…）``), each with its heading and byline.

Metadata always wins (front matter, sidecar, docx/PDF properties, HTML ``<title>``); these rules
only fill what it leaves out. Hand-written: these are conventions of Chinese official documents
and newspapers that no general library knows.
"""

from __future__ import annotations

import re
from typing import Any

from .models import DocPart
from .zh import (
    CJK_RE,
    CJK_UNIFIED_RANGE,
    CN_NUMERALS,
    DATE_RE,
    PLACE_SUFFIX_ALT,
    PLACE_SUFFIXES,
    PROVINCE_FULL_NAMES,
    SENTENCE_END_RE,
    STATEMENT_END,
    YMD_DATE_RE,
    heading_kind,
)

_TITLE_MAX = 80
_HEADER_LINES = 6  # the title block of a document: title, date and adopting body, document number
_ORG_SUFFIX = r"(?:人民代表大会常务委员会|人民代表大会|人民政府办公厅|人民政府办公室|人民政府|国务院办公厅|国务院|委员会|办公厅|办公室|厅|局|部|院)"
_ISSUER_IN_TITLE = re.compile(rf"^(?:[^_\s]{{1,12}}_)?([^_\s《》]{{2,30}}?{_ORG_SUFFIX})(?:关于|印发)")  # 行政法规_国务院关于…
_ISSUER_IN_HEADER = re.compile(rf"((?:中华人民共和国)?[{CJK_UNIFIED_RANGE}]{{0,12}}?(?:第[{CN_NUMERALS}]+届)?{_ORG_SUFFIX})")
_SESSION = re.compile(rf"第[{CN_NUMERALS}]+届")
# News leads: 本报讯 米彦泽 近日…, 本报讯（记者 张三）…, 新华社北京3月5日电（记者 李四）…
_LEAD = re.compile(rf"^(本报讯|本报[{CJK_UNIFIED_RANGE}]{{1,6}}电|新华社[{CJK_UNIFIED_RANGE}\d月日]{{1,12}}电)")
_LEAD_PAREN = re.compile(r"^[（(](?:记者|通讯员)?\s*([^）)]{2,30})[）)]")
# A signed article's closing byline: （作者系河北经贸大学副校长 田学斌）, （作者：张三）
_BYLINE_END = re.compile(r"^[（(]作者(?:系|为|：|:|\s)\s*(.+?)[）)]\s*$")
_CLOSING = ("下一步", "今后", "接下来")  # the closing formula of a news report's last paragraph
_HEAD_CHARS = 2000  # the title and header are read from the start of the text only (profiled: whole-text scans
# of 1,000 files cost 18 s)
_MARKERS = ("本报", "新华社", "作者")  # no article split without one of these (a cheap test first)


# A government work report is delivered by the government of the region whose congress hears it:
# "2025年1月14日在北京市第十六届人民代表大会第三次会议上" → 北京市人民政府, "在第十四届全国人民代表大会…" → 国务院.
_WORK_REPORT = "政府工作报告"
_REPORT_CONGRESS = re.compile(
    rf"在\s*(?P<place>[{CJK_UNIFIED_RANGE}]{{2,12}}?(?:{PLACE_SUFFIX_ALT}))?\s*第[{CN_NUMERALS}]+届"
    r"(?P<national>全国)?人民代表大会")
# "现在，我代表北京市人民政府，向大会报告" (a full name), "我代表国务院"; "我代表市人民政府" names no place.
_DELIVERED_FOR = re.compile(rf"我代表(?P<body>[{CJK_UNIFIED_RANGE}]{{0,14}}?(?:人民政府|国务院))[，,\s]*向")
_BARE_GOVERNMENT = re.compile(r"^(?:省|市|自治区|区|县|州)?人民政府$")
_REPORT_IN_TITLE = re.compile(rf"^(?:\d{{4}}年)?(?:中华人民共和国)?(?P<place>[{CJK_UNIFIED_RANGE}]{{2,12}}?)(?:\d{{4}}年)?(?:人民)?政府工作报告")


def _government_of(place: str) -> str | None:
    """北京市 → 北京市人民政府, 宁夏 → 宁夏回族自治区人民政府, 国务院 → 国务院; None for anything else."""
    if "国务院" in place or place in ("中华人民共和国", "全国", "中央"):
        return "国务院"
    if place in PROVINCE_FULL_NAMES:
        return f"{PROVINCE_FULL_NAMES[place]}人民政府"
    if place.endswith(PLACE_SUFFIXES) and len(place) >= 2:
        return f"{place}人民政府"
    return None


def work_report_issuer(text: str, title: str) -> str | None:
    """The government that delivers a government work report (北京市人民政府, 国务院 …), from the congress
    named in its header, the body it speaks for (我代表…), or its title; None for other documents."""
    head = text[:_HEAD_CHARS]
    if _WORK_REPORT not in title and _WORK_REPORT not in head[:300]:
        return None
    if congress := _REPORT_CONGRESS.search(head):
        if congress.group("national"):
            return "国务院"
        if congress.group("place") and (body := _government_of(congress.group("place"))):
            return body
    if (spoken := _DELIVERED_FOR.search(head)) and not _BARE_GOVERNMENT.match(spoken.group("body")):
        return "国务院" if spoken.group("body").endswith("国务院") else spoken.group("body")
    if named := _REPORT_IN_TITLE.match(title):
        return _government_of(named.group("place"))
    return None


def _lines(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        left, right = len(line) - len(line.lstrip()), len(line.rstrip())
        if right > left:
            spans.append((match.start() + left, match.start() + right))
    return spans


def _is_title_line(line: str) -> bool:
    return (len(line) <= _TITLE_MAX and CJK_RE.search(line) is not None and SENTENCE_END_RE.search(line) is None
            and not line.endswith(("：", ":", "，", ",")))


# Where the body starts on a scraped page's first line "标题 2020年2月4日，为做好…": a date, a news lead,
# a document number, the salutation of a notice, or a segment that holds a sentence or clause mark.
_BODY_START = re.compile(
    r"^(?:(?:\d{4}|[一二〇○零]{4})年|\d{1,2}月\d{1,2}日|[（(]?\d{1,2}[）)]?日|近日|日前|今天|今日|昨天|昨日|据|为|"
    rf"本报|新华社|[{CJK_UNIFIED_RANGE}]{{2,6}}(?:网|报|日报|新闻)讯|记者|各[{CJK_UNIFIED_RANGE}（）()、]{{1,30}}[：:]|尊敬的|广大)")
_DOC_NUMBER = re.compile(r"〔\d{4}〕\s*\d+\s*号|\[\d{4}\]\s*\d+\s*号|第\s*\d+\s*号$")
# A title ends with its document kind; what follows it is the body (…的通知 各设区市人民政府：…).
_TITLE_END = re.compile(r"(?:通知|通告|公告|公报|决定|意见|办法|规定|规则|条例|方案|细则|措施|计划|规划|纲要|指引|指南|提示|"
                        r"倡议书|公开信|报告|批复|函|令)》?$")
_SEGMENTS = re.compile(r"[^\s\u3000\xa0]+")
_TITLE_MIN_CJK = 4


def _title_segment(segment: str, first: bool) -> bool:
    """A piece of a headline: Chinese, no full stop or semicolon, not ending in a clause mark. A headline
    may ask or exclaim (…怎么办？, 最新消息！); only its first piece may hold a comma (…作用，助力…)."""
    return (CJK_RE.search(segment) is not None and re.search(rf"[{STATEMENT_END}]", segment) is None
            and not re.search(r"[，,、：:]$", segment) and (first or re.search(r"[，,]", segment) is None))


def title_of_run_in_line(line: str) -> str | None:
    """The title at the start of a line that runs title and body together, as scraped pages do:
    ``工业和信息化部组织开展负压救护车重点生产企业督导检查 2020年2月4日，为做好…`` → the part before the
    date. The title is the leading white-space separated segments that read as a title (no sentence
    mark), up to the first that starts the body (a date, a lead, a document number, the addressees of
    a notice) or the document kind that ends a title (…的通知); None when no such start is found."""
    segments = [(m.start(), m.end()) for m in _SEGMENTS.finditer(line)]
    title_end = None
    for k, (start, end) in enumerate(segments):
        segment = line[start:end]
        if k > 0 and _BODY_START.match(segment):
            break
        if number := _DOC_NUMBER.search(segment):  # "…的通知人社部发〔2020〕11号": the title ends before it
            head = re.sub(rf"[{CJK_UNIFIED_RANGE}]{{1,6}}$", "", segment[: number.start()]) if number.start() else ""
            if head and _TITLE_END.search(head) and _title_segment(head, k == 0) and start + len(head) <= _TITLE_MAX:
                title_end = start + len(head)
            elif k == 0 and number.start() == 0:
                return None
            break
        if not _title_segment(segment, k == 0) or (k == 0 and "，" in segment and _BODY_START.match(segment)):
            break
        if end > _TITLE_MAX:
            break
        title_end = end
        if _TITLE_END.search(segment):
            break
    if title_end is None and len(segments) == 1:
        # No white space: "标题2020年2月4日，为做好…" — the title ends where a dated body starts.
        date = DATE_RE.search(line, 6, _TITLE_MAX)
        if date and _title_segment(line[: date.start()], True):
            title_end = date.start()
    if title_end is None or title_end >= len(line.rstrip()):
        return None
    title = line[:title_end].strip()
    if len(CJK_RE.findall(title)) < _TITLE_MIN_CJK or heading_kind(title) is not None:
        return None  # too short, or a numbered heading ("一、总体要求 为深入贯彻…"): no title
    return title


def title_from_text(text: str) -> str | None:
    """The first line when it reads as a title (short, Chinese, no sentence or clause end); else the
    title that starts a first line running title and body together (``title_of_run_in_line``)."""
    head = text[:_HEAD_CHARS]
    spans = _lines(head)
    if not spans:
        return None
    first = head[spans[0][0] : spans[0][1]]
    if _is_title_line(first):
        return first
    return title_of_run_in_line(first)


def header_metadata(text: str, title: str) -> dict[str, Any]:
    """Issuing body and date where the header states them: ``…人民政府办公厅关于印发…的通知`` or
    ``2024年9月27日 北京市第十六届人民代表大会常务委员会第十三次会议通过``."""
    meta: dict[str, Any] = {}
    if match := _ISSUER_IN_TITLE.match(title):
        meta["issuer"] = match.group(1)
    elif government := work_report_issuer(text, title):
        meta["issuer"] = government
    text = text[:_HEAD_CHARS]
    for start, end in _lines(text)[:_HEADER_LINES]:
        line = text[start:end]
        date = DATE_RE.match(line)
        if not date:
            continue
        if iso := YMD_DATE_RE.match(date.group()):
            meta.setdefault("date", f"{iso.group(1)}-{int(iso.group(2)):02d}-{int(iso.group(3)):02d}")
        adopted = any(word in line for word in ("通过", "公布", "发布", "批准", "印发"))
        if adopted and (body := _ISSUER_IN_HEADER.search(line, date.end())):
            meta.setdefault("issuer", _SESSION.sub("", body.group(1)).removeprefix("经"))  # 经国务院批准
        break
    return meta


def _lead_names(line: str, lead_end: int) -> list[str]:
    rest = line[lead_end:]
    if paren := _LEAD_PAREN.match(rest.lstrip()):
        return [n for n in re.split(r"[\s、，,]+", paren.group(1)) if n and n not in ("记者", "通讯员")]
    tokens = rest.split()
    # names stand between the lead and the body, separated by spaces: "本报讯 米彦泽 近日,…"
    return [t for t in tokens[:-1] if re.fullmatch(rf"[{CJK_UNIFIED_RANGE}·]{{2,5}}", t)][:3]


def split_articles(text: str) -> list[DocPart]:
    """The articles of a page holding several; ``[]`` when it holds one (or none is recognised).

    A news report starts at the heading line before its lead (本报讯 …) and ends with its closing
    paragraph (下一步… / 今后…) or before the next heading or article. A signed article ends with its
    byline (（作者系…）) and starts after the article before it; without a heading of its own it takes
    the page's headline (the last line of the page header before the first article)."""
    if not any(marker in text for marker in _MARKERS):
        return []
    spans = _lines(text)
    lines = [text[s:e] for s, e in spans]
    reports: list[tuple[int, int, list[str]]] = []  # (first line, last line, reporters)
    for i, line in enumerate(lines):
        lead = _LEAD.match(line)
        if not lead:
            continue
        first = i - 1 if i > 0 and _is_title_line(lines[i - 1]) else i
        last = i
        for j in range(i + 1, len(lines)):
            if _LEAD.match(lines[j]) or _BYLINE_END.match(lines[j]) or _is_title_line(lines[j]):
                break
            last = j
            if lines[j].startswith(_CLOSING):
                break
        reports.append((first, last, _lead_names(line, lead.end())))
    signed = [(i, m) for i, line in enumerate(lines) if (m := _BYLINE_END.match(line))]
    if len(reports) + len(signed) < 2:
        return []
    articles: list[DocPart] = []
    header_end = min([r[0] for r in reports] + [len(lines)])
    headline = lines[header_end - 1] if header_end >= 2 and _is_title_line(lines[header_end - 1]) else None
    for first, last, names in reports:
        byline = "，".join(names)
        meta: dict[str, Any] = {"issuer": f"新闻报道（本报讯，{byline}）" if byline else "新闻报道"}
        if byline:
            meta["byline"] = byline
        own_heading = lines[first] if _LEAD.match(lines[first]) is None else None
        articles.append(DocPart(spans[first][0], spans[last][1], own_heading, meta))
    claimed = sorted((a.start, a.end) for a in articles)
    for idx, match in signed:
        end = spans[idx][1]
        before = [e for s, e in claimed if e <= spans[idx][0]]
        start_line = next((k for k in range(len(spans)) if spans[k][0] >= max(before, default=-1)
                           and k >= header_end), header_end)
        if start_line >= idx:
            continue
        inside = match.group(1).strip()
        parts = inside.rsplit(maxsplit=1)
        name, affiliation = (parts[1], parts[0]) if len(parts) == 2 else (inside, "")
        meta = {"issuer": f"署名文章（{name}，{affiliation}）" if affiliation else f"署名文章（{name}）", "byline": name}
        first_line = lines[start_line]
        heading = first_line if _is_title_line(first_line) and start_line + 1 < idx else headline
        articles.append(DocPart(spans[start_line][0], end, heading, meta))
        claimed = sorted([*claimed, (spans[start_line][0], end)])
    articles.sort(key=lambda a: a.start)
    return articles if len(articles) >= 2 else []
