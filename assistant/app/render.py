"""HTML rendering of questions, answers and their sources for the chat page.

Everything that comes from a document, a question or the model is passed through
``html.escape`` before it is put into markup: a document containing ``<script>`` renders as text.
Citations open without JavaScript: each marker ``[n]`` is a link to ``#cite-<turn>-<n>``, and the
CSS rule ``.cite:target .cite-body`` shows that source's passage with the quote in ``<mark>``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

from index.zh import CN_NUMERALS, MARKER_TRAILING_PUNCT, PHRASE_END, QUANTITY_RE, SENTENCE_END_CN, STRONG_END

from ..models import Answer, AnswerSection, Citation, Suggestion

MARKER = re.compile(r"\[(\d{1,2})\]")
REFUSAL_TITLE = "未在已收录文件中找到依据"
_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]")
_BLANK_LINES = re.compile(r"\n[ \t\u3000]*(?:\n[ \t\u3000]*)+")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def safe_id(value: str) -> str:
    return _ID_SAFE.sub("", value)[:40] or "x"


def cite_anchor(turn_id: str, n: int) -> str:
    return f"cite-{safe_id(turn_id)}-{int(n)}"


def source_name(source: str) -> str:
    """Only the file name: never show server paths to users."""
    return PurePath(str(source).replace("\\", "/")).name if source else ""


def citation_date(meta: Mapping[str, Any]) -> str:
    date = meta.get("date")
    if date:
        return str(date)
    year = meta.get("year")
    return f"{year}年" if year else ""


def citation_facts(c: Citation) -> list[tuple[str, str]]:
    """(label, value) pairs known for a citation, in display order."""
    meta = c.metadata or {}
    facts = [
        ("发文机关", str(meta.get("issuer") or "")),
        ("日期", citation_date(meta)),
        ("地区", str(meta.get("region") or "")),
        ("类型", str(meta.get("kind") or "")),
        ("章节", c.section or ""),
        ("页码", f"第 {c.page} 页" if c.page else ""),
        ("来源文件", source_name(c.source)),
        ("文件ID", c.doc_id or ""),
    ]
    return [(k, v) for k, v in facts if v]


def quote_span(c: Citation) -> tuple[int, int] | None:
    """Offsets of the quote inside ``c.text`` (document offsets first, then a text search)."""
    if not c.quote:
        return None
    s, e = c.quote_start - c.start, c.quote_end - c.start
    if 0 <= s < e <= len(c.text) and c.text[s:e] == c.quote:
        return s, e
    idx = c.text.find(c.quote)
    return (idx, idx + len(c.quote)) if idx >= 0 else None


def _passage_piece(text: str) -> str:
    """Escape a slice of a passage, folding runs of blank lines (offsets are resolved before this)."""
    return esc(_BLANK_LINES.sub("\n", text))


def highlighted_passage(c: Citation) -> str:
    span = quote_span(c)
    if span is None:
        body = _passage_piece(c.text.strip())
        if c.quote:
            body += f'<div class="cite-quote">引文：<mark>{esc(c.quote)}</mark></div>'
        return body
    s, e = span
    before, quote, after = c.text[:s].lstrip(), c.text[s:e], c.text[e:].rstrip()
    return f"{_passage_piece(before)}<mark>{_passage_piece(quote)}</mark>{_passage_piece(after)}"


def _one_line(text: str) -> str:
    return " ".join(str(text or "").split())


def marker_title(c: Citation) -> str:
    """Plain-text tooltip of a marker: "[n] 《title》 section" and the quote on a second line.

    Plain text only (it goes into a ``title`` attribute): no markup, and no quotation marks added
    around a quote that already starts with one.
    """
    quote = _one_line(c.quote)
    if len(quote) > 80:
        quote = quote[:79] + "…"
    if quote and not (quote[0] in "“\"「『‘'" or quote[-1] in "”\"」』’'"):
        quote = f"“{quote}”"
    head = f"[{c.n}] 《{_one_line(c.title)}》" + (f" {_one_line(c.section)}" if c.section else "")
    return f"{head}\n{quote}" if quote else head


def _tooltip(text: str) -> str:
    """Escape for a ``title`` attribute, line breaks as character references (never split as paragraphs)."""
    return esc(text).replace("\n", "&#10;")


# A marker (or a run of markers) and the punctuation after it stay on one line: no "。" at a line start.
_MARKER_RUN = re.compile(rf"((?:\[\d{{1,2}}\])+)([{MARKER_TRAILING_PUNCT}]*)")


def link_markers(escaped_text: str, turn_id: str, citations: Mapping[int, Citation]) -> str:
    """Turn ``[n]`` in already-escaped text into links to the source ``n`` of this turn.

    Apply it to one paragraph at a time (after splitting lines): the links carry a ``title``.
    """

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        c = citations.get(n)
        if c is None:
            return m.group(0)
        return (f'<a class="cite-marker" href="#{cite_anchor(turn_id, n)}" data-cite="{n}" '
                f'title="{_tooltip(marker_title(c))}">[{n}]</a>')

    def run(m: re.Match[str]) -> str:
        linked = MARKER.sub(link, m.group(1))
        if linked == m.group(1):
            return m.group(0)
        return f'<span class="cite-nobr">{linked}{m.group(2)}</span>'

    return _MARKER_RUN.sub(run, escaped_text)


def paragraphs(escaped_text: str) -> str:
    parts = [p.strip() for p in escaped_text.split("\n") if p.strip()]
    return "".join(f"<p>{p}</p>" for p in parts)


# A sentence that carries a concrete measure: a figure with its unit, a date, a named project or place.
_MEASURE = re.compile(rf"{QUANTITY_RE.pattern}|\d{{4}}年(?:底|前|内)?|[{CN_NUMERALS}\d]+(?:个|项|条|批|家|所)|"
                      rf"(?:项目|工程|基地|园区|中心|示范区|片区|铁路|高铁|城际|机场|港)[{PHRASE_END}]")
_CLAIM_SPLIT = re.compile(rf"(.*?(?:\[\d{{1,2}}\])+[{SENTENCE_END_CN}]?)")


def highlight_measures(escaped_paragraph: str) -> str:
    """Wrap the sentences of a paragraph that carry concrete measures in ``<mark class="measure">``."""
    pieces = [p for p in _CLAIM_SPLIT.split(escaped_paragraph) if p]
    out = []
    for piece in pieces:
        body = MARKER.sub("", piece)
        if MARKER.search(piece) and _MEASURE.search(body):
            out.append(f'<mark class="measure">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)


def cited_paragraphs(text: str, turn_id: str, citations: Mapping[int, Citation], highlight: bool = False) -> str:
    """Answer text as escaped paragraphs with linked markers (``highlight``: sentences with concrete
    measures marked, for the quoted section bodies of broad answers)."""
    parts = [p.strip() for p in esc(text).split("\n") if p.strip()]
    if highlight:
        parts = [highlight_measures(p) for p in parts]
    return "".join(f"<p>{link_markers(p, turn_id, citations)}</p>" for p in parts)


def _where(c: Citation) -> str:
    return " · ".join(v for v in (c.section, f"第 {c.page} 页" if c.page else "") if v)


def _snippet(c: Citation, limit: int = 60) -> str:
    quote = _one_line(c.quote)
    return quote if len(quote) <= limit else quote[: limit - 1] + "…"


def render_citation(c: Citation, turn_id: str, anchor: str | None = None, label: str | None = None,
                    close: str | None = None) -> str:
    """One openable source line: "[n] section — quote", opening the passage with the quote marked.

    The document's title line is drawn once per document by :func:`render_source_groups`; the
    opened body repeats the title so the passage is never shown without its document.
    """
    anchor = anchor or cite_anchor(turn_id, c.n)
    label = label or f"[{c.n}]"
    close = close or f"sources-{safe_id(turn_id)}"
    facts = "".join(f'<span class="fact"><span class="fact-k">{esc(k)}</span>{esc(v)}</span>'
                    for k, v in citation_facts(c))
    where = _where(c)
    return (
        f'<div class="cite" id="{anchor}" data-n="{c.n}" data-doc="{esc(c.doc_id)}">'
        f'<a class="cite-head" href="#{anchor}"><span class="cite-n">{esc(label)}</span>'
        f'{f"<span class=cite-where>{esc(where)}</span>" if where else ""}'
        f'<span class="cite-snippet">{esc(_snippet(c))}</span></a>'
        f'<div class="cite-body">'
        f'<div class="cite-doc"><span class="cite-title">《{esc(c.title)}》</span></div>'
        f'<div class="cite-facts">{facts}</div>'
        f'<blockquote class="cite-passage">{highlighted_passage(c)}</blockquote>'
        f'<a class="cite-close" href="#{close}">收起原文</a>'
        f"</div></div>"
    )


def _doc_brief(c: Citation) -> str:
    meta = c.metadata or {}
    return " · ".join(v for v in (str(meta.get("issuer") or ""), citation_date(meta)) if v)


def group_by_document(citations: Iterable[Citation]) -> list[list[Citation]]:
    """Citations grouped per document, documents in order of their first citation."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.doc_id or c.title, []).append(c)
    return list(groups.values())


