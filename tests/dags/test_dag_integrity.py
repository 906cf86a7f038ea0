"""Every DAG imports cleanly, parses without heavy imports, and every task retries and times out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.airflow_env import ROOT, airflow_env

HEAVY = ("pyspark", "torch", "transformers", "feast", "great_expectations", "mlflow", "evidently", "lm_eval",
         "peft", "hyperopt")

_PARSE = r"""
import json, sys, time
import pendulum
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.encoders import coerce_to_core_timetable
from airflow.timetables.base import TimeRestriction
now = pendulum.now("UTC")
started = time.monotonic()
bag = DagBag(dag_folder=sys.argv[1])
out = {
    "seconds": time.monotonic() - started,
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "heavy": sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2].split(",")),
    "dags": {},
}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "catchup": dag.catchup,
        "timetable": type(dag.timetable).__name__,
        # the Asset names of the schedule's condition: one Asset, or an AssetAny of several
        "assets": sorted(getattr(a, "name", None) for a in getattr(
            getattr(dag.timetable, "asset_condition", None), "objects", [getattr(dag.timetable, "asset_condition",
                                                                                 None)])),
        "schedule": str(getattr(coerce_to_core_timetable(dag.timetable), "summary", None)
                        or getattr(coerce_to_core_timetable(getattr(dag.timetable, "timetable", None)), "summary", "")),
        "params": sorted(dag.params.keys()),
        # what the scheduler would run first once the DAG is unpaused (no previous run)
        "first_run_after": str(getattr(coerce_to_core_timetable(dag.timetable).next_dagrun_info(
            last_automated_data_interval=None,
            restriction=TimeRestriction(earliest=dag.start_date, latest=None, catchup=dag.catchup),
        ), "run_after", None)),
        "param_specs": {k: {"value": p.value, "schema": p.schema} for k, p in dag.params.items()},
        "access_control": {r: {k: sorted(v) for k, v in p.items()} for r, p in (dag.access_control or {}).items()},
        "tasks": {
            t.task_id: {
                "retries": t.retries,
                "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                "backoff": bool(t.retry_exponential_backoff),
                "outlets": [getattr(o, "name", None) for o in t.outlets],
                "type": type(t).__name__,
                "upstream": sorted(t.upstream_task_ids),
                "trigger_rule": getattr(t.trigger_rule, "value", t.trigger_rule),
                "max_active_tis_per_dagrun": t.max_active_tis_per_dagrun,
            }
            for t in dag.tasks
        },
    }
out["parsed_at"] = str(now)
print("JSON:" + json.dumps(out))
"""


def parse_dags(tmp_path, **env) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _PARSE, str(ROOT / "dags"), ",".join(HEAVY)],
        env=airflow_env(tmp_path, **env), capture_output=True, text=True, timeout=300,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("JSON:")), None)
    assert line, f"DAG parse produced no result:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(line[5:])


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    return parse_dags(tmp_path_factory.mktemp("airflow"))


def test_unpausing_runs_nothing_for_a_tick_missed_while_paused(parsed):
    """A new installation's DAGs, once switched on, first run at their next tick, not at once for a past date."""
    import pendulum  # noqa: PLC0415

    scheduled = {d: v["first_run_after"] for d, v in parsed["dags"].items() if v["first_run_after"] != "None"}
    assert {"llmops_data", "llmops_train", "llmops_governance"} <= set(scheduled)
    parsed_at = pendulum.parse(parsed["parsed_at"])
    assert all(pendulum.parse(when) >= parsed_at for when in scheduled.values()), scheduled


def test_no_import_errors(parsed):
    assert parsed["errors"] == {}
    assert "llmops_data" in parsed["dags"]


def test_parsing_imports_nothing_heavy(parsed):
    assert parsed["heavy"] == []


def test_every_task_retries_with_backoff_and_times_out(parsed):
    for dag_id, dag in parsed["dags"].items():
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 1, f"{dag_id}.{task_id} has no retries"
            assert task["backoff"], f"{dag_id}.{task_id} retries without exponential backoff"
            assert task["timeout"] and task["timeout"] > 0, f"{dag_id}.{task_id} has no execution_timeout"


def test_data_dag_schedule_params_and_assets(parsed):
    dag = parsed["dags"]["llmops_data"]
    assert dag["catchup"] is False
    assert "0 3 * * *" in dag["schedule"]
    assert {"ds", "raw_root", "languages"} <= set(dag["params"])
    assert "sample_records" not in dag["params"] and "generate_sample" not in dag["tasks"]  # demo data: llmops_demo
    assert dag["tasks"]["gate_gold"]["outlets"] == ["gold_sft"]
    assert dag["tasks"]["feast_materialize"]["outlets"] == ["llm_training_features"]
    order = list(dag["tasks"])
    assert order.index("gate_bronze") < order.index("clean") < order.index("gate_silver") < order.index("build_sft")


