"""Shared, expensive fixtures of the monitoring tests: the embedding model and the unshifted prompt pool."""

from __future__ import annotations

import numpy as np
import pytest

from llmops.monitoring.drift import load_embedder
from tests.monitoring.drift_windows import support_prompts


class CachedEmbedder:
    """The real model, each distinct text encoded once per session (windows overlap from test to test)."""

    def __init__(self, model):
        self.model, self.cache = model, {}

    def encode(self, texts: list[str], **kwargs) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.model.encode(missing, **kwargs), strict=True))
        return np.stack([self.cache[t] for t in texts])


@pytest.fixture(scope="session")
def embedder() -> CachedEmbedder:
    return CachedEmbedder(load_embedder())


@pytest.fixture(scope="session")
def support_pool(tmp_path_factory) -> list[str]:
    pool = support_prompts(tmp_path_factory.mktemp("raw"))
    assert len(pool) > 1000
    return pool
