"""One model folder for every data folder and every command (issue #14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import REPO_ROOT, Settings


def test_model_dir_is_independent_of_the_data_dir(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "fresh")
    assert s.models_dir == REPO_ROOT / "data" / "models"
    assert s.embedding_model_path == s.models_dir / "multilingual-e5-small"
    assert s.llm_gguf_path.parent == s.models_dir


def test_model_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL_DIR", str(tmp_path / "m"))
    s = Settings()
    assert s.bundled_model_path == tmp_path / "m" / "multilingual-e5-small"
    assert s.llm_gguf_path == tmp_path / "m" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    monkeypatch.setenv("ASSISTANT_LLM_MODEL_PATH", str(tmp_path / "x.gguf"))
    assert Settings().llm_gguf_path == tmp_path / "x.gguf"  # the older names keep working


def test_eval_settings_keep_the_shared_model_folder(tmp_path: Path) -> None:
    from eval.run import eval_settings

    s = eval_settings(Settings(data_dir=tmp_path / "fresh"), "own")
    assert s.data_dir == tmp_path / "fresh" / "eval" / "own"
    assert s.embedding_model is None and s.models_dir == Settings().models_dir


def test_eval_with_a_fresh_data_dir_prepares_the_model_like_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled model is prepared by ensure_model wherever it is asked for — also when named
    explicitly (eval and bench pass it) — instead of failing with 模型文件缺失."""
    import index.provision.model_path as model_path_module
    from index.provision.model_path import resolve_model_path

    calls: list[Path] = []
    monkeypatch.setattr(model_path_module, "ensure_model", lambda target: calls.append(target) or target)
    s = Settings(data_dir=tmp_path / "fresh", model_dir=tmp_path / "models")
    assert resolve_model_path(s) == tmp_path / "models" / "multilingual-e5-small"
    explicit = s.model_copy(update={"embedding_model": s.bundled_model_path})
    assert resolve_model_path(explicit) == s.bundled_model_path
    assert calls == [s.bundled_model_path, s.bundled_model_path]
    own = s.model_copy(update={"embedding_model": tmp_path / "bge"})
    assert resolve_model_path(own) == tmp_path / "bge" and len(calls) == 2
