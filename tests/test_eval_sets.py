"""The evaluation sets are well-formed: evidence verbatim in its document, key points in the evidence."""

from __future__ import annotations

import importlib.util
import json

import pytest

from assistant.settings import REPO_ROOT
from index.loaders import load_document

from .conftest import DISTRACTORS, LIBRARY, SEED, topic_files

SETS = REPO_ROOT / "eval" / "sets"


def _validator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("validate_sets", SETS / "validate_sets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["jjj.jsonl", "jjj_dev.jsonl", "broad.jsonl", "broad_dev.jsonl"])
def test_set_is_valid(name: str) -> None:
    problems = _validator().validate(str(SETS / name), [str(LIBRARY)])
    assert problems == []


@pytest.mark.parametrize("name", ["jjj.jsonl", "jjj_dev.jsonl"])
def test_evidence_is_in_the_loaded_document_text(name: str) -> None:
    rows = [json.loads(line) for line in (SETS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    texts: dict[str, str] = {}
    kinds = {r["kind"] for r in rows}
    assert kinds >= {"fact", "number", "list", "paraphrase", "cross_document", "temporal", "follow_up", "unanswerable"}
    assert sum(1 for r in rows if not r["answerable"]) >= 0.2 * len(rows)
    for r in rows:
        if not r["answerable"]:
            assert r["evidence"] == "" and r["key_points"] == []
            continue
        doc = r["doc"]
        if doc not in texts:
            texts[doc] = load_document(LIBRARY / f"{doc}.txt", doc).text
        assert r["evidence"] in texts[doc], r["id"]
        for point in r["key_points"]:
            assert point in r["evidence"], (r["id"], point)


def test_main_set_size_and_coverage() -> None:
    rows = [json.loads(line) for line in (SETS / "jjj.jsonl").read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) >= 150
    assert len({r["doc"] for r in rows if r["doc"]}) >= 25
    dev = {json.loads(line)["question"] for line in (SETS / "jjj_dev.jsonl").read_text(encoding="utf-8").splitlines()
           if line}
    assert not dev & {r["question"] for r in rows}  # the tuning set is disjoint from the held-out set


# --- issue #13: unanswerable reasons, missing documents, questions that name their document ---

WHYS = {"missing_fact", "missing_document", "wrong_scope", "false_premise"}


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (SETS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _all_rows() -> list[dict]:
    return _rows("jjj.jsonl") + _rows("jjj_dev.jsonl")


def test_new_fields_are_well_formed() -> None:
    for r in _all_rows():
        if "why" in r:
            assert r["why"] in WHYS, r["id"]
            assert r["kind"] == "unanswerable" and r["answerable"] is False, r["id"]
            assert r["doc"] is None and r["evidence"] == "" and r["key_points"] == [], r["id"]
            assert isinstance(r["checked"], list) and r["checked"] and all(isinstance(c, str) and c for c in r["checked"])
        if r.get("why") == "missing_document":
            assert isinstance(r.get("missing_doc"), str) and r["missing_doc"].strip(), r["id"]
        else:
            assert "missing_doc" not in r, r["id"]
        if r["kind"] == "named_doc":
            assert r.get("names_doc") is True and r["answerable"] is True and r["doc"], r["id"]
        if "names_doc" in r:
            assert r["names_doc"] is True and r["answerable"] is True, r["id"]


def test_counts_per_kind_reach_the_targets_across_both_sets() -> None:
    rows = _all_rows()
    whys = [r["why"] for r in rows if r.get("why")]
    assert len(whys) >= 80
    for why in WHYS:
        assert whys.count(why) >= 10, why
    assert sum(1 for r in rows if r["kind"] == "named_doc") >= 40
    # roughly 40 % of the issue-#13 questions tune, 60 % are held out; the dev rows from dev-115 on are
    # the larger issue-#23 training pool and are not counted here
    dev = sum(1 for r in _rows("jjj_dev.jsonl")
              if int(r["id"].split("-")[1]) <= 114 and (r.get("why") or r["kind"] == "named_doc"))
    held = sum(1 for r in _rows("jjj.jsonl") if r.get("why") or r["kind"] == "named_doc")
    assert 0.3 <= dev / (dev + held) <= 0.5
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))


def test_missing_documents_are_not_in_the_corpus() -> None:
    """No file of docs_corpus/ (nor, when present, of the distractors) is the document a missing-document
    question names: same title and year, whatever the spelling of dates and 《》."""
    validator = _validator()
    stems = [SEED.stem] + [p.stem for p in topic_files()]
    others = [p.stem for p in DISTRACTORS.glob("*.txt")] if DISTRACTORS.is_dir() else []
    rows = [r for r in _all_rows() if r.get("why") == "missing_document"]
    assert rows
    for r in rows:
        assert validator.missing_doc_matches(r["missing_doc"], stems) == [], r["id"]
        assert validator.missing_doc_matches(r["missing_doc"], others, exact=True) == [], r["id"]
    # the matcher does find documents that are there
    assert validator.missing_doc_matches("2025年天津市政府工作报告", stems)
    assert validator.missing_doc_matches("《北京市机动车停车条例》", stems)
    assert validator.missing_doc_matches("2017年中华人民共和国国务院政府工作报告", stems)
    assert not validator.missing_doc_matches("2020年中华人民共和国国务院政府工作报告", stems)


def test_named_doc_questions_name_their_document() -> None:
    """A named_doc question carries its document's year or a title word, so the name is really in it."""
    for r in _all_rows():
        if r["kind"] != "named_doc":
            continue
        doc, q = r["doc"], r["question"]
        year = doc[:4] if doc[:4].isdigit() else None
        named = (year and year in q) or any(word in q for word in ("十九大", "二十大")) or "《" in q or "条例" in q
        assert named, r["id"]


# --- issue #23: the enlarged dev pool; issue #24: broad questions answered by a whole section ---


def test_dev_pool_is_large_and_varied() -> None:
    rows = _rows("jjj_dev.jsonl")
    assert len(rows) >= 420
    assert sum(1 for r in rows if r["kind"] == "colloquial") >= 60
    assert len({r["doc"] for r in rows if r["doc"]}) == len(topic_files()) + 1  # every document


def test_broad_sets_quote_their_section() -> None:
    """Key points lie in the loaded text of the answering section; dev and held-out ask about different sections."""
    validator = _validator()
    sections: dict[str, set[tuple[str, str]]] = {}
    for name, minimum in (("broad_dev.jsonl", 24), ("broad.jsonl", 20)):
        rows = _rows(name)
        assert len(rows) >= minimum
        sections[name] = set()
        for r in rows:
            assert r["kind"] == "broad" and r["answerable"] is True, r["id"]
            assert 4 <= len(r["key_points"]) <= 8, r["id"]
            doc = r["doc"]
            text = load_document(LIBRARY / f"{doc}.txt", doc).text
            spans = [s for s in validator.section_spans(text, r["section"]) if text.startswith(r["evidence"], s[0])]
            assert spans, r["id"]
            body = text[spans[0][0]:spans[0][1]]
            assert all(k in body for k in r["key_points"]), r["id"]
            sections[name].add((doc, r["section"]))
    assert not sections["broad_dev.jsonl"] & sections["broad.jsonl"]
