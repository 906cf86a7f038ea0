"""Human approval before 100 %: the answer file, the approver's page, and the sensor that waits for the hold.

The rollout's side (holding, analysing meanwhile, promoting or rolling back on the answer) runs on real servers
in tests/deploy/test_rollout.py; the DAG's HITL task answered through the REST API in tests/e2e.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from llmops import trigger_settle
from llmops.config import settings
from llmops.deploy import approval, run, state

RESULT = {"metric": "error_rate", "stable": 0.0, "canary": 0.0, "difference": 0.0, "low": -0.2, "high": 0.2,
          "threshold": 0.0, "decision": "continue", "stable_requests": 40, "canary_requests": 41}  # fmt: skip


class TaskStates:
    """What ``ti.get_task_states`` answers the sensor about the rollout task (Airflow's API, not the project's)."""

    dag_id = "llmops_deploy"

    def __init__(self, rollout: str):
        self.rollout = rollout

    def get_task_states(self, dag_id: str, task_ids: list[str], run_ids: list[str]) -> dict:
        return {run_ids[0]: {"rollout": self.rollout}}


def _rollout(root, run_id="manual__1", canary="sa-v2", **fields) -> state.RolloutState:
    st = state.RolloutState(stable="sa-v1", canary=canary, steps=[50, 100], run_id=run_id, approval_required=True,
                            weights=[(time.time(), 0.5)], **fields)  # fmt: skip
    state.save(state.state_path(root, st.stable, st.canary), st)
    return st


@pytest.fixture
def state_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOPS__DEPLOY__STATE_DIR", str(tmp_path / "rollouts"))
    settings.cache_clear()
    yield tmp_path / "rollouts"
    settings.cache_clear()


def test_an_answer_is_its_own_file_and_reads_back(tmp_path):
    path = state.state_path(tmp_path, "sa-v1", "sa-v2")
    assert approval.read(path) is None
    approval.record(path, False, "bob")
    assert approval.read(path).decision == approval.REJECTED and approval.read(path).by == "bob"
    assert state.load(path) is None  # the rollout's own state file is not touched
    assert state.listed(tmp_path) == []  # nor is the answer listed as a rollout (llmops deploy status)
    assert approval.read(path, since=time.time() + 60) is None  # given before this hold began: an earlier one's


def test_the_approvers_page_shows_the_latest_analysis_and_the_rules(tmp_path):
    look = state.Look(step=0, canary_weight=0.5, stable={}, canary={}, results=[RESULT], decision="continue")
    st = _rollout(tmp_path, looks=[look], hold_started=0.0)
    body = approval.hold_body(st, 3600)
    assert "**sa-v2** over **sa-v1** holds at **50 %** canary traffic" in body
    assert "error_rate" in body and "+0.0000 [-0.2000, +0.2000]" in body and "40/41" in body
    assert "No answer by 1970-01-01 01:00 UTC rolls it back" in body


def test_the_sensor_skips_when_no_approval_is_asked(state_root):
    with pytest.raises(AirflowSkipException, match="no approval asked"):
        run.await_hold({"approval": False, "dry_run": False}, "manual__1", TaskStates("running"))
    with pytest.raises(AirflowSkipException, match="no approval asked"):
        run.await_hold({"approval": True, "dry_run": True}, "manual__1", TaskStates("success"))


def test_the_sensor_waits_for_this_runs_hold_then_hands_over_the_page(state_root):
    params = {"approval": True, "dry_run": False}
    assert run.await_hold(params, "manual__1", TaskStates("running")).is_done is False  # not started yet
    _rollout(state_root, run_id="manual__0", canary="sa-v3", hold_started=time.time())  # not this run's hold
    _rollout(state_root)
    assert run.await_hold(params, "manual__1", TaskStates("running")).is_done is False  # still below 100 %
    st = _rollout(state_root, hold_started=time.time())
    done = run.await_hold(params, "manual__1", TaskStates("running"))
    assert done.is_done and done.xcom_value["canary"] == "sa-v2"
    assert done.xcom_value["state_file"] == str(state.state_path(state_root, st.stable, st.canary))
    assert "holds at **50 %**" in done.xcom_value["body"]


def test_the_sensor_skips_when_the_rollout_ended_without_holding(state_root):
    params = {"approval": True, "dry_run": False}
    with pytest.raises(AirflowSkipException, match="task failed"):  # e.g. no passed version: no state at all
        run.await_hold(params, "manual__1", TaskStates("failed"))
    _rollout(state_root, status=state.ROLLED_BACK, reason="step 0 (50%): error_rate")
    with pytest.raises(AirflowSkipException, match="rolled_back: step 0"):
        run.await_hold(params, "manual__1", TaskStates("running"))


class HeldTI:
    """What the approval task's ``ti.xcom_pull`` returns: the sensor's hand-over (llmops.deploy.run.await_hold)."""

    id = "0193-approve-promotion"  # the task instance's id, which its HITL request is filed under

    def __init__(self, state_file: str):
        self.held = {"state_file": state_file, "canary": "sa-v2"}

    def xcom_pull(self, task_ids: str) -> dict:
        return self.held


def _answer(option: str) -> dict:
    """The event Airflow's HITL machinery resumes the task with (a named approver's response)."""
    return {"chosen_options": [option], "params_input": {}, "responded_at": datetime.now(UTC),
            "responded_by_user": {"id": "1", "name": "oncall"}}  # fmt: skip


def _approval_task():
    from llmops.operators import RolloutApprovalOperator

    return RolloutApprovalOperator(task_id="approve_promotion", hold_task="await_hold", subject="Promote?")


def test_an_answer_reaches_a_holding_rollout(state_root):
    st = _rollout(state_root, hold_started=time.time())
    path = state.state_path(state_root, st.stable, st.canary)
    task = _approval_task()
    task.execute_complete({"ti": HeldTI(str(path))}, _answer(task.APPROVE))
    answer = approval.read(path)
    assert answer is not None and answer.decision == approval.APPROVED and answer.by == "oncall"


def test_an_answer_after_the_rollout_rolled_back_during_its_hold_is_not_applied(state_root):
    st = _rollout(state_root, hold_started=time.time(), status=state.ROLLED_BACK, reason="hold: error_rate")
    path = state.state_path(state_root, st.stable, st.canary)
    task = _approval_task()
    with pytest.raises(AirflowSkipException, match=r"ended before this answer \(rolled_back: hold: error_rate\)"):
        task.execute_complete({"ti": HeldTI(str(path))}, _answer(task.APPROVE))
    assert approval.read(path) is None


def _first_event(trigger, within_s: float = 10.0) -> dict | None:
    """The trigger's first event payload, or None if it fires none within ``within_s`` (as the triggerer runs it)."""

    async def first():
        async for event in trigger.run():
            return event.payload
        return None

    async def bounded():
        try:
            return await asyncio.wait_for(first(), within_s)
        except TimeoutError:
            return None

    return asyncio.run(bounded())