def render_source_groups(items: list[tuple[Citation, str, str]], turn_id: str, box_id: str) -> str:
    """(citation, anchor, label) items under one title line per document."""
    by_anchor = {id(c): (anchor, label) for c, anchor, label in items}
    out: list[str] = []
    for group in group_by_document(c for c, _, _ in items):
        head = group[0]
        brief = _doc_brief(head)
        lines = "".join(render_citation(c, turn_id, *by_anchor[id(c)], close=box_id) for c in group)
        out.append(
            f'<div class="source-doc" data-doc="{esc(head.doc_id)}">'
            f'<div class="source-doc-head"><span class="cite-title">《{esc(head.title)}》</span>'
            f'{f"<span class=cite-brief>{esc(brief)}</span>" if brief else ""}'
            f'<span class="source-doc-count">{len(group)} 处</span></div>'
            f"{lines}</div>"
        )
    return "".join(out)


def render_sources(answer: Answer, turn_id: str) -> str:
    if not answer.citations:
        return ""
    box = f"sources-{safe_id(turn_id)}"
    items = [(c, cite_anchor(turn_id, c.n), f"[{c.n}]") for c in sorted(answer.citations, key=lambda c: c.n)]
    return (f'<div class="sources" id="{box}">'
            f'<div class="sources-title">参考来源（点击编号查看原文）</div>'
            f"{render_source_groups(items, turn_id, box)}</div>")


