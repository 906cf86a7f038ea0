"""Light checks the training DAG runs inside Airflow itself (no torch): whether to train at all."""

from __future__ import annotations

from typing import Any

from llmops.assets import DRIFT_ALERTS
from llmops.config import settings
from llmops.templating import run_ds


def enough_new_examples(params: dict[str, Any], dag_run: Any, triggering_asset_events: Any = None) -> bool:
    """True when at least ``min_new_examples`` gold training examples arrived since the last candidate."""
    from llmops.training.registry import new_examples_since_candidate  # noqa: PLC0415 - mlflow at run time

    drift = False
    for asset, events in (triggering_asset_events or {}).items():
        for event in events:
            extra = event.extra or {}
            if getattr(asset, "name", asset) == DRIFT_ALERTS.name:
                drift = True
                print(f"started by alert {extra.get('alert')} (fingerprint {extra.get('fingerprint')}, from "
                      f"{extra.get('source')}): {extra.get('summary')}")
            else:
                print(f"started by Asset event {getattr(asset, 'name', asset)}: {extra.get('dag_id')}/"
                      f"{extra.get('run_id')}/{extra.get('task_id')} published ds={extra.get('ds')}")
    ds = run_ds(params, dag_run, triggering_asset_events)
    count, last = new_examples_since_candidate(settings().paths.lake_root, ds)
    minimum = int(params["min_new_examples"])
    since = f"candidate v{last['version']} (gold up to {last['tags'].get('llmops.gold.latest_ds')})" if last \
        else "the start (no candidate yet)"
    if drift:  # the live traffic moved away from the training data: retrain whatever the new-example count
        print(f"training on a drift alert: {count} new gold training examples up to ds={ds} since {since}")
        return True
    verdict = "training" if count >= minimum else "skipping training"
    print(f"{verdict}: {count} new gold training examples up to ds={ds} since {since}; minimum is {minimum}")
    return count >= minimum


def trial_commands(params: dict[str, Any], dag_run: Any, run_id: str, triggering_asset_events: Any = None
                   ) -> list[list[str]]:
    """One command line per sweep trial, from the run's Params (the mapped trial tasks expand over it)."""
    from llmops.pipelines import train_steps  # noqa: PLC0415

    ds = run_ds(params, dag_run, triggering_asset_events)
    steps = train_steps(settings().paths.lake_root, ds, **job_params(params, run_id))
    return steps.trial_arguments(int(params["max_trials"]))


def job_params(params: dict[str, Any], run_id: str, dag_id: str = "llmops_train") -> dict[str, str]:
    return {"base_model": str(params["base_model"]), "method": str(params["method"]),
            "max_trials": str(params["max_trials"]), "trial_steps": str(params["trial_steps"]),
            "max_steps": str(params["max_steps"]), "dag_id": dag_id, "dag_run_id": run_id}
