"""The llmops_deploy DAG through `airflow dags test`: a passed candidate rolled out over the champion on the local
runtime (real servers behind the real gateway, real MLflow registry), second-scale windows."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

from llmops.config import settings
from llmops.training import registry
from tests.airflow_env import BIN, airflow_env
from tests.dags.test_dag_integrity import parse_dags
from tests.deploy.conftest import DEPLOY_ENV, register
from tests.serving.test_backends import _adapter
from tests.training.conftest import DS, tiny_model  # noqa: F401 - the session's tiny base model, a fixture
from tests.training.fixtures import write_gold


def test_deploy_dag_schedule_params_and_tasks(tmp_path):
    dag = parse_dags(tmp_path)["dags"]["llmops_deploy"]
    assert dag["assets"] == ["model_passed_gates"] and dag["catchup"] is False
    assert set(dag["params"]) == {"ds", "version", "steps", "window_s", "approval", "dry_run"}
    assert dag["param_specs"]["version"]["value"] == "passed" and dag["param_specs"]["dry_run"]["value"] is False
    assert dag["param_specs"]["approval"]["value"] is False  # deploy.approval_required
    assert dag["tasks"]["approve_promotion"]["type"] == "RolloutApprovalOperator"
    assert dag["tasks"]["approve_promotion"]["upstream"] == ["await_hold"]
    assert dag["tasks"]["await_hold"]["upstream"] == []  # beside the rollout, not after it
    assert dag["tasks"]["rollout"]["type"] == "LocalStepOperator"
    assert dag["tasks"]["announce_deployed"]["outlets"] == ["model_deployed"]
    assert dag["tasks"]["announce_deployed"]["upstream"] == ["rollout"]


@pytest.mark.slow
def test_dags_test_promotes_a_passed_candidate_over_the_champion(tmp_path, monkeypatch, tiny_model):  # noqa: F811
    """About a minute: two model servers start, two 1-s steps (50 %, 100 %) filled by the load generator."""
    home, lake = tmp_path / "airflow", tmp_path / "lake"
    env = airflow_env(home, lake=lake, **DEPLOY_ENV)
    for key in ("LLMOPS__PATHS__LAKE_ROOT", "LLMOPS__TRACKING__URI", "LLMOPS__TRACKING__ARTIFACT_ROOT",
                "LLMOPS__PATHS__SCRATCH_DIR"):  # fmt: skip
        monkeypatch.setenv(key, env[key])
    settings.cache_clear()
    try:
        write_gold(lake, DS, 60)
        adapters = tmp_path / "adapters"
        old = register(_adapter(tiny_model, adapters / "old", 1), str(tiny_model), "aaaa", alias="champion")
        new = register(_adapter(tiny_model, adapters / "new", 2), str(tiny_model), "aaaa", status="passed")
        airflow = lambda *a: subprocess.run([str(BIN / "airflow"), *a], env=env, capture_output=True, text=True,  # noqa: E731
                                            timeout=300)  # fmt: skip
        assert airflow("db", "migrate").returncode == 0
        done = airflow("dags", "test", "llmops_deploy", DS, "-c", json.dumps({"steps": [50, 100], "window_s": 1}))
        logs = done.stdout + done.stderr
        assert done.returncode == 0, logs[-6000:]
        assert registry.version_by_alias(registry.CHAMPION)["version"] == new
        tags = {r["version"]: r["tags"] for r in registry.versions()}
        assert tags[new]["llmops.status"] == "deployed" and tags[old].get("llmops.status") != "deployed"
        assert f"unloaded support-assistant-v{old}" in logs  # the old champion's server stopped after the drain
        summary = json.loads((lake / "reports" / "deploy" / f"ds={DS}" / "summary.json").read_text())
        assert summary["status"] == "promoted" and summary["path"] == "adapter canary"
        assert [look["weight"] for look in summary["looks"]] == [0.5]
        assert (lake / "reports" / "deploy" / f"ds={DS}" / "rollout.html").is_file()
        with sqlite3.connect(home / "airflow.db") as db:
            events = db.execute("SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id"
                                " WHERE a.name = 'model_deployed'").fetchall()  # fmt: skip
        assert [json.loads(extra)["version"] for (extra,) in events] == [new]
    finally:
        settings.cache_clear()
