"""Jinja helpers shared by the DAGs, and the ``ds`` Param they interpret."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param

from llmops.asset_events import triggering_ds

# The date a run processes: the `ds` Param when given, else the date of the data whose Asset event started the
# run, else the run's logical date, else (manual runs in Airflow 3 may have no logical date) the date it was
# triggered for.
RUN_DS = "{{ run_ds(params, dag_run, triggering_asset_events) }}"


def run_ds(params: dict[str, Any], dag_run: Any, triggering_asset_events: Any = None) -> str:
    if params.get("ds"):
        return str(params["ds"])
    if ds := triggering_ds(triggering_asset_events):
        return ds
    when = dag_run.logical_date or dag_run.run_after
    return when.strftime("%Y-%m-%d")


def ds_param(what: str) -> Param:
    """The ``ds`` Param: a date, or empty (None) for the run's date. Nullable so that the trigger form's empty
    default is valid for the schema (a date format rejects "")."""
    description = f"{what} (YYYY-MM-DD); empty = the run's date, or the date of the data that triggered it"
    return Param(None, type=["null", "string"], format="date", description=description)


def cron(expression: str) -> CronTriggerTimetable:
    """A UTC cron schedule whose first run, once the DAG is switched on, is its next tick: Airflow's default
    (run_immediately=False) still runs the last tick at once when it passed less than a tenth of the period ago."""
    return CronTriggerTimetable(expression, timezone="UTC", run_immediately=timedelta(0))


def template_macros() -> dict[str, Any]:
    return {"run_ds": run_ds}
