"""The embeddings endpoint (ASSISTANT_EMBEDDING_URL) against a real server started here.

The server is llama.cpp's (llama-cpp-python's ``llama_cpp.server`` in embedding mode) serving the
bundled e5 model converted to GGUF by ``make embed-gguf`` (``index/provision/gguf_export.py``). The same
settings reach Infinity, Text Embeddings Inference or vLLM on another host.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.llm.server import LLMServer, free_port
from assistant.settings import Settings
from index.embedder import make_embedder
from index.errors import EmbeddingServiceError, IndexConfigMismatchError
from index.pipeline import Indexer
from index.provision.gguf_export import gguf_path
from index.remote_embedder import RemoteEmbedder

from .conftest import SEED, make_settings

ALIAS = "multilingual-e5-small"


@pytest.fixture(scope="module")
def embedding_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMServer]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed: run make llm (make test does)")
    gguf = gguf_path(Settings())
    if not gguf.is_file():
        pytest.fail(f"{gguf} missing: run make embed-gguf (make test does)")
    server = LLMServer(gguf, port=free_port(), threads=2, alias=ALIAS, n_ctx=512, embedding=True,
                       log_path=tmp_path_factory.mktemp("embed") / "server.log", start_timeout=120)
    with server:
        yield server


def remote_settings(data_dir: Path, model_path: Path, server: LLMServer) -> Settings:
    return make_settings(data_dir, model_path, embedding_url=server.base_url, embedding_remote_model=ALIAS)


def test_served_vectors_match_the_local_reference_encoder(embedding_server: LLMServer, model_path: Path) -> None:
    remote = RemoteEmbedder(embedding_server.base_url, ALIAS, batch_size=3)
    assert remote.dim == 384
    texts = ["京津冀协同发展是国家重大战略，交通一体化率先突破。", "雄安新区于2017年4月1日设立。",
             "2023年北京市PM2.5年均浓度为32微克/立方米。", "河北省承接北京非首都功能疏解。", "天津港"]
    reference = make_embedder(Settings(), model_path, backend="torch")
    local = reference.embed_passages(texts)
    served = remote.embed_passages(texts)  # two requests of at most three texts
    assert served.shape == local.shape
    cosines = (local * served).sum(axis=1)
    print(f"cosine remote GGUF f16 vs torch fp32: min {cosines.min():.5f}")
    assert cosines.min() > 0.995, cosines
    assert np.allclose(np.linalg.norm(served, axis=1), 1.0, atol=1e-4)
    query = remote.embed_query("雄安新区什么时候设立？")
    assert int(np.argmax(served @ query)) == 1


def test_index_and_answer_through_the_endpoint(tmp_path: Path, model_path: Path, embedding_server: LLMServer) -> None:
    from assistant import Assistant

    settings = remote_settings(tmp_path / "data", model_path, embedding_server)
    bot = Assistant(settings)
    assert bot.embedder.backend == "remote"
    report = bot.index([SEED])
    assert report.added == 1 and report.chunks > 0
    answer = bot.ask("京津冀产业协同推进的“六链五群”是什么？")
    assert answer.citations, answer.text
    assert bot.retrieve("六链五群", k=3)
    # The manifest records the served model like a local one; the local encoder may not write into it.
    local = make_settings(tmp_path / "data", model_path)
    with pytest.raises(IndexConfigMismatchError) as err:
        Indexer(local).run([SEED])
    assert "--rebuild" in err.value.user_message


def test_unreachable_endpoint_is_a_typed_error_with_a_chinese_message() -> None:
    with pytest.raises(EmbeddingServiceError) as err:
        RemoteEmbedder(f"http://127.0.0.1:{free_port()}/v1", ALIAS, timeout=2.0, retries=1)
    assert "嵌入服务" in err.value.user_message


def test_text_longer_than_the_served_context_is_a_typed_error(embedding_server: LLMServer) -> None:
    remote = RemoteEmbedder(embedding_server.base_url, ALIAS, retries=0)
    with pytest.raises(EmbeddingServiceError):
        remote.embed_passages(["京津冀协同发展。" * 400])  # ~2,400 tokens into a 512-token context