def related_anchor(turn_id: str, i: int) -> str:
    return f"rel-{safe_id(turn_id)}-{int(i)}"


def render_related(answer: Answer, turn_id: str) -> str:
    """Verified passages near the question, shown apart under 相关内容: never as the answer."""
    if not answer.related:
        return ""
    box = f"related-{safe_id(turn_id)}"
    items = [(c, related_anchor(turn_id, i), f"相关{i}") for i, c in enumerate(answer.related, start=1)]
    return (f'<div class="related" id="{box}">'
            f'<div class="sources-title related-title">相关内容'
            f'<span class="related-hint">（以下原文与问题相关，但不是对问题的回答，仅供查阅）</span></div>'
            f"{render_source_groups(items, turn_id, box)}</div>")


def render_suggestions(suggestions: Iterable[Suggestion]) -> str:
    """The "可能相关的文件" list; nothing at all when there is no suggestion."""
    items = "".join(
        f'<li><span class="cite-title">《{esc(s.title)}》</span>'
        f'{f"<span class=cite-brief>{esc(s.section)}</span>" if s.section else ""}</li>'
        for s in suggestions
    )
    if not items:
        return ""
    return f'<div class="suggestions"><div class="sources-title">可能相关的文件</div><ul>{items}</ul></div>'


def render_notice(text: str, kind: str = "info") -> str:
    return f'<div class="notice notice-{esc(kind)}">{esc(text)}</div>'


def answer_state(answer: Answer) -> str:
    """``answered`` | ``partial`` | ``not_found`` (a refused answer is not_found whatever its status)."""
    if answer.refused or answer.status == "not_found":
        return "not_found"
    return "partial" if answer.status == "partial" else "answered"


REWRITTEN_SHORT = 40  # characters of the rewritten question shown before it is folded


def render_rewritten(question: str | None) -> str:
    """The follow-up banner: the rewritten question only, short; the full text folded away."""
    text = _one_line(question or "")
    if not text:
        return ""
    if len(text) <= REWRITTEN_SHORT:
        return f'<div class="rewritten">已按上下文理解为：<span class="rewritten-q">{esc(text)}</span></div>'
    short = text[: REWRITTEN_SHORT - 1] + "…"
    return (f'<details class="rewritten"><summary>已按上下文理解为：<span class="rewritten-q">{esc(short)}</span>'
            f'</summary><div class="rewritten-full">{esc(text)}</div></details>')


