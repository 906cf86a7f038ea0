"""HyperOpt TPE sweep whose trials are separate processes or pods, stopped early by the median rule.

``prepare`` opens the sweep's MLflow parent run. Each ``trial --index I`` is one task (dynamic task mapping,
bounded concurrency): it asks TPE for parameters given every trial finished so far, trains, reports its
validation loss every ``eval_every`` steps and stops when Katib's median rule says it falls behind. Trial
state lives in MLflow child runs, so a retried or rerun trial continues where it stopped and a finished one
is not run again. Parallel trials suggest with different seeds (seed + index), so they never collide.

CLI: ``python -m llmops.training.sweep {prepare|trial --index I} <job args>``; exit 0 on success, 2 on error.
"""

from __future__ import annotations

import logging
import math
import sys

from llmops.config import SearchSpace, settings
from llmops.logs import setup_step_logging
from llmops.steps import guarded
from llmops.training import median_stop, tracking
from llmops.training.jobs import TrainingJob, job_from_args, job_parser
from llmops.training.trainer import Hyperparams

log = logging.getLogger(__name__)

PARAMS = ("learning_rate", "lora_rank", "lora_alpha", "lora_dropout", "epochs")
_TYPES = {"learning_rate": float, "lora_rank": int, "lora_alpha": int, "lora_dropout": float, "epochs": int}
STATE = "llmops.trial_state"  # completed | stopped


def hyperopt_space(space: SearchSpace) -> dict:
    from hyperopt import hp  # noqa: PLC0415

    return {
        "learning_rate": hp.loguniform("learning_rate", math.log(space.learning_rate[0]),
                                       math.log(space.learning_rate[1])),
        "lora_rank": hp.choice("lora_rank", list(space.lora_rank)),
        "lora_alpha": hp.choice("lora_alpha", list(space.lora_alpha)),
        "lora_dropout": hp.uniform("lora_dropout", *space.lora_dropout),
        "epochs": hp.choice("epochs", list(space.epochs)),
    }


def _choice_indices(space: SearchSpace, params: dict) -> dict[str, list]:
    """A trial's values as hyperopt stores them: choices by index."""
    choices = {"lora_rank": space.lora_rank, "lora_alpha": space.lora_alpha, "epochs": space.epochs}
    return {k: [choices[k].index(params[k]) if k in choices else params[k]] for k in PARAMS}


def suggest(space: SearchSpace, history: list[tuple[dict, float]], seed: int, n_startup: int) -> dict:
    """TPE's next point given ``history`` of (params, best validation loss); random for the first n_startup."""
    from hyperopt import JOB_STATE_DONE, STATUS_OK, Domain, Trials, space_eval, tpe  # noqa: PLC0415

    hp_space = hyperopt_space(space)
    trials = Trials()
    if history:
        tids = list(range(len(history)))
        miscs = [{"tid": tid, "cmd": ("domain_attachment", "FMinIter_Domain"), "workdir": None,
                  "idxs": {k: [tid] for k in PARAMS}, "vals": _choice_indices(space, params)}
                 for tid, (params, _) in zip(tids, history, strict=True)]
        results = [{"loss": loss, "status": STATUS_OK} for _, loss in history]
        docs = trials.new_trial_docs(tids, [None] * len(tids), results, miscs)
        for doc in docs:
            doc["state"] = JOB_STATE_DONE
        trials.insert_trial_docs(docs)
        trials.refresh()
    domain = Domain(lambda _: 0.0, hp_space)
    new = tpe.suggest([len(history)], domain, trials, seed, n_startup_jobs=n_startup, verbose=False)
    vals = {k: v[0] for k, v in new[0]["misc"]["vals"].items() if v}
    point = space_eval(hp_space, vals)
    return {k: _TYPES[k](point[k]) for k in PARAMS}


def params_of(run) -> dict:
    return {k: _TYPES[k](run.data.params[k]) for k in PARAMS}


