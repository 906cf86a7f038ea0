"""Hourly input drift: the champion's training prompts against the last hour of the inference log.

Wiring only: the step lives in llmops.pipelines (drift_steps) and runs llmops.monitoring.drift_check as a
local process or a pod (settings). It writes Evidently's report (linked from the task), a verdict JSON and
the Prometheus textfile that llmops.monitoring.drift_exporter serves; the alert rules in monitoring/rules
page on ``llmops_drift_detected`` (the DAG never decides to page). Before the first promotion there is no
champion and the task logs that and succeeds. Developers may trigger it from the UI to check now.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from llmops.config import settings
from llmops.dag_defaults import dag_defaults
from llmops.operators import step_task
from llmops.pipelines import drift_steps
from llmops.templating import cron, ds_param

cfg = settings()
# Airflow keeps run_after in UTC; a manual run may name the window's end instead (make demo: the hour under way)
RUN_DATE = "{{ params.ds or dag_run.run_after.strftime('%Y-%m-%d') }}"
RUN_HOUR = "{{ params.hour or dag_run.run_after.strftime('%H') }}"

with DAG(
    **dag_defaults("llmops_drift", "monitoring", __doc__, alert=True),
    description="Hourly drift of live prompts (inference log) from the champion's training prompts",
    schedule=cron("5 * * * *"),  # 5 past: the hour's last log batch is written
    params={
        "ds": ds_param("date of the window's end (UTC)"),
        "hour": Param("", type="string", pattern="^([01][0-9]|2[0-3])?$",
                      description="hour of the window's end (UTC, 00-23); empty: the run's"),
    },  # fmt: skip
) as dag:
    # the window ends at the full hour the run is for (UTC)
    for step in drift_steps(cfg.paths.lake_root, RUN_DATE, RUN_HOUR):
        step_task(step)
