"""The bench's CachingEmbedder: each passage embedded once per run; everything else is the wrapped embedder's."""

from __future__ import annotations

import numpy as np

from bench.plan import CachingEmbedder

from ..fakes import HashingEmbedder


def test_each_passage_is_embedded_once_and_the_rest_is_the_inner_embedders() -> None:
    inner = HashingEmbedder()
    caching = CachingEmbedder(inner)
    texts = ["京津冀协同发展", "雄安新区", "京津冀协同发展"]
    np.testing.assert_array_equal(caching.embed_passages(texts), inner.embed_passages(texts))
    assert caching.embedded == 2
    caching.embed_passages(["雄安新区"])
    assert caching.embedded == 2
    assert caching.embed_passages([]).shape == (0, inner.dim)
    np.testing.assert_array_equal(caching.embed_query("雄安"), inner.embed_query("雄安"))
    np.testing.assert_array_equal(caching.embed_queries(["雄安", "天津"]), inner.embed_queries(["雄安", "天津"]))
    assert caching.fingerprint() == inner.fingerprint() and caching.describe() == inner.describe()
    assert (caching.backend, caching.name, caching.dim) == (inner.backend, inner.name, inner.dim)
