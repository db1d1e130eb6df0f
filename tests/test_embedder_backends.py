"""The ONNX embedding backends against the torch reference: same vectors (within int8 error), same
rankings, index fingerprints that keep backends apart, and no network access."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import IndexConfigMismatchError, ModelNotAvailableError
from assistant.settings import REPO_ROOT, Settings
from index.embedder import make_embedder
from index.onnx_embedder import OnnxEmbedder
from index.torch_embedder import TorchEmbedder

from .conftest import SEED, make_settings

PASSAGES = [
    "推动京津冀协同发展，有序疏解北京非首都功能，高标准高质量建设雄安新区。",
    "天津港持续优化口岸营商环境，压缩集装箱进出口整体通关时间。",
    "河北省实施城镇老旧小区改造，新开工改造老旧小区一千余个。",
    "北京市推进garbage分类，生活垃圾回收利用率达到百分之三十八。",
    "京津冀三地联合开展大气污染防治，细颗粒物平均浓度持续下降。",
    "加快建设全国统一大市场，破除地方保护和市场分割。",
]
QUERIES = {
    "雄安新区建设有什么安排？": 0,
    "天津港通关时间怎么样了？": 1,
    "河北老旧小区改造了多少个？": 2,
    "三地如何联合治理大气污染？": 4,
}


@pytest.fixture(scope="module")
def backends(model_path: Path) -> dict[str, object]:
    settings = Settings(embedding_model=model_path)
    return {name: make_embedder(settings, model_path, name) for name in ("torch", "onnx", "onnx-int8")}


def test_backends_are_the_configured_classes(backends: dict[str, object]) -> None:
    assert isinstance(backends["torch"], TorchEmbedder)
    assert isinstance(backends["onnx-int8"], OnnxEmbedder)
    assert {b.backend for b in backends.values()} == {"torch", "onnx", "onnx-int8"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "min_cosine"), [("onnx", 0.9999), ("onnx-int8", 0.99)])
def test_onnx_vectors_match_torch(backends: dict[str, object], name: str, min_cosine: float) -> None:
    reference = backends["torch"].embed_passages(PASSAGES)  # type: ignore[attr-defined]
    vectors = backends[name].embed_passages(PASSAGES)  # type: ignore[attr-defined]
    assert vectors.shape == reference.shape == (len(PASSAGES), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosine = (vectors * reference).sum(axis=1)
    assert cosine.min() >= min_cosine, cosine
    query = backends[name].embed_query("京津冀协同发展")  # type: ignore[attr-defined]
    assert float(query @ backends["torch"].embed_query("京津冀协同发展")) >= min_cosine  # type: ignore[attr-defined]


def test_batching_and_padding_do_not_change_vectors(backends: dict[str, object]) -> None:
    """Sorted batches with padding give each text the vector it gets alone: exactly in fp32; with
    int8, activations are quantized per batch, so only within quantization error."""
    for name, check in (("onnx", "exact"), ("onnx-int8", "close")):
        onnx = backends[name]
        together = onnx.embed_passages(PASSAGES)  # type: ignore[attr-defined]
        alone = np.stack([onnx.embed_passages([p])[0] for p in PASSAGES])  # type: ignore[attr-defined]
        if check == "exact":
            np.testing.assert_allclose(together, alone, atol=1e-4)
        else:
            assert (together * alone).sum(axis=1).min() >= 0.99


def test_int8_ranks_passages_like_torch(backends: dict[str, object]) -> None:
    for name in ("torch", "onnx-int8"):
        emb = backends[name]
        passages = emb.embed_passages(PASSAGES)  # type: ignore[attr-defined]
        for question, expected in QUERIES.items():
            scores = passages @ emb.embed_query(question)  # type: ignore[attr-defined]
            assert int(np.argmax(scores)) == expected, (name, question, scores)


def test_long_input_is_truncated_not_rejected(backends: dict[str, object]) -> None:
    vector = backends["onnx-int8"].embed_passages(["京津冀" * 2000])  # type: ignore[attr-defined]
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


def test_index_built_by_one_backend_asks_for_rebuild_under_another(tmp_path: Path, model_path: Path) -> None:
    from index.pipeline import Indexer

    torch_settings = make_settings(tmp_path / "data", model_path, embedding_backend="torch")
    Indexer(torch_settings).run([SEED])
    int8_settings = make_settings(tmp_path / "data", model_path, embedding_backend="onnx-int8")
    with pytest.raises(IndexConfigMismatchError) as err:
        Indexer(int8_settings).run([SEED])
    assert "重建" in err.value.user_message or "rebuild" in str(err.value)
    report = Indexer(int8_settings).run([SEED], rebuild=True)
    assert report.documents == 1 and report.embedded_chunks == report.chunks > 0


def test_onnx_backend_refuses_models_it_cannot_reproduce(tmp_path: Path, model_path: Path) -> None:
    """A CLS-pooling model must not be silently mean-pooled."""
    fake = tmp_path / "cls-model"
    fake.mkdir()
    for name in ("config.json", "modules.json", "tokenizer.json"):
        (fake / name).write_bytes((model_path / name).read_bytes())
    (fake / "1_Pooling").mkdir()
    (fake / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}), encoding="utf-8")
    with pytest.raises(ModelNotAvailableError):
        OnnxEmbedder(fake)


_NO_NETWORK_PROBE = r"""
import json, sys
attempts = []
def hook(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
        attempts.append([event, repr(args)[:200]])
sys.addaudithook(hook)
from pathlib import Path
from assistant.settings import Settings
from index.embedder import make_embedder
model = Path(sys.argv[1])
emb = make_embedder(Settings(embedding_model=model), model, "onnx-int8")
emb.embed_passages(["京津冀协同发展"] * 4)
emb.embed_query("雄安新区")
print(json.dumps(attempts))
"""


def test_onnx_backend_makes_no_network_attempt(model_path: Path) -> None:
    """onnxruntime looks up a telemetry host unless told not to; the app must try nothing at all."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}  # settings must set it
    proc = subprocess.run([sys.executable, "-c", _NO_NETWORK_PROBE, str(model_path)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    attempts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert attempts == [], attempts
