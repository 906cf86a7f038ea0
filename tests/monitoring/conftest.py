"""Shared, expensive fixtures of the monitoring tests: the embedding model and the unshifted prompt pool."""

from __future__ import annotations

import pytest

from llmops.monitoring.drift import load_embedder
from tests.monitoring.drift_windows import CachedEmbedder, support_prompts


@pytest.fixture(scope="session")
def embedder() -> CachedEmbedder:
    return CachedEmbedder(load_embedder())


@pytest.fixture(scope="session")
def support_pool(tmp_path_factory) -> list[str]:
    pool = support_prompts(tmp_path_factory.mktemp("raw"))
    assert len(pool) > 1000
    return pool
