"""``bench.run`` end to end on a tiny corpus: it runs, and writes the figures it promises (no timing thresholds)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from index.loaders import SIDECAR_SUFFIX
from tests.conftest import LIBRARY, SEED, SHARED, require_shared, topic_files


def _tiny_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """The seed + the 3 smallest library texts some evaluation question is about (with their sidecars);
    2 small distractors."""
    from eval.datasets import load_own_set

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    gold = {d for q in load_own_set("jjj", LIBRARY, SHARED).questions for d in q.gold_docs}
    smallest = sorted((p for p in topic_files() if p.stem in gold), key=lambda p: p.stat().st_size)[:3]
    for path in [SEED, *smallest]:
        shutil.copy2(path, corpus / path.name)
        shutil.copy2(path.with_name(path.name + SIDECAR_SUFFIX), corpus / (path.name + SIDECAR_SUFFIX))
    distractors = tmp_path / "distractors"
    distractors.mkdir()
    for path in sorted((SHARED / "corpus" / "distractors").glob("*.txt"), key=lambda p: p.stat().st_size)[:2]:
        shutil.copy2(path, distractors / path.name)
    return corpus, distractors


def test_bench_quick_ingest_and_query(tmp_path: Path, model_path: Path) -> None:
    require_shared()
    from bench.run import main

    corpus, distractors = _tiny_corpus(tmp_path)
    data, results = tmp_path / "bench", tmp_path / "results"
    code = main(["--quick", "--only", "ingest,query", "--data-dir", str(data), "--results-dir", str(results),
                 "--corpus", str(corpus), "--distractors", str(distractors), "--distractor-fraction", "1.0",
                 "--questions", "3", "--naive-questions", "2", "--ingest-rounds", "2"])
    assert code == 0
    files = sorted(results.glob("*.json"))
    assert len(files) == 1 and files[0].with_suffix(".png").exists()
    out = json.loads(files[0].read_text(encoding="utf-8"))
    assert {"meta", "ingest", "query"} <= set(out) and "scale" not in out
    assert out["meta"]["quick"] is True and out["meta"]["distractor_fraction"] == 1.0
    assert out["meta"]["distractor_files"] == 2 and out["meta"]["questions"] == 3

    ingest = out["ingest"]
    assert "error" not in ingest, ingest
    assert ingest["documents"] == 4 and ingest["chunks"] > 0 and ingest["chunk_texts_match_index"] is True
    # two indexing runs, each between two raw encodings; the ratio is their median
    assert len(ingest["ours_s_rounds"]) == 2 and len(ingest["raw_embed_s_rounds"]) == 3
    assert min(ingest["ratio_rounds"]) <= ingest["ratio_ours_to_raw"] <= max(ingest["ratio_rounds"])
    assert not any(data.glob("topic-*-round*"))  # earlier rounds' indexes are removed
    for key in ("ours_chunks_per_s", "ours_chars_per_s", "raw_chunks_per_s", "raw_chars_per_s", "ratio_ours_to_raw"):
        assert ingest[key] > 0, key
    reference = ingest["naive_torch_fp32"]
    assert reference["backend"] == "torch" and reference["dtype"] == "float32"
    assert reference["sample"] > 0 and reference["chunks_per_s"] > 0 and reference["speedup_raw"] > 0
    assert reference["cosine_to_torch_min"] >= 0.99  # int8 stays close to the fp32 reference
    assert ingest["embedder"]["backend"] == "onnx-int8" and ingest["speedup_ours_to_torch_fp32"] > 0
    assert ingest["naive_langchain"]["chunks"] > 0 and ingest["naive_langchain"]["chunks_per_s"] > 0

    query = out["query"]
    assert "error" not in query, query
    for label in ("a", "b"):
        part = query[label]
        assert part["ours"]["n"] == 3 and part["ours"]["errors"] == 0 and part["ours"]["p50_s"] > 0
        assert part["ours"]["p95_s"] >= part["ours"]["p50_s"]
        assert part["naive_bm25_per_query"]["n"] == 2 and part["naive_bm25_per_query"]["p50_s"] > 0
        assert part["ratio_p50_ours_to_naive"] > 0
    assert query["b"]["documents"] == query["a"]["documents"] + 2
    # the model is used where it lives, never converted into the bench data dir
    assert not (data / "models").exists()
    # the (b) index is kept for the next run
    assert any(data.glob("mix-*/p100/manifest.json"))

    # HNSW settings by measurement, on the kept (b) index: recall against exact search for each M/ef
    code = main(["--quick", "--only", "hnsw", "--data-dir", str(data), "--results-dir", str(results),
                 "--corpus", str(corpus), "--distractors", str(distractors), "--distractor-fraction", "1.0",
                 "--questions", "3"])
    assert code == 0
    hnsw = json.loads(sorted(results.glob("*.json"))[-1].read_text(encoding="utf-8"))["hnsw"]
    assert "error" not in hnsw, hnsw
    assert hnsw["vectors"] == query["b"]["chunks"] and hnsw["source"].endswith("p100")
    runs = hnsw["runs"]
    assert {(r["M"], r["ef_search"]) for r in runs} >= {(16, 64), (16, 16)}
    k = hnsw["k"]
    assert all(0.0 < r[f"recall@{k}"] <= 1.0 and r["p50_ms"] > 0 and r["disk_bytes"] > 0 for r in runs)
    # a tiny index is searched exhaustively: HNSW must agree with exact search there
    assert max(r[f"recall@{k}"] for r in runs) == 1.0
    assert not (data / "hnsw-trial").exists()

    # sections measured in separate invocations combine into one table, JSON and plot
    first, second = sorted(p for p in results.glob("*.json") if not p.stem.endswith("-merged"))
    assert main(["--merge", str(first), str(second), "--results-dir", str(results)]) == 0
    merged_file = next(results.glob("*-merged.json"))
    merged = json.loads(merged_file.read_text(encoding="utf-8"))
    assert merged["meta"]["merged_from"] == {"ingest": first.name, "query": first.name, "hnsw": second.name}
    assert merged["query"] == query and merged["hnsw"]["runs"] == runs
    assert merged_file.with_suffix(".png").stat().st_size > 10_000
    assert main(["--merge", str(tmp_path / "missing.json")]) == 2


def test_bench_rejects_unknown_section() -> None:
    from bench.run import main

    assert main(["--only", "ingest,warp"]) == 2


def test_scale_points_are_nested(tmp_path: Path) -> None:
    import argparse

    from bench.run import Plan

    topic = [tmp_path / "topic"]
    distractors = [(tmp_path / f"d{i}.txt", 100) for i in range(20)]
    plan = Plan(args=argparse.Namespace(), base=None, model=tmp_path, root=tmp_path,  # type: ignore[arg-type]
                topic_paths=topic, topic_doc_ids=set(), topic_chars=500, distractors=distractors,
                distractor_total_chars=2000, questions=[], quick=True)
    p10, p30, p100 = (plan.point_paths(f) for f in (0.1, 0.3, 1.0))
    assert p10[:1] == topic and p30[:1] == topic and p100[:1] == topic  # the whole topic corpus every time
    assert p10 == p30[: len(p10)] and p30 == p100[: len(p30)]  # nested
    assert (len(p10), len(p30), len(p100)) == (1 + 2, 1 + 6, 1 + 20)  # 10 % / 30 % of 2,000 distractor characters


@pytest.mark.llm
def test_bench_llm_section_times_the_local_llm(tmp_path: Path, model_path: Path) -> None:
    """The llm section starts llama.cpp on the local GGUF when none is up and times a real answer."""
    require_shared()
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (make llm)")
    from bench.run import main

    corpus, distractors = _tiny_corpus(tmp_path)
    results = tmp_path / "results"
    code = main(["--quick", "--only", "llm", "--llm-questions", "1", "--data-dir", str(tmp_path / "bench"),
                 "--results-dir", str(results), "--corpus", str(corpus), "--distractors", str(distractors),
                 "--distractor-fraction", "1.0", "--questions", "3"])
    assert code == 0
    llm = json.loads(next(results.glob("*.json")).read_text(encoding="utf-8"))["llm"]
    assert "skipped" not in llm and "error" not in llm, llm
    (run,) = llm["runs"]
    # the LLM generated; its draft may then fall back to the extractive answer after verification
    assert run["writer"] == "llm" or run["fallback_reason"] in ("unsupported", "declined", "garbage"), run
    assert run["ttft_s"] > 0 and run["total_s"] >= run["ttft_s"], run
    assert llm["ttft_p50_s"] == run["ttft_s"]  # counted whether or not the verifier refused it
    assert llm["refused_after_generation"] == int(run["refused"])


def test_side_section_on_a_tiny_corpus(tmp_path: Path, model_path: Path) -> None:
    """Ours, naive + torch fp32 and naive + our encoder index the same files; rates are of source text."""
    require_shared()
    from bench.run import build_parser, make_plan, section_side, table_rows

    corpus, distractors = _tiny_corpus(tmp_path)
    args = build_parser().parse_args(["--quick", "--corpus", str(corpus), "--distractors", str(distractors),
                                      "--distractor-fraction", "1.0", "--data-dir", str(tmp_path / "bench")])
    plan = make_plan(args)
    result = section_side(plan)
    assert set(result.naive) == {"naive_torch_fp32", "naive_onnx_int8"} and result.ratio("naive_onnx_int8") is not None
    side = result.to_json()  # the keys of the result file
    assert side["documents"] == len(list(corpus.glob("*.txt"))) + 2
    for name in ("ours", "naive_torch_fp32", "naive_onnx_int8"):
        part = side[name]
        # wall_s is printed rounded to 0.01 s; the rate was computed from the unrounded time
        assert part["wall_s"] > 0 and part["chars_per_s"] == pytest.approx(side["characters"] / part["wall_s"], rel=0.01)
        assert part["chunk_lengths"]["count"] == part["chunks"] and 0 <= part["retrieval"]["hit@5"] <= 1
    assert side["ratio_ours_to_naive_torch_fp32_chars_per_s"] > 0
    rows = [r[0] for r in table_rows({"side": side})]
    assert any("chars/s ours / naive_torch_fp32" in r for r in rows)
    assert any("ours chunks | length p10 / p50 / p90" in r for r in rows)
