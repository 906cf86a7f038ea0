"""The triggerer's watch over a detached local step (llmops.steps.detached) while its task is deferred.

It fires when the step ends (its exit code), when its process group is gone without one, when the step's
deadline passes (the group killed first: Airflow applies ``execution_timeout`` to no deferred time), and every
``log_interval_s`` meanwhile, so that the task resumes for a moment to append the step's new output to its log and
defers again (what KubernetesPodOperator's ``logging_interval`` does for a pod). A user's mark-failed or clear
of the deferred task kills the step (``on_kill``); a triggerer restart does not (Airflow calls ``on_kill`` only for
a user's action), and the next triggerer takes the watch over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from llmops.steps import detached, kill_group
from llmops.trigger_settle import settle


class StepProcessTrigger(BaseTrigger):
    """Fires ``{"status": "ended", "returncode": n}``, ``{"status": "lost"}``, ``{"status": "timed_out"}`` or, at
    ``resume_at`` (epoch seconds), ``{"status": "running"}``. Every event also carries ``watch``: what the task
    needs to go on (the process, its deadline, how far its log was read, when it started), in the event rather
    than in the deferral's kwargs, which ``airflow dags test`` does not hand back. No event before ``not_before``
    (:mod:`llmops.trigger_settle`)."""

    def __init__(self, watch: dict[str, Any], resume_at: float, poll_s: float = 1.0, not_before: float = 0.0):
        super().__init__()
        self.watch, self.resume_at, self.poll_s, self.not_before = watch, resume_at, poll_s, not_before
        self.process, self.deadline = detached.Detached(**watch["process"]), watch["deadline"]

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"watch": self.watch, "resume_at": self.resume_at, "poll_s": self.poll_s,
                 "not_before": self.not_before})  # fmt: skip

    def _event(self) -> dict[str, Any] | None:
        if (code := detached.exit_code(self.process.status)) is not None:
            return {"status": "ended", "returncode": code}
        if not detached.alive(self.process.group):
            # the wrapper records the code before it exits: read again, it may have ended since the first look
            code = detached.exit_code(self.process.status)
            return {"status": "lost"} if code is None else {"status": "ended", "returncode": code}
        if time.time() >= self.deadline:
            kill_group(self.process.group)
            return {"status": "timed_out"}
        if time.time() >= self.resume_at:
            return {"status": "running"}
        return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        await settle(self.not_before)
        while (event := self._event()) is None:
            await asyncio.sleep(self.poll_s)
        yield TriggerEvent({**event, "watch": self.watch})

    async def on_kill(self) -> None:
        """A user marked the deferred task failed or cleared it: the step goes with it."""
        self.log.warning("killing the detached step's process group %d", self.process.group)
        kill_group(self.process.group)
