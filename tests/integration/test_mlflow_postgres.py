"""MLflow's tracking store and model registry on a real PostgreSQL at 127.0.0.1:5432 (integration profile):
a sweep, the final run and the registered version with its lineage, in a database of their own."""

from __future__ import annotations

import psycopg2
import pytest

from llmops.config import settings
from llmops.training import registry, sweep
from llmops.training.final import run_final
from llmops.training.jobs import TrainingJob
from tests.services import postgres_database
from tests.training.conftest import DS, tiny_model, training_env  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration


@pytest.fixture
def mlflow_db(training_env, monkeypatch):  # noqa: F811 - the fixture imported above
    with postgres_database("mlflow_it") as uri:
        monkeypatch.setenv("LLMOPS__TRACKING__URI", uri)
        settings.cache_clear()
        yield uri
        settings.cache_clear()


def test_sweep_and_registry_on_postgres(mlflow_db, training_env, tiny_model):  # noqa: F811
    assert settings().tracking.uri.startswith("postgresql")
    job = TrainingJob(f"file://{training_env}", DS, str(tiny_model), "lora", max_trials=3, trial_steps=6,
                      max_steps=6, dag_id="llmops_train", dag_run_id="manual__it")
    sweep.prepare(job)
    for index in range(3):
        sweep.run_trial(job, index)
    run_final(job)
    version = registry.register(job)
    rows = registry.versions()
    assert [r["version"] for r in rows] == [version["version"]] and rows[0]["aliases"] == ["challenger"]
    assert rows[0]["tags"]["llmops.gold.content_hash"] == job.gold.content_hash
    with psycopg2.connect(mlflow_db.replace("postgresql+psycopg2", "postgresql")) as conn:
        count = conn.cursor()
        count.execute("SELECT count(*) FROM model_versions")
        assert count.fetchone()[0] == 1