def test_the_wait_ends_when_the_rollout_ends_and_not_before(state_root):
    from llmops.deploy.approval_trigger import RolloutEndTrigger

    st = _rollout(state_root, hold_started=time.time())
    path = str(state.state_path(state_root, st.stable, st.canary))
    trigger = RolloutEndTrigger(path, deadline=time.time() + 3600, poll_s=0.05)
    assert _first_event(trigger, within_s=0.5) is None  # holding: nothing to say
    _rollout(state_root, hold_started=time.time(), status=state.ROLLED_BACK, reason="hold: error_rate")
    assert _first_event(trigger) == {"status": "rolled_back", "reason": "hold: error_rate"}
    # nothing either before the deferring try has settled (llmops.trigger_settle), ended rollout or not
    settling = RolloutEndTrigger(path, deadline=time.time() + 3600, poll_s=0.05, not_before=time.time() + 1.0)
    assert _first_event(settling, within_s=0.5) is None
    assert _first_event(settling) == {"status": "rolled_back", "reason": "hold: error_rate"}
    assert RolloutEndTrigger(**settling.serialize()[1]).not_before == settling.not_before
    classpath, kwargs = trigger.serialize()
    assert classpath == "llmops.deploy.approval_trigger.RolloutEndTrigger"
    assert RolloutEndTrigger(**kwargs).state_file == path
    st = _rollout(state_root, canary="sa-v3", hold_started=time.time())
    late = RolloutEndTrigger(str(state.state_path(state_root, st.stable, st.canary)), deadline=time.time(), poll_s=0.05)
    assert _first_event(late) == {"status": "running", "reason": "no answer by the deadline", "timed_out": True}


def test_the_approval_task_waits_on_the_rollouts_end_as_well_as_for_an_answer(state_root, monkeypatch):
    """The HITL request is written for the UI, then the wait is deferred to the rollout-end trigger (Airflow 3.3
    would park it awaiting an answer only)."""
    from airflow.providers.standard.operators import hitl
    from airflow.sdk.exceptions import TaskDeferred

    requests = []
    monkeypatch.setattr(hitl, "upsert_hitl_detail", lambda **request: requests.append(request))
    st = _rollout(state_root, hold_started=time.time())
    path = str(state.state_path(state_root, st.stable, st.canary))
    task = _approval_task()
    task.response_timeout = timedelta(hours=4)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({"ti": HeldTI(path), "task_instance": HeldTI(path)})
    assert requests and requests[0]["options"] == ["Approve", "Reject"]
    trigger = deferred.value.trigger
    assert trigger.state_file == path and deferred.value.method_name == "execute_complete"
    assert abs(trigger.deadline - (time.time() + 4 * 3600 + task.GRACE_S)) < 60
    assert 0 < trigger.not_before - time.time() <= trigger_settle.SETTLE_S


def test_a_rollout_that_ended_unanswered_skips_the_approval(state_root):
    st = _rollout(state_root, hold_started=time.time(), status=state.ROLLED_BACK, reason="rolled back by oncall")
    path = state.state_path(state_root, st.stable, st.canary)
    task = _approval_task()
    with pytest.raises(AirflowSkipException, match=r"ended before anyone answered \(rolled_back: rolled back by"):
        task.execute_complete({"ti": HeldTI(str(path))}, {"status": "rolled_back", "reason": "rolled back by oncall"})
    assert approval.read(path) is None


def test_a_rollout_still_running_at_the_deadline_gets_the_rejection(state_root):
    st = _rollout(state_root, hold_started=time.time())
    path = state.state_path(state_root, st.stable, st.canary)
    _approval_task().execute_complete({"ti": HeldTI(str(path))}, {"status": "running", "timed_out": True,
                                                                   "reason": "no answer by the deadline"})  # fmt: skip
    answer = approval.read(path)
    assert answer is not None and answer.decision == approval.REJECTED and answer.by.startswith("nobody")
