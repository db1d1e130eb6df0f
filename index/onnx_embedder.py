"""The local encoder on onnxruntime: the same weights exported locally to ONNX
(``index.provision.onnx_export``), fused for BERT and optionally int8-quantized. It reproduces the
sentence-transformers modules of this model (tokenize → transformer → mean pooling → L2
normalisation) and checks that the model folder declares exactly those modules before it agrees to
stand in for them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .embedder_base import LocalEmbedder
from .errors import ModelNotAvailableError
from .provision.onnx_export import ensure_onnx

# The sentence-transformers pipeline OnnxEmbedder reproduces; any other model stays on torch.
_ST_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
               "sentence_transformers.models.Normalize"]


class OnnxEmbedder(LocalEmbedder):
    """The model's transformer on onnxruntime; tokenization, mean pooling and normalisation here."""

    def __init__(self, model_path: Path, *args: Any, backend: str = "onnx-int8", **kwargs: Any) -> None:
        super().__init__(model_path, *args, **kwargs)
        self.backend = backend
        self._check_pipeline(model_path)
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.onnx_file = ensure_onnx(model_path, backend)
        self.max_tokens = self._max_seq_length(model_path)
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
        self.pad_id = int(config.get("pad_token_id") or 0)
        self.dim = int(config["hidden_size"])
        # One session per thread count: intra-op threads are fixed when a session is created, and a
        # single query runs fastest on one thread while batches want every core.
        self._sessions: dict[int, Any] = {}
        self._ort = ort
        self._session(self.batch_threads)

    @staticmethod
    def _check_pipeline(model_path: Path) -> None:
        try:
            modules = json.loads((model_path / "modules.json").read_text(encoding="utf-8"))
            pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelNotAvailableError(f"{model_path} is not a sentence-transformers folder: {exc}") from exc
        if [m.get("type") for m in modules] != _ST_MODULES or not pooling.get("pooling_mode_mean_tokens"):
            raise ModelNotAvailableError(
                f"{model_path}: the ONNX backend supports Transformer+mean Pooling+Normalize models only; "
                "set ASSISTANT_EMBEDDING_BACKEND=torch")

    @staticmethod
    def _max_seq_length(model_path: Path) -> int:
        try:
            data = json.loads((model_path / "sentence_bert_config.json").read_text(encoding="utf-8"))
            return int(data.get("max_seq_length") or 512)
        except (OSError, ValueError):
            return 512

    def _session(self, threads: int) -> Any:
        if threads not in self._sessions:
            options = self._ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Idle pool threads block instead of spin-waiting: on a small machine shared with the app,
            # llama.cpp or another indexer, spinning threads take the cores the others need. Measured
            # on this 2-core machine under load: 128 chunk texts 5.81 s without spinning, 6.10 s with.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[threads] = self._ort.InferenceSession(
                str(self.onnx_file), options, providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        session = self._session(threads)
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")  # similar lengths per batch: little padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        batches = range(0, len(texts), self.batch_size)
        if show_progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Batches", unit="batch")
        for start in batches:
            idx = order[start:start + self.batch_size]
            width = int(lengths[idx].max())
            ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = lengths[i]
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
