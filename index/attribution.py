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
from .zh import CJK_RE, DATE_RE, SENTENCE_END_RE

_TITLE_MAX = 80
_HEADER_LINES = 6  # the title block of a document: title, date and adopting body, document number
_ORG_SUFFIX = r"(?:人民代表大会常务委员会|人民代表大会|人民政府办公厅|人民政府办公室|人民政府|国务院办公厅|国务院|委员会|办公厅|办公室|厅|局|部|院)"
_ISSUER_IN_TITLE = re.compile(rf"^(\S{{2,30}}?{_ORG_SUFFIX})(?:关于|印发)")
_ISSUER_IN_HEADER = re.compile(rf"((?:中华人民共和国)?[\u4e00-\u9fff]{{0,12}}?(?:第[一二三四五六七八九十]+届)?{_ORG_SUFFIX})")
_SESSION = re.compile(r"第[一二三四五六七八九十]+届")
_ISO_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
# News leads: 本报讯 米彦泽 近日…, 本报讯（记者 张三）…, 新华社北京3月5日电（记者 李四）…
_LEAD = re.compile(r"^(本报讯|本报[\u4e00-\u9fff]{1,6}电|新华社[\u4e00-\u9fff\d月日]{1,12}电)")
_LEAD_PAREN = re.compile(r"^[（(](?:记者|通讯员)?\s*([^）)]{2,30})[）)]")
# A signed article's closing byline: （作者系河北经贸大学副校长 田学斌）, （作者：张三）
_BYLINE_END = re.compile(r"^[（(]作者(?:系|为|：|:|\s)\s*(.+?)[）)]\s*$")
_CLOSING = ("下一步", "今后", "接下来")  # the closing formula of a news report's last paragraph
_HEAD_CHARS = 2000  # the title and header are read from the start of the text only (profiled: whole-text scans
# of 1,000 files cost 18 s)
_MARKERS = ("本报", "新华社", "作者")  # no article split without one of these (a cheap test first)


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


def title_from_text(text: str) -> str | None:
    """The first line when it reads as a title (short, Chinese, no sentence or clause end)."""
    head = text[:_HEAD_CHARS]
    spans = _lines(head)
    if not spans:
        return None
    first = head[spans[0][0] : spans[0][1]]
    return first if _is_title_line(first) else None


def header_metadata(text: str, title: str) -> dict[str, Any]:
    """Issuing body and date where the header states them: ``…人民政府办公厅关于印发…的通知`` or
    ``2024年9月27日 北京市第十六届人民代表大会常务委员会第十三次会议通过``."""
    meta: dict[str, Any] = {}
    if match := _ISSUER_IN_TITLE.match(title):
        meta["issuer"] = match.group(1)
    text = text[:_HEAD_CHARS]
    for start, end in _lines(text)[:_HEADER_LINES]:
        line = text[start:end]
        date = DATE_RE.match(line)
        if not date:
            continue
        if iso := _ISO_DATE.match(date.group()):
            meta.setdefault("date", f"{iso.group(1)}-{int(iso.group(2)):02d}-{int(iso.group(3)):02d}")
        adopted = any(word in line for word in ("通过", "公布", "发布", "批准", "印发"))
        if adopted and (body := _ISSUER_IN_HEADER.search(line, date.end())):
            meta.setdefault("issuer", _SESSION.sub("", body.group(1)))
        break
    return meta


def _lead_names(line: str, lead_end: int) -> list[str]:
    rest = line[lead_end:]
    if paren := _LEAD_PAREN.match(rest.lstrip()):
        return [n for n in re.split(r"[\s、，,]+", paren.group(1)) if n and n not in ("记者", "通讯员")]
    tokens = rest.split()
    # names stand between the lead and the body, separated by spaces: "本报讯 米彦泽 近日,…"
    return [t for t in tokens[:-1] if re.fullmatch(r"[\u4e00-\u9fff·]{2,5}", t)][:3]


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
