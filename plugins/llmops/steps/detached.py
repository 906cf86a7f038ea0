"""A step run as a detached local process, for a task that defers while it runs (the ``local`` runtime's
counterpart of KubernetesPodOperator's deferrable mode: no worker slot held through a rollout's windows).

The step runs under a small wrapper in a process group of its own, its output appended to a log file, and the
wrapper writes the step's exit code to a status file (atomically) when it ends. The task that started it exits
on deferral, so the step outlives it by design; what ends a step early is killing its group: the trigger does
when a user acts on the deferred task (``on_kill``) or when the step's deadline passes, the operator does when
it is killed while resumed. A group gone without a status file was killed from outside.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from llmops.steps.model import Step
from llmops.steps.runner import command

# stdlib only and without site (-S): the wrapper costs milliseconds and never imports the project
_WRAPPER = """
import os, subprocess, sys
log, status, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(log, "ab", buffering=0) as out:
    code = subprocess.call(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
with open(status + ".tmp", "w") as f:
    f.write(str(code))
os.replace(status + ".tmp", status)
"""


@dataclass(frozen=True)
class Detached:
    """A started step: its process group and where its output and exit code land (all the trigger needs)."""

    group: int
    log: str
    status: str

    def as_kwargs(self) -> dict:
        return asdict(self)


def start(step: Step, work_dir: Path) -> tuple[Detached, str]:
    """Start ``step`` detached, its files in ``work_dir`` (one per task attempt); the process and the command
    line to show in the task log."""
    work_dir.mkdir(parents=True, exist_ok=True)
    log, status = work_dir / "step.log", work_dir / "exit_status"
    status.unlink(missing_ok=True)
    argv, shown, env = command(step)
    proc = subprocess.Popen(
        [sys.executable, "-S", "-c", _WRAPPER, str(log), str(status), *argv], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    return Detached(proc.pid, str(log), str(status)), shown


def exit_code(status: str) -> int | None:
    """The step's exit code once its wrapper recorded it; None while it runs (or when it was killed)."""
    try:
        return int(Path(status).read_text())
    except FileNotFoundError:
        return None


def alive(group: int) -> bool:
    """Whether the group's leader (the wrapper) still runs: an exited one that nobody reaped yet (a zombie, as
    under ``airflow dags test``, whose process started it) counts as gone."""
    try:
        stat = Path(f"/proc/{group}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no procfs (not Linux): whether the pid exists at all
        try:
            os.kill(group, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def read_new(log: str, offset: int) -> tuple[list[str], int]:
    """The complete lines written to ``log`` after byte ``offset``, and the offset after them."""
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return data[:end].decode(errors="replace").splitlines(), offset + end


def tail(log: str, lines: int = 40) -> list[str]:
    """The last ``lines`` lines of the step's output, for the error message of a failed step."""
    try:
        return Path(log).read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return []
