"""Index store and sync with the real model and real Chroma (embedded and server)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.errors import IndexConfigMismatchError
from assistant.settings import REPO_ROOT, Settings
from index.keyword import KeywordIndex
from index.manifest import Manifest
from index.pipeline import Indexer
from index.store import ChromaStore

from .conftest import LIBRARY_DOCUMENTS, SEED, ChromaServer, make_settings, topic_files


def _consistent(settings: Settings) -> tuple[set[str], set[str], set[str]]:
    manifest = Manifest.load(settings.manifest_path)
    chroma_ids = ChromaStore(settings).all_ids()
    keyword_ids = set(KeywordIndex.load(settings.keyword_dir).ids)
    return manifest.chunk_ids(), chroma_ids, keyword_ids


def _small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "一卡通通知.txt").write_text(
        "关于推进京津冀社会保障卡一卡通的通知\n一、总体要求\n三地共同推进社会保障卡居民服务一卡通。\n"
        "二、重点任务\n在交通出行、旅游观光、文化体验等领域实现一卡多用。", encoding="utf-8")
    return corpus


def test_incremental_sync(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path / "data", model_path)
    corpus = _small_corpus(tmp_path)
    indexer = Indexer(settings, embedder=embedder)

    first = indexer.run([corpus])
    assert (first.added, first.updated, first.deleted, first.unchanged) == (2, 0, 0, 0)
    assert first.embedded_chunks == first.chunks > 0
    assert len(set.union(*_consistent(settings))) == first.chunks

    again = indexer.run([corpus])
    assert again.embedded_chunks == 0 and again.unchanged == 2 and again.added == 0

    notice = corpus / "一卡通通知.txt"
    notice.write_text(notice.read_text(encoding="utf-8") + "\n三、保障措施\n建立三地联席会议制度。", encoding="utf-8")
    edited = indexer.run([corpus])
    assert edited.updated == 1 and edited.unchanged == 1
    assert 0 < edited.embedded_chunks < first.chunks + 3
    manifest_ids, chroma_ids, keyword_ids = _consistent(settings)
    assert manifest_ids == chroma_ids == keyword_ids

    notice.unlink()
    removed = indexer.run([corpus])
    assert removed.deleted == 1 and removed.documents == 1
    manifest_ids, chroma_ids, keyword_ids = _consistent(settings)
    assert manifest_ids == chroma_ids == keyword_ids
    assert all(c.doc_id == "协同发展看京津冀" for c in KeywordIndex.load(settings.keyword_dir).chunks)


def test_small_batches_give_the_same_index_as_one_batch(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Batches of 5 chunks go through the background writer one after another, overlapped with
    embedding: the result must be the index one batch gives (ids, keyword tokens, a working search)."""
    corpus = _small_corpus(tmp_path)
    one = make_settings(tmp_path / "one", model_path)
    many = make_settings(tmp_path / "many", model_path, ingest_batch_chunks=5)
    single = Indexer(one, embedder=embedder).run([corpus])
    batched = Indexer(many, embedder=embedder).run([corpus])
    assert batched.chunks == single.chunks > 10 and batched.added == 2
    ids_one, ids_many = _consistent(one), _consistent(many)
    assert ids_many[0] == ids_many[1] == ids_many[2] == ids_one[0]
    assert KeywordIndex.load(many.keyword_dir).tokens == KeywordIndex.load(one.keyword_dir).tokens
    hits = KeywordIndex.load(many.keyword_dir).search("社会保障卡一卡通", k=3)
    assert hits and hits[0][0].doc_id == "一卡通通知"