def parent_run(client, exp_id: str, job: TrainingJob):
    run = tracking.find_run(client, exp_id, {tracking.RUN_KEY: f"{job.sweep_key[:20]}-sweep"})
    if run is None:
        raise RuntimeError(f"no sweep run for key {job.sweep_key[:20]}: run `sweep prepare` first")
    return run


def prepare(job: TrainingJob) -> str:
    """Open (or find) the sweep's parent run and record its space, budget and data."""
    sweep = settings().training.sweep
    client = tracking.client()
    exp = tracking.experiment_id(client)
    run = tracking.get_or_create_run(client, exp, f"{job.sweep_key[:20]}-sweep", f"sweep-{job.ds}", {
        tracking.SWEEP_KEY: job.sweep_key, "llmops.kind": "sweep", "llmops.ds": job.ds,
        "llmops.gold.content_hash": job.gold.content_hash, "airflow.dag_id": job.dag_id,
        "airflow.dag_run_id": job.dag_run_id,
    })
    tracking.log_params(client, run.info.run_id, {
        "max_trials": job.max_trials, "trial_steps": job.trial_steps, "method": job.method,
        "base_model": job.base["model"], "median_stop": sweep.median_stop,
        "median_stop_min_trials": sweep.median_stop_min_trials,
        "median_stop_start_step": sweep.median_stop_start_step, "space": sweep.space.model_dump_json(),
        "seed": sweep.seed,
    })
    log.info("sweep %s: parent run %s, %d trials of at most %d steps", job.sweep_key[:12], run.info.run_id,
             job.max_trials, job.trial_steps)
    return run.info.run_id


def trial_records(client, exp_id: str, job: TrainingJob) -> list[dict]:
    """Every trial of the sweep: index, params, state, best validation loss, steps, run id."""
    records = []
    for run in tracking.find_runs(client, exp_id, {tracking.SWEEP_KEY: job.sweep_key, "llmops.kind": "trial"}):
        metrics = run.data.metrics
        records.append({
            "index": int(run.data.tags["llmops.trial"]), "run_id": run.info.run_id, "status": run.info.status,
            "state": run.data.tags.get(STATE, "running"),
            "params": params_of(run) if all(k in run.data.params for k in PARAMS) else {},
            "best_val_loss": metrics.get("best_val_loss"), "steps": int(metrics.get("final_steps", 0)),
        })
    return sorted(records, key=lambda r: r["index"])


def run_trial(job: TrainingJob, index: int) -> dict:
    """Run (or continue, or skip when finished) trial ``index`` of the sweep."""
    from llmops.training.fit import fit  # noqa: PLC0415 - torch

    if not 0 <= index < job.max_trials:
        raise ValueError(f"trial index {index} outside the budget of {job.max_trials} trials")
    sweep = settings().training.sweep
    client = tracking.client()
    exp = tracking.experiment_id(client)
    parent = parent_run(client, exp, job)
    key = job.trial_key(index)
    existing = tracking.find_run(client, exp, {tracking.RUN_KEY: key})
    if existing is not None and existing.info.status == "FINISHED":
        record = next(r for r in trial_records(client, exp, job) if r["index"] == index)
        log.info("trial %d already finished (%s, best validation loss %s): nothing to do", index, record["state"],
                 record["best_val_loss"])
        return record
    if existing is not None and all(k in existing.data.params for k in PARAMS):
        params = params_of(existing)
        log.info("trial %d continues with its parameters %s", index, params)
    else:
        history = [(r["params"], r["best_val_loss"]) for r in trial_records(client, exp, job)
                   if r["status"] == "FINISHED" and r["best_val_loss"] is not None]
        params = suggest(sweep.space, history, sweep.seed + index, n_startup=sweep.median_stop_min_trials)
        log.info("trial %d: TPE suggests %s (from %d finished trials)", index, params, len(history))
    run = tracking.get_or_create_run(client, exp, key, f"trial-{index:03d}", {
        tracking.PARENT: parent.info.run_id, tracking.SWEEP_KEY: job.sweep_key, "llmops.kind": "trial",
        "llmops.trial": str(index),
    })
    run_id = run.info.run_id
    tracking.log_params(client, run_id, params)

    def on_eval(step: int, val_loss: float) -> bool:
        if not sweep.median_stop:
            return False
        completed = [tracking.metric_history(client, r["run_id"], "val_loss")
                     for r in trial_records(client, exp, job) if r["state"] == "completed" and r["index"] != index]
        decision = median_stop.decide(tracking.metric_history(client, run_id, "val_loss"), completed,
                                      sweep.median_stop_min_trials, sweep.median_stop_start_step)
        log.info("trial %d step %d: median rule: %s", index, step, decision.reason)
        return decision.stop

    result, _ = fit(job, Hyperparams(**params), key, run_id, max_steps=job.trial_steps,
                    eval_every=sweep.eval_every, on_eval=on_eval)
    state = "stopped" if result.stopped_early else "completed"
    tracking.set_tags(client, run_id, {STATE: state})
    if result.best_val_loss is not None:
        tracking.log_metrics(client, run_id, result.steps, {"best_val_loss": result.best_val_loss})
    client.set_terminated(run_id, "FINISHED")
    log.info("trial %d %s after %d/%d steps, best validation loss %s", index, state, result.steps,
             result.planned_steps, result.best_val_loss)
    return {"index": index, "run_id": run_id, "state": state, "params": params,
            "best_val_loss": result.best_val_loss, "steps": result.steps}


