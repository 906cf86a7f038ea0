"""Canary rollout of a gated candidate: weighted traffic step by step, sequential analysis, promote or roll back.

Wiring only: the step lives in llmops.pipelines (deploy_steps) and runs llmops.deploy.run as a local process or
a pod (settings). Runs when a version passes both gates (the model_passed_gates Asset), or from the UI with a
version number or alias (default `passed`: the newest passed version not yet rolled out), the canary steps in
percent, the analysis window, human approval and a dry run (prints the plan, changes nothing). One rollout at
a time: a second passed candidate waits. Against the `champion`, or before the first promotion against the base
model without adapter. With approval, the rollout holds before 100 % and keeps analysing while
`approve_promotion` (Airflow's HITL approval, in the UI's Required Actions) shows its analysis; Reject or no
answer rolls back. A rollback fails the task (the reason names the failing metric) and alerts; a promotion
moves `champion` and emits model_deployed with the version. The rollout report is linked from the task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param, task

from llmops.assets import MODEL_DEPLOYED, MODEL_PASSED_GATES
from llmops.config import settings
from llmops.dag_defaults import dag_defaults
from llmops.deploy.run import PASSED, announce_deployed, await_hold
from llmops.operators import RolloutApprovalOperator, retry_policy, step_task
from llmops.pipelines import deploy_steps
from llmops.templating import RUN_DS, ds_param

cfg = settings()
d = cfg.deploy

with DAG(
    **dag_defaults("llmops_deploy", "deployment", __doc__, alert=True),
    description="Canary rollout of a passed candidate over the champion: promote or roll back automatically",
    schedule=MODEL_PASSED_GATES,
    params={
        "ds": ds_param("Date whose gold test prompts the load generator replays"),
        "version": Param(
            PASSED,
            type="string",
            minLength=1,
            description="Version number or alias; passed = newest passed version not rolled out",
        ),
        "steps": Param(
            d.steps,
            type="array",
            items={"type": "number", "exclusiveMinimum": 0, "maximum": 100},
            minItems=1,
            description="Canary traffic percent per step, rising",
        ),
        "window_s": Param(d.window_s, type="number", exclusiveMinimum=0, description="Analysis window per step (s)"),
        "approval": Param(d.approval_required, type="boolean",
                          description="Hold before 100 % for a human's Approve/Reject; the analysis goes on meanwhile"),
        "dry_run": Param(False, type="boolean", description="Print the plan (versions, steps, window); change nothing"),
    },
) as dag:
    (rollout,) = deploy_steps(cfg.paths.lake_root, RUN_DS, version="{{ params.version }}",
                              steps="{{ params.steps | join(',') }}", window_s="{{ params.window_s }}",
                              dry_run="{{ params.dry_run }}", approval="{{ params.approval }}",
                              run_id="{{ run_id }}")  # fmt: skip
    announce = task(task_id="announce_deployed", outlets=[MODEL_DEPLOYED], **retry_policy(5))(announce_deployed)()
    step_task(rollout) >> announce
    # beside the rollout: once it holds before 100 %, a human answers in the UI (reschedule: no slot while waiting)
    hold = task.sensor(task_id="await_hold", mode="reschedule", poke_interval=10, **retry_policy(),
                       timeout=timedelta(minutes=cfg.airflow.step_timeout_min))(await_hold)()
    hold >> RolloutApprovalOperator(task_id="approve_promotion", hold_task="await_hold", **retry_policy(),
                                    subject="Promote {{ ti.xcom_pull(task_ids='await_hold')['canary'] }} to 100 %?",
                                    response_timeout=timedelta(seconds=d.approval_timeout_s))
