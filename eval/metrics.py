"""Per-question scoring and aggregation for the evaluation report."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.models import Answer, Hit
from assistant.verify import find_support, split_claims

from .broad import answer_topic_terms, headings_only, key_point_recall, off_topic
from .datasets import Question
from .reliability import calibration

WHYS = ("missing_fact", "missing_document", "wrong_scope", "false_premise")
STATUSES = ("answered", "partial", "not_found")


def passage_relevant(q: Question, doc_id: str, text: str) -> bool:
    """A passage answers q if it comes from a gold document and holds the evidence or all key points
    (external sets: one of the acceptable answers)."""
    if q.answers:
        return doc_id in q.gold_docs and any(a in text for a in q.answers)
    if doc_id not in q.gold_docs:
        return False
    if q.evidence and q.evidence in text:
        return True
    return bool(q.key_points) and all(k in text for k in q.key_points)


@dataclass
class QuestionResult:
    id: str
    kind: str
    answerable: bool
    config: str
    question: str
    answer: str = ""
    refused: bool = False
    evidence_score: float = 0.0
    rank: int | None = None  # 1-based rank of the first relevant passage (top 10)
    doc_hit5: bool = False
    key_point_coverage: float = 0.0
    citations: int = 0
    citations_supported: int = 0
    citation_recall: bool = False
    answer_in_cited: bool = False
    sentences: int = 0
    unsupported: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    status: str | None = None  # Answer.status: answered | partial | not_found (None: no answer)
    why: str | None = None  # unanswerable questions: why the documents hold no answer
    names_doc: bool = False  # the question names its document
    writer: str = ""  # the writer that produced the answer (after any fallback)
    fallback_reason: str | None = None  # Answer.fallback_reason (the llm writer fell back)
    llm: dict[str, Any] = field(default_factory=dict)  # the llm draft's figures (Answer.llm, without the draft)
    # issue #24: key points found verbatim in what the official reads (Answer.text without [n] markers),
    # and counting the opened citations too (Answer.text + every Citation.text); None: no key points
    kp_recall_text: float | None = None
    kp_recall_cited: float | None = None
    headings_only: bool = False  # an answer (not refused) whose every sentence is a heading
    off_topic: bool | None = None  # no answer sentence holds the question's core topic (None: not checked)
    topic_terms: list[str] = field(default_factory=list)  # the core topic terms checked
    # issue #23: the answer's calibrated confidence (Answer.confidence) and whether the outcome was right
    # (answerable: answered with the evidence in a citation; unanswerable: refused)
    confidence: float | None = None
    correct: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_question(q: Question, config: str, answer: Answer | None, hits: Sequence[Hit],
                   timings: dict[str, float] | None = None) -> QuestionResult:
    r = QuestionResult(q.id, q.kind, q.answerable, config, q.question, timings=timings or {},
                       why=q.why, names_doc=q.names_doc)
    for rank, hit in enumerate(hits[:10], start=1):
        if passage_relevant(q, hit.chunk.doc_id, hit.chunk.text):
            r.rank = rank
            break
    top_docs = list(dict.fromkeys(h.chunk.doc_id for h in hits))[:5]
    r.doc_hit5 = any(d in q.gold_docs for d in top_docs)
    if answer is None:
        return r
    confidence = getattr(answer, "confidence", None)
    r.confidence = float(confidence) if isinstance(confidence, (int, float)) else None
    targets = q.answers or q.key_points
    if q.answerable and targets:
        # a refusal reads as nothing: 0 found (the key points are what the documents say); external sets
        # list acceptable answers, of which one suffices
        def recall(texts: list[str]) -> float:
            if answer.refused:
                return 0.0
            if q.answers:
                return 1.0 if any(key_point_recall([a], texts) for a in q.answers) else 0.0
            return key_point_recall(targets, texts)

        r.kp_recall_text = recall([answer.text])
        r.kp_recall_cited = recall([answer.text, *(c.text for c in answer.citations)])
    r.answer = answer.text
    r.refused = answer.refused
    r.correct = answer.refused if not q.answerable else False
    r.status = getattr(answer, "status", None) or ("not_found" if answer.refused else "answered")
    r.evidence_score = answer.evidence_score
    r.writer = answer.writer
    r.fallback_reason = answer.fallback_reason
    r.llm = {k: v for k, v in answer.llm.items() if k != "draft"}
    if answer.refused:
        return r
    r.headings_only = headings_only(answer.text, answer.citations)
    r.topic_terms = answer_topic_terms(answer.rewritten_question or q.question, answer.analysis)  # follow-ups: rewritten
    r.off_topic = off_topic(answer.text, r.topic_terms) if r.topic_terms else None
    if targets:
        found = [t for t in targets if t in answer.text]
        r.key_point_coverage = (1.0 if found else 0.0) if q.answers else len(found) / len(targets)
    by_n = {c.n: c for c in answer.citations}
    r.citations = len(answer.citations)
    claims = split_claims(answer.text)
    r.sentences = len(claims)
    r.unsupported = len(answer.unsupported)
    supported: set[int] = set()
    for sentence, numbers in claims:
        for n in numbers:
            c = by_n.get(n)
            if c and c.quote in c.text and find_support(sentence, c.quote) is not None:
                supported.add(n)
    r.citations_supported = len(supported)
    r.citation_recall = any(passage_relevant(q, c.doc_id, c.text) for c in answer.citations)
    r.answer_in_cited = bool(q.answers) and any(a in c.text for c in answer.citations for a in q.answers)
    r.correct = q.answerable and r.citation_recall
    return r


def _pct(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[idx]


def _mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def aggregate(results: Sequence[QuestionResult]) -> dict[str, Any]:
    ans = [r for r in results if r.answerable]
    unans = [r for r in results if not r.answerable]
    answered = [r for r in ans if not r.refused]
    cited = [r for r in results if not r.refused and r.citations]
    out: dict[str, Any] = {
        "questions": len(results),
        "answerable": len(ans),
        "unanswerable": len(unans),
        "hit@1": _mean([1.0 if r.rank == 1 else 0.0 for r in ans]),
        "hit@5": _mean([1.0 if r.rank is not None and r.rank <= 5 else 0.0 for r in ans]),
        "mrr": _mean([1.0 / r.rank if r.rank else 0.0 for r in ans]),
        "doc_hit@5": _mean([1.0 if r.doc_hit5 else 0.0 for r in ans]),
        "key_point_coverage": _mean([r.key_point_coverage for r in ans]),
        "citation_precision": round(
            sum(r.citations_supported for r in cited) / max(1, sum(r.citations for r in cited)), 4
        ),
        "citation_recall": _mean([1.0 if r.citation_recall else 0.0 for r in answered]),
        "unsupported_sentence_rate": round(
            sum(r.unsupported for r in cited) / max(1, sum(r.sentences for r in cited)), 4
        ),
        "refusal_rate_unanswerable": _mean([1.0 if r.refused else 0.0 for r in unans]) if unans else None,
        "false_refusal_rate": _mean([1.0 if r.refused else 0.0 for r in ans]),
        "answer_in_cited_passage": _mean([1.0 if r.answer_in_cited else 0.0 for r in ans]) if any(
            r.kind in ("cmrc2018", "rgb", "drcd") for r in ans) else None,
        "errors": sum(1 for r in results if r.error),
    }
    out.update(broad_summary(results))
    named = [r for r in ans if r.names_doc]
    out["doc_scoped_hit@5"] = _mean([1.0 if r.doc_hit5 else 0.0 for r in named]) if named else None
    out["doc_scoped_questions"] = len(named)
    out["status_counts"] = status_counts(results)
    out["refusal_rate_by_why"] = {
        why: _mean([1.0 if r.refused else 0.0 for r in unans if r.why == why])
        for why in WHYS if any(r.why == why for r in unans)
    }
    stages: dict[str, list[float]] = {}
    for r in results:
        for stage, seconds in r.timings.items():
            stages.setdefault(stage, []).append(seconds)
    out["latency"] = {
        stage: {"p50": round(_pct(v, 50), 4), "p95": round(_pct(v, 95), 4)} for stage, v in sorted(stages.items())
    }
    drafted = [r for r in results if r.llm]
    if drafted:
        out["llm"] = llm_summary(drafted)
    return out


def broad_summary(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Issue #24/#23 figures: key-point recall of the answer text and with the opened citations (answerable
    questions with key points; a refusal counts 0), the share of answers (not refused) made only of headings
    and of those none of whose sentences holds the question's core topic, and the confidence calibration."""
    with_points = [r for r in results if r.kp_recall_text is not None]
    shown = [r for r in results if not r.refused and not r.error and r.status is not None]
    checked = [r for r in shown if r.off_topic is not None]
    return {
        "kp_recall_text": _mean([r.kp_recall_text or 0.0 for r in with_points]) if with_points else None,
        "kp_recall_cited": _mean([r.kp_recall_cited or 0.0 for r in with_points]) if with_points else None,
        "kp_questions": len(with_points),
        "headings_only_rate": _mean([1.0 if r.headings_only else 0.0 for r in shown]) if shown else None,
        "headings_only_answers": sum(1 for r in shown if r.headings_only),
        "off_topic_rate": _mean([1.0 if r.off_topic else 0.0 for r in checked]) if checked else None,
        "off_topic_answers": sum(1 for r in checked if r.off_topic),
        "topic_checked": len(checked),
        "shown_answers": len(shown),
        "calibration": calibration([(r.confidence, r.correct) for r in results
                                    if r.confidence is not None and not r.error]),
    }


