"""The llmops_drift DAG: hourly, Developer-triggerable, one retried step whose command line and report link are
rendered from the run's hour; the check's command line refuses a bad hour before touching anything."""

from __future__ import annotations

import datetime as dt

import jinja2
import pytest

from llmops.monitoring.drift_check import main, window_end
from llmops.pipelines import drift_steps
from tests.dags.test_dag_integrity import parse_dags


def test_dag_runs_hourly_for_developers_with_a_retried_step(tmp_path):
    dag = parse_dags(tmp_path)["dags"]["llmops_drift"]
    assert "5 * * * *" in dag["schedule"] and dag["catchup"] is False
    assert "Developer" in dag["access_control"]
    (task,) = dag["tasks"].values()
    assert task["retries"] >= 1 and task["backoff"] and task["timeout"]


def test_the_step_checks_the_hour_before_the_run_and_links_its_report():
    (step,) = drift_steps("file:///lake", "{{ dag_run.run_after.strftime('%Y-%m-%d') }}",
                          "{{ dag_run.run_after.strftime('%H') }}")  # fmt: skip
    context = {"dag_run": type("Run", (), {"run_after": dt.datetime(2026, 12, 5, 14, 5, tzinfo=dt.UTC)})}
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


@pytest.mark.parametrize(("ds", "hour"), [("2026-12-05", "24"), ("2026-12-05", "x"), ("05/12/2026", "01")])
def test_a_bad_window_is_an_error_exit(ds, hour, tmp_path):
    assert main(["--lake-root", f"file://{tmp_path}", "--ds", ds, "--hour", hour]) == 2
