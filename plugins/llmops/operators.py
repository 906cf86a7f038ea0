"""Airflow operators that run a :class:`~llmops.steps.Step` in the configured runtime.

Operators stay thin: the local one hands the command line to :func:`llmops.steps.run_local`, the
Kubernetes one to KubernetesPodOperator with a pod built from settings (llmops.pods). Both link the
step's report from the task (an operator extra link, pushed when the task finishes, pass or fail). A step
that ran and found a problem (exit code 1: a gate's verdict, a rollback) fails without retries, since the same
input gives the same verdict; one that could not run (exit code 2, a crash, a lost pod) is retried.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException, TaskAwaitingInput

from llmops.asset_events import describe_outlets
from llmops.config import settings
from llmops.reports import ReportLink
from llmops.steps import EXIT_FAILED, NOT_RETRIED, Step, StepFailed, detached, finished, kill_group, run_local
from llmops.trigger_settle import settled_at

DEFERRED_STEP_MAX_S = 7 * 24 * 3600.0  # a deferred step's deadline when its task has no execution_timeout


class LocalStepOperator(BaseOperator):
    """Run a step's command line as a local process (the ``local`` runtime).

    A step marked ``deferrable`` (a rollout: minutes of analysis windows) runs detached instead, and the task
    defers to :class:`~llmops.step_trigger.StepProcessTrigger` until it ends, resuming every
    ``runtime.log_interval_s`` to add the step's new output to its log (``runtime.deferrable_local_steps``)."""

    template_fields = ("arguments", "report")
    operator_extra_links = (ReportLink(),)
    ui_color = "#e8f4fd"

    def __init__(self, *, step: Step, arguments: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step
        self.arguments = step.arguments() if arguments is None else arguments
        self.report = step.report
        self._group: int | None = None  # the running step's process group, for on_kill

    def execute(self, context: Any) -> str | None:
        step = self.step.with_arguments(list(self.arguments))
        if step.deferrable and settings().runtime.deferrable_local_steps:
            self._start_detached(context, step)  # defers: the task resumes in resume_detached
        try:
            run_local(step, emit=self.log.info, on_start=self._started)
        except StepFailed as exc:
            self._failed(exc)
        finally:
            self._group = None  # ended: its group id may be reused
        return self._succeeded(context)

    def _started(self, pgid: int) -> None:
        self._group = pgid

    @staticmethod
    def _failed(exc: StepFailed) -> None:
        if exc.returncode == EXIT_FAILED:  # a verdict on this input: a retry gives the same one
            raise AirflowFailException(f"{exc} ({NOT_RETRIED})") from exc
        raise exc

    def _succeeded(self, context: Any) -> str | None:
        describe_outlets(context, self.outlets, list(self.arguments))
        return self.report

    def _start_detached(self, context: Any, step: Step) -> None:
        ti = context["ti"]
        attempt = f"{ti.task_id}{'' if ti.map_index < 0 else f'-{ti.map_index}'}/try-{ti.try_number}"
        work = Path(settings().paths.scratch_dir) / "steps" / ti.dag_id / ti.run_id / attempt
        process, shown = detached.start(step, work)
        self.log.info("$ %s", shown)
        self.log.info("step %s runs detached (process group %d, output in %s); the task waits on the triggerer and "
                      "adds the step's output here every %d s", step.name, process.group, process.log,
                      settings().runtime.log_interval_s)  # fmt: skip
        # Airflow applies execution_timeout to no deferred time: the trigger enforces it
        timeout_s = self.execution_timeout.total_seconds() if self.execution_timeout else DEFERRED_STEP_MAX_S
        self._defer({"process": process.as_kwargs(), "deadline": time.time() + timeout_s, "offset": 0,
                     "started_at": time.time()})  # fmt: skip

    def _defer(self, watch: dict[str, Any]) -> None:
        from llmops.step_trigger import StepProcessTrigger  # noqa: PLC0415 - the triggerer's side, when deferring

        resume_at = time.time() + settings().runtime.log_interval_s
        self.defer(trigger=StepProcessTrigger(watch, resume_at, not_before=settled_at()), method_name="resume_detached")

    def resume_detached(self, context: Any, event: dict[str, Any]) -> str | None:
        """Back from the trigger: the step's new output into the task log, then defer again or end as it did."""
        watch = event["watch"]
        name, running = self.step.name, detached.Detached(**watch["process"])
        self._group = running.group
        lines, offset = detached.read_new(running.log, watch["offset"])
        for line in lines:
            self.log.info("%s", line)
        if event["status"] == "running":
            self._defer({**watch, "offset": offset})
        self._group = None
        if event["status"] == "timed_out":
            raise AirflowException(f"step {name!r} ran past the task's execution_timeout: its process group "
                                   "was killed")  # fmt: skip
        if event["status"] == "lost":
            raise AirflowException(f"step {name!r} ended without an exit code: its process group was killed "
                                   "outside Airflow")  # fmt: skip
        code = event["returncode"]
        self.log.info("%s", finished(name, time.time() - watch["started_at"], code))
        if code != 0:
            self._failed(StepFailed(name, code, detached.tail(running.log)))
        return self._succeeded(context)

    def on_kill(self) -> None:
        """The task is being killed (marked failed, timed out): the step's process group goes with it."""
        if self._group is not None:
            self.log.warning("killing step %s (process group %d)", self.step.name, self._group)
            kill_group(self._group)


def retry_policy(timeout_min: int | None = None) -> dict[str, Any]:
    """The project's retries (exponential backoff) and timeout, for step tasks and in-Airflow tasks alike."""
    cfg = settings()
    return {
        "retries": cfg.airflow.retries,
        "retry_delay": timedelta(seconds=cfg.airflow.retry_delay_s),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=cfg.airflow.max_retry_delay_s),
        "execution_timeout": timedelta(minutes=timeout_min or cfg.airflow.step_timeout_min),
    }


