"""👍/👎 feedback on answers, appended as JSON lines to ``settings.feedback_path``."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any, Literal

from index.settings import Settings

from .session import Turn

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000
_LOCK = threading.Lock()


def feedback_record(turn: Turn, rating: Rating, comment: str, username: str | None,
                    settings: Settings) -> dict[str, Any]:
    answer = turn["answer"]
    return {
        "time": datetime.now().astimezone().isoformat(timespec="seconds"),
        "username": username,
        "rating": rating,
        "comment": (comment or "").strip()[:MAX_COMMENT_CHARS],
        "turn_id": turn["id"],
        "question": turn["question"],
        "answer": answer.get("text", ""),
        "refused": bool(answer.get("refused")),
        "notice": answer.get("notice"),
        "citations": [
            {k: c.get(k) for k in ("n", "doc_id", "title", "source", "section", "page", "quote",
                                   "quote_start", "quote_end", "score")}
            for c in answer.get("citations", [])
        ],
        "suggestions": [s.get("doc_id") for s in answer.get("suggestions", [])],
        "evidence_score": answer.get("evidence_score"),
        "settings": {
            "writer": answer.get("writer") or turn.get("writer") or settings.writer,
            "filters": turn.get("filters") or {},
            "top_k": settings.top_k,
            "fusion": settings.fusion,
            "refusal_threshold": settings.refusal_threshold,
            "embedding_model": settings.embedding_model_path.name,
            "reranker": settings.reranker_model.name if settings.reranker_model else None,
            "llm_model": settings.llm_model if answer.get("writer") == "llm" else None,
        },
    }


def record_feedback(settings: Settings, turn: Turn, rating: Rating, comment: str = "",
                    username: str | None = None) -> dict[str, Any]:
    """Append one feedback record (thread-safe, one line per record) and return it."""
    if rating not in ("up", "down"):
        raise ValueError(f"bad rating {rating!r}")
    record = feedback_record(turn, rating, comment, username, settings)
    path = settings.feedback_path
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line)
    return record
