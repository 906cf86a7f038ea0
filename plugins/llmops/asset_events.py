"""What an Asset event says: the date it published, and the run that published it.

A step task that emits an Asset (gate_gold → ``gold_sft``, decide → ``model_passed_gates``) records its ``--ds``
in the event's ``extra``. A run started by that event then processes that date (:func:`llmops.templating.run_ds`),
not the day the scheduler happened to start it: gold for 2026-11-30 published on 2026-12-05 trains on
2026-11-30's data, and the run's log names the event that started it.
"""

from __future__ import annotations

from typing import Any


def argument(arguments: list[str], flag: str) -> str | None:
    """The value after ``flag`` in a step's command line, or None."""
    for i, item in enumerate(arguments[:-1]):
        if item == flag:
            return arguments[i + 1]
    return None


def describe_outlets(context: Any, outlets: list[Any], arguments: list[str]) -> None:
    """Put the step's date and the emitting task on every Asset event this task emits."""
    ti = context["ti"]
    extra = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id}
    if ds := argument(arguments, "--ds"):
        extra["ds"] = ds
    for asset in outlets:
        context["outlet_events"][asset].extra.update(extra)


def triggering_ds(triggering_asset_events: Any) -> str | None:
    """The newest ``ds`` among the events that triggered a run (None for runs no event started)."""
    found = [event.extra["ds"] for events in (triggering_asset_events or {}).values() for event in events
             if (event.extra or {}).get("ds")]
    return max(found) if found else None