def finish(job: TrainingJob) -> dict:
    """Close the sweep: pick the best finished trial, plot all trials, log both to the parent run."""
    import tempfile  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from llmops.training.plots import sweep_trials  # noqa: PLC0415

    client = tracking.client()
    exp = tracking.experiment_id(client)
    parent = parent_run(client, exp, job)
    records = trial_records(client, exp, job)
    missing = sorted(set(range(job.max_trials)) - {r["index"] for r in records if r["status"] == "FINISHED"})
    if missing:
        raise RuntimeError(f"sweep {job.sweep_key[:12]}: trials {missing} of {job.max_trials} have not finished")
    finished = [r for r in records if r["best_val_loss"] is not None]
    if not finished:
        raise RuntimeError(f"sweep {job.sweep_key[:12]} has no trial with a validation loss")
    best = min(finished, key=lambda r: r["best_val_loss"])
    if parent.info.status != "FINISHED":
        with tempfile.TemporaryDirectory() as tmp:
            plot = sweep_trials(finished, list(PARAMS), Path(tmp) / "sweep_trials.png")
            client.log_artifact(parent.info.run_id, str(plot))
        tracking.log_metrics(client, parent.info.run_id, 0, {
            "best_val_loss": best["best_val_loss"], "trials_finished": len(finished),
            "trials_stopped": sum(r["state"] == "stopped" for r in finished),
            "trial_steps_spent": sum(r["steps"] for r in finished),
        })
        tracking.set_tags(client, parent.info.run_id, {"llmops.best_trial": best["index"],
                                                       **{f"best.{k}": v for k, v in best["params"].items()}})
        client.set_terminated(parent.info.run_id, "FINISHED")
    log.info("sweep %s: best trial %d %s (validation loss %.4f); %d of %d trials stopped early",
             job.sweep_key[:12], best["index"], best["params"], best["best_val_loss"],
             sum(r["state"] == "stopped" for r in finished), len(finished))
    return {"parent_run_id": parent.info.run_id, "best": best, "trials": records}


def main(argv: list[str] | None = None) -> int:
    parser = job_parser("llmops.training.sweep", __doc__.splitlines()[0])
    parser.add_argument("action", choices=["prepare", "trial"])
    parser.add_argument("--index", type=int, help="trial number (trial)")
    args = parser.parse_args(argv)
    setup_step_logging()
    if args.action == "trial" and args.index is None:
        parser.error("trial needs --index")
    job = job_from_args(args)
    return guarded(f"sweep {args.action}", lambda: (prepare(job) if args.action == "prepare"
                                                     else run_trial(job, args.index)) and 0)


if __name__ == "__main__":
    sys.exit(main())
