"""Evaluation sets: our own JSONL sets over the policy corpus, and adapters for external sets.

An external set (``../shared/eval-external``: CMRC2018, RGB zh_refine, DRCD) becomes a corpus
of one text file per passage written under the data dir (never into the repo) plus questions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SETS_DIR = Path(__file__).resolve().parent / "sets"
EXTERNAL_FILES = {
    "cmrc2018": "cmrc2018_dev_trial.jsonl",
    "rgb": "rgb_zh_refine.jsonl",
    "drcd": "drcd_dev_sample1000.jsonl",
}
# Training-only external sets (``python -m eval.train_answer_model``): never part of the eval summary.
TRAINING_FILES = {"ncpqa": "ncpqa_train.jsonl"}


@dataclass
class Question:
    id: str
    question: str
    answerable: bool
    kind: str
    history: list[tuple[str, str]] = field(default_factory=list)
    doc: str | None = None
    alt_docs: list[str] = field(default_factory=list)
    evidence: str = ""
    key_points: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # external sets: acceptable answer strings
    negative_docs: list[str] = field(default_factory=list)  # RGB: documents that do not answer
    why: str | None = None  # unanswerable: missing_fact | missing_document | wrong_scope | false_premise
    missing_doc: str | None = None  # why == missing_document: the document the question names
    names_doc: bool = False  # the question names its document (doc-scoped hit@5)
    section: str = ""  # broad sets: the heading (path) of the section that answers the question

    @property
    def gold_docs(self) -> list[str]:
        return [d for d in [self.doc, *self.alt_docs] if d]


@dataclass
class EvalSet:
    name: str
    questions: list[Question]
    corpus: list[Path]  # files/folders to index
    external: bool = False


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def own_corpus(repo_corpus: Path, shared_dir: Path) -> list[Path]:
    """The corpus of the project's own sets: the shipped library, ``docs_corpus/`` (the seed + 42 texts).
    ``shared_dir`` is kept in the signature for callers; the distractors are added by the bench itself."""
    del shared_dir
    if not any(repo_corpus.glob("*.txt")):
        raise FileNotFoundError(f"{repo_corpus} holds no documents: the evaluation corpus is the shipped library")
    return [repo_corpus]


def load_own_set(name_or_path: str, repo_corpus: Path, shared_dir: Path) -> EvalSet:
    path = Path(name_or_path)
    if not path.exists():
        path = SETS_DIR / f"{name_or_path}.jsonl"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SETS_DIR.glob("*.jsonl")))
        raise FileNotFoundError(f"{path} not found (sets in {SETS_DIR}: {known})")
    questions = [
        Question(
            id=r["id"],
            question=r["question"],
            answerable=bool(r["answerable"]),
            kind=r["kind"],
            history=[(h[0], h[1]) for h in r.get("history") or []],
            doc=r.get("doc"),
            alt_docs=list(r.get("alt_docs") or []),
            evidence=r.get("evidence") or "",
            key_points=list(r.get("key_points") or []),
            why=r.get("why"),
            missing_doc=r.get("missing_doc"),
            names_doc=bool(r.get("names_doc")),
            section=str(r.get("section") or ""),
        )
        for r in load_jsonl(path)
    ]
    return EvalSet(path.stem, questions, own_corpus(repo_corpus, shared_dir))


def _doc_name(prefix: str, text: str) -> str:
    return f"{prefix}-{hashlib.sha1(text.encode()).hexdigest()[:12]}"


# Passages of this many times more rows than questions asked go into the corpus, as distractors
# (RGB brings its own negative passages, so its own rows suffice).
CORPUS_FACTOR = {"cmrc2018": 5, "drcd": 5, "rgb": 1, "ncpqa": 1}


def load_external_set(name: str, shared_dir: Path, work_dir: Path, limit: int | None, offset: int = 0,
                      factor: int | None = None) -> EvalSet:
    """Write the set's passages as a corpus under ``work_dir`` and return its questions.

    The corpus holds the passages of ``CORPUS_FACTOR[name] × limit`` rows, so that retrieval has to find
    the right passage among many of the same genre, not among a handful. ``offset`` skips the first rows
    (training uses rows the evaluation never asks)."""
    source = shared_dir / "eval-external" / {**EXTERNAL_FILES, **TRAINING_FILES}[name]
    if not source.exists():
        raise FileNotFoundError(f"{source} not found (set ASSISTANT_SHARED_DIR)")
    all_rows = load_jsonl(source)[offset:]
    rows = all_rows[: limit * (factor or CORPUS_FACTOR[name])] if limit else all_rows
    corpus = work_dir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    for i, row in enumerate(rows):
        gold = []
        for passage in row.get("gold_passages") or []:
            text = passage["text"].strip()
            if not text:
                continue
            doc_id = _doc_name(name, text)
            target = corpus / f"{doc_id}.txt"
            if not target.exists():
                title = passage.get("title") or ""
                target.write_text(text, encoding="utf-8")
                if title:
                    (corpus / f"{doc_id}.txt.meta.json").write_text(
                        json.dumps({"title": title}, ensure_ascii=False), encoding="utf-8"
                    )
            gold.append(doc_id)
        negatives = []
        for text in row.get("negatives") or []:
            text = text.strip()
            if not text:
                continue
            doc_id = _doc_name(f"{name}-neg", text)
            target = corpus / f"{doc_id}.txt"
            if not target.exists():
                target.write_text(text, encoding="utf-8")
            negatives.append(doc_id)
        if limit and i >= limit:
            continue  # passage only
        questions.append(
            Question(
                id=row["id"],
                question=row["question"],
                answerable=True,
                kind=name,
                doc=gold[0] if gold else None,
                alt_docs=gold[1:],
                answers=[a for a in row.get("answers") or [] if a],
                key_points=[a for a in (row.get("answers") or [])[:1] if a],
                negative_docs=negatives,
            )
        )
    return EvalSet(name, questions, [corpus], external=True)