def test_failed_write_stops_the_run_and_keeps_the_index_consistent(  # type: ignore[no-untyped-def]
        tmp_path: Path, model_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store write that fails on the writer thread reaches the caller; batches after it are not
    written, and the next run completes the index."""
    settings = make_settings(tmp_path / "data", model_path, ingest_batch_chunks=1)  # a batch per document
    corpus = _small_corpus(tmp_path)
    indexer = Indexer(settings, embedder=embedder)
    real_upsert = indexer.store.upsert
    calls = []

    def failing_upsert(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(indexer.store, "upsert", failing_upsert)
    with pytest.raises(OSError, match="disk full"):
        indexer.run([corpus])
    assert len(calls) == 2  # nothing was written after the failure
    monkeypatch.setattr(indexer.store, "upsert", real_upsert)
    report = Indexer(settings, embedder=embedder).run([corpus])
    assert report.documents == 2
    manifest_ids, chroma_ids, keyword_ids = _consistent(settings)
    assert manifest_ids == chroma_ids == keyword_ids and len(manifest_ids) == report.chunks


def test_skips_bad_files_and_reports_them(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path / "data", model_path)
    corpus = _small_corpus(tmp_path)
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 10)
    report = Indexer(settings, embedder=embedder).run([corpus])
    assert report.added == 2
    reasons = {Path(s.source).name: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt"}
    assert all("跳过" in r for r in reasons.values())


def test_config_change_requires_rebuild(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path / "data", model_path)
    corpus = _small_corpus(tmp_path)
    Indexer(settings, embedder=embedder).run([corpus])
    changed = settings.model_copy(update={"chunk_size": 300})
    with pytest.raises(IndexConfigMismatchError) as err:
        Indexer(changed, embedder=embedder).run([corpus])
    assert "--rebuild" in err.value.user_message
    report = Indexer(changed, embedder=embedder).run([corpus], rebuild=True)
    assert report.added == 2


def test_index_of_the_old_chunker_asks_for_rebuild(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path / "data", model_path)
    corpus = _small_corpus(tmp_path)
    Indexer(settings, embedder=embedder).run([corpus])
    manifest = Manifest.load(settings.manifest_path)
    manifest.chunking = {k: v for k, v in manifest.chunking.items() if k != "chunker_version"}  # as before #14
    manifest.save(settings.manifest_path)
    with pytest.raises(IndexConfigMismatchError) as err:
        Indexer(settings, embedder=embedder).run([corpus])
    assert "旧的切分方式" in err.value.user_message and "assistant index --rebuild" in err.value.user_message
    report = Indexer(settings, embedder=embedder).run([corpus], rebuild=True)
    assert report.added == 2
    lengths = report.chunk_lengths
    assert lengths["count"] == report.chunks and lengths["p10"] <= lengths["p50"] <= lengths["p90"]


def test_corrupt_manifest_and_keyword_index_are_repaired(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path / "data", model_path)
    corpus = _small_corpus(tmp_path)
    first = Indexer(settings, embedder=embedder).run([corpus])
    settings.manifest_path.write_text("{not json", encoding="utf-8")
    (settings.keyword_dir / "chunks.json").write_text("[]", encoding="utf-8")
    report = Indexer(settings, embedder=embedder).run([corpus])
    assert report.embedded_chunks == 0  # rebuilt from the vector store, nothing re-embedded
    assert report.documents == 2 and report.chunks == first.chunks
    manifest_ids, chroma_ids, keyword_ids = _consistent(settings)
    assert manifest_ids == chroma_ids == keyword_ids


def _cli_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir),
            "ASSISTANT_EMBEDDING_MODEL": str(settings.embedding_model), "ASSISTANT_EMBED_BATCH_SIZE": "2",
            "ASSISTANT_INGEST_BATCH_CHUNKS": "16",  # many small batches: kills land between them
            "PYTHONPATH": str(REPO_ROOT)}


@pytest.mark.slow
def test_kill_mid_run_then_resume(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path / "data", model_path)
    corpus = tmp_path / "regs"
    corpus.mkdir()
    for path in topic_files("北京市*条例*.txt")[:8]:
        shutil.copy(path, corpus / path.name)
    for round_ in range(2):  # kill at two different points
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "index", str(corpus), "--json"],
                                env=_cli_env(settings), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if settings.manifest_path.exists():
                try:
                    done = len(Manifest.load(settings.manifest_path).documents)
                except ValueError:
                    done = 0
                if done >= 1 + round_ * 2:
                    break
            time.sleep(0.2)
        assert proc.poll() is None, "indexing finished before it could be killed"
        time.sleep(0.5 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        # The killed index still answers, and only from fully indexed documents.
        from assistant import Assistant

        bot = Assistant(settings)
        visible = bot.manifest.chunk_ids()
        hits = bot.retrieve("停车设施规划建设", k=6)
        assert all(h.chunk_id in visible for h in hits)
        for doc_id, entry in bot.manifest.documents.items():
            assert len(entry.chunk_ids) > 0, doc_id

    out = subprocess.run([sys.executable, "-m", "assistant", "index", str(corpus), "--json"],
                         env=_cli_env(settings), capture_output=True, text=True, timeout=900, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["documents"] == 8 and report["skipped"] == []
    manifest_ids, chroma_ids, keyword_ids = _consistent(settings)
    assert manifest_ids == chroma_ids == keyword_ids
    assert report["chunks"] == len(manifest_ids)


def test_cli_json_contract(tmp_path: Path, model_path: Path) -> None:
    settings = make_settings(tmp_path / "data", model_path)
    corpus = _small_corpus(tmp_path)
    out = subprocess.run([sys.executable, "-m", "assistant", "index", str(corpus), "--json"],
                         env=_cli_env(settings), capture_output=True, text=True, timeout=600, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(report) >= {"documents", "chunks", "added", "updated", "deleted", "unchanged", "skipped", "seconds"}
    assert report["documents"] == 2 and report["added"] == 2
    assert set(report["chunk_lengths"]) >= {"count", "p10", "p50", "p90"}
    listing = subprocess.run([sys.executable, "-m", "assistant", "index", "--list"], env=_cli_env(settings),
                             capture_output=True, text=True, timeout=300, check=True)
    assert "协同发展看京津冀" in listing.stdout and "一卡通通知" in listing.stdout


def test_chroma_server_store(tmp_path: Path, model_path: Path, embedder, chroma_server: ChromaServer) -> None:  # type: ignore[no-untyped-def]
    """The same store and sync against a real `chroma run` server (HttpClient)."""
    settings = make_settings(tmp_path / "data", model_path, chroma_host="127.0.0.1",
                             chroma_port=chroma_server.port, collection="server_test")
    corpus = _small_corpus(tmp_path)
    indexer = Indexer(settings, embedder=embedder)
    first = indexer.run([corpus])
    assert first.added == 2
    assert indexer.run([corpus]).embedded_chunks == 0
    manifest_ids, chroma_ids, keyword_ids = _consistent(settings)
    assert manifest_ids == chroma_ids == keyword_ids
    from assistant import Assistant

    answer = Assistant(settings).ask("“六链五群”中的“六链”指哪些产业链？")
    assert not answer.refused and "氢能" in answer.text


@pytest.mark.slow
def test_index_whole_jjj_corpus(jjj_assistant) -> None:  # type: ignore[no-untyped-def]
    docs = jjj_assistant.documents()
    assert len(docs) == 43
    assert len({d.doc_id for d in docs}) == LIBRARY_DOCUMENTS
    assert sum(len(d.chunk_ids) for d in docs) > 1000
    titles = {d.doc_id: d for d in docs}
    meta = titles["2025年北京市政府工作报告"].metadata
    assert {"year": 2025, "region": "北京", "kind": "工作报告"}.items() <= meta.items()
    assert str(meta.get("date", "2025")).startswith("2025")  # the header's date, where it states one
    settings = jjj_assistant.settings
    manifest_ids, chroma_ids, keyword_ids = _consistent(settings)
    assert manifest_ids == chroma_ids == keyword_ids


class ProgressLog:
    """A progress callback that records what the indexer reports (``per_file``: the page's upload mode)."""

    def __init__(self, per_file: bool = False) -> None:
        self.per_file = per_file
        self.calls: list[tuple[int, int]] = []
        self.embedded: list[int] = []

    def __call__(self, done: int, total: int, name: str) -> None:
        self.calls.append((done, total))

    def chunks(self, embedded: int) -> None:
        self.embedded.append(embedded)


def test_progress_counts_finished_documents_and_embedded_chunks(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """What the CLI's bar shows: documents finished (read and embedded) of all, and chunks embedded."""
    settings = make_settings(tmp_path / "data", model_path, ingest_batch_chunks=2)
    corpus = _small_corpus(tmp_path)

    progress = ProgressLog()
    report = Indexer(settings, embedder=embedder).run([corpus], progress=progress)
    assert progress.calls[-1] == (report.added, report.added)
    assert [d for d, _ in progress.calls] == sorted(d for d, _ in progress.calls)  # never goes back
    assert progress.embedded and progress.embedded[-1] == report.embedded_chunks
    assert progress.embedded == sorted(progress.embedded)


def test_per_file_progress_embeds_each_file_as_it_is_read(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The page's upload progress (``per_file``): with the default batch (1,024 chunks, more than the whole
    corpus) each file is still finished before the next one is read, so the count moves file by file."""
    settings = make_settings(tmp_path / "data", model_path)
    corpus = _small_corpus(tmp_path)
    shutil.copy(topic_files("北京市推进京津冀社会保障卡一卡通规定*.txt")[0], corpus / "规定.txt")

    progress = ProgressLog(per_file=True)
    report = Indexer(settings, embedder=embedder).run([corpus], progress=progress)
    assert report.added == 3
    assert [d for d, _ in progress.calls] == [0, 1, 2, 3]  # before each file: the ones finished so far
    assert len(progress.embedded) == 3 and progress.embedded[-1] == report.embedded_chunks  # one batch a file
