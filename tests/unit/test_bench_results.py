"""The bench's typed results keep the JSON keys of every result file the bench has written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bench.report import merge_results, table_rows, write_results
from bench.results import (
    BenchResults,
    ChunkLengths,
    ConcurrencyResult,
    EmbedderInfo,
    HnswRun,
    Latency,
    Retrieval,
    ScalePoint,
    SectionError,
    SidePipeline,
    SideResult,
)

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
RESULT_FILES = sorted(p for p in RESULTS.glob("*.json") if not p.name.startswith(("load-", "first-run-")))  # other tools


def _extras(value: Any, path: str = "") -> list[str]:
    """Keys that landed in a model's catch-all instead of a typed field."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        found += [path + key for key in (value.__pydantic_extra__ or {})]
        for name in type(value).model_fields:
            found += _extras(getattr(value, name), f"{path}{name}.")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found += _extras(item, f"{path}[{i}].")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _extras(item, f"{path}{key}.")
    return found


def test_the_committed_result_files_are_there() -> None:
    assert len(RESULT_FILES) >= 5, RESULTS


@pytest.mark.parametrize("path", RESULT_FILES, ids=lambda p: p.name)
def test_every_result_file_reads_into_typed_fields_and_writes_back_the_same_keys(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    results = BenchResults.from_json(data)
    assert results.to_json() == data
    assert _extras(results) == []
    for name in data.keys() - {"meta"}:
        assert results.ok(name) is not None, name


def _pipeline(wall_s: float) -> SidePipeline:
    return SidePipeline(wall_s=wall_s, documents_per_s=round(10 / wall_s, 3), chars_per_s=round(5000 / wall_s, 1),
                        chunks=7, chunk_lengths=ChunkLengths(count=0),
                        embedder=EmbedderInfo(backend="onnx-int8", model="e5", dim=384, batch_size=32, threads=2),
                        retrieval=Retrieval(questions=3, hit_at_5=1.0, doc_hit_at_5=0.6667))


def test_side_result_writes_one_key_per_naive_pipeline_and_its_ratio() -> None:
    side = SideResult(documents=10, characters=5000, ours=_pipeline(2.0), naive={}, ratios={})
    side.naive["naive_torch_fp32"] = _pipeline(5.0)
    side.ratios["naive_torch_fp32"] = 2.5
    side.goals = {"side_wall_max_s": 600.0}
    side.section_s = 9.0
    data = side.to_json()
    assert list(data) == ["documents", "characters", "ours", "naive_torch_fp32",
                          "ratio_ours_to_naive_torch_fp32_chars_per_s", "goals", "section_s"]
    assert data["ours"]["retrieval"] == {"questions": 3, "hit@5": 1.0, "doc_hit@5": 0.6667}
    assert data["ours"]["chunk_lengths"] == {"count": 0}  # an empty distribution stays one key
    back = SideResult.from_json(data)
    assert back.ratio("naive_torch_fp32") == 2.5 and back.naive["naive_torch_fp32"].wall_s == 5.0
    assert back.to_json() == data


def test_flat_sub_records_and_run_time_keys() -> None:
    conc = ConcurrencyResult(clients=2, questions_per_client=1, requests=2, answers=2, wall_s=1.0, answers_per_s=2.0,
                             latency=Latency(n=2, p50_s=0.5, p95_s=0.6, mean_s=0.5, max_s=0.6), errors=0,
                             error_samples=[], mixups=0, mixup_samples=[])
    data = conc.to_json()
    assert "latency" not in data and data["latency_p95_s"] == 0.6 and data["latency_n"] == 2
    assert ConcurrencyResult.from_json(data).latency.p95_s == 0.6

    run = HnswRun(m=16, ef_search=64, build_s=1.0, disk_bytes=10, recall_k=30, recall=0.9, recall_min=0.5,
                  p50_ms=1.0, p95_ms=2.0)
    data = run.to_json()
    assert data["M"] == 16 and data["recall@30"] == 0.9 and "recall" not in data and "recall_k" not in data
    assert HnswRun.from_json(data) == run

    point = ScalePoint.from_json({"fraction": 0.1, "characters": 5, "sources": 1, "disk_bytes": 1,
                                  "apparent_bytes": 1, "subprocess_s": 0.5, "error": "worker exited 1: boom",
                                  "index": {"documents": 1, "chunks": 2, "embedded_now": 2,
                                            "embedded_by_model_now": 2, "seconds": 0.1, "skipped": 0}})
    assert point.figures is None and "figures" not in point.to_json()


def test_a_failed_section_is_read_as_its_error(tmp_path: Path) -> None:
    data = {"meta": {"timestamp": "20260101-000000", "quick": True, "sections": ["query"]},
            "query": {"error": "RuntimeError: boom", "traceback": "Traceback …", "section_s": 1.5}}
    results = BenchResults.from_json(data)
    assert isinstance(results.query, SectionError) and results.ok("query") is None
    assert results.to_json() == data
    assert ("query", "error: RuntimeError: boom", "", "✗") in table_rows(results)
    json_path, _ = write_results(results, tmp_path, "failed")
    assert json.loads(json_path.read_text(encoding="utf-8"))["query"] == data["query"]
    bare = BenchResults(hnsw=SectionError(error="KeyError: 'x'")).to_json()  # no traceback: still an error
    assert isinstance(BenchResults.from_json(bare).hnsw, SectionError)


def test_merging_earlier_files_keeps_their_sections_exactly(tmp_path: Path) -> None:
    by_section: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in RESULT_FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        for name in data.keys() - {"meta"}:
            by_section[name] = (path, data[name])  # later files win, as in --merge
    merged = merge_results(RESULT_FILES)
    assert merged.meta is not None
    assert merged.meta.merged_from == {name: path.name for name, (path, _) in by_section.items()}
    out = merged.to_json()
    for name, (_, section) in by_section.items():
        assert out[name] == section, name
    rows = [row[0] for row in table_rows(out)]  # the table reads plain JSON as well
    assert any(r.startswith("side (") for r in rows) and any(r.startswith("query (b)") for r in rows)


def test_measure_records_the_machine_with_the_figure() -> None:
    """Every timed part can carry the load and CPU shares it was measured under (bench.machine.measure)."""
    from bench.machine import measure
    from bench.results import MachineState, SectionResult

    with measure() as span:
        total = sum(i * i for i in range(300_000))
    state = span.state
    assert total > 0 and span.wall_s > 0
    assert state.cpu_s is not None and state.cpu_s > 0 and state.cpus and state.cpus >= 1
    assert state.load_start is not None and len(state.load_start) == 3 and state.load_end is not None
    assert state.own_share is not None and 0 < state.own_share <= 1.05
    assert state.busy_share is not None and 0 <= state.busy_share <= 1
    section = SectionResult(section_s=1.0, machine=state)
    out = section.to_json()
    assert list(out)[-1] == "machine" and MachineState.model_validate(out["machine"]) == state
