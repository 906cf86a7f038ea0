"""Heavy steps as command lines (DESIGN.md principle 2).

A :class:`Step` is one command line. The DAG turns it into a task that runs the line as a local
process (``local`` runtime) or in a pod (``kubernetes`` runtime); ``llmops data run`` runs the very
same lines one after another outside Airflow. Arguments may hold Jinja templates when a DAG uses
them; outside Airflow they are plain values.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

EXIT_FAILED = 1  # the step ran and found a problem (a gate failed, counts do not reconcile)
EXIT_ERROR = 2  # the step could not run (bad arguments, missing input, crash)


@dataclass(frozen=True)
class Step:
    name: str
    module: str  # run as `python -m <module> <args>`
    args: tuple[str, ...] = ()
    pod: str = "spark"  # which settings.runtime.pods profile runs it in the kubernetes runtime
    report: str | None = None  # URI of the human report this step writes, linked from its task
    timeout_min: int | None = None
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, python: str = "python") -> list[str]:
        return [python, *self.arguments()]

    def arguments(self) -> list[str]:
        """What follows the interpreter on the command line: the same list for a process and a pod."""
        return ["-m", self.module, *self.args]

    def with_arguments(self, arguments: list[str]) -> Step:
        """This step with a command line given as :meth:`arguments` gives it (rendered, or mapped per task)."""
        if len(arguments) < 2 or arguments[0] != "-m":
            raise ValueError(f"expected ['-m', module, *args], got {arguments!r}")
        return Step(self.name, arguments[1], tuple(arguments[2:]), self.pod, self.report, self.timeout_min, self.env)


class StepFailed(RuntimeError):
    def __init__(self, step: str, returncode: int, tail: list[str]):
        self.step, self.returncode, self.tail = step, returncode, tail
        kind = "failed" if returncode == EXIT_FAILED else "errored"
        detail = "\n".join(tail[-15:])
        super().__init__(f"step {step!r} {kind} (exit code {returncode}); last output:\n{detail}")


def run_local(step: Step, emit: Callable[[str], None] | None = None, extra_env: dict | None = None) -> None:
    """Run a step's command line as a child process, streaming its output line by line.

    The child runs this environment's interpreter; its output goes to ``emit`` (the task log), and
    the last lines are kept for the error message. Raises :class:`StepFailed` on a non-zero exit.
    """
    emit = emit or log.info
    env = {**os.environ, **step.env, **(extra_env or {}), "PYTHONUNBUFFERED": "1"}
    argv = step.argv(sys.executable)
    emit(f"$ {' '.join(step.argv())}")
    started = time.monotonic()
    tail: list[str] = []
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    ) as proc:
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\n")
                emit(line)
                tail = (tail + [line])[-40:]
            proc.wait()
        except BaseException:  # task killed or timed out: take the whole process group down
            os.killpg(proc.pid, 9)
            proc.wait()
            raise
    emit(f"step {step.name} finished in {time.monotonic() - started:.1f}s with exit code {proc.returncode}")
    if proc.returncode != 0:
        raise StepFailed(step.name, proc.returncode, tail)


def run_all(steps: list[Step], emit: Callable[[str], None] | None = None) -> None:
    """Run steps in order, stopping at the first that fails (what a DAG run does, in one process)."""
    for step in steps:
        run_local(step, emit)


def ds_arg(value: str) -> str:
    """argparse type for a logical date: a clear usage error (exit 2) instead of a traceback."""
    from llmops.lake import check_ds  # noqa: PLC0415 - steps stays importable without the lake module's deps

    try:
        return check_ds(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def lake_step_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The arguments every lake step takes: where the lake is and which date to process."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--lake-root", required=True, help="lake URI (file:///..., s3a://...)")
    parser.add_argument("--ds", required=True, type=ds_arg, help="logical date, YYYY-MM-DD")
    return parser


def guarded(name: str, body: Callable[[], int | None]) -> int:
    """Run a step's body; an exception becomes EXIT_ERROR with one line naming the step and the cause
    (the traceback is logged just above it, for whoever needs more)."""
    try:
        return body() or 0
    except Exception as exc:
        log.exception("%s failed", name)
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
