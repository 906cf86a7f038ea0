"""The step model: one heavy step as one command line (DESIGN.md principle 2), and how it ends.

A :class:`Step` is one command line. The DAG turns it into a task that runs the line as a local
process (``local`` runtime) or in a pod (``kubernetes`` runtime); ``llmops data run`` runs the very
same lines one after another outside Airflow. Arguments may hold Jinja templates when a DAG uses
them; outside Airflow they are plain values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

EXIT_FAILED = 1  # the step ran and found a problem (a gate failed, counts do not reconcile)
EXIT_ERROR = 2  # the step could not run (bad arguments, missing input, crash)
# why an EXIT_FAILED task fails without retries, in either runtime's operator: a retry repeats the verdict
NOT_RETRIED = "not retried: the step ran and found a problem"


@dataclass(frozen=True)
class Step:
    name: str
    module: str  # run as `python -m <module> <args>`
    args: tuple[str, ...] = ()
    pod: str = "spark"  # which settings.runtime.pods profile runs it in the kubernetes runtime
    report: str | None = None  # URI of the human report this step writes, linked from its task
    timeout_min: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    # mostly waiting (a rollout's analysis windows): in the local runtime it runs detached and its task defers
    # to the triggerer, holding no worker slot (runtime.deferrable_local_steps), as pods do in kubernetes
    deferrable: bool = False

    def argv(self, python: str = "python") -> list[str]:
        return [python, *self.arguments()]

    def arguments(self) -> list[str]:
        """What follows the interpreter on the command line: the same list for a process and a pod."""
        return ["-m", self.module, *self.args]

    def with_arguments(self, arguments: list[str]) -> Step:
        """This step with a command line given as :meth:`arguments` gives it (rendered, or mapped per task)."""
        if len(arguments) < 2 or arguments[0] != "-m":
            raise ValueError(f"expected ['-m', module, *args], got {arguments!r}")
        return dataclasses.replace(self, module=arguments[1], args=tuple(arguments[2:]))


class StepFailed(RuntimeError):
    def __init__(self, step: str, returncode: int, tail: list[str]):
        self.step, self.returncode, self.tail = step, returncode, tail
        kind = "failed" if returncode == EXIT_FAILED else "errored"
        detail = "\n".join(tail[-15:])
        super().__init__(f"step {step!r} {kind} (exit code {returncode}); last output:\n{detail}")
