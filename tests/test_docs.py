"""Knowledge-base management from the Python API and the CLI (real Chroma, the real bundled model).

``Assistant.add_documents / delete_document / facets`` and ``assistant docs list|add|delete``:
what the web page's admin tab does, without the web page.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.service import Assistant
from cli.main import main

from .browser_utils import UPLOAD_DOC, UPLOAD_DOC_NAME, UPLOAD_QUESTION
from .conftest import write_doc


def test_add_documents_stores_a_copy_indexes_it_and_answers_from_it(bot: Assistant, tmp_path: Path) -> None:
    original = write_doc(tmp_path / "incoming", UPLOAD_DOC_NAME, UPLOAD_DOC)
    added = bot.add_documents([original])
    assert added.problems == [] and added.report is not None and added.report.added == 1
    (copy,) = added.stored
    assert copy.parent == bot.settings.uploads_dir.resolve() and copy.read_text(encoding="utf-8") == UPLOAD_DOC
    assert "已收录 1 个文件（新增 1" in added.summary_zh()
    doc_id = Path(UPLOAD_DOC_NAME).stem
    assert doc_id in {d.doc_id for d in bot.documents()}
    answer = bot.ask(UPLOAD_QUESTION)
    assert not answer.refused and any(c.doc_id == doc_id for c in answer.citations)
    facets = bot.facets()
    assert "2025" in facets.years and "通知" in facets.kinds and doc_id in {d for _label, d in facets.documents}
    assert "天津" in facets.regions and "北京" in facets.regions


def test_add_documents_refuses_a_taken_id_and_an_unreadable_file(bot: Assistant, tmp_path: Path) -> None:
    seed_id = bot.documents()[0].doc_id
    clash = write_doc(tmp_path / "other", f"{seed_id}.md", "# 另一个文件\n\n京津冀协同发展的另一个说明。")
    empty = write_doc(tmp_path / "other", "空白.txt", "   \n")
    wrong = write_doc(tmp_path / "other", "表格.xlsx", "x")
    added = bot.add_documents([clash, empty, wrong])
    reasons = dict(added.problems)
    assert "同名" in reasons[clash.name]
    assert "不支持" in reasons[wrong.name]
    assert any(Path(name).name == empty.name for name in reasons)  # stored, then skipped by indexing …
    assert not (bot.settings.uploads_dir / empty.name).exists()  # … and its copy removed again
    assert len(bot.documents()) == 1


def test_delete_document_removes_the_added_copy_but_never_a_source_folder(bot: Assistant, tmp_path: Path) -> None:
    original = write_doc(tmp_path / "incoming", UPLOAD_DOC_NAME, UPLOAD_DOC)
    (copy,) = bot.add_documents([original]).stored
    assert bot.delete_document(Path(UPLOAD_DOC_NAME).stem)
    assert not copy.exists() and original.exists()
    seed = bot.documents()[0]
    assert bot.delete_document(seed.doc_id)
    assert Path(seed.source).exists()  # the document folder is never touched
    assert bot.documents() == [] and not bot.delete_document(seed.doc_id)


def test_cli_docs_add_list_delete(bot: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(bot.settings.data_dir))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", str(bot.settings.embedding_model))
    original = write_doc(tmp_path / "incoming", UPLOAD_DOC_NAME, UPLOAD_DOC)
    doc_id = Path(UPLOAD_DOC_NAME).stem

    assert main(["docs", "add", str(original)]) == 0
    out = capsys.readouterr().out
    assert "已收录 1 个文件（新增 1" in out and "现在可以就这些文件提问" in out

    assert main(["docs", "list", "--json"]) == 0
    listed = {d["doc_id"] for d in json.loads(capsys.readouterr().out)}
    assert doc_id in listed and len(listed) == 2

    assert main(["docs", "add", str(original), "--json"]) == 0  # again: unchanged
    again = json.loads(capsys.readouterr().out)
    assert again["report"]["unchanged"] == 1 and again["problems"] == []

    assert main(["docs", "delete", doc_id]) == 0
    assert f"已从知识库删除《京津冀“渤雁联签”贸易便利化机制》（{doc_id}）" in capsys.readouterr().out
    assert main(["docs", "delete", doc_id]) == 2
    assert "知识库中没有文件" in capsys.readouterr().err

    assert main(["docs", "add", str(write_doc(tmp_path, "x.xlsx", "x"))]) == 2
    assert "以下文件未收录" in capsys.readouterr().out
    audit = [json.loads(line) for line in bot.settings.audit_path.read_text(encoding="utf-8").splitlines()]
    assert [a["action"] for a in audit][-4:] == ["upload", "delete", "delete", "upload"]
