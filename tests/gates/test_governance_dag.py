"""The llmops_governance DAG: its schedule, access, and the step command lines it runs."""

from __future__ import annotations

import subprocess
import sys

from llmops.pipelines import governance_steps
from tests.airflow_env import ROOT, airflow_env
from tests.dags.test_dag_integrity import parse_dags

_CALLBACKS = r"""
import sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["llmops_governance"]
for task in dag.tasks:
    print(task.task_id, *(f"{c.__module__}.{c.__name__}" for c in task.on_failure_callback or []))
"""


def test_steps_scan_the_champion_and_the_gold_partition():
    champion, gold = governance_steps("file:///lake", "2026-11-20")
    assert champion.arguments() == [
        "-m", "llmops.governance.gate", "--lake-root", "file:///lake", "--ds", "2026-11-20", "--version", "champion",
        "--skip-missing", "--out-dir", "file:///lake/reports/governance_scan/ds=2026-11-20/champion"]
    assert gold.arguments()[-3:] == ["--data-only", "--out-dir", "file:///lake/reports/governance_scan/ds=2026-11-20/gold"]
    assert gold.report == "file:///lake/reports/governance_scan/ds=2026-11-20/gold/governance_report.html"


def test_dag_runs_daily_for_developers_with_retried_steps(tmp_path):
    dag = parse_dags(tmp_path)["dags"]["llmops_governance"]
    assert "0 6 * * *" in dag["schedule"] and dag["catchup"] is False and dag["params"] == ["ds"]
    assert "Developer" in dag["access_control"]
    assert set(dag["tasks"]) == {"scan_champion", "scan_gold"}
    for task in dag["tasks"].values():
        assert task["retries"] >= 1 and task["backoff"] and task["timeout"] and task["upstream"] == []


def test_every_task_alerts_on_failure(tmp_path):
    proc = subprocess.run([sys.executable, "-c", _CALLBACKS, str(ROOT / "dags" / "llmops_governance.py")],
                          env=airflow_env(tmp_path), capture_output=True, text=True, timeout=300)
    lines = sorted(line for line in proc.stdout.splitlines() if line.startswith("scan_"))
    assert lines == ["scan_champion llmops.alerts.alert_on_failure", "scan_gold llmops.alerts.alert_on_failure"], (
        proc.stdout[-2000:] + proc.stderr[-2000:])
