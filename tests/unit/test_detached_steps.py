"""A deferrable step in the local runtime (the rollout): it runs detached, the task defers to a trigger that
watches it, resumes to add the step's output to its log, and ends as the step did. Killing it stays possible
from every side: a user's action on the deferred task (the trigger's on_kill), the deadline, the operator's
on_kill while resumed; a group killed from outside is reported, not waited on forever."""

from __future__ import annotations

import asyncio
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from llmops.config import settings
from llmops.step_trigger import StepProcessTrigger
from llmops.steps import Step, StepFailed, detached

# prints a line, sleeps argv[2] seconds, prints another, writes argv[1]/published, exits argv[3]
STEP_MODULE = textwrap.dedent("""
    import sys, time
    from pathlib import Path

    print("step started", flush=True)
    time.sleep(float(sys.argv[2]))
    print("step done", flush=True)
    Path(sys.argv[1], "published").write_text("1")
    sys.exit(int(sys.argv[3]))
""")


@pytest.fixture
def out(tmp_path, monkeypatch) -> Iterator[Path]:
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "waiting_step.py").write_text(STEP_MODULE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path / "mod"),
                                                                   os.environ.get("PYTHONPATH")])))  # fmt: skip
    monkeypatch.setenv("LLMOPS__PATHS__SCRATCH_DIR", str(tmp_path / "scratch"))
    settings.cache_clear()
    (tmp_path / "out").mkdir()
    yield tmp_path / "out"
    settings.cache_clear()


def _step(out: Path, sleep_s: float, code: int = 0) -> Step:
    return Step("wait", "waiting_step", (str(out), str(sleep_s), str(code)), deferrable=True)


def _fire(trigger: StepProcessTrigger, timeout_s: float = 60) -> dict:
    async def first():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(asyncio.wait_for(first(), timeout_s))


def _watch(process: detached.Detached, deadline_s: float = 600) -> dict:
    return {"process": process.as_kwargs(), "deadline": time.time() + deadline_s, "offset": 0,
            "started_at": time.time()}


def _trigger(process: detached.Detached, deadline_s: float = 600, resume_s: float = 600) -> StepProcessTrigger:
    return StepProcessTrigger(_watch(process, deadline_s), resume_at=time.time() + resume_s, poll_s=0.1)


def _status(event: dict) -> dict:
    return {k: v for k, v in event.items() if k != "watch"}


def _gone(group: int, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while detached.alive(group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_trigger_resumes_for_the_log_while_the_step_runs_then_reports_its_exit_code(out, tmp_path):
    process, shown = detached.start(_step(out, 2, code=3), tmp_path / "work")
    assert "waiting_step" in shown
    assert _status(_fire(_trigger(process, resume_s=0.5))) == {"status": "running"}
    assert _status(_fire(_trigger(process))) == {"status": "ended", "returncode": 3}
    lines, offset = detached.read_new(process.log, 0)
    assert lines == ["step started", "step done"] and offset == Path(process.log).stat().st_size
    assert detached.read_new(process.log, offset) == ([], offset)


def test_the_deadline_kills_the_step_and_fires(out, tmp_path):
    process, _ = detached.start(_step(out, 30), tmp_path / "work")
    assert _status(_fire(_trigger(process, deadline_s=1))) == {"status": "timed_out"}
    assert _gone(process.group)
    assert not (out / "published").exists()


def test_a_users_kill_of_the_deferred_task_kills_the_step(out, tmp_path):
    process, _ = detached.start(_step(out, 30), tmp_path / "work")
    asyncio.run(_trigger(process).on_kill())
    assert _gone(process.group)
    assert _status(_fire(_trigger(process))) == {"status": "lost"}  # killed: no exit code was recorded
    assert not (out / "published").exists()


def _operator(step: Step):
    from llmops.operators import LocalStepOperator

    return LocalStepOperator(task_id=step.name, step=step, execution_timeout=None)


class _TI:
    dag_id, run_id, task_id, map_index, try_number = "llmops_deploy", "manual__2026-12-06T00:00:00+00:00", "wait", -1, 1


def test_no_event_before_the_deferring_try_has_settled(out, tmp_path):
    """Airflow 3.3.2 fails a task whose trigger fires before the scheduler has seen the deferring try exit
    (llmops.trigger_settle): an ended step's trigger still waits for its not_before."""
    process, _ = detached.start(_step(out, 0), tmp_path / "work")
    deadline = time.monotonic() + 30
    while detached.exit_code(process.status) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    not_before = time.time() + 1.0
    trigger = StepProcessTrigger(_watch(process), resume_at=time.time(), poll_s=0.1, not_before=not_before)
    assert _status(_fire(trigger)) == {"status": "ended", "returncode": 0}
    assert time.time() >= not_before
    assert StepProcessTrigger(**trigger.serialize()[1]).not_before == not_before


def test_the_operator_defers_resumes_with_the_log_and_ends_as_the_step_did(out, capsys, monkeypatch):
    from llmops import trigger_settle

    monkeypatch.setattr(trigger_settle, "SETTLE_S", 1.0)  # Airflow's 15 s by default
    op = _operator(_step(out, 0.5, code=0))
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({"ti": _TI()})
    trigger = deferred.value.trigger
    assert isinstance(trigger, StepProcessTrigger) and deferred.value.method_name == "resume_detached"
    assert 0 < trigger.not_before - time.time() <= 1.0
    scratch = Path(os.environ["LLMOPS__PATHS__SCRATCH_DIR"]) / "steps"
    assert Path(trigger.watch["process"]["log"]).is_relative_to(scratch)
    event = _fire(trigger)
    assert _status(event) == {"status": "ended", "returncode": 0}
    capsys.readouterr()
    assert op.resume_detached({"ti": _TI()}, event) == op.report
    logged = capsys.readouterr().out  # the task log: Airflow's structlog writes it to stdout here
    assert "step started" in logged and "step done" in logged and "with exit code 0" in logged
    assert (out / "published").exists()


def test_a_resume_while_running_defers_again_from_where_the_log_was_read(out):
    op = _operator(_step(out, 30))
    with pytest.raises(TaskDeferred) as first:
        op.execute({"ti": _TI()})
    watch = first.value.trigger.watch
    process = detached.Detached(**watch["process"])
    try:
        while not detached.read_new(process.log, 0)[0]:
            time.sleep(0.05)
        with pytest.raises(TaskDeferred) as again:
            op.resume_detached({}, {"status": "running", "watch": watch})
        assert again.value.trigger.watch == {**watch, "offset": len("step started\n")}
    finally:
        op.on_kill()  # resumed, then killed: the operator's own on_kill takes the group down
    assert _gone(process.group)


@pytest.mark.parametrize(("event", "error", "message"), [
    ({"status": "ended", "returncode": 1}, AirflowFailException, "exit code 1"),
    ({"status": "ended", "returncode": 2}, StepFailed, "exit code 2"),
    ({"status": "timed_out"}, AirflowException, "execution_timeout"),
    ({"status": "lost"}, AirflowException, "killed outside Airflow"),
])  # fmt: skip
def test_how_a_detached_step_ended_decides_the_task(out, tmp_path, event, error, message):
    """Exit 1 fails without retries, exit 2 is retried (as in the blocking mode); a deadline or a lost group fails."""
    op = _operator(_step(out, 0))
    process, _ = detached.start(_step(out, 0), tmp_path / "work")
    with pytest.raises(error, match=message):
        op.resume_detached({}, {**event, "watch": _watch(process)})
