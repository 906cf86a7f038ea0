"""The final training run: the sweep's best parameters, the full step budget, every lineage tag.

CLI: ``python -m llmops.training.final <job args>``; exit 0 when the run finished (or had finished before),
2 when it cannot run (no finished trial, no data, a method this machine cannot run).
"""

from __future__ import annotations

import logging
import sys

from llmops.config import settings
from llmops.logs import setup_step_logging
from llmops.step_summary import write_summary
from llmops.steps import guarded
from llmops.training import lineage, sweep, tracking
from llmops.training.jobs import TrainingJob, job_from_args, job_parser
from llmops.training.trainer import Hyperparams

log = logging.getLogger(__name__)


def lineage_tags(job: TrainingJob, sweep_parent_run_id: str) -> dict[str, str]:
    gold = job.gold
    return {
        "llmops.ds": job.ds,
        "llmops.gold.table": f"{job.lake_root}/gold/sft",
        "llmops.gold.partitions": ",".join(gold.partitions),
        "llmops.gold.latest_ds": gold.partitions[-1],
        "llmops.gold.content_hash": gold.content_hash,
        "llmops.features.selected": str(job.examples.table.num_rows),  # of the gold examples, by Feast features
        "llmops.features.selected_hash": job.examples_digest,
        "llmops.git_commit": lineage.git_commit(),
        "llmops.config_hash": lineage.config_hash(),
        "llmops.profile": settings().profile,
        "llmops.base_model": job.base["model"],
        "llmops.base_model_revision": str(job.base["revision"]),
        "llmops.base_model_hash": job.base["content_hash"],
        "llmops.method": job.method,
        "llmops.sweep_parent_run_id": sweep_parent_run_id,
        "airflow.dag_id": job.dag_id or "-",
        "airflow.dag_run_id": job.dag_run_id or "-",
    }


def run_final(job: TrainingJob) -> dict:
    from llmops.training.fit import fit  # noqa: PLC0415 - torch

    closed = sweep.finish(job)
    params = closed["best"]["params"]
    client = tracking.client()
    exp = tracking.experiment_id(client)
    tags = {"llmops.kind": "final", tracking.SWEEP_KEY: job.sweep_key,
            **lineage_tags(job, closed["parent_run_id"])}
    run = tracking.get_or_create_run(client, exp, job.final_key, f"final-{job.ds}", tags)
    run_id = run.info.run_id
    if run.info.status == "FINISHED":
        log.info("final run %s already finished", run_id)
        return {"run_id": run_id, "params": params}
    trials = closed["trials"]
    tracking.set_tags(client, run_id, tags)  # a resumed run gets this attempt's Airflow run id too
    tracking.log_params(client, run_id, {**params, "max_steps": job.max_steps, "method": job.method})
    log.info("final run %s with the best trial's parameters %s", run_id, params)
    result, out = fit(job, Hyperparams(**params), job.final_key, run_id, max_steps=job.max_steps,
                      eval_every=settings().training.eval_every)
    client.set_terminated(run_id, "FINISHED")
    log.info("final run finished: %s (outputs in %s)", result.metrics(), out)
    summary = {"run_id": run_id, "params": params, "metrics": result.metrics(), "sweep": {
        "parent_run_id": closed["parent_run_id"], "trials": len(trials),
        "stopped": sum(t["state"] == "stopped" for t in trials), "best_trial": closed["best"]["index"],
        "trial_steps_spent": sum(t["steps"] for t in trials)}}
    write_summary(job.lake_root, "train_final", job.ds, summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    args = job_parser("llmops.training.final", __doc__.splitlines()[0]).parse_args(argv)
    setup_step_logging()
    job = job_from_args(args)
    return guarded("train_final", lambda: run_final(job) and 0)


if __name__ == "__main__":
    sys.exit(main())
