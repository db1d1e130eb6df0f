"""The README's examples run as written: every ```bash and ```python block, against a small real index.

The index holds the seed article and one regulation of the shipped library (``ASSISTANT_DATA_DIR`` and
``ASSISTANT_CORPUS_DIR`` point to temporary folders). ``.venv/bin/assistant`` runs as ``python -m assistant`` of this
checkout; a line that starts with ``make`` is checked with ``make -n`` (its targets exist and parse), since running
it would install and serve.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import REPO_ROOT
from index.loaders import SIDECAR_SUFFIX

from .conftest import LIBRARY, SEED, make_settings

README = REPO_ROOT / "README.md"
REGULATION = LIBRARY / "北京市推进京津冀社会保障卡一卡通规定(2024-09-27).txt"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README.read_text(encoding="utf-8")) if lang == language]


def test_readme_is_a_short_front_door() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for link in re.findall(r"\]\(((?:docs|docs_corpus)/[^)#]+|SECURITY\.md)", text):
        assert (REPO_ROOT / link).exists(), link
    assert blocks("bash") and blocks("python")


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> dict[str, str]:
    from assistant import Assistant

    root = tmp_path_factory.mktemp("readme")
    corpus = root / "corpus"
    corpus.mkdir()
    for path in (SEED, REGULATION):
        shutil.copy2(path, corpus / path.name)
        shutil.copy2(path.with_name(path.name + SIDECAR_SUFFIX), corpus / (path.name + SIDECAR_SUFFIX))
    report = Assistant(make_settings(root / "data", model_path)).index([corpus])
    assert report.documents == 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k == "ASSISTANT_MODEL_DIR"}
    env.update({"ASSISTANT_DATA_DIR": str(root / "data"), "ASSISTANT_CORPUS_DIR": str(corpus),
                "ASSISTANT_EMBEDDING_MODEL": str(model_path), "PYTHONPATH": str(REPO_ROOT),
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    return env


def _run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{cmd[:3]} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_readme_shell_blocks_run(small_index: dict[str, str]) -> None:
    outputs = []
    for body in blocks("bash"):
        script = body.replace(".venv/bin/assistant", f'"{sys.executable}" -m assistant')
        script = re.sub(r"^make ", "make -n ", script, flags=re.M)
        outputs.append(_run(["bash", "-euo", "pipefail", "-c", script], small_index))
    cli = next(out for body, out in zip(blocks("bash"), outputs, strict=True) if "assistant ask" in body)
    assert "[1]" in cli and "《北京市推进京津冀社会保障卡一卡通规定(2024-09-27)》" in cli  # a cited answer
    assert '"citations"' in cli  # the --json answer


def test_readme_python_blocks_run(small_index: dict[str, str], tmp_path: Path) -> None:
    for i, body in enumerate(blocks("python")):
        script = tmp_path / f"readme_{i}.py"
        script.write_text(body, encoding="utf-8")
        out = _run([sys.executable, str(script)], small_index)
        assert "[1]" in out, out
