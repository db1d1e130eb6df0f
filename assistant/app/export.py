"""Export a conversation (or one answer), with its citations, as a Word (.docx) or Markdown file.

Both carry the export date and the index version (a digest of the indexed documents, with their
count and the latest indexing time), so a printed answer can be traced to the documents it came from.
The Word file lists each answer's sources as a numbered list under it ([n] 《title》 section, page,
issuer, date, file, and the quoted sentence); the markers [n] in the answer are superscript.
A timeline or side-by-side answer (``Answer.layout``) is a real table there (and a Markdown table),
one row per year, region or document, with the source list under it.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from index.manifest import DocEntry

from ..models import Answer, Citation
from .render import REFUSAL_TITLE, answer_state, citation_facts, row_head, shaped, source_name
from .session import Turn, turn_answer

TITLE = "京津冀协同发展政策助手"
_MARKERS = re.compile(r"((?:\[\d{1,2}\])+)")

_EXPORT_DIR: Path | None = None
KEEP_SECONDS = 3600  # Gradio copies the file into its own cache when it is returned; ours are pruned


def _md_inline(text: str) -> str:
    return " ".join(str(text).split())


def _quote_block(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in str(text).strip().splitlines())


def index_version(documents: Iterable[DocEntry]) -> str:
    """A short, stable label of what was indexed: digest of (document, content hash), count, latest time."""
    docs = list(documents)
    if not docs:
        return "（空索引）"
    digest = hashlib.sha256("\n".join(sorted(f"{d.doc_id}\t{d.content_hash}" for d in docs)).encode()).hexdigest()
    chunks = sum(len(d.chunk_ids) for d in docs)
    latest = max((d.indexed_at for d in docs if d.indexed_at), default="")
    when = ""
    if latest:
        try:
            when = "，更新于 " + datetime.fromisoformat(latest).astimezone().strftime("%Y-%m-%d %H:%M")
        except ValueError:
            when = f"，更新于 {latest}"
    return f"{digest[:10]}（{len(docs)} 个文件、{chunks} 个段落{when}）"


def _turn_versions(turns: list[Turn], current: str | None) -> str:
    versions = list(dict.fromkeys(t.get("index_version", "") for t in turns if t.get("index_version")))
    return "；".join(versions) or current or ""


def _scope(turn: Turn) -> str:
    return "；".join(f"{k}={','.join(map(str, v))}" for k, v in (turn.get("filters") or {}).items())


def _quote(text: str) -> str:
    """The quote in Chinese quotation marks, unless it already has them."""
    text = " ".join(str(text or "").split())
    if text and (text[0] in "“\"「『" or text[-1] in "”\"」』"):
        return text
    return f"“{text}”"


def _where(c: Citation) -> str:
    return "；".join(f"{k}：{v}" for k, v in citation_facts(c) if k != "来源文件")


def _cell(text: str) -> str:
    return _md_inline(text).replace("|", "\\|")


def _markdown_rows(answer: Answer) -> list[str]:
    """A timeline or comparison as a Markdown table (the lead sentence above it, the refusal line too)."""
    first = answer.text.strip().splitlines()[0] if answer.text.strip() else ""
    above = [answer.lead, ""] if answer.lead else ([first, ""] if answer.refused and first else [])
    rows = [f"| {_cell(s.label)} | {_cell(s.text)} |" for s in answer.sections]
    return [*above, f"| {row_head(answer)} | 内容 |", "|---|---|", *rows]


def conversation_markdown(turns: list[Turn], username: str | None = None, version: str | None = None) -> str:
    now = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    lines = [f"# {TITLE} · 对话记录", "", f"- 导出时间：{now}"]
    if username:
        lines.append(f"- 用户：{username}")
    shown_version = _turn_versions(turns, version)
    if shown_version:
        lines.append(f"- 索引版本：{shown_version}")
    lines += [f"- 问答数：{len(turns)}", ""]
    for i, turn in enumerate(turns, start=1):
        answer = turn_answer(turn)
        state = answer_state(answer)
        lines += [f"## 问题 {i}：{_md_inline(turn['question'])}", ""]
        if turn.get("filters"):
            lines += [f"*检索范围：{_scope(turn)}*", ""]
        if answer.notice:
            lines += [f"> 提示：{answer.notice}", ""]
        lines += ["**回答：**", "", *(_markdown_rows(answer) if shaped(answer) else [answer.text.strip()]), ""]
        if state == "partial":
            lines += ["**以下内容未在已收录文件中找到依据：**", ""]
            lines += [f"- {m}" for m in answer.missing] or ["- （问题的部分内容）"]
            lines.append("")
        if state == "not_found" and answer.suggestions:
            lines += ["**可能相关的文件：**", ""]
            lines += [f"- 《{s.title}》{(' ' + s.section) if s.section else ''}" for s in answer.suggestions]
            lines.append("")
        if answer.citations:
            lines += ["**参考来源：**", ""]
            for c in sorted(answer.citations, key=lambda c: c.n):
                facts = _where(c)
                lines.append(f"[{c.n}] 《{c.title}》{('（' + facts + '）') if facts else ''} — {source_name(c.source)}")
                lines += ["", _quote_block(f"引文：{_quote(c.quote)}"), ""]
        if answer.related:
            lines += ["**相关内容**（与问题相关，但不是对问题的回答，仅供查阅）：", ""]
            for k, c in enumerate(answer.related, start=1):
                facts = _where(c)
                lines.append(f"相关{k}. 《{c.title}》{('（' + facts + '）') if facts else ''}")
                lines += ["", _quote_block(f"原文：{_quote(c.quote)}"), ""]
        lines.append("---")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# -- Word ---------------------------------------------------------------------------------------
CJK_FONT = "宋体"
LATIN_FONT = "Times New Roman"
HEADING_FONT = "黑体"


def _set_fonts(style_or_run: Any, east_asian: str, latin: str | None = None) -> None:
    """Set a style's or run's fonts; East Asian text needs ``w:eastAsia`` or Word falls back to a Latin font."""
    font = style_or_run.font
    if latin:
        font.name = latin
    element = style_or_run.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asian)


def _new_document() -> Any:
    document = docx.Document()
    normal = document.styles["Normal"]
    _set_fonts(normal, CJK_FONT, LATIN_FONT)
    normal.font.size = Pt(11)
    for name in ("Title", "Heading 1", "Heading 2"):
        style = document.styles[name]
        _set_fonts(style, HEADING_FONT, LATIN_FONT)
        style.font.color.rgb = RGBColor(0x1F, 0x4E, 0x8C)
    return document


def _marked_runs(paragraph: Any, line: str) -> None:
    """``line`` as runs of ``paragraph``, markers [n] superscript."""
    for piece in _MARKERS.split(line):
        if not piece:
            continue
        run = paragraph.add_run(piece)
        if _MARKERS.fullmatch(piece):
            run.font.superscript = True


def _answer_paragraphs(document: Any, text: str) -> None:
    """The answer text, one paragraph per line, markers [n] as superscript runs."""
    for line in (p.strip() for p in text.splitlines()):
        if line:
            _marked_runs(document.add_paragraph(), line)


def _answer_table(document: Any, answer: Answer) -> None:
    """A timeline or comparison as a real Word table: a header row, then one row per year, region or
    document (label | text with superscript markers); a row whose document lacks the topic in grey."""
    if answer.lead:
        _marked_runs(document.add_paragraph(), answer.lead)
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    head = table.rows[0].cells
    for cell, text in zip(head, (row_head(answer), "内容"), strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for section in answer.sections:
        label, body = table.add_row().cells
        label.paragraphs[0].add_run(section.label).bold = True
        _marked_runs(body.paragraphs[0], section.text)
        if section.status == "not_found":
            for run in body.paragraphs[0].runs:
                run.font.color.rgb = RGBColor(0x8A, 0x94, 0xA3)


def _source_entries(document: Any, items: list[tuple[str, Citation]], quote_label: str) -> None:
    for label, c in items:
        head = document.add_paragraph()
        head.add_run(f"{label} ").bold = True
        head.add_run(f"《{c.title}》").bold = True
        facts = _where(c)
        if facts:
            head.add_run(f"（{facts}）")
        name = source_name(c.source)
        if name:
            head.add_run(f" — {name}").font.color.rgb = RGBColor(0x5A, 0x66, 0x78)
        quote = document.add_paragraph()
        quote.paragraph_format.left_indent = Pt(21)
        quote.add_run(f"{quote_label}：").bold = True
        quote.add_run(_quote(c.quote))


def _add_turn(document: Any, number: int | None, turn: Turn, answer: Answer) -> None:
    state = answer_state(answer)
    document.add_heading(f"问题 {number}：{_md_inline(turn['question'])}" if number else
                         f"问题：{_md_inline(turn['question'])}", level=1)
    meta = [f"提问时间：{_when(turn.get('time', ''))}"] if turn.get("time") else []
    if turn.get("filters"):
        meta.append(f"检索范围：{_scope(turn)}")
    if meta:
        run = document.add_paragraph().add_run("；".join(meta))
        run.italic = True
        run.font.color.rgb = RGBColor(0x5A, 0x66, 0x78)
    if answer.notice:
        document.add_paragraph().add_run(f"提示：{answer.notice}").italic = True
    if answer.rewritten_question and state != "not_found":
        document.add_paragraph().add_run(f"已按上下文理解为：{_md_inline(answer.rewritten_question)}").italic = True
    document.add_heading("回答", level=2)
    if shaped(answer):
        if state == "not_found":
            document.add_paragraph().add_run(answer.text.strip().splitlines()[0]).bold = True
        _answer_table(document, answer)
    elif state == "not_found":
        text = answer.text.strip() or REFUSAL_TITLE
        paragraph = document.add_paragraph()
        paragraph.add_run(text).bold = text.startswith(REFUSAL_TITLE)
    else:
        _answer_paragraphs(document, answer.text)
    if state == "partial":
        document.add_paragraph().add_run("以下内容未在已收录文件中找到依据：").bold = True
        for m in answer.missing or ["（问题的部分内容）"]:
            document.add_paragraph(m, style="List Bullet")
    if answer.unsupported:
        document.add_paragraph().add_run(f"有 {len(answer.unsupported)} 句未能在原文中核实，请谨慎参考。").italic = True
    if state == "not_found" and answer.suggestions:
        document.add_paragraph().add_run("可能相关的文件：").bold = True
        for s in answer.suggestions:
            document.add_paragraph(f"《{s.title}》{(' ' + s.section) if s.section else ''}", style="List Bullet")
    if answer.citations:
        document.add_heading("参考来源", level=2)
        _source_entries(document, [(f"[{c.n}]", c) for c in sorted(answer.citations, key=lambda c: c.n)], "引文")
    if answer.related:
        document.add_heading("相关内容（与问题相关，但不是对问题的回答，仅供查阅）", level=2)
        _source_entries(document, [(f"相关{k}.", c) for k, c in enumerate(answer.related, start=1)], "原文")


def _when(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return stamp or ""


def conversation_docx(turns: list[Turn], username: str | None = None, version: str | None = None,
                      single: bool = False) -> bytes:
    """The Word file of ``turns`` (``single``: one answer, titled 问答记录) as bytes."""
    document = _new_document()
    document.core_properties.title = f"{TITLE} · {'问答记录' if single else '对话记录'}"
    document.core_properties.author = username or TITLE
    document.core_properties.last_modified_by = username or TITLE
    # python-docx's default template carries its own dates (2013-12-23): the file is created now.
    created = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    document.core_properties.created = created
    document.core_properties.modified = created
    document.core_properties.revision = 1
    document.add_heading(f"{TITLE} · {'问答记录' if single else '对话记录'}", level=0)
    now = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    meta = [f"导出时间：{now}"]
    if username:
        meta.append(f"用户：{username}")
    shown_version = _turn_versions(turns, version)
    if shown_version:
        meta.append(f"索引版本：{shown_version}")
    if not single:
        meta.append(f"问答数：{len(turns)}")
    for line in meta:
        document.add_paragraph().add_run(line).font.color.rgb = RGBColor(0x5A, 0x66, 0x78)
    for i, turn in enumerate(turns, start=1):
        _add_turn(document, None if single else i, turn, turn_answer(turn))
    note = document.add_paragraph()
    note.add_run("说明：回答仅依据已收录的政策文件，每处编号 [n] 对应“参考来源”中的同号条目及其引文。").italic = True
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def export_dir() -> Path:
    global _EXPORT_DIR
    if _EXPORT_DIR is None or not _EXPORT_DIR.is_dir():
        _EXPORT_DIR = Path(tempfile.mkdtemp(prefix="jjj-export-"))
    return _EXPORT_DIR


def _prune(root: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for old in root.glob("conv-*"):
        try:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def write_export(turns: list[Turn], username: str | None = None, fmt: str = "md",
                 version: str | None = None) -> Path | None:
    """Write the conversation as ``fmt`` ("md" or "docx") to a fresh temp file (served by Gradio as a
    download); None when there is nothing to export."""
    if not turns:
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    _prune(export_dir())
    folder = Path(tempfile.mkdtemp(prefix="conv-", dir=export_dir()))
    path = folder / f"京津冀政策助手对话-{stamp}.{'docx' if fmt == 'docx' else 'md'}"
    if fmt == "docx":
        path.write_bytes(conversation_docx(turns, username, version))
    else:
        path.write_text(conversation_markdown(turns, username, version), encoding="utf-8")
    return path


def write_answer_docx(turn: Turn, username: str | None = None, version: str | None = None) -> Path:
    """One answer as a Word file (the per-answer export button)."""
    _prune(export_dir())
    folder = Path(tempfile.mkdtemp(prefix="conv-", dir=export_dir()))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"京津冀政策助手问答-{stamp}.docx"
    path.write_bytes(conversation_docx([turn], username, version, single=True))
    return path