def _split_first_sentence(text: str) -> tuple[str, str]:
    text = text.strip()
    if text.startswith(REFUSAL_TITLE):
        return REFUSAL_TITLE, text.removeprefix(REFUSAL_TITLE).lstrip("。.，, ")
    for i, ch in enumerate(text):
        if ch in STRONG_END + "\n" and i > 0:
            return text[:i], text[i + 1:].lstrip()
    return text or REFUSAL_TITLE, ""


def render_missing(items: Iterable[str], title: str) -> str:
    lis = "".join(f"<li>{esc(m)}</li>" for m in items if str(m).strip())
    return (f'<div class="notice notice-partial"><div class="partial-title">{esc(title)}</div>'
            f'{f"<ul>{lis}</ul>" if lis else ""}</div>')


def render_not_found(answer: Answer, turn_id: str) -> str:
    title, rest = _split_first_sentence(answer.text)
    missing = [m for m in answer.missing if m.strip() and m not in answer.text]
    extra = "".join(f"<li>{esc(m)}</li>" for m in missing)
    return (f'<div class="notice notice-refusal notice-not-found"><div class="refusal-title">{esc(title)}</div>'
            f'{paragraphs(esc(rest))}{f"<ul class=missing-list>{extra}</ul>" if extra else ""}</div>'
            f"{render_suggestions(answer.suggestions)}{render_related(answer, turn_id)}")


SHAPE_HEADS = {"timeline": "年份", "comparison": "地区"}


def shaped(answer: Answer) -> bool:
    """A timeline or comparison answer with its rows (older answers and plain ones are not)."""
    return answer.layout in ("timeline", "comparison") and bool(answer.sections)


def row_head(answer: Answer) -> str:
    if answer.layout == "comparison" and any(s.region is None for s in answer.sections):
        return "文件"
    return SHAPE_HEADS.get(answer.layout, "")


def _row_doc(section: AnswerSection) -> str:
    return f'<div class="row-doc">《{esc(section.title)}》</div>' if section.title and section.label not in section.title \
        else ""


def render_sections(answer: Answer, turn_id: str) -> str:
    """The rows of a timeline (a list of years down a line) or a comparison (a table, one row per region
    or document); each row's markers open the passage as in any answer. A row whose document has
    nothing on the topic is drawn grey with its 报告未提及."""
    by_n = {c.n: c for c in answer.citations}
    lead = (f'<p class="shape-lead">{link_markers(esc(answer.lead), turn_id, by_n)}</p>'
            if answer.lead else "")

    def cell(section: AnswerSection) -> str:
        return link_markers(esc(section.text), turn_id, by_n)

    if answer.layout == "timeline":
        items = "".join(
            f'<li class="tl-row row-{esc(s.status)}" data-status="{esc(s.status)}" data-doc="{esc(s.doc_id)}"'
            f'{f" data-year={int(s.year)}" if s.year is not None else ""}>'
            f'<span class="tl-label">{esc(s.label)}</span><div class="tl-text">{cell(s)}</div></li>'
            for s in answer.sections)
        return (f'<div class="answer-shape shape-timeline" data-layout="timeline">{lead}'
                f'<ol class="timeline">{items}</ol></div>')
    rows = "".join(
        f'<tr class="cmp-row row-{esc(s.status)}" data-status="{esc(s.status)}" data-doc="{esc(s.doc_id)}">'
        f'<th scope="row">{esc(s.label)}{_row_doc(s)}</th><td>{cell(s)}</td></tr>'
        for s in answer.sections)
    return (f'<div class="answer-shape shape-comparison" data-layout="comparison">{lead}'
            f'<table class="shape-table"><thead><tr><th scope="col">{esc(row_head(answer))}</th>'
            f'<th scope="col">内容</th></tr></thead><tbody>{rows}</tbody></table></div>')