def test_demo_dag_generates_then_triggers_the_data_dag(parsed):
    dag = parsed["dags"]["llmops_demo"]
    assert dag["timetable"] == "NullTimetable" and dag["params"] == ["ds", "records"]
    assert list(dag["tasks"]) == ["generate_sample", "run_llmops_data"]
    assert dag["tasks"]["run_llmops_data"]["type"] == "TriggerDagRunOperator"
    assert dag["tasks"]["run_llmops_data"]["upstream"] == ["generate_sample"]


def test_kubernetes_profile_builds_pod_operators(tmp_path):
    parsed = parse_dags(tmp_path, LLMOPS_PROFILE="kubernetes")
    assert parsed["errors"] == {}
    types = {t["type"] for t in parsed["dags"]["llmops_data"]["tasks"].values()}
    assert types == {"KubernetesStepOperator"}


def test_train_dag_runs_on_gold_or_weekly_and_maps_trials(parsed):
    dag = parsed["dags"]["llmops_train"]
    # new gold, a drift alert (the webhook's Asset event), or Monday 05:00
    assert dag["timetable"] == "AssetOrTimeSchedule" and dag["assets"] == ["drift_alerts", "llm_training_features"]
    assert dag["catchup"] is False
    assert {"ds", "base_model", "method", "max_trials", "trial_steps", "max_steps", "min_new_examples"} <= set(
        dag["params"])
    tasks = dag["tasks"]
    assert tasks["sweep_trial"]["type"] == "MappedOperator"
    assert tasks["sweep_trial"]["upstream"] == ["trial_commands"]
    assert tasks["sweep_trial"]["max_active_tis_per_dagrun"] >= 1
    assert tasks["base_model"]["upstream"] == ["check_new_examples"]
    assert tasks["train_final"]["upstream"] == ["sweep_trial"]
    assert tasks["register_candidate"]["outlets"] == ["model_candidates"]
    assert tasks["eval_gate"]["upstream"] == ["register_candidate"]
    assert tasks["governance_gate"]["upstream"] == ["eval_gate"]
    assert tasks["decide"]["upstream"] == ["governance_gate", "register_candidate"]
    assert tasks["decide"]["trigger_rule"] == "all_done_min_one_success"
    assert tasks["decide"]["outlets"] == ["model_passed_gates"]


def test_every_dag_declares_its_access_control(parsed):
    from llmops.access import access_control

    for dag_id, dag in parsed["dags"].items():
        expected = {r: {k: sorted(v) for k, v in p.items()} for r, p in access_control(dag_id).items()}
        assert dag["access_control"] == expected, dag_id
    assert "Developer" not in parsed["dags"]["llmops_train"]["access_control"]
    assert "Developer" in parsed["dags"]["llmops_data"]["access_control"]


def test_every_param_default_is_valid_for_its_own_schema(parsed):
    """The trigger form (and a run without conf) starts from the defaults: each must pass its Param's schema,
    formats included (Airflow validates with jsonschema's FormatChecker too)."""
    import jsonschema  # noqa: PLC0415

    checked = 0
    for dag_id, dag in parsed["dags"].items():
        for name, spec in dag["param_specs"].items():
            jsonschema.validators.validator_for(spec["schema"]).check_schema(spec["schema"])
            try:
                jsonschema.validate(spec["value"], spec["schema"], format_checker=jsonschema.FormatChecker())
            except jsonschema.ValidationError as exc:
                pytest.fail(f"{dag_id}: the default of Param {name!r} ({spec['value']!r}) is invalid: {exc.message}")
            checked += 1
    assert checked >= len(parsed["dags"])


def test_ds_is_an_optional_date_that_defaults_to_the_run_date(parsed):
    import datetime as dt  # noqa: PLC0415

    import jsonschema  # noqa: PLC0415

    from llmops.templating import run_ds  # noqa: PLC0415

    with_ds = {dag_id for dag_id, dag in parsed["dags"].items() if "ds" in dag["param_specs"]}
    assert {"llmops_data", "llmops_train", "llmops_governance", "llmops_demo"} <= with_ds
    for dag_id in with_ds:
        dag = parsed["dags"][dag_id]
        schema = dag["param_specs"]["ds"]["schema"]
        assert dag["param_specs"]["ds"]["value"] is None, dag_id
        jsonschema.validate("2026-11-20", schema, format_checker=jsonschema.FormatChecker())
        for bad in ("2026-13-01", "yesterday", ""):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(bad, schema, format_checker=jsonschema.FormatChecker())

    class Run:
        logical_date, run_after = None, dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC)

    assert run_ds({"ds": None}, Run()) == "2026-11-21"  # None: the run's date
    assert run_ds({"ds": "2026-11-20"}, Run()) == "2026-11-20"
