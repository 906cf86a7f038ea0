"""Demo data: sample raw data with planted defects for one date, then the llmops_data pipeline on it.

Wiring only. The generator is the demo tool `python -m llmops_demo` (not part of the runtime), run as a
step like any other; it writes into the landing zone llmops_data reads by default, and llmops_data is
then triggered for the same date. Manual trigger only: production data lands from the sources.
"""

from __future__ import annotations

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param

from llmops.config import settings
from llmops.dag_defaults import dag_defaults
from llmops.operators import retry_policy, step_task
from llmops.steps import Step
from llmops.templating import RUN_DS, ds_param

cfg = settings()

with DAG(
    **dag_defaults("llmops_demo", "demo", __doc__),
    description="Sample raw data with planted defects and a manifest, then llmops_data on it",
    schedule=None,
    params={
        "ds": ds_param("Date to generate"),
        "records": Param(3000, type="integer", minimum=500, description="Sample records, all sources together"),
    },
) as dag:
    generate = step_task(Step("generate_sample", "llmops_demo",
                              ("--out", cfg.paths.raw_root, "--ds", RUN_DS, "--records", "{{ params.records }}")))
    run_data = TriggerDagRunOperator(task_id="run_llmops_data", trigger_dag_id="llmops_data",
                                     conf={"ds": RUN_DS, "raw_root": cfg.paths.raw_root}, **retry_policy())
    generate >> run_data
