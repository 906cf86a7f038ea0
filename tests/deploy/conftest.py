"""A real MLflow registry (SQLite + file artifacts) holding versions of the tiny model, for the deploy step."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops.config import settings
from llmops.training import lineage, registry, tracking
from tests.training.conftest import DS, training_environ
from tests.training.fixtures import write_gold

# second-scale rollouts on the tiny model: windows of 1 s filled by the load generator
DEPLOY_ENV = {
    "LLMOPS__DEPLOY__STEP_DEADLINE_S": "60",
    "LLMOPS__DEPLOY__LOAD_RPS": "20",
    "LLMOPS__DEPLOY__LOAD_MAX_TOKENS": "2",
    "LLMOPS__DEPLOY__DRAIN_S": "0.5",
    "LLMOPS__DEPLOY__ANALYSIS__MIN_REQUESTS": "8",
    "LLMOPS__DEPLOY__ANALYSIS__TUNED_AT_REQUESTS": "50",
    # answer quality on 3 mirrored prompts per step, 8 tokens each (write_gold's 60 rows hold 6 test items)
    "LLMOPS__DEPLOY__ANALYSIS__QUALITY_PROMPTS_PER_STEP": "3",
    "LLMOPS__DEPLOY__ANALYSIS__QUALITY_MIN_PROMPTS": "3",
    "LLMOPS__DEPLOY__ANALYSIS__QUALITY_MAX_TOKENS": "8",
    "LLMOPS__SERVING__MAX_TOKENS": "16",
    "LLMOPS__SERVING__STARTUP_TIMEOUT_S": "90",
    "LLMOPS_GATEWAY_ADMIN_TOKEN": "deploy-test-token",
}


def deploy_environ(root: Path) -> dict[str, str]:
    return {**training_environ(root), **DEPLOY_ENV, "LLMOPS__PATHS__SCRATCH_DIR": str(root / "scratch")}


def register(adapter: Path | None, base: str, base_hash: str, status: str = "", alias: str = "") -> int:
    """A registry version of ``adapter`` (logged as a real run artifact; None: a version without artifact, for
    plans only) on ``base``, its lineage recording the base's hash; tagged ``status`` and given ``alias``."""
    client, name = tracking.client(), settings().tracking.registered_model
    registry._ensure_model(client, name)
    run = client.create_run(tracking.experiment_id(client))
    if adapter is not None:
        client.log_artifacts(run.info.run_id, str(adapter), "adapter")
    client.set_terminated(run.info.run_id)
    tags = {lineage.BASE_PATH_TAG: base, lineage.BASE_HASH_TAG: base_hash, **({"llmops.status": status} if status
                                                                              else {})}  # fmt: skip
    version = client.create_model_version(name, source=f"runs:/{run.info.run_id}/adapter", run_id=run.info.run_id,
                                          tags=tags)  # fmt: skip
    if alias:
        client.set_registered_model_alias(name, alias, version.version)
    return int(version.version)


@pytest.fixture
def deploy_env(tmp_path, monkeypatch):
    """Settings on a fresh lake (a gold partition for DS: the load generator's prompts), registry and scratch."""
    for key, value in deploy_environ(tmp_path).items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    write_gold(tmp_path / "lake", DS, 60)
    tracking.client()  # the registry's database, empty
    yield tmp_path
    settings.cache_clear()
