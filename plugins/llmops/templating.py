"""Jinja helpers shared by the DAGs."""

from __future__ import annotations

from typing import Any

# The date a run processes: the `ds` Param when given, else the run's logical date, else (manual
# runs in Airflow 3 may have no logical date) the date it was triggered for.
RUN_DS = "{{ run_ds(params, dag_run) }}"


def run_ds(params: dict[str, Any], dag_run: Any) -> str:
    if params.get("ds"):
        return str(params["ds"])
    when = dag_run.logical_date or dag_run.run_after
    return when.strftime("%Y-%m-%d")


def template_macros() -> dict[str, Any]:
    return {"run_ds": run_ds}
