"""Human approval before 100 %: the answer is a file beside the rollout's state, read after each analysis window.

With approval required, a rollout whose steps below 100 % all passed holds at its last canary weight and keeps
analysing: a rollback condition still rolls it back while nobody has answered (Flagger #1801 does not). The
DAG's approval task (:class:`llmops.operators.RolloutApprovalOperator`, Airflow's HITL ``ApprovalOperator``)
shows :func:`hold_body` and writes the answer with :func:`record`. The answer has a file of its own, not a field
of the state file, so the approver and the running rollout never overwrite each other. No answer within
``deploy.approval_timeout_s`` rolls back: nothing is promoted without a yes.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Literal

from pydantic import BaseModel, Field

from llmops import lakefs
from llmops.deploy import state
from llmops.deploy.analysis import MetricResult, format_table

APPROVED, REJECTED = "approved", "rejected"


class Answer(BaseModel):
    decision: Literal["approved", "rejected"]
    by: str
    at: float = Field(default_factory=time.time)


def answer_path(state_file: str | os.PathLike) -> str:
    """``<canary>-over-<stable>.approval`` beside the state file (JSON, but not listed as a rollout's state)."""
    return os.fspath(state_file).removesuffix(".json") + ".approval"


def record(state_file: str | os.PathLike, approved: bool, by: str) -> Answer:
    """Write the human's answer for the rollout whose state is ``state_file`` (atomically, as the state)."""
    answer = Answer(decision=APPROVED if approved else REJECTED, by=by)
    state.save(answer_path(state_file), answer)
    return answer


def read(state_file: str | os.PathLike, since: float | None = None) -> Answer | None:
    """The answer for this rollout; one given before ``since`` (its hold began) belongs to an earlier one."""
    found = lakefs.read_json(answer_path(state_file))
    answer = None if found is None else Answer.model_validate(found)
    return answer if answer is not None and (since is None or answer.at >= since) else None


def find(state_dir: str | os.PathLike, run_id: str) -> tuple[str, state.RolloutState] | None:
    """The rollout started by the Airflow run ``run_id`` (None: it has not written its state yet)."""
    for path in state.listed(state_dir):
        st = state.load(path)
        if st is not None and st.run_id == run_id:
            return path, st
    return None


def hold_body(st: state.RolloutState, timeout_s: float) -> str:
    """What the approver reads (Markdown): the versions, the canary's weight, the latest analysis and the rules."""
    weight = st.weights[-1][1] if st.weights else 0.0
    started = st.hold_started if st.hold_started is not None else time.time()
    until = dt.datetime.fromtimestamp(started + timeout_s, dt.UTC)
    lines = [f"**{st.canary}** over **{st.stable}** holds at **{100 * weight:g} %** canary traffic: every step "
             f"below 100 % passed the canary analysis ({len(st.looks)} looks)."]  # fmt: skip
    if st.looks:
        latest = st.looks[-1]
        results = [MetricResult(**{**r, "decision": r["decision"]}) for r in latest.results]
        lines += ["", "Latest analysis (canary - stable, always-valid intervals):", "", "```text",
                  format_table(results), "```"]  # fmt: skip
    lines += ["", "**Approve** promotes it to 100 % and makes it the champion; **Reject** rolls it back. The analysis "
              f"goes on while this waits: a failing metric rolls it back at once, and then this answer changes "
              f"nothing. No answer by {until:%Y-%m-%d %H:%M} UTC rolls it back."]  # fmt: skip
    return "\n".join(lines)