def llm_summary(drafted: Sequence[QuestionResult]) -> dict[str, Any]:
    """The llm writer's figures over the answers it drafted: time to first token (from the question),
    tokens/s, total time, the draft's unsupported-sentence rate before verification removed anything,
    and how often (and why) the answer fell back to the extractive one."""
    first = [r.timings["first_token"] for r in drafted if "first_token" in r.timings]
    rates = [float(r.llm["tokens_per_s"]) for r in drafted if r.llm.get("tokens_per_s")]
    totals = [r.timings["total"] for r in drafted if "total" in r.timings]
    sentences = sum(int(r.llm.get("sentences", 0)) for r in drafted)
    unsupported = sum(len(r.llm.get("unsupported", [])) for r in drafted)
    causes: dict[str, int] = {}
    for r in drafted:
        if r.fallback_reason:
            causes[r.fallback_reason] = causes.get(r.fallback_reason, 0) + 1
    return {
        "drafts": len(drafted),
        "first_token_p50": round(_pct(first, 50), 3) if first else None,
        "first_token_p95": round(_pct(first, 95), 3) if first else None,
        "tokens_per_s_p50": round(_pct(rates, 50), 2) if rates else None,
        "total_p50": round(_pct(totals, 50), 3) if totals else None,
        "total_p95": round(_pct(totals, 95), 3) if totals else None,
        "draft_sentences": sentences,
        "unsupported_before_verification": round(unsupported / sentences, 4) if sentences else None,
        "fallback_rate": round(sum(causes.values()) / len(drafted), 4),
        "fallback_causes": dict(sorted(causes.items())),
        "prompt_tokens_est_p50": _pct([float(r.llm.get("prompt_tokens_est", 0)) for r in drafted], 50),
    }


def per_kind(results: Sequence[QuestionResult]) -> dict[str, dict[str, Any]]:
    kinds = sorted({r.kind for r in results})
    return {k: aggregate([r for r in results if r.kind == k]) for k in kinds}


def status_counts(results: Sequence[QuestionResult]) -> dict[str, int]:
    """How many answers came back answered / partial / not_found (``no_answer``: the question errored)."""
    counts = {s: 0 for s in STATUSES}
    for r in results:
        key = r.status if r.status and not r.error else "no_answer"
        counts[key] = counts.get(key, 0) + 1
    if not counts.get("no_answer"):
        counts.pop("no_answer", None)
    return counts


def per_why(results: Sequence[QuestionResult]) -> dict[str, dict[str, Any]]:
    """Unanswerable questions per reason: how many, how many refused (``Answer.refused``) and the status mix."""
    out: dict[str, dict[str, Any]] = {}
    for why in WHYS:
        rows = [r for r in results if not r.answerable and r.why == why]
        if rows:
            out[why] = {"questions": len(rows),
                        "refused": _mean([1.0 if r.refused else 0.0 for r in rows]),
                        "status_counts": status_counts(rows),
                        "errors": sum(1 for r in rows if r.error)}
    return out
