"""The llmops_drift DAG: hourly, Developer-triggerable, one retried step whose command line and report link are
rendered from the run's hour; the check's command line refuses a bad hour before touching anything."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import jinja2
import pytest

from llmops.monitoring.drift_check import main, window_end
from llmops.pipelines import drift_steps
from tests.dags.test_dag_integrity import parse_dags

ROOT = Path(__file__).resolve().parents[2]


def test_dag_runs_hourly_for_developers_with_a_retried_step(tmp_path):
    dag = parse_dags(tmp_path)["dags"]["llmops_drift"]
    assert "5 * * * *" in dag["schedule"] and dag["catchup"] is False
    assert "Developer" in dag["access_control"]
    (task,) = dag["tasks"].values()
    assert task["retries"] >= 1 and task["backoff"] and task["timeout"]


def _dag_module():
    spec = importlib.util.spec_from_file_location("llmops_drift_dag", ROOT / "dags" / "llmops_drift.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_step_checks_the_hour_before_the_run_and_links_its_report():
    dag = _dag_module()
    (step,) = drift_steps("file:///lake", dag.RUN_DATE, dag.RUN_HOUR)
    context = {"dag_run": type("Run", (), {"run_after": dt.datetime(2026, 12, 5, 14, 5, tzinfo=dt.UTC)}),
               "params": {"ds": "", "hour": ""}}  # fmt: skip
    render = lambda text: jinja2.Template(text).render(context)  # noqa: E731
    assert [render(a) for a in step.arguments()] == [
        "-m",
        "llmops.monitoring.drift_check",
        "--lake-root",
        "file:///lake",
        "--ds",
        "2026-12-05",
        "--hour",
        "14",
    ]
    assert render(step.report) == "file:///lake/reports/drift/ds=2026-12-05/hour=14/drift_report.html"
    assert window_end("2026-12-05", "14") == dt.datetime(2026, 12, 5, 14, tzinfo=dt.UTC)
    context["params"] = {"ds": "2026-12-06", "hour": "09"}  # a manual run names the window's end (make demo)
    assert render(step.report) == "file:///lake/reports/drift/ds=2026-12-06/hour=09/drift_report.html"
    assert set(dag.dag.params) == {"ds", "hour"}


@pytest.mark.parametrize(("ds", "hour"), [("2026-12-05", "24"), ("2026-12-05", "x"), ("05/12/2026", "01")])
def test_a_bad_window_is_an_error_exit(ds, hour, tmp_path):
    assert main(["--lake-root", f"file://{tmp_path}", "--ds", ds, "--hour", hour]) == 2
