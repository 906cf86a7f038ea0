"""Fine-tuning: base model -> HyperOpt sweep (mapped trials) -> final QLoRA run -> MLflow candidate -> gates.

Wiring only: the steps live in llmops.pipelines / llmops.training and run as local processes or GPU pods
(settings). Runs when new examples are featurized in Feast (the llm_training_features Asset, which the data DAG
emits after the gold gate and materialization: the trainer selects its examples there) or weekly, whichever
comes first, and skips with a log line when too few new examples arrived since the last candidate. Trigger from
the UI to change the base model, the method (qlora/lora) or the sweep's budget. The new version (alias `challenger`)
then
goes through the lm-eval gate and the governance gate; `decide` runs whatever they did (all_done) and tags the
version passed or rejected with the reason, so an errored gate rejects it and nothing gets promoted.
"""

from __future__ import annotations

from airflow.sdk import DAG, AssetOrTimeSchedule, Param, chain, task

from llmops.assets import DRIFT_ALERTS, MODEL_CANDIDATES, MODEL_PASSED_GATES, TRAINING_FEATURES
from llmops.config import settings
from llmops.dag_defaults import dag_defaults
from llmops.operators import retry_policy, step_task
from llmops.pipelines import candidate_gate_steps, train_steps
from llmops.templating import RUN_DS, cron, ds_param
from llmops.training.checks import enough_new_examples, trial_commands

cfg = settings()
t = cfg.training

with DAG(
    **dag_defaults("llmops_train", "training", __doc__),
    description="HyperOpt sweep and QLoRA fine-tuning in GPU pods, registered in MLflow with lineage",
    schedule=AssetOrTimeSchedule(timetable=cron("0 5 * * 1"),
                                 assets=TRAINING_FEATURES | DRIFT_ALERTS),
    params={
        "ds": ds_param("Train on gold up to this date"),
        "base_model": Param(t.base_model, type="string", description="Hugging Face id or path; builtin = own"),
        "method": Param(t.method, enum=["qlora", "lora"], description="QLoRA (4-bit base) or plain LoRA"),
        "max_trials": Param(t.sweep.max_trials, type="integer", minimum=1, description="Sweep trials"),
        "trial_steps": Param(t.sweep.trial_steps, type="integer", minimum=1, description="Steps per trial at most"),
        "max_steps": Param(t.max_steps, type="integer", minimum=0, description="Final run's steps (0 = epochs)"),
        "min_new_examples": Param(t.min_new_examples, type="integer", minimum=0,
                                  description="Skip unless this many new training examples arrived"),
    },
) as dag:
    steps = train_steps(
        cfg.paths.lake_root, RUN_DS, base_model="{{ params.base_model }}", method="{{ params.method }}",
        max_trials="{{ params.max_trials }}", trial_steps="{{ params.trial_steps }}",
        max_steps="{{ params.max_steps }}", dag_id="{{ dag.dag_id }}", dag_run_id="{{ run_id }}",
    )
    check = task.short_circuit(task_id="check_new_examples", **retry_policy(5))(enough_new_examples)()
    commands = task(task_id="trial_commands", **retry_policy(5))(trial_commands)()
    trials = step_task(steps.trial, expand_arguments=commands, max_active_tis_per_dagrun=t.sweep.parallel_trials)
    eval_gate, governance_gate, decide = candidate_gate_steps(cfg.paths.lake_root, RUN_DS)
    register = step_task(steps.register, outlets=[MODEL_CANDIDATES])
    # decide runs once the gates are done whatever their outcome (a failed or errored gate is a rejection it
    # records), but only for a version this run registered: it needs register among its successful upstreams
    decision = step_task(decide, trigger_rule="all_done_min_one_success", outlets=[MODEL_PASSED_GATES])
    chain(
        check,
        step_task(steps.base_model),
        step_task(steps.prepare_sweep),
        commands,
        trials,
        step_task(steps.train_final),
        register,
        step_task(eval_gate),
        step_task(governance_gate),
        decision,
    )
    register >> decision
