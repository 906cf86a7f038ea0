"""The approval task's wait, on the triggerer: it ends when the rollout it would approve ends without an answer.

Airflow's HITL wait ends only with an answer or its own timeout, so a rollout rolled back during its hold (a
failing metric, the on-call's ``llmops deploy rollback``, the rollout's own approval timeout) would leave the
approval task waiting for hours, and the run with it (``max_active_runs=1``: the next candidate queues behind
it). This trigger polls the rollout's state file instead; an answer in the UI still resumes the task at once
(Airflow's HITL response handler resumes a deferred task directly). The state file is read through
:mod:`llmops.lakefs`, so the triggerer needs the lake's credentials as the steps have them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from llmops.trigger_settle import settle


class RolloutEndTrigger(BaseTrigger):
    """Fires ``{"status", "reason"}`` once the rollout in ``state_file`` is no longer running (status None: its
    state is gone), or ``{"status": "running", "timed_out": True}`` at ``deadline`` (epoch seconds), a backstop
    for a rollout whose process died mid-hold. No event before ``not_before`` (:mod:`llmops.trigger_settle`)."""

    def __init__(self, state_file: str, deadline: float, poll_s: float = 5.0, not_before: float = 0.0):
        super().__init__()
        self.state_file, self.deadline, self.poll_s, self.not_before = state_file, deadline, poll_s, not_before

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"state_file": self.state_file, "deadline": self.deadline, "poll_s": self.poll_s,
                 "not_before": self.not_before})  # fmt: skip

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from llmops.deploy import state  # noqa: PLC0415 - pydantic models, loaded in the triggerer only

        await settle(self.not_before)
        while True:
            st = await asyncio.to_thread(state.load, self.state_file)
            if st is None or st.status != state.RUNNING:
                yield TriggerEvent({"status": None if st is None else st.status, "reason": st.reason if st else ""})
                return
            if time.time() >= self.deadline:
                yield TriggerEvent({"status": st.status, "reason": "no answer by the deadline", "timed_out": True})
                return
            await asyncio.sleep(self.poll_s)
