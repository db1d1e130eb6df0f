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

from ..models import Answer, Citation, Suggestion

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


def marker_title(c: Citation) -> str:
    where = " › ".join(p for p in (c.section,) if p)
    quote = c.quote if len(c.quote) <= 80 else c.quote[:79] + "…"
    return f"[{c.n}] 《{c.title}》{(' ' + where) if where else ''}\n“{quote}”"


def link_markers(escaped_text: str, turn_id: str, citations: Mapping[int, Citation]) -> str:
    """Turn ``[n]`` in already-escaped text into links to the source ``n`` of this turn."""

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(1))
        c = citations.get(n)
        if c is None:
            return m.group(0)
        return (f'<a class="cite-marker" href="#{cite_anchor(turn_id, n)}" data-cite="{n}" '
                f'title="{esc(marker_title(c))}">[{n}]</a>')

    return MARKER.sub(repl, escaped_text)


def paragraphs(escaped_text: str) -> str:
    parts = [p.strip() for p in escaped_text.split("\n") if p.strip()]
    return "".join(f"<p>{p}</p>" for p in parts)


def render_citation(c: Citation, turn_id: str) -> str:
    anchor = cite_anchor(turn_id, c.n)
    meta = c.metadata or {}
    brief = " · ".join(v for v in (str(meta.get("issuer") or ""), citation_date(meta), c.section) if v)
    facts = "".join(f'<span class="fact"><span class="fact-k">{esc(k)}</span>{esc(v)}</span>'
                    for k, v in citation_facts(c))
    return (
        f'<div class="cite" id="{anchor}" data-n="{c.n}">'
        f'<a class="cite-head" href="#{anchor}"><span class="cite-n">[{c.n}]</span>'
        f'<span class="cite-title">《{esc(c.title)}》</span>'
        f'<span class="cite-brief">{esc(brief)}</span></a>'
        f'<div class="cite-body">'
        f'<div class="cite-facts">{facts}</div>'
        f'<blockquote class="cite-passage">{highlighted_passage(c)}</blockquote>'
        f'<a class="cite-close" href="#sources-{safe_id(turn_id)}">收起原文</a>'
        f"</div></div>"
    )


def render_sources(answer: Answer, turn_id: str) -> str:
    if not answer.citations:
        return ""
    items = "".join(render_citation(c, turn_id) for c in sorted(answer.citations, key=lambda c: c.n))
    return (f'<div class="sources" id="sources-{safe_id(turn_id)}">'
            f'<div class="sources-title">参考来源（点击编号查看原文）</div>{items}</div>')


def render_suggestions(suggestions: Iterable[Suggestion]) -> str:
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


def render_answer_body(answer: Answer, turn_id: str) -> str:
    parts: list[str] = []
    if answer.notice:
        parts.append(render_notice(answer.notice, "info"))
    if answer.refused:
        rest = answer.text.removeprefix(REFUSAL_TITLE).lstrip("。.，, ")
        parts.append(f'<div class="notice notice-refusal"><div class="refusal-title">{REFUSAL_TITLE}</div>'
                     f"{paragraphs(esc(rest))}</div>")
        parts.append(render_suggestions(answer.suggestions))
        return "".join(parts)
    if answer.rewritten_question:
        parts.append(f'<div class="rewritten">已按上下文理解为：{esc(answer.rewritten_question)}</div>')
    by_n = {c.n: c for c in answer.citations}
    parts.append(f'<div class="answer-text">{paragraphs(link_markers(esc(answer.text), turn_id, by_n))}</div>')
    if answer.unsupported:
        items = "".join(f"<li>{esc(s)}</li>" for s in answer.unsupported)
        parts.append(f'<details class="unsupported"><summary>有 {len(answer.unsupported)} 句未能在原文中核实，'
                     f"请谨慎参考</summary><ul>{items}</ul></details>")
    parts.append(render_sources(answer, turn_id))
    return "".join(parts)


def _footer(answer: Answer) -> str:
    writer = {"extractive": "摘录式回答", "llm": "大模型回答"}.get(answer.writer, answer.writer)
    total = answer.timings.get("total")
    took = ""
    if total:  # fast answers in milliseconds: "用时 0.0 秒" reads like a fault
        took = f" · 用时 {total * 1000:.0f} 毫秒" if round(total * 1000) < 1000 else f" · 用时 {total:.1f} 秒"
    return f'<div class="msg-footer">{esc(writer)}{esc(took)}</div>'


def render_question(question: str) -> str:
    return f'<div class="msg msg-user"><div class="bubble">{paragraphs(esc(question))}</div></div>'


def render_turn(turn_id: str, question: str, answer: Answer) -> str:
    state = "refused" if answer.refused else "answered"
    return (
        f'<div class="turn" id="turn-{safe_id(turn_id)}" data-state="{state}">'
        f"{render_question(question)}"
        f'<div class="msg msg-bot"><div class="bubble">{render_answer_body(answer, turn_id)}{_footer(answer)}'
        f"</div></div>"
        f"</div>"
    )


def render_pending(question: str, partial: str) -> str:
    body = paragraphs(esc(partial)) if partial.strip() else ""
    return (
        f'<div class="turn pending" data-state="pending">{render_question(question)}'
        f'<div class="msg msg-bot"><div class="bubble">{body}'
        f'<div class="typing">正在检索文件并核对引文<span>…</span></div></div></div></div>'
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
