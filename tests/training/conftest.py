"""Training tests run against a throw-away lake, MLflow store and tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.fixtures import build_tiny_model, register_features, write_gold

DS = "2026-11-20"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


def training_environ(root: Path) -> dict[str, str]:
    """Settings overrides for a fresh lake and MLflow store under ``root``; small, fast training defaults."""
    return {
        "LLMOPS__PATHS__LAKE_ROOT": f"file://{root / 'lake'}",
        "LLMOPS__TRACKING__URI": f"sqlite:///{root}/mlflow/mlflow.db",
        "LLMOPS__TRACKING__ARTIFACT_ROOT": f"file://{root}/mlflow/artifacts",
        "LLMOPS__TRAINING__BATCH_SIZE": "8",
        "LLMOPS__TRAINING__MAX_SEQ_LEN": "64",
        "LLMOPS__TRAINING__CHECKPOINT_EVERY": "4",
        "LLMOPS__TRAINING__EVAL_EVERY": "4",
        "LLMOPS__TRAINING__WARMUP_STEPS": "1",
        "LLMOPS__TRAINING__THREADS": "2",
        "LLMOPS__TRAINING__SWEEP__EVAL_EVERY": "3",
    }


@pytest.fixture
def training_env(tmp_path, monkeypatch):
    """Settings pointing at a fresh lake and MLflow store, with a gold partition for DS and its features in Feast."""
    from llmops.config import settings

    for key, value in training_environ(tmp_path).items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    lake = tmp_path / "lake"
    write_gold(lake, DS, 120)
    register_features()
    yield lake
    settings.cache_clear()
