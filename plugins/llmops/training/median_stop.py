"""Katib's median stopping rule, as a pure function.

A running trial is stopped at step S when its best objective so far is strictly worse than the median of
the running averages of the *completed* trials' objectives reported up to S. The rule waits until
``min_trials`` trials have completed and the trial has reported ``start_step`` times (Katib's defaults:
3 and 4). Lower is better (validation loss).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

History = list[tuple[int, float]]  # (step, value), oldest first


@dataclass(frozen=True)
class Decision:
    stop: bool
    reason: str


def running_average(history: History, up_to_step: int) -> float | None:
    values = [value for step, value in history if step <= up_to_step]
    return sum(values) / len(values) if values else None


def decide(trial: History, completed: list[History], min_trials: int = 3, start_step: int = 4) -> Decision:
    if len(completed) < min_trials:
        return Decision(False, f"{len(completed)} of {min_trials} trials completed: rule not active yet")
    if len(trial) < start_step:
        return Decision(False, f"{len(trial)} of {start_step} reports: rule not active yet")
    step = trial[-1][0]
    averages = [avg for history in completed if (avg := running_average(history, step)) is not None]
    if len(averages) < min_trials:
        return Decision(False, f"only {len(averages)} completed trials reported by step {step}")
    median = statistics.median(averages)
    best = min(value for _, value in trial)
    if best > median:
        return Decision(True, f"best {best:.4f} by step {step} is worse than the median {median:.4f} "
                              f"of {len(averages)} completed trials' running averages")
    return Decision(False, f"best {best:.4f} by step {step} is within the median {median:.4f}")
