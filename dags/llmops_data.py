"""Daily data pipeline: raw landing zone -> bronze -> silver -> gold -> Feast, gated at every layer.

Wiring only: the steps live in llmops.pipelines and run as local processes or pods (settings).
Trigger from the UI with a date, a raw root or a language filter (sample data for a demo: the
llmops_demo DAG); backfill with `airflow backfill create --dag-id llmops_data ...`.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, chain

from llmops.assets import GOLD_SFT, TRAINING_FEATURES
from llmops.config import settings
from llmops.dag_defaults import dag_defaults
from llmops.operators import step_task
from llmops.pipelines import data_steps
from llmops.templating import RUN_DS, cron, ds_param

cfg = settings()

with DAG(
    **dag_defaults("llmops_data", "data", __doc__),
    description="Spark ingest/clean/SFT build with Great Expectations gates, then Feast materialization",
    schedule=cron("0 3 * * *"),
    params={
        "ds": ds_param("Date to process"),
        "raw_root": Param(cfg.paths.raw_root, type="string", description="Landing zone URI"),
        "languages": Param(cfg.data.languages, type="array", description="Languages kept in silver"),
    },
) as dag:
    steps = data_steps(
        raw_root="{{ params.raw_root }}",
        lake_root=cfg.paths.lake_root,
        ds=RUN_DS,
        languages="{{ params.languages | join(',') }}",
    )
    outlets = {"gate_gold": [GOLD_SFT], "feast_materialize": [TRAINING_FEATURES]}
    chain(*(step_task(step, outlets=outlets.get(step.name, [])) for step in steps))
