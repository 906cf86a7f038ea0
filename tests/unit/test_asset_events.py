"""Asset events carry the date they published; a run they start processes that date."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from llmops.asset_events import argument, describe_outlets, triggering_ds
from llmops.templating import run_ds

RUN = SimpleNamespace(logical_date=None, run_after=datetime(2026, 12, 5, 3, tzinfo=UTC))


def _events(*extras: dict) -> dict:
    return {"gold_sft": [SimpleNamespace(extra=extra) for extra in extras]}


def test_the_ds_argument_of_a_command_line():
    assert argument(["-m", "expectations.gate", "--layer", "gold", "--ds", "2026-11-30"], "--ds") == "2026-11-30"
    assert argument(["-m", "x", "--ds"], "--ds") is None and argument([], "--ds") is None


def test_emitted_events_name_their_date_and_task():
    outlet_events = {"gold_sft": SimpleNamespace(extra={})}
    context = {"ti": SimpleNamespace(dag_id="llmops_data", run_id="manual__1", task_id="gate_gold"),
               "outlet_events": outlet_events}
    describe_outlets(context, ["gold_sft"], ["-m", "expectations.gate", "--ds", "2026-11-30"])
    assert outlet_events["gold_sft"].extra == {"dag_id": "llmops_data", "run_id": "manual__1",
                                               "task_id": "gate_gold", "ds": "2026-11-30"}


def test_a_run_processes_the_param_then_the_triggering_data_then_its_own_date():
    events = _events({"ds": "2026-11-29"}, {"ds": "2026-11-30"}, {})
    assert triggering_ds(events) == "2026-11-30"
    assert run_ds({"ds": "2026-11-01"}, RUN, events) == "2026-11-01"
    assert run_ds({"ds": None}, RUN, events) == "2026-11-30"
    assert run_ds({"ds": None}, RUN, _events({})) == "2026-12-05"
    assert run_ds({"ds": None}, RUN) == "2026-12-05"
