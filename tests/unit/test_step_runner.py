"""Steps die with their task: a killed runner (SIGKILL of its process group, as a lost worker or Airflow's
timeout does) or an operator's on_kill takes the step's whole process group down before it can publish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from llmops.steps import Step, StepFailed, run_local

# A step that starts a grandchild, says it is running, sleeps, then "publishes" (writes a file); the
# grandchild publishes too. Neither file may ever appear once the runner is killed.
STEP_MODULE = textwrap.dedent("""
    import subprocess, sys, time
    from pathlib import Path

    out = Path(sys.argv[1])
    grandchild = "import time, pathlib; time.sleep(3); pathlib.Path(%r).write_text('late')" % str(out / "grandchild")
    subprocess.Popen([sys.executable, "-c", grandchild])
    (out / "started").write_text("1")
    time.sleep(3)
    (out / "published").write_text("1")
""")

RUNNER = "import sys; from llmops.steps import Step, run_local; run_local(Step('slow', 'slow_step', (sys.argv[1],)))"


@pytest.fixture
def step_dir(tmp_path, monkeypatch) -> Path:
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "slow_step.py").write_text(STEP_MODULE)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path / "mod"), os.environ.get("PYTHONPATH")]))
    )
    return out


def _wait_for(path: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _assert_never_published(out: Path) -> None:
    time.sleep(5)  # past the step's 3 s sleep and the grandchild's
    assert not (out / "published").exists(), "the step outlived its runner"
    assert not (out / "grandchild").exists(), "a process the step started outlived the runner"


@pytest.mark.parametrize("kill", ["runner_group", "runner_only"])
def test_a_killed_runner_takes_its_step_group_down(step_dir, kill):
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(step_dir)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(step_dir / "started")
        if kill == "runner_group":  # what a lost worker or Airflow's kill of the task's group does
            os.killpg(runner.pid, signal.SIGKILL)
        else:  # the runner alone dies, its cleanup never runs
            runner.kill()
        runner.wait(timeout=30)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    _assert_never_published(step_dir)


def test_on_kill_stops_the_running_step(step_dir):
    from llmops.operators import LocalStepOperator

    op = LocalStepOperator(task_id="slow", step=Step("slow", "slow_step", (str(step_dir),)))
    outcome: list[BaseException] = []

    def execute() -> None:
        try:
            op.execute({})
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=execute)
    thread.start()
    _wait_for(step_dir / "started")
    op.on_kill()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert isinstance(outcome[0], StepFailed) and outcome[0].returncode == -signal.SIGKILL
    _assert_never_published(step_dir)


def test_a_step_that_finishes_is_not_touched(step_dir):
    started: list[int] = []
    run_local(Step("slow", "slow_step", (str(step_dir),)), emit=lambda line: None, on_start=started.append)
    assert (step_dir / "published").read_text() == "1" and started


@pytest.mark.parametrize(("code", "retried"), [(1, False), (2, True)])
def test_a_step_that_exits_1_fails_without_retries(step_dir, code, retried):
    """Exit 1 (the step ran and found a problem, e.g. a failed gate) would give the same verdict on a retry: the
    task fails at once. Exit 2 (could not run) stays a plain failure, retried by the task's policy."""
    from airflow.sdk.exceptions import AirflowFailException

    from llmops.operators import LocalStepOperator

    (step_dir.parent / "mod" / "exit_step.py").write_text("import sys; sys.exit(int(sys.argv[1]))")
    op = LocalStepOperator(task_id="gate", step=Step("gate", "exit_step", (str(code),)))
    with pytest.raises(StepFailed if retried else AirflowFailException) as error:
        op.execute({})
    assert isinstance(error.value, AirflowFailException) is not retried
    assert f"exit code {code}" in str(error.value)