def render_answer_body(answer: Answer, turn_id: str) -> str:
    parts: list[str] = []
    if answer.notice:
        parts.append(render_notice(answer.notice, "info"))
    state = answer_state(answer)
    if state == "not_found":
        if shaped(answer):  # every row's document lacks the topic: the rows say so, one by one
            title, _rest = _split_first_sentence(answer.text)
            rest = answer.text.split("\n", 1)[0].removeprefix(title).lstrip("。.，, ")
            parts.append(f'<div class="notice notice-refusal notice-not-found"><div class="refusal-title">{esc(title)}'
                         f'</div>{paragraphs(esc(rest))}</div>{render_sections(answer, turn_id)}')
            return "".join(parts)
        parts.append(render_not_found(answer, turn_id))
        return "".join(parts)
    parts.append(render_rewritten(answer.rewritten_question))
    by_n = {c.n: c for c in answer.citations}
    if shaped(answer):
        parts.append(f'<div class="answer-text">{render_sections(answer, turn_id)}</div>')
    else:
        broad = "】部分：" in answer.text  # a section body quoted whole: its concrete measures stand out
        parts.append(f'<div class="answer-text">{cited_paragraphs(answer.text, turn_id, by_n, highlight=broad)}</div>')
    if state == "partial":
        parts.append(render_missing(answer.missing, "以下内容未在已收录文件中找到依据："
                                    if answer.missing else "问题的部分内容未在已收录文件中找到依据。"))
    if answer.unsupported:
        items = "".join(f"<li>{esc(s)}</li>" for s in answer.unsupported)
        parts.append(f'<details class="unsupported"><summary>有 {len(answer.unsupported)} 句未能在原文中核实，'
                     f"请谨慎参考</summary><ul>{items}</ul></details>")
    parts.append(render_sources(answer, turn_id))
    parts.append(render_related(answer, turn_id))
    return "".join(parts)


def _footer(answer: Answer) -> str:
    writer = {"extractive": "摘录式回答", "llm": "大模型回答"}.get(answer.writer, answer.writer)
    total = answer.timings.get("total")
    took = ""
    if total:  # fast answers in milliseconds: "用时 0.0 秒" reads like a fault
        took = f" · 用时 {total * 1000:.0f} 毫秒" if round(total * 1000) < 1000 else f" · 用时 {total:.1f} 秒"
    return f'<div class="msg-footer">{esc(writer)}{esc(took)}{esc(confidence_note(answer))}</div>'


def confidence_note(answer: Answer) -> str:
    """The calibrated confidence as a short note (置信度 高/中/低 and the percentage); empty without one."""
    p = answer.confidence
    if p is None:
        return ""
    level = "高" if p >= 0.8 else ("中" if p >= 0.5 else "低")
    what = "未找到依据的判断" if answer_state(answer) == "not_found" else "回答"
    return f" · {what}置信度{level}（{p * 100:.0f}%）"


def render_question(question: str) -> str:
    return f'<div class="msg msg-user"><div class="bubble">{paragraphs(esc(question))}</div></div>'


def render_turn(turn_id: str, question: str, answer: Answer) -> str:
    """One finished turn. ``data-state`` and the ``state-*`` class name the answer's state:
    ``answered``, ``partial`` (answer + what the documents lack) or ``not_found``."""
    state = answer_state(answer)
    return (
        f'<div class="turn state-{state}" id="turn-{safe_id(turn_id)}" data-state="{state}">'
        f"{render_question(question)}"
        f'<div class="msg msg-bot"><div class="bubble">{render_answer_body(answer, turn_id)}{_footer(answer)}'
        f"</div></div>"
        f"</div>"
    )


def render_pending(question: str, partial: str, progress: str = "") -> str:
    """The answer being streamed; ``progress`` (e.g. 首字 3.1 秒 · 已用 6.0 秒) replaces the default line."""
    body = paragraphs(esc(partial)) if partial.strip() else ""
    line = esc(progress) if progress else "正在检索文件并核对引文"
    return (
        f'<div class="turn pending" data-state="pending">{render_question(question)}'
        f'<div class="msg msg-bot"><div class="bubble">{body}'
        f'<div class="typing">{line}<span>…</span></div></div></div></div>'
    )


def render_error(question: str, message: str) -> str:
    q = render_question(question) if question else ""
    return (f'<div class="turn error" data-state="error">{q}<div class="msg msg-bot"><div class="bubble">'
            f"{render_notice(message, 'error')}</div></div></div>")


WELCOME = (
    '<div class="welcome"><div class="welcome-title">您好，我是京津冀协同发展政策助手</div>'
    "<p>我只依据已收录的政策文件作答，每句话都标注出处。点击回答中的编号（如 [1]）即可查看原文段落，"
    "引用的句子会以高亮显示；文件中没有依据的问题，我会如实说明。</p></div>"
)
