"""Run steps as local child processes (the ``local`` runtime and ``llmops ... run``) that die with their task.

A step runs in a process group of its own, so that killing the step kills everything it started (a Spark
JVM, a model server). The group goes down when the task ends it (an exception or timeout in the runner,
the operator's ``on_kill``) and also when the runner itself dies without cleaning up (SIGKILL of the
task's process group, a lost worker): the step's process has the kernel's parent-death signal, and a
small watcher process outside both groups kills the step's group once the runner is gone.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from llmops.config import settings
from llmops.steps.model import Step, StepFailed
from llmops.steps.spark_submit import is_spark_step, submit_argv

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WATCH_POLL_S = 0.2
# The watcher: once its parent (the runner) is gone, the kernel re-parents it and its parent pid changes.
# A ``-c`` program of the standard library only, so it starts in milliseconds.
_WATCHER = f"""
import os, signal, sys, time
runner, group = int(sys.argv[1]), int(sys.argv[2])
while os.getppid() == runner:
    time.sleep({_WATCH_POLL_S})
try:
    os.killpg(group, signal.SIGKILL)
except ProcessLookupError:
    pass
"""


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec function asking the kernel to SIGKILL the child when its parent dies (Linux prctl)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the watcher process alone covers it
        return None
    return lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_DIE_WITH_PARENT = _parent_death_signal()


def kill_group(pgid: int) -> None:
    """SIGKILL a step's process group; one that has already exited is fine."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _start_watcher(pgid: int) -> subprocess.Popen:
    """The watcher of ``pgid``: in a session of its own, so a kill of the runner's group leaves it to act."""
    return subprocess.Popen(
        [sys.executable, "-S", "-c", _WATCHER, str(os.getpid()), str(pgid)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def command(step: Step, extra_env: dict | None = None) -> tuple[list[str], str, dict[str, str]]:
    """A step's local process: its argv (``spark-submit`` for a Spark step when configured), the line to show in
    the log, and its environment."""
    env = {**os.environ, **step.env, **(extra_env or {}), "PYTHONUNBUFFERED": "1"}
    cfg = settings()
    if cfg.spark.submit and is_spark_step(step):
        argv = submit_argv(step, cfg, sys.executable)
        return argv, " ".join(argv), env
    return step.argv(sys.executable), " ".join(step.argv()), env


def finished(name: str, seconds: float, returncode: int) -> str:
    """The log line that ends a step's output, in either way of running it."""
    return f"step {name} finished in {seconds:.1f}s with exit code {returncode}"


def run_local(
    step: Step,
    emit: Callable[[str], None] | None = None,
    extra_env: dict | None = None,
    on_start: Callable[[int], None] | None = None,
) -> None:
    """Run a step's command line as a child process, streaming its output line by line.

    The child runs this environment's interpreter; its output goes to ``emit`` (the task log), and
    the last lines are kept for the error message. ``on_start`` gets the child's process group id (for
    an operator's ``on_kill``). Raises :class:`StepFailed` on a non-zero exit.
    """
    emit = emit or log.info
    argv, shown, env = command(step, extra_env)
    emit(f"$ {shown}")
    started = time.monotonic()
    tail: list[str] = []
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=env,
        start_new_session=True, preexec_fn=_DIE_WITH_PARENT,
    ) as proc:  # fmt: skip
        watcher = _start_watcher(proc.pid)  # start_new_session: the group id is the child's pid
        try:
            if on_start is not None:
                on_start(proc.pid)
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\n")
                emit(line)
                tail = (tail + [line])[-40:]
            proc.wait()
        except BaseException:  # task killed or timed out: take the whole process group down
            kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            watcher.kill()
            watcher.wait()
    emit(finished(step.name, time.monotonic() - started, proc.returncode))
    if proc.returncode != 0:
        raise StepFailed(step.name, proc.returncode, tail)


def run_all(steps: list[Step], emit: Callable[[str], None] | None = None) -> None:
    """Run steps in order, stopping at the first that fails (what a DAG run does, in one process)."""
    for step in steps:
        run_local(step, emit)
