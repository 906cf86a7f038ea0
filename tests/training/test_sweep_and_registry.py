"""A real sweep on the tiny model: TPE suggestions, a clearly bad trial stopped by the median rule, the final
run, registration with every lineage tag, and idempotent reruns. Trials also survive a SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from llmops.config import settings
from llmops.training import lineage, registry, sweep, tracking
from llmops.training.final import run_final
from llmops.training.jobs import TrainingJob
from tests.training.conftest import DS
from tests.training.fixtures import write_gold

LINEAGE_TAGS = {
    "llmops.ds", "llmops.gold.table", "llmops.gold.partitions", "llmops.gold.latest_ds", "llmops.gold.content_hash",
    "llmops.git_commit", "llmops.config_hash", "llmops.profile", "llmops.base_model", "llmops.base_model_revision",
    "llmops.base_model_hash", "llmops.features.selected", "llmops.features.selected_hash",
    "llmops.method", "llmops.sweep_parent_run_id", "airflow.dag_id", "airflow.dag_run_id", "llmops.final_run_id",
}


@pytest.fixture
def sweep_env(training_env, monkeypatch):
    # a range where every trial learns fast, so a trial that cannot learn is clearly the bad one
    monkeypatch.setenv("LLMOPS__TRAINING__SWEEP__SPACE__LEARNING_RATE", "[0.002, 0.005]")
    settings.cache_clear()
    return training_env


def _job(lake, tiny_model, **kw) -> TrainingJob:
    defaults = dict(lake_root=f"file://{lake}", ds=DS, base_model=str(tiny_model), method="lora", max_trials=4,
                    trial_steps=16, max_steps=12, dag_id="llmops_train", dag_run_id="manual__2026-11-20T00:00:00")
    return TrainingJob(**{**defaults, **kw})


def test_suggestions_stay_in_the_space_and_follow_the_seed():
    space = settings().training.sweep.space
    first = [sweep.suggest(space, [], seed, n_startup=3) for seed in range(8)]
    assert first == [sweep.suggest(space, [], seed, n_startup=3) for seed in range(8)]
    assert len({p["learning_rate"] for p in first}) == 8
    for p in first:
        assert space.learning_rate[0] <= p["learning_rate"] <= space.learning_rate[1]
        assert p["lora_rank"] in space.lora_rank and p["lora_alpha"] in space.lora_alpha
        assert space.lora_dropout[0] <= p["lora_dropout"] <= space.lora_dropout[1]
        assert p["epochs"] in space.epochs
    # past the start-up trials TPE models the history: low losses at high learning rates pull it up there
    history = [(p, 1.0 / p["learning_rate"]) for p in first]
    guided = [sweep.suggest(space, history, 100 + s, n_startup=3)["learning_rate"] for s in range(5)]
    assert sorted(guided)[2] > sorted(p["learning_rate"] for p in first)[4]


def test_sweep_stops_the_bad_trial_and_registers_the_best_with_lineage(sweep_env, tiny_model):
    job = _job(sweep_env, tiny_model)
    parent_id = sweep.prepare(job)
    assert sweep.prepare(job) == parent_id  # idempotent
    for index in range(3):
        assert sweep.run_trial(job, index)["state"] == "completed"
    # trial 3 was started with a learning rate at which nothing is learnt: it must be stopped
    client = tracking.client()
    exp = tracking.experiment_id(client)
    bad = tracking.get_or_create_run(client, exp, job.trial_key(3), "trial-003", {
        tracking.PARENT: parent_id, tracking.SWEEP_KEY: job.sweep_key, "llmops.kind": "trial", "llmops.trial": "3"})
    tracking.log_params(client, bad.info.run_id, {"learning_rate": 1e-9, "lora_rank": 8, "lora_alpha": 16,
                                                  "lora_dropout": 0.0, "epochs": 3})
    stopped = sweep.run_trial(job, 3)
    assert stopped["state"] == "stopped" and stopped["steps"] == 12, stopped  # 4th report at step 12 of 16

    final = run_final(job)
    records = sweep.trial_records(client, exp, job)
    best = min((r for r in records if r["best_val_loss"] is not None), key=lambda r: r["best_val_loss"])
    assert final["params"] == best["params"] and best["index"] != 3
    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["trial_steps_spent"] == 16 * 3 + 12
    assert parent.data.metrics["trials_stopped"] == 1
    assert "sweep_trials.png" in {a.path for a in client.list_artifacts(parent_id)}
    final_run = client.get_run(final["run_id"])
    assert {"adapter", "metrics.json", "loss_curve.png"} <= {a.path for a in client.list_artifacts(final["run_id"])}
    assert final_run.data.metrics["best_val_loss"] < final_run.data.metrics["first_train_loss"]

    version = registry.register(job)
    rows = registry.versions()
    assert [r["version"] for r in rows] == [version["version"]] and rows[0]["aliases"] == ["challenger"]
    tags = rows[0]["tags"]
    assert LINEAGE_TAGS <= set(tags), LINEAGE_TAGS - set(tags)
    assert tags["llmops.gold.content_hash"] == job.gold.content_hash
    assert tags["llmops.features.selected"] == "120"  # every example of the fixture passes the selection
    assert tags["llmops.features.selected_hash"] == job.examples_digest
    assert tags["llmops.gold.partitions"] == DS
    assert tags["llmops.base_model"] == str(tiny_model)
    assert tags["llmops.base_model_hash"] == job.base["content_hash"] and lineage.same_base(tags, tags)[0]
    assert tags["llmops.config_hash"] == lineage.config_hash()
    assert tags["llmops.git_commit"] == lineage.git_commit() != "unknown"
    assert tags["llmops.sweep_parent_run_id"] == parent_id
    assert tags["airflow.dag_run_id"] == job.dag_run_id and tags["llmops.final_run_id"] == final["run_id"]
    assert "challenger" in registry.format_versions(rows)

    # reruns find what exists: no second version, no second trial run
    assert registry.register(job)["version"] == version["version"]
    assert sweep.run_trial(job, 0)["state"] == "completed"
    assert len(sweep.trial_records(client, exp, job)) == 4 and len(registry.versions()) == 1

    # new data since the candidate: nothing yet, then the next day's training rows
    assert registry.new_examples_since_candidate(job.lake_root, DS)[0] == 0
    write_gold(sweep_env, "2026-11-21", 50, seed=1)
    assert registry.new_examples_since_candidate(job.lake_root, "2026-11-21")[0] == 40


def test_final_refuses_an_unfinished_sweep(sweep_env, tiny_model):
    job = _job(sweep_env, tiny_model, max_trials=2)
    sweep.prepare(job)
    sweep.run_trial(job, 0)
    with pytest.raises(RuntimeError, match=r"trials \[1\] of 2 have not finished"):
        run_final(job)


@pytest.mark.slow
def test_a_killed_trial_resumes_from_its_checkpoint(sweep_env, tiny_model):
    job = _job(sweep_env, tiny_model, max_trials=1, trial_steps=12)
    sweep.prepare(job)
    argv = [sys.executable, "-m", "llmops.training.sweep", "trial", "--index", "0", "--lake-root", job.lake_root,
            "--ds", DS, "--base-model", job.base_model, "--method", "lora", "--max-trials", "1", "--trial-steps", "12"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "checkpoint" in line and "checkpoint-4" in line:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen[-20:])

    rerun = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    log = rerun.stdout + rerun.stderr
    assert "resuming from checkpoint-4 (step 4 of 12)" in log
    assert "step 1/12" not in log and "completed after 12/12 steps" in log
    client = tracking.client()
    records = sweep.trial_records(client, tracking.experiment_id(client), job)
    assert len(records) == 1 and records[0]["status"] == "FINISHED" and records[0]["steps"] == 12


@pytest.mark.slow
def test_llmops_train_run_runs_every_step_and_registers(sweep_env, tiny_model):
    argv = [sys.executable, "-m", "llmops.cli", "train", "run", "--ds", DS, "--base-model", str(tiny_model),
            "--method", "lora", "--max-trials", "2", "--trial-steps", "4", "--max-steps", "4"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for step in ("llmops.training.base_model", "llmops.training.sweep prepare", "--index 1",
                 "llmops.training.final", "llmops.training.registry register"):
        assert step in proc.stdout
    assert "registered a candidate for ds=2026-11-20 (2 trials)" in proc.stdout
    listed = subprocess.run([sys.executable, "-m", "llmops.cli", "registry", "list"], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0 and "challenger" in listed.stdout and "llmops_train" not in listed.stdout

    bad = subprocess.run([*argv[:6], "2026-13-01"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
