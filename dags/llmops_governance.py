"""Daily governance: OWASP LLM Top 10 probes and leakage scans on the champion, and the day's gold scanned alone.

Wiring only: the steps live in llmops.pipelines (governance_steps) and run as local processes or pods
(settings). The champion scan serves the version with the `champion` alias (or scans serving.endpoint_url)
and records its verdict on that version; before the first promotion there is no champion and the task logs
that and succeeds. The gold scan looks for personal data in the date's partition without a model. A failed
task alerts (llmops.alerts: an ERROR log line, and a webhook when LLMOPS_ALERT_WEBHOOK_URL is set).
Developers may trigger it from the UI with a date.
"""

from __future__ import annotations

from airflow.sdk import DAG

from llmops.config import settings
from llmops.dag_defaults import dag_defaults
from llmops.operators import step_task
from llmops.pipelines import governance_steps
from llmops.templating import RUN_DS, cron, ds_param

cfg = settings()

with DAG(
    **dag_defaults("llmops_governance", "governance", __doc__, alert=True),
    description="Daily OWASP LLM Top 10 (2025) and leakage scans of the champion and the newest gold data",
    schedule=cron("0 6 * * *"),
    params={"ds": ds_param("Gold partition to scan")},
) as dag:
    for step in governance_steps(cfg.paths.lake_root, RUN_DS):
        step_task(step)
