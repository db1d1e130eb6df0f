"""Settings per component: flat ASSISTANT_* names, descriptions, validated Assistant overrides (fast tier)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, InvalidSettingsError
from assistant.settings import (
    AppSettings,
    DecideSettings,
    IndexSettings,
    LLMSettings,
    QuestionSettings,
    RetrievalSettings,
    Settings,
    WriterSettings,
)

COMPONENTS = (IndexSettings, RetrievalSettings, DecideSettings, WriterSettings, LLMSettings, QuestionSettings,
              AppSettings)


def test_every_field_belongs_to_exactly_one_component_and_is_described() -> None:
    owners: dict[str, list[str]] = {}
    for component in COMPONENTS:
        for name in component.model_fields:
            owners.setdefault(name, []).append(component.__name__)
    assert set(owners) == set(Settings.model_fields)
    assert {n: o for n, o in owners.items() if len(o) > 1} == {}
    assert [n for n, f in Settings.model_fields.items() if not f.description] == []


def test_the_index_part_holds_no_answering_settings() -> None:
    for answering in ("writer", "top_k", "llm_base_url", "host", "users", "max_question_chars", "answer_min_focus"):
        assert answering not in IndexSettings.model_fields


@pytest.mark.parametrize(("env", "field", "raw", "value"), [
    ("ASSISTANT_TOP_K", "top_k", "9", 9),
    ("ASSISTANT_WRITER", "writer", "llm", "llm"),
    ("ASSISTANT_LLM_BASE_URL", "llm_base_url", "http://gpu:9000/v1", "http://gpu:9000/v1"),
    ("ASSISTANT_EMBEDDING_URL", "embedding_url", "http://gpu:7997/v1", "http://gpu:7997/v1"),
    ("ASSISTANT_CHUNK_SIZE", "chunk_size", "300", 300),
    ("assistant_port", "port", "8001", 8001),
    ("ASSISTANT_DATA_DIR", "data_dir", "/tmp/somewhere", Path("/tmp/somewhere")),
])
def test_flat_environment_names_keep_working(monkeypatch: pytest.MonkeyPatch, env: str, field: str, raw: str,
                                             value: object) -> None:
    monkeypatch.setenv(env, raw)
    assert getattr(Settings(), field) == value


def test_a_component_reads_only_its_own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "torch")
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "other")
    assert IndexSettings().embedding_backend == "torch"
    assert LLMSettings().llm_model == "other"
    assert not hasattr(IndexSettings(), "llm_model")


def test_assistant_overrides_are_validated_and_coerced(tmp_path: Path) -> None:
    bot = Assistant(top_k="3", data_dir=str(tmp_path))  # type: ignore[arg-type]
    assert bot.settings.top_k == 3 and bot.settings.data_dir == tmp_path


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"top_k": "3", "writer": "bogus"}, "writer"),
    ({"top_k": "three"}, "top_k"),
    ({"topk": 3}, "topk"),
    ({"answer_min_focus": 2.0}, "answer_min_focus"),
])
def test_bad_overrides_raise_a_typed_error_in_chinese(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidSettingsError) as info:
        Assistant(**overrides)
    assert fragment in info.value.user_message
    assert info.value.user_message.startswith(("未知的设置项", "设置项的值无效"))


def test_a_whole_settings_object_is_used_as_given(tmp_path: Path) -> None:
    given = Settings(data_dir=tmp_path, top_k=2)
    assert Assistant(given).settings is given
    assert Assistant(given, writer="llm").settings.writer == "llm"
    assert given.writer == "extractive"  # the given object is not changed
