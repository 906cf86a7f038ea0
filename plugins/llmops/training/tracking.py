"""MLflow hooks: the tracking server (or local SQLite file) from settings, and runs found by their tags.

Runs are looked up by tags rather than remembered ids, so a retried task or a restarted sweep finds the run
it started before instead of opening a new one.
"""

from __future__ import annotations

from collections.abc import Iterable

from llmops import lake
from llmops.config import Settings, settings

RUN_KEY = "llmops.run_key"
SWEEP_KEY = "llmops.sweep_key"
PARENT = "mlflow.parentRunId"


def client(cfg: Settings | None = None):
    """An MlflowClient on the configured tracking URI (a local SQLite file's folder is created first)."""
    import mlflow  # noqa: PLC0415 - heavy; DAG files import this module's callers lazily
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    cfg = cfg or settings()
    uri = cfg.tracking.uri
    if uri.startswith("sqlite:///"):
        lake.local_path(uri[len("sqlite://"):]).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(mlflow_client, cfg: Settings | None = None) -> str:
    """The project's experiment, created with the configured artifact root on first use."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    cfg = cfg or settings()
    name = cfg.tracking.experiment
    found = mlflow_client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return mlflow_client.create_experiment(name, artifact_location=lake.join(cfg.tracking.artifact_root, name))
    except MlflowException:  # created concurrently by another step
        return mlflow_client.get_experiment_by_name(name).experiment_id


def _filter(tags: dict[str, str]) -> str:
    return " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())


def find_runs(mlflow_client, exp_id: str, tags: dict[str, str]) -> list:
    """Runs carrying all of ``tags`` (oldest first)."""
    runs = mlflow_client.search_runs([exp_id], filter_string=_filter(tags), max_results=1000,
                                     order_by=["attributes.start_time ASC"])
    return list(runs)


def find_run(mlflow_client, exp_id: str, tags: dict[str, str]):
    runs = find_runs(mlflow_client, exp_id, tags)
    return runs[0] if runs else None


def get_or_create_run(mlflow_client, exp_id: str, run_key: str, name: str, tags: dict[str, str]):
    """The run tagged ``run_key`` (reopened if a previous attempt left it unfinished), else a new one."""
    run = find_run(mlflow_client, exp_id, {RUN_KEY: run_key})
    if run is None:
        return mlflow_client.create_run(exp_id, run_name=name, tags={RUN_KEY: run_key, **tags})
    if run.info.status != "FINISHED":
        mlflow_client.update_run(run.info.run_id, status="RUNNING")
    return run


def metric_history(mlflow_client, run_id: str, key: str) -> list[tuple[int, float]]:
    """(step, value) of a metric, oldest step first; a step logged twice (a resumed run) counts once."""
    by_step = {m.step: m.value for m in mlflow_client.get_metric_history(run_id, key)}
    return sorted(by_step.items())


def log_metrics(mlflow_client, run_id: str, step: int, values: dict[str, float]) -> None:
    import time  # noqa: PLC0415

    from mlflow.entities import Metric  # noqa: PLC0415

    now = int(time.time() * 1000)
    mlflow_client.log_batch(run_id, metrics=[Metric(k, float(v), now, step) for k, v in values.items()])


def log_params(mlflow_client, run_id: str, params: dict) -> None:
    """Log params once: a resumed run re-logging the same values is fine, different ones are an error."""
    from mlflow.entities import Param  # noqa: PLC0415

    existing = mlflow_client.get_run(run_id).data.params
    new = {k: str(v) for k, v in params.items() if k not in existing}
    changed = {k: (existing[k], str(v)) for k, v in params.items() if k in existing and existing[k] != str(v)}
    if changed:
        raise ValueError(f"run {run_id} was started with other parameters: {changed}")
    if new:
        mlflow_client.log_batch(run_id, params=[Param(k, v) for k, v in new.items()])


def set_tags(mlflow_client, run_id: str, tags: dict[str, object]) -> None:
    from mlflow.entities import RunTag  # noqa: PLC0415

    mlflow_client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


def log_files(mlflow_client, run_id: str, paths: Iterable, artifact_path: str | None = None) -> None:
    for path in paths:
        mlflow_client.log_artifact(run_id, str(path), artifact_path)
