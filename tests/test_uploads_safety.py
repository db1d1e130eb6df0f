"""Uploads: a same-name upload asks before replacing, long names are cut by bytes with a note, and a
copy a crash left in ``uploads/`` is indexed (or removed) at the next start and audited — from the
Python API, the command line and the start of ``assistant serve`` (real Chroma, the real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import audit
from assistant.app.server import recover_uploads
from assistant.service import Assistant
from assistant.uploads import MAX_NAME_BYTES, safe_filename
from cli.main import main

from .conftest import write_doc

FIRST = "一、说明\n\n京津冀三地推行“棠棣同辉”计划，由北京市文化和旅游局牵头，首批覆盖8个景区。\n"
SECOND = "一、说明\n\n京津冀三地推行“棠棣同辉”计划，由天津市文化和旅游局牵头，首批覆盖15个景区。\n"


def test_a_same_name_upload_is_refused_until_replace_is_confirmed(bot: Assistant, tmp_path: Path) -> None:
    first = write_doc(tmp_path / "a", "棠棣同辉计划.txt", FIRST)
    assert bot.add_documents([first]).problems == []
    second = write_doc(tmp_path / "b", "棠棣同辉计划.txt", SECOND)
    refused = bot.add_documents([second])
    assert refused.stored == [] and refused.duplicates == [(second, second.name)]
    ((name, reason),) = refused.problems
    assert name == second.name and "同名" in reason and "替换" in reason
    stored = bot.settings.uploads_dir / "棠棣同辉计划.txt"
    assert stored.read_text(encoding="utf-8") == FIRST  # nothing replaced silently
    assert "北京市文化和旅游局" in bot.ask("“棠棣同辉”计划由哪个部门牵头？").text
    replaced = bot.add_documents([second], replace=True)
    assert replaced.problems == [] and replaced.report is not None and replaced.report.updated == 1
    assert stored.read_text(encoding="utf-8") == SECOND
    assert "天津市文化和旅游局" in bot.ask("“棠棣同辉”计划由哪个部门牵头？").text


def test_long_names_are_cut_by_bytes_with_a_note(bot: Assistant, tmp_path: Path) -> None:
    long_name = "关于进一步推进京津冀协同发展" * 10 + ".txt"  # 140 CJK characters: 420 bytes
    assert len(safe_filename(long_name).encode("utf-8")) <= MAX_NAME_BYTES < 255  # room for <name>.meta.json
    original = write_doc(tmp_path / "in", "long.txt", FIRST)
    added = bot.add_documents([(original, long_name)])  # was: OSError, shown as 保存文件失败
    assert added.problems == [] and len(added.stored) == 1
    assert len(added.stored[0].name.encode("utf-8")) <= MAX_NAME_BYTES and added.stored[0].suffix == ".txt"
    ((_, note),) = added.notes
    assert "文件名过长" in note and f"{MAX_NAME_BYTES} 字节" in note and added.stored[0].name in note
    assert note in added.summary_zh()


def test_cli_docs_add_asks_for_replace(bot: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(bot.settings.data_dir))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", str(bot.settings.embedding_model))
    first = write_doc(tmp_path / "a", "棠棣同辉计划.txt", FIRST)
    second = write_doc(tmp_path / "b", "棠棣同辉计划.txt", SECOND)
    assert main(["docs", "add", str(first)]) == 0
    capsys.readouterr()
    assert main(["docs", "add", str(second)]) == 2
    assert "--replace" in capsys.readouterr().out
    assert (bot.settings.uploads_dir / first.name).read_text(encoding="utf-8") == FIRST
    assert main(["docs", "add", "--replace", str(second)]) == 0
    assert (bot.settings.uploads_dir / first.name).read_text(encoding="utf-8") == SECOND
    actions = [(e["action"], e["result"]) for e in audit.read(bot.settings)]
    assert actions == [("upload", "ok"), ("upload", "error"), ("upload-replace", "ok")]


def test_leftover_uploads_are_indexed_at_start_and_audited(bot: Assistant) -> None:
    uploads = bot.settings.uploads_dir
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "棠棣同辉计划.txt").write_text(FIRST, encoding="utf-8")  # saved, then the process was killed
    (uploads / ".upload-123-abcd.txt").write_text("京津冀", encoding="utf-8")  # a partial copy
    (uploads / "空白文件.txt").write_text("  \n", encoding="utf-8")  # saved, but cannot be indexed
    assert {p.name for p in bot.leftover_uploads()} == {"棠棣同辉计划.txt", ".upload-123-abcd.txt", "空白文件.txt"}
    recover_uploads(bot)  # what `assistant serve` does at start
    assert "棠棣同辉计划" in {d.doc_id for d in bot.documents()}
    assert bot.leftover_uploads() == []
    assert not (uploads / ".upload-123-abcd.txt").exists() and not (uploads / "空白文件.txt").exists()
    (entry,) = [e for e in audit.read(bot.settings) if e["action"] == "recover-uploads"]
    assert "棠棣同辉计划.txt" in entry["files"] and ".upload-123-abcd.txt" in entry["files"]
    assert "补充索引" in entry["message"] and entry["time"].endswith("+00:00")
    recover_uploads(bot)  # nothing left: nothing done, nothing written
    assert len([e for e in audit.read(bot.settings) if e["action"] == "recover-uploads"]) == 1