def step_task(step: Step, expand_arguments: Any = None, **kwargs: Any) -> Any:
    """The task that runs ``step`` in the configured runtime, with the project's retry policy.

    With ``expand_arguments`` (an XComArg of command lines, each as :meth:`Step.arguments` gives it), the
    task is mapped: one task instance per command line (dynamic task mapping).
    """
    defaults = {"task_id": step.name, **retry_policy(step.timeout_min), **kwargs}
    if settings().runtime.kind == "kubernetes":
        from llmops.pods import KubernetesStepOperator as operator  # noqa: PLC0415 - kubernetes client when used
    else:
        operator = LocalStepOperator
    if expand_arguments is not None:
        return operator.partial(step=step, **defaults).expand(arguments=expand_arguments)
    return operator(step=step, **defaults)


class RolloutApprovalOperator(ApprovalOperator):
    """Airflow's HITL approval for a rollout holding before 100 %: the body is the hold's analysis (from the
    ``hold_task``'s XCom) and the answer goes to the rollout (llmops.deploy.approval), which promotes on Approve
    and rolls back on Reject. No answer within the timeout is a Reject. The wait is deferred to
    :class:`~llmops.deploy.approval_trigger.RolloutEndTrigger`, so it also ends (skipped) when the rollout ends
    without an answer: rolled back during the hold, or timed out on its own."""

    GRACE_S = 120.0  # the rollout's own approval timeout (from its hold's start) comes first

    def __init__(self, *, hold_task: str, **kwargs: Any) -> None:
        super().__init__(body=f"{{{{ ti.xcom_pull(task_ids='{hold_task}')['body'] }}}}", defaults=self.REJECT,
                         **kwargs)  # fmt: skip
        self.hold_task = hold_task

    def execute(self, context: Any) -> Any:
        from llmops.deploy.approval_trigger import RolloutEndTrigger  # noqa: PLC0415 - pydantic, when it runs

        try:
            return super().execute(context)  # writes the request for the UI's Required Actions, then parks
        except TaskAwaitingInput:  # parked until an answer only: wait on the triggerer for the rollout's end too
            held = context["ti"].xcom_pull(task_ids=self.hold_task)
            # without a response timeout, the rollout's own approval timeout bounds the wait
            wait_s = (self.response_timeout.total_seconds() if self.response_timeout
                      else settings().deploy.approval_timeout_s)  # fmt: skip
            self.defer(trigger=RolloutEndTrigger(held["state_file"], time.time() + wait_s + self.GRACE_S,
                                                 not_before=settled_at()), method_name="execute_complete")  # fmt: skip

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from llmops.deploy import approval, state  # noqa: PLC0415 - pydantic models, only when an answer comes

        held = context["ti"].xcom_pull(task_ids=self.hold_task)
        if "chosen_options" not in event:  # the trigger: the rollout ended, or the backstop deadline passed
            return self._unanswered(held, event)
        answer = super().execute_complete(context, event)
        user = answer.get("responded_by_user") or {}
        by = user.get("name") or user.get("id") or "nobody (no answer before the timeout)"
        now = state.load(held["state_file"])
        if now is None or now.status != state.RUNNING:  # rolled back during the hold: the answer changes nothing
            ended = "its state is gone" if now is None else f"{now.status}: {now.reason}"
            raise AirflowSkipException(f"the rollout of {held['canary']} ended before this answer ({ended}); "
                                       f"{answer['chosen_options']} by {by} was not applied")  # fmt: skip
        recorded = approval.record(held["state_file"], answer["chosen_options"] == [self.APPROVE], by)
        self.log.info("%s %s by %s", held["canary"], recorded.decision, by)
        return answer

    def _unanswered(self, held: dict, event: dict[str, Any]) -> None:
        """No answer came. A rollout that ended skips this task (its request stays in Required Actions, answered by
        nobody: a task cannot answer its own HITL request). One still recorded as running at the deadline (its
        process died mid-hold) gets the rejection, so a resumed rollout rolls back."""
        from llmops.deploy import approval  # noqa: PLC0415

        if event.get("timed_out"):
            approval.record(held["state_file"], approved=False, by="nobody (no answer before the timeout)")
            self.log.warning("%s: no answer and the rollout still recorded as running after the approval "
                             "timeout: rejection recorded", held["canary"])  # fmt: skip
            return
        ended = "its state is gone" if event["status"] is None else f"{event['status']}: {event['reason']}"
        raise AirflowSkipException(f"the rollout of {held['canary']} ended before anyone answered ({ended}); "
                                   "nothing to approve")  # fmt: skip
