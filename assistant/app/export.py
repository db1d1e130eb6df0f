"""Export a conversation, with its citations, as a Markdown file."""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from .render import citation_facts, source_name
from .session import Turn, turn_answer

_EXPORT_DIR: Path | None = None
KEEP_SECONDS = 3600  # Gradio copies the file into its own cache when it is returned; ours are pruned


def _md_inline(text: str) -> str:
    return " ".join(str(text).split())


def _quote_block(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in str(text).strip().splitlines())


def conversation_markdown(turns: list[Turn], username: str | None = None) -> str:
    now = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    lines = ["# 京津冀协同发展政策助手 · 对话记录", "", f"- 导出时间：{now}"]
    if username:
        lines.append(f"- 用户：{username}")
    lines += [f"- 问答数：{len(turns)}", ""]
    for i, turn in enumerate(turns, start=1):
        answer = turn_answer(turn)
        lines += [f"## 问题 {i}：{_md_inline(turn['question'])}", ""]
        if turn.get("filters"):
            scope = "；".join(f"{k}={','.join(map(str, v))}" for k, v in turn["filters"].items())
            lines += [f"*检索范围：{scope}*", ""]
        if answer.notice:
            lines += [f"> 提示：{answer.notice}", ""]
        lines += ["**回答：**", "", answer.text.strip(), ""]
        if answer.refused and answer.suggestions:
            lines += ["**可能相关的文件：**", ""]
            lines += [f"- 《{s.title}》{(' ' + s.section) if s.section else ''}" for s in answer.suggestions]
            lines.append("")
        if answer.citations:
            lines += ["**参考来源：**", ""]
            for c in sorted(answer.citations, key=lambda c: c.n):
                facts = "；".join(f"{k}：{v}" for k, v in citation_facts(c) if k != "来源文件")
                lines.append(f"[{c.n}] 《{c.title}》{('（' + facts + '）') if facts else ''} — {source_name(c.source)}")
                lines += ["", _quote_block(f"引文：“{c.quote}”"), ""]
        lines.append("---")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


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


def write_export(turns: list[Turn], username: str | None = None) -> Path | None:
    """Write the Markdown to a fresh temp file (served by Gradio as a download); None when empty."""
    if not turns:
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    _prune(export_dir())
    folder = Path(tempfile.mkdtemp(prefix="conv-", dir=export_dir()))
    path = folder / f"京津冀政策助手对话-{stamp}.md"
    path.write_text(conversation_markdown(turns, username), encoding="utf-8")
    return path
