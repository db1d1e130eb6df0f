"""The evaluation sets are well-formed: evidence verbatim in its document, key points in the evidence."""

from __future__ import annotations

import importlib.util
import json

import pytest

from index.loaders import load_document
from index.settings import REPO_ROOT

from .conftest import JJJ, SEED_DIR, require_shared

SETS = REPO_ROOT / "eval" / "sets"


def _validator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("validate_sets", SETS / "validate_sets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["jjj.jsonl", "jjj_dev.jsonl"])
def test_set_is_valid(name: str) -> None:
    require_shared()
    problems = _validator().validate(str(SETS / name), [str(SEED_DIR), str(JJJ)])
    assert problems == []


@pytest.mark.parametrize("name", ["jjj.jsonl", "jjj_dev.jsonl"])
def test_evidence_is_in_the_loaded_document_text(name: str) -> None:
    require_shared()
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
            path = SEED_DIR / f"{doc}.txt" if (SEED_DIR / f"{doc}.txt").exists() else JJJ / f"{doc}.txt"
            texts[doc] = load_document(path, doc).text
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
