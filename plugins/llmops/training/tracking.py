"""MLflow hooks: the tracking server (or local SQLite file) from settings, and runs found by their tags.

Runs are looked up by tags rather than remembered ids, so a retried task or a restarted sweep finds the run
it started before instead of opening a new one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from llmops import lake
from llmops.config import Settings, settings

RUN_KEY = "llmops.run_key"
SWEEP_KEY = "llmops.sweep_key"
PARENT = "mlflow.parentRunId"


class TrackingUnavailable(RuntimeError):
    """The tracking server or database cannot be reached or read: an error, never an empty registry."""


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for an in-memory one or another store)."""
    if not uri.startswith("sqlite:///") or uri.endswith(":memory:"):
        return None
    return Path(uri[len("sqlite:///") :].split("?", 1)[0])  # sqlite:////abs/path or sqlite:///relative/path


def configure_http(cfg: Settings) -> None:
    """MLflow's HTTP retries and timeout from settings (MLflow reads them from the environment per request);
    an MLFLOW_HTTP_REQUEST_* variable set explicitly for the process wins."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(cfg.tracking.http_max_retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", str(cfg.tracking.http_backoff_factor))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(cfg.tracking.http_timeout_s))


def client(cfg: Settings | None = None, *, create: bool | None = None):
    """An MlflowClient on the configured tracking URI, with bounded HTTP retries.

    A SQLite database that does not exist is refused, unless ``create`` (default: ``tracking.create_sqlite``)
    allows creating it: readers pass ``create=False``, so a mistyped URI is an error, never an empty registry.
    """
    import mlflow  # noqa: PLC0415 - heavy; DAG files import this module's callers lazily
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    cfg = cfg or settings()
    uri = cfg.tracking.uri
    create = cfg.tracking.create_sqlite if create is None else create
    database = _sqlite_path(uri)
    missing = database is not None and not database.exists()
    if missing:
        if not create:
            raise TrackingUnavailable(
                f"no MLflow tracking database at {database} (tracking.uri={uri}): nothing was tracked there yet, "
                "or the path is mistyped; set tracking.create_sqlite=true to create it"
            )
        database.parent.mkdir(parents=True, exist_ok=True)
    configure_http(cfg)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow_client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    if missing:  # the store is opened lazily: create the database now, so that readers find it
        mlflow_client.search_experiments(max_results=1)
    return mlflow_client


def unavailable(exc: Exception, cfg: Settings | None = None) -> TrackingUnavailable:
    """One line for a failed registry or tracking call: where MLflow was and what went wrong."""
    uri = (cfg or settings()).tracking.uri
    detail = " ".join(str(exc).split())
    return TrackingUnavailable(f"MLflow at {uri} could not be read: {detail[:400]}")


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
