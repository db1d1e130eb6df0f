"""Example questions for the chat page, drawn from the indexed documents' own headings."""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.models import Chunk

_TOPICS = ("京津冀", "协同", "雄安", "副中心", "疏解", "一卡通", "产业", "交通", "生态", "科技创新")
_STRIP = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十]+、|第[一二三四五六七八九十百\d]+[章条节])\s*")


def examples_from_manifest(chunks: Sequence[Chunk], n: int = 6) -> list[str]:
    """Turn on-topic section headings into short questions: 关于“heading”有哪些安排？"""
    seen: set[str] = set()
    out: list[str] = []
    for chunk in sorted(chunks, key=lambda c: (not any(t in c.section for t in _TOPICS), c.doc_id, c.ordinal)):
        if not chunk.section:
            continue
        heading = _STRIP.sub("", chunk.section.split(" › ")[-1]).rstrip("…。")
        if not (4 <= len(heading) <= 24) or heading in seen:
            continue
        seen.add(heading)
        out.append(f"关于“{heading}”有哪些安排？")
        if len(out) >= n:
            break
    return out
