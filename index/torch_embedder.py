"""The local encoder on sentence-transformers and torch, fp32, CPU: the reference backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .embedder_base import LocalEmbedder


class TorchEmbedder(LocalEmbedder):
    """sentence-transformers on torch, fp32, CPU."""

    backend = "torch"

    def __init__(self, model_path: Path, *args: Any, **kwargs: Any) -> None:
        super().__init__(model_path, *args, **kwargs)
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        self.model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)

    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        self._torch.set_num_threads(threads)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=show_progress)
