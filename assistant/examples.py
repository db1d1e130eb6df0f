"""Example questions for the chat page, drawn from the indexed documents' own headings.

Each question names its document (《2025年北京市政府工作报告》在“纵深推动京津冀协同发展”方面有哪些重点任务？),
so that clicking it asks about one document, as an official would, and the answer can be checked
against that document. The examples are spread over the documents, on-topic headings first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.models import Chunk
from index.zh import HEADING_NUMBER_RE

_TOPICS = ("京津冀", "协同", "雄安", "副中心", "疏解", "一卡通", "产业", "交通", "生态", "科技创新")
# Headings that make no question of their own (a review, the general and final provisions, a glossary).
_SKIP = re.compile(r"回顾|总\s*则|附\s*则|名词解释|目\s*录")
_TITLE_DATE = re.compile(r"\s*[（(]\d{4}-\d{2}-\d{2}[）)]\s*$")  # 北京市优化营商环境条例(2024-11-29)
_PLAN_KINDS = ("工作报告", "报告", "规划", "方案", "意见", "计划", "纲要")
_RULE_KINDS = ("条例", "规定", "办法", "决定", "细则", "规则")
_MAX_PER_ROUND = 1  # examples per document before every other document has had its turn


def document_label(chunk: Chunk) -> str:
    """The document as a question names it: its title without 《》 or a trailing date, in 《》."""
    title = _TITLE_DATE.sub("", (chunk.title or chunk.doc_id).strip()).strip("《》 ")
    return f"《{title}》"


def question_for(chunk: Chunk, heading: str) -> str:
    """A question on one heading of one document, worded for the document's kind."""
    label = document_label(chunk)
    kind = str(chunk.metadata.get("kind") or "")
    title = chunk.title or ""
    if kind in _PLAN_KINDS or any(k in title for k in _PLAN_KINDS):
        return f"{label}在“{heading}”方面有哪些重点任务？"
    if kind in _RULE_KINDS or any(title.endswith(k) for k in _RULE_KINDS):
        return f"{label}对“{heading}”有哪些规定？"
    return f"{label}关于“{heading}”讲了哪些内容？"


def _heading(chunk: Chunk) -> str | None:
    """The deepest heading of the chunk's path that has words of its own (``第三章 数据资源 › 第十八条``
    gives 数据资源), unless it makes no question (a review, the general provisions)."""
    for label in reversed(chunk.section.split(" › ") if chunk.section else []):
        heading = HEADING_NUMBER_RE.sub("", label).rstrip("…。").strip()
        if not heading:
            continue  # an article number only: its chapter speaks for it
        heading = heading.replace("“", "‘").replace("”", "’")  # quoted inside the question's “…”
        if not (4 <= len(heading) <= 24) or _SKIP.search(heading):
            return None
        return heading
    return None


def examples_from_manifest(chunks: Sequence[Chunk], n: int = 6) -> list[str]:
    """Turn section headings into short questions that name their document, on-topic headings first
    and one document after another (no document gets a second example before each has had one)."""
    found: list[tuple[tuple[int, int, str, int], str, str]] = []  # (order, doc_id, question)
    seen: set[str] = set()
    for chunk in chunks:
        heading = _heading(chunk)
        if heading is None or heading in seen:
            continue
        seen.add(heading)
        topic = next((i for i, t in enumerate(_TOPICS) if t in heading), len(_TOPICS))
        year = chunk.metadata.get("year")
        order = (topic, -year if isinstance(year, int) else 0, chunk.doc_id, chunk.ordinal)
        found.append((order, chunk.doc_id, question_for(chunk, heading)))
    candidates = [(doc_id, question) for _, doc_id, question in sorted(found)]  # on-topic, newest first
    out: list[str] = []
    taken: dict[str, int] = {}
    limit = _MAX_PER_ROUND
    while len(out) < n and len(out) < len(candidates):
        added = False
        for doc_id, question in candidates:
            if len(out) >= n:
                break
            if question in out or taken.get(doc_id, 0) >= limit:
                continue
            out.append(question)
            taken[doc_id] = taken.get(doc_id, 0) + 1
            added = True
        if not added and limit > len(candidates):
            break
        limit += 1
    return out
