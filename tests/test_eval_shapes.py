"""The timeline / side-by-side sets are well-formed and their scoring counts what it says: key phrases verbatim
in the row's loaded document, "none" rows really silent on the topic, enough questions of each shape in two
disjoint halves; row recall, precision and false "none" on hand-made answers."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest

from assistant.models import Answer, AnswerSection, Citation
from assistant.settings import REPO_ROOT
from eval.shapes import ExpectedRow, ShapeQuestion, aggregate_shapes, load_shape_set, score_shape, shape_set_path
from index.loaders import load_document

from .conftest import LIBRARY, require_shared

SETS = REPO_ROOT / "eval" / "sets"


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (SETS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_sizes_and_disjoint_halves() -> None:
    dev, held = _rows("shapes_dev.jsonl"), _rows("shapes.jsonl")
    both = dev + held
    assert sum(r["kind"] == "evolution" for r in both) >= 20
    assert sum(r["kind"] == "side_by_side" for r in both) >= 15
    for kind in ("evolution", "side_by_side", "plain"):
        n_dev, n_held = (sum(r["kind"] == kind for r in rows) for rows in (dev, held))
        assert n_dev and n_held and abs(n_dev - n_held) <= 2  # about half each
    assert not {r["question"] for r in dev} & {r["question"] for r in held}
    assert len({r["id"] for r in both}) == len(both)
    for r in both:
        assert r["layout"] == {"evolution": "timeline", "side_by_side": "comparison", "plain": "plain"}[r["kind"]]
        assert bool(r["rows"]) == (r["kind"] != "plain")
    assert shape_set_path("shapes") == SETS / "shapes.jsonl" and shape_set_path("jjj") is None


@pytest.mark.parametrize("name", ["shapes_dev.jsonl", "shapes.jsonl"])
def test_keys_are_verbatim_and_none_rows_are_silent(name: str) -> None:
    require_shared()
    for r in _rows(name):
        for row in r["rows"]:
            text = load_document(LIBRARY / f"{row['doc']}.txt", row["doc"]).text  # the text citations slice
            if row["key"] == "none":
                assert not any(t in text for t in r["terms"]), (r["id"], row["row"])
                assert row["alt_keys"] == []
            else:
                for key in [row["key"], *row["alt_keys"]]:
                    assert key in text and any(t in key for t in r["terms"]), (r["id"], row["row"], key)


def test_the_files_are_what_make_shapes_writes() -> None:
    require_shared()
    spec = importlib.util.spec_from_file_location("make_shapes", SETS / "make_shapes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(LIBRARY)
    assert built["dev"] == _rows("shapes_dev.jsonl") and built["heldout"] == _rows("shapes.jsonl")


def _cite(n: int, doc: str, text: str) -> Citation:
    return Citation(n=n, doc_id=doc, title=doc, source="", section="", page=None, text=text, quote=text, start=0,
                    end=len(text), score=1.0)


def test_scoring_counts_rows_precision_and_false_none() -> None:
    q = ShapeQuestion("q1", "三地分别怎么提雄安新区？", "side_by_side", "comparison", [
        ExpectedRow("北京", "bj", None, "北京", ["全力支持雄安新区建设"]),
        ExpectedRow("天津", "tj", None, "天津", []),
        ExpectedRow("河北", "hb", None, "河北", ["高标准高质量推进雄安新区建设"]),
    ])
    answer = Answer(question=q.question, text="", layout="comparison",
                    citations=[_cite(1, "bj", "全力支持雄安新区建设。"), _cite(2, "tj", "京津冀协同发展。"),
                               _cite(3, "hb", "雄安新区日新月异。")],
                    sections=[AnswerSection("北京市", "bj", "bj", None, "北京", "…[1]。", [1]),
                              AnswerSection("天津市", "tj", "tj", None, "天津", "…[2]。", [2]),
                              AnswerSection("河北省", "hb", "hb", None, "河北", "报告未提及。", [], "not_found"),
                              AnswerSection("国务院", "gw", "gw", None, "国家", "报告未提及。", [], "not_found")])
    r = score_shape(q, answer, 0.5)
    assert (r.rows_with_key, r.recall_hits, r.false_none) == (2, 1, 1)  # 河北 wrongly "none"
    assert (r.none_rows, r.none_correct) == (1, 0)  # 天津 answered though its report is silent
    assert (r.sections, r.sections_correct) == (4, 3)  # 国务院 is no row asked for
    summary = aggregate_shapes([r])
    assert summary["row_recall"] == 0.5 and summary["false_none_rate"] == 0.5 and summary["row_precision"] == 0.75
    assert summary["layout_accuracy"] == 1.0 and summary["latency_p95"] == 0.5


def test_a_row_citing_another_document_is_imprecise() -> None:
    q = ShapeQuestion("q2", "历年怎么提？", "evolution", "timeline", [ExpectedRow("2018年", "d18", 2018, "国家", ["甲"])])
    answer = Answer(question="q", text="", layout="timeline", citations=[_cite(1, "d19", "甲。")],
                    sections=[AnswerSection("2018年", "d18", "d18", 2018, "国家", "甲[1]。", [1])])
    r = score_shape(q, answer, 0.1)
    assert r.sections_correct == 0 and r.recall_hits == 0  # the key is in another year's report


def test_sets_load() -> None:
    questions = load_shape_set(SETS / "shapes.jsonl")
    assert questions[0].rows and questions[0].rows[0].keys
    assert any(not row.keys for q in questions for row in q.rows)  # "none" rows
