"""The ``scale`` section: index size, query latency and peak RSS at nested corpus sizes (``bench.worker``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from ..common import REPO_ROOT
from ..plan import SCALE_POINTS, Plan, du_bytes, ensure_index, progress
from ..results import ScalePoint, ScaleResult, WorkerFigures


def section_scale(plan: Plan) -> ScaleResult:
    plan.mix_root.mkdir(parents=True, exist_ok=True)
    qfile = plan.mix_root / "scale-questions.json"
    qfile.write_text(json.dumps([{"question": q.question, "history": q.history} for q in plan.questions],
                                ensure_ascii=False), encoding="utf-8")
    points: list[ScalePoint] = []
    for fraction in SCALE_POINTS:
        data_dir = plan.mix_root / f"p{round(fraction * 100)}"
        paths = plan.point_paths(fraction)
        progress(f"scale {fraction:.0%}: index {data_dir.name} ({len(paths)} sources)")
        built = ensure_index(plan, data_dir, paths)
        included = set(paths)
        chars = plan.topic_chars + sum(c for p, c in plan.distractors if p in included)
        result_file = plan.mix_root / f"scale-{data_dir.name}.json"
        result_file.unlink(missing_ok=True)
        progress(f"scale {fraction:.0%}: measuring in a subprocess")
        cmd = [sys.executable, "-m", "bench.worker", "--data-dir", str(data_dir), "--model", str(plan.model),
               "--questions", str(qfile), "--out", str(result_file)]
        pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": pythonpath}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
        disk = du_bytes(data_dir)
        point = ScalePoint(fraction=fraction, characters=chars, sources=len(paths), index=built,
                           disk_bytes=disk["disk_bytes"], apparent_bytes=disk["apparent_bytes"],
                           subprocess_s=round(time.perf_counter() - t0, 2))
        if proc.returncode != 0 or not result_file.exists():
            point.error = f"worker exited {proc.returncode}: {proc.stderr[-1500:]}"
        else:
            point.figures = WorkerFigures.from_json(json.loads(result_file.read_text(encoding="utf-8")))
        points.append(point)
    return ScaleResult(points=points, distractor_fraction=plan.args.distractor_fraction,
                       note="each point: the whole topic corpus + seeded-random distractor files up to the fraction of "
                            "the distractors' characters (1.0 = (b)); peak_rss_bytes = RSS high-water mark (VmHWM; "
                            "ru_maxrss of a spawned child includes the parent's RSS on Linux) of a fresh process that "
                            "loads and queries that index")
