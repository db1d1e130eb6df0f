"""The embedding stage on a server: any OpenAI-compatible ``/v1/embeddings`` endpoint.

For deployments that outgrow one machine (Infinity, Text Embeddings Inference or vLLM on a GPU
host; llama.cpp's server in embedding mode on this one). Indexing and queries both go to the
endpoint; the e5 prompts are prepended here, as for the local encoder, and vectors are
L2-normalised here whatever the server does. The index records ``fingerprint()`` (the served
model's name and dimension) exactly like the local encoder's, so an index built by another model
or backend asks for ``assistant index --rebuild``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from .embedder_base import Embedder
from .errors import EmbeddingServiceError

log = logging.getLogger(__name__)

# A short text embedded once at start-up: proves the endpoint answers and gives the dimension.
PROBE_TEXT = "京津冀协同发展"


class RemoteEmbedder(Embedder):
    """Encodes through an OpenAI-compatible embeddings endpoint (the ``openai`` client)."""

    backend = "remote"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "not-needed",
        timeout: float = 60.0,
        batch_size: int = 32,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        retries: int = 2,
        local_model_path: Path | None = None,
    ) -> None:
        from openai import OpenAI

        # model_path: the bench's naive torch baseline reads it; no local model folder is needed here
        super().__init__(model, local_model_path or Path(model), batch_size=max(1, batch_size),
                         query_prompt=query_prompt, passage_prompt=passage_prompt)
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, retries)
        self._client = OpenAI(base_url=self.base_url, api_key=api_key or "not-needed", timeout=timeout,
                              max_retries=0)  # retries are ours: counted and logged
        self.dim = int(self._request([passage_prompt + PROBE_TEXT]).shape[1])

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.name, "dim": self.dim, "url": self.base_url,
                "batch_size": self.batch_size}

    def fingerprint(self) -> str:
        return f"{self.name}:{self.dim}:remote"

    def _encode_locked(self, texts: list[str], threads: int, show_progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            vectors = self._request(texts[start:start + self.batch_size])
            if vectors.shape[1] != self.dim:
                raise EmbeddingServiceError(
                    f"{self.base_url} returned {vectors.shape[1]}-dimensional vectors, expected {self.dim}")
            out[start:start + len(vectors)] = vectors
        return out

    def _request(self, texts: list[str]) -> np.ndarray:
        import openai

        for attempt in range(self.retries + 1):
            try:
                response = self._client.embeddings.create(model=self.name, input=texts, encoding_format="float")
                break
            except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
                if attempt == self.retries:
                    raise EmbeddingServiceError(f"embeddings endpoint {self.base_url} failed: {exc}") from exc
                log.warning("embeddings endpoint %s failed (%s); retry %d", self.base_url, exc, attempt + 1)
                time.sleep(0.5 * 2 ** attempt)
            except openai.APIError as exc:  # 4xx: wrong model name, input too long, auth
                raise EmbeddingServiceError(
                    f"embeddings endpoint {self.base_url} refused the request: {exc}",
                    f"嵌入服务拒绝了请求（{getattr(exc, 'status_code', '') or '错误'}），请检查模型名称与访问密钥。",
                ) from exc
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != len(texts):
            raise EmbeddingServiceError(f"{self.base_url} returned {len(data)} vectors for {len(texts)} texts")
        vectors = np.asarray([d.embedding for d in data], dtype=np.float32)
        if vectors.ndim != 2 or not np.isfinite(vectors).all():
            raise EmbeddingServiceError(f"{self.base_url} returned malformed vectors")
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
