"""👍/👎 feedback on answers, appended as JSON lines to ``settings.feedback_path``.

De-duplicated per user and answer: clicking 有帮助 twice (or a double click) writes one record.
A changed rating or comment on the same answer is a new record marked ``"revision": n`` (the
latest revision is the user's current opinion); an identical one is not written again.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any, Literal

from ..settings import Settings
from .session import Turn

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000
_LOCK = threading.Lock()
_SEEN_LIMIT = 20_000  # (file, user, answer) keys remembered per process
# (feedback file, username, turn id) -> (rating, comment, revision) of the last record written
_SEEN: OrderedDict[tuple[str, str, str], tuple[str, str, int]] = OrderedDict()


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
                    username: str | None = None) -> dict[str, Any] | None:
    """Append one feedback record (thread-safe, one line per record) and return it; ``None`` when the
    same user already gave this very feedback (same rating and comment) on this answer."""
    if rating not in ("up", "down"):
        raise ValueError(f"bad rating {rating!r}")
    record = feedback_record(turn, rating, comment, username, settings)
    path = settings.feedback_path
    key = (str(path), username or "", str(turn["id"]))
    with _LOCK:
        previous = _SEEN.get(key)
        if previous is not None and previous[:2] == (rating, record["comment"]):
            return None
        if previous is not None:
            record["revision"] = previous[2] + 1
        line = json.dumps(record, ensure_ascii=False) + "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line)
        _SEEN[key] = (rating, record["comment"], previous[2] + 1 if previous else 0)
        _SEEN.move_to_end(key)
        while len(_SEEN) > _SEEN_LIMIT:
            _SEEN.popitem(last=False)
    return record
