"""The model registry: every final adapter becomes a version of one registered model, with its lineage.

The newest candidate carries the alias ``challenger``; promotion (a later stage) moves ``champion``.

CLI: ``python -m llmops.training.registry register <job args>`` registers the job's final run (once: a rerun
finds the version it registered) and exits 0, or 2 when there is no finished final run.
"""

from __future__ import annotations

import logging
import sys

from llmops import lake, lakefs
from llmops.config import settings
from llmops.logs import setup_step_logging
from llmops.step_summary import write_summary
from llmops.steps import guarded
from llmops.training import tracking
from llmops.training.jobs import TrainingJob, job_from_args, job_parser

log = logging.getLogger(__name__)

CHALLENGER, CHAMPION = "challenger", "champion"
LINEAGE_PREFIXES = ("llmops.", "airflow.")


_MISSING = "RESOURCE_DOES_NOT_EXIST"  # MLflow's error code for "no such model / version / alias"


def _ensure_model(client, name: str) -> None:
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != _MISSING:
            raise
        try:
            client.create_registered_model(name, description="Support-assistant LoRA adapters (llmops-airflow)")
        except MlflowException as created:
            if created.error_code != "RESOURCE_ALREADY_EXISTS":  # else registered concurrently
                raise


def register(job: TrainingJob) -> dict:
    """Register the job's final run as a new version (or find the one registered before); alias challenger."""
    client = tracking.client()
    exp = tracking.experiment_id(client)
    name = settings().tracking.registered_model
    run = tracking.find_run(client, exp, {tracking.RUN_KEY: job.final_key})
    if run is None or run.info.status != "FINISHED":
        raise RuntimeError(f"no finished final run for key {job.final_key}: run the final training first")
    _ensure_model(client, name)
    existing = [v for v in client.search_model_versions(f"name = '{name}' and run_id = '{run.info.run_id}'")]
    if existing:
        version = existing[0]
        log.info("run %s is already version %s of %s", run.info.run_id, version.version, name)
    else:
        tags = {k: v for k, v in run.data.tags.items() if k.startswith(LINEAGE_PREFIXES)}
        tags["llmops.final_run_id"] = run.info.run_id
        if "best_val_loss" in run.data.metrics:  # a run without validation data has none: no "None" tag
            tags["llmops.best_val_loss"] = str(run.data.metrics["best_val_loss"])
        version = client.create_model_version(
            name, source=f"runs:/{run.info.run_id}/adapter", run_id=run.info.run_id, tags=tags,
            description=f"{job.method} adapter on {run.data.tags.get('llmops.base_model')} for ds={job.ds}",
        )
        log.info("registered %s version %s", name, version.version)
    client.set_registered_model_alias(name, CHALLENGER, version.version)
    summary = {"model": name, "version": int(version.version), "alias": CHALLENGER, "run_id": run.info.run_id,
               "source": version.source}
    write_summary(job.lake_root, "register", job.ds, summary)
    return summary


def versions(name: str | None = None) -> list[dict]:
    """Every version of the registered model, newest first, with aliases and lineage tags.

    No such model yet is an empty list; anything else (server unreachable, no database, a failed query)
    raises :class:`~llmops.training.tracking.TrackingUnavailable`: gates fail, never read it as "no versions".
    """
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    client = tracking.client(create=False)
    name = name or settings().tracking.registered_model
    aliases: dict[str, list[str]] = {}
    try:
        try:
            model = client.get_registered_model(name)
        except MlflowException as exc:
            if exc.error_code == _MISSING:
                return []
            raise
        for alias, version in model.aliases.items():
            aliases.setdefault(str(version), []).append(alias)
        found = client.search_model_versions(f"name = '{name}'")
    except MlflowException as exc:
        raise tracking.unavailable(exc) from exc
    rows = []
    for v in found:
        rows.append({"version": int(v.version), "aliases": sorted(aliases.get(str(v.version), [])),
                     "created": v.creation_timestamp, "run_id": v.run_id, "source": v.source, "tags": dict(v.tags)})
    return sorted(rows, key=lambda r: -r["version"])


def version_by_alias(alias: str, name: str | None = None) -> dict | None:
    return next((v for v in versions(name) if alias in v["aliases"]), None)


def new_examples_since_candidate(lake_root: str, ds: str) -> tuple[int, dict | None]:
    """Gold training examples in partitions newer than the last candidate's data (all, with no candidate)."""
    import pyarrow.compute as pc  # noqa: PLC0415

    from llmops.training.sft_data import gold_partitions  # noqa: PLC0415

    tracking.client()  # training starts here: a local database is created now if settings allow, else refused
    last = version_by_alias(CHALLENGER)
    since = last["tags"].get("llmops.gold.latest_ds", "") if last else ""
    count = 0
    for part in gold_partitions(lake_root, ds):
        if part > since:
            split = lakefs.read_parquet(lake.partition_uri(lake_root, "gold", "sft", part), ["split"])["split"]
            count += int(pc.sum(pc.equal(split, "train")).as_py() or 0)
    return count, last


def format_versions(rows: list[dict]) -> str:
    """A table for the terminal: version, aliases, data, base model, commit, Airflow run."""
    head = f"{'version':>7}  {'aliases':<20} {'gold ds':<11} {'base model':<28} {'commit':<12} {'val loss':>8}  run"
    lines = [head, "-" * len(head)]
    for r in rows:
        t = r["tags"]
        base = t.get("llmops.base_model", "")
        lines.append(
            f"{r['version']:>7}  {','.join(r['aliases']) or '-':<20} {t.get('llmops.gold.latest_ds', '-'):<11} "
            f"{('…' + base[-27:]) if len(base) > 28 else base:<28} {t.get('llmops.git_commit', '-')[:12]:<12} "
            f"{float(t.get('llmops.best_val_loss', 'nan')):>8.4f}  "
            f"{t.get('airflow.dag_id', '-')}/{t.get('airflow.dag_run_id', '-')}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = job_parser("llmops.training.registry", __doc__.splitlines()[0])
    parser.add_argument("action", choices=["register"])
    args = parser.parse_args(argv)
    setup_step_logging()
    job = job_from_args(args)
    return guarded("register", lambda: register(job) and 0)


if __name__ == "__main__":
    sys.exit(main())
