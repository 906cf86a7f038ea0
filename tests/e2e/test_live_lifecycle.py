"""The running system as people use it: a Developer triggers the data DAG from the Airflow UI in a real browser
(Playwright driving Debian's chromium), reviews a gate's log and opens its report; the scheduler then chains
llmops_train through the gold_sft Asset event (nobody triggers it); a second data run with no new examples
leads to a skipped training run; roles and logins keep each person to their part.

Screenshots of every page land in ``test-artifacts/browser/`` and are checked for text, not pixels.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pyarrow.dataset as pads
import pytest

from llmops.stack import Stack
from tests.airflow_env import ROOT
from tests.services import require_binary

pytestmark = pytest.mark.slow

DS = "2026-11-30"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _admin(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('admin')}"}


def _runs(stack: Stack, dag_id: str) -> list[dict]:
    resp = httpx.get(f"{stack.url}/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "run_after"},
                     headers=_admin(stack), timeout=30)
    resp.raise_for_status()
    return resp.json()["dag_runs"]


def _wait_run(stack: Stack, dag_id: str, matches, timeout_s: float) -> dict:
    """The first run of ``dag_id`` that ``matches`` once it has finished."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = [r for r in _runs(stack, dag_id) if matches(r) and r["state"] in ("success", "failed")]
        if done:
            return done[0]
        time.sleep(3)
    raise AssertionError(f"no finished {dag_id} run after {timeout_s:.0f} s: "
                         f"{[(r['dag_run_id'], r['state']) for r in _runs(stack, dag_id)]}")


def _started_by_gold_after(data_run: dict):
    """Matches the training run the scheduler started after ``data_run`` published gold (not an alert's)."""
    return lambda r: r["run_type"] == "asset_triggered" and r["run_after"] >= data_run["start_date"]


def _task_states(stack: Stack, dag_id: str, run_id: str) -> dict[str, str]:
    resp = httpx.get(f"{stack.url}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", headers=_admin(stack),
                     timeout=30)
    return {ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): ti["state"]
            for ti in resp.json()["task_instances"]}


@pytest.fixture(scope="module")
def lifecycle(live_stack):
    """Sample data landed for DS; llmops_train unpaused (so the scheduler may chain it), retries off so a
    failing step fails at once."""
    raw = live_stack.extra_env["LLMOPS__PATHS__RAW_ROOT"]
    proc = subprocess.run([sys.executable, "-m", "llmops_demo", "--out", raw, "--ds", DS, "--records", "600"],
                          capture_output=True, text=True, timeout=300, env=live_stack.env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    resp = httpx.patch(f"{live_stack.url}/api/v2/dags/llmops_train", json={"is_paused": False},
                       headers=_admin(live_stack), timeout=30)
    assert resp.status_code == 200, resp.text
    return live_stack


@pytest.fixture(scope="module")
def browser():
    require_binary("chromium", "install Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser, stack: Stack, user: str | None):
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    if user:
        page.goto(stack.url)
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", stack.credentials()[user]["password"])
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state("networkidle")
    return page


def _shot(page, name: str) -> str:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    return page.inner_text("body")


@pytest.fixture(scope="module")
def data_run(lifecycle, browser):
    """A Developer opens llmops_data, presses Trigger, sets ds in the form and submits; the run succeeds."""
    page = _page(browser, lifecycle, "developer")
    page.goto(f"{lifecycle.url}/dags/llmops_data")
    page.get_by_role("button", name="Trigger").first.click()
    form = _shot(page, "01-trigger-form")
    assert "Date to process" in form and "Landing zone URI" in form, form[:2000]
    page.locator("[name=element_ds]").fill(DS)
    submit = page.get_by_role("dialog").get_by_role("button", name="Trigger")
    assert submit.is_enabled()
    submit.click()
    page.wait_for_timeout(2000)
    _shot(page, "02-triggered")
    run = _wait_run(lifecycle, "llmops_data", lambda r: r["run_type"] == "manual" and r["conf"].get("ds") == DS,
                    timeout_s=900)
    states = _task_states(lifecycle, "llmops_data", run["dag_run_id"])
    assert run["state"] == "success", states
    return {"run": run, "page": page}


def test_a_gate_log_opens_with_its_verdict_table(data_run, lifecycle):
    """Through the UI and the REST log endpoint: the verdict table (header and PASS/FAIL rows) and the verdict."""
    run_id = data_run["run"]["dag_run_id"]
    page = data_run["page"]
    page.goto(f"{lifecycle.url}/dags/llmops_data/runs/{run_id}/tasks/gate_silver")
    page.get_by_text(f"gate silver ds={DS} PASSED").first.wait_for()
    shown = _shot(page, "03-gate-silver-log")
    assert "expectations.gate" in shown
    resp = httpx.get(f"{lifecycle.url}/api/v2/dags/llmops_data/dagRuns/{run_id}/taskInstances/gate_silver/logs/1",
                     headers={**_admin(lifecycle), "Accept": "application/json"}, timeout=60)
    lines = [e["event"] if isinstance(e, dict) else e for e in resp.json()["content"]]
    header = next(i for i, line in enumerate(lines) if re.search(r"expectation\s+column\s+observed\s+threshold", line))
    rows = lines[header + 1:]
    verdict = next(i for i, line in enumerate(rows) if f"gate silver ds={DS}" in line)
    assert verdict > 0 and all(line.rstrip().endswith(("PASS", "FAIL")) for line in rows[:verdict])


def test_the_report_link_opens_great_expectations_data_docs(data_run, lifecycle):
    page = data_run["page"]
    page.goto(f"{lifecycle.url}/dags/llmops_data/runs/{data_run['run']['dag_run_id']}/tasks/gate_silver/details")
    page.get_by_text("Report", exact=True).click()
    page.wait_for_load_state("networkidle")
    docs = _shot(page, "04-report-data-docs")
    assert "/llmops/reports/gates/silver/" in page.url
    assert "Expectation" in docs and "Sign In" not in docs and "Not Found" not in docs, docs[:1000]


def test_the_llmops_page_shows_the_gates_inside_the_ui(data_run, lifecycle):
    page = data_run["page"]
    page.goto(f"{lifecycle.url}/plugin/llmops")
    frame = page.frame_locator("iframe").first
    frame.get_by_text("Data gates").wait_for()
    _shot(page, "05-llmops-page")
    rows = frame.locator("tr").all_inner_texts()
    assert any(row.startswith("silver") and DS in row and "passed" in row for row in rows), rows


def test_the_scheduler_chains_training_on_the_gold_asset(data_run, lifecycle):
    """llmops_train ran because that data run materialized the training features: its run type and the triggering
    asset event come from the metadata DB, not from the test. It swept (mapped trials), trained, registered a
    challenger with its lineage, and the gates judged it; decide recorded their outcome on the version."""
    train = _wait_run(lifecycle, "llmops_train", _started_by_gold_after(data_run["run"]), timeout_s=1500)
    states = _task_states(lifecycle, "llmops_train", train["dag_run_id"])
    gates = {gate: states.pop(gate) for gate in ("eval_gate", "governance_gate", "decide")}
    expected = {"check_new_examples", "base_model", "prepare_sweep", "trial_commands", "sweep_trial[0]",
                "sweep_trial[1]", "train_final", "register_candidate"}
    assert states == dict.fromkeys(expected, "success"), states
    db = sqlite3.connect(lifecycle.home / "airflow.db")
    events = db.execute(
        "SELECT a.name, e.source_dag_id, e.source_run_id, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
        "JOIN dagrun_asset_event de ON de.event_id = e.id JOIN dag_run r ON r.id = de.dag_run_id "
        "WHERE r.run_id = ?", (train["dag_run_id"],)).fetchall()
    # llmops_train schedules on the materialized training features (feast_materialize, after gate_gold)
    assert [e[:3] for e in events] == [("llm_training_features", "llmops_data", data_run["run"]["dag_run_id"])], events
    assert json.loads(events[0][3])["ds"] == DS  # the event names the data's date, and training used it

    listed = subprocess.run([sys.executable, "-m", "llmops.cli", "registry", "list", "--json"],
                            capture_output=True, text=True, timeout=120, env=lifecycle.env())
    version = next(v for v in json.loads(listed.stdout) if v["tags"].get("airflow.dag_run_id") == train["dag_run_id"])
    tags, lake = version["tags"], Path(lifecycle.extra_env["LLMOPS__PATHS__LAKE_ROOT"].removeprefix("file://"))
    assert version["aliases"] == ["challenger"] and tags["airflow.dag_id"] == "llmops_train", version
    assert tags["llmops.method"] == "qlora" and tags["llmops.gold.latest_ds"] == DS
    assert tags["llmops.base_model"].startswith(str(lake / "models" / "base"))
    reports = lake / "reports"
    eval_verdict = json.loads((reports / "eval_gate" / f"ds={DS}" / "verdict.json").read_text())
    assert (eval_verdict["status"] == "passed") == (gates["eval_gate"] == "success")
    assert (reports / "eval_gate" / f"ds={DS}" / "report.html").exists()
    assert tags["llmops.gate.eval"] == eval_verdict["status"]
    if gates["eval_gate"] == "success":
        governance = json.loads((reports / "governance_gate" / f"ds={DS}" / "governance_report.json").read_text())
        assert (governance["status"] == "passed") == (gates["governance_gate"] == "success")
        assert tags["llmops.gate.governance"] == governance["status"]
    assert gates["decide"] in ("success", "failed")
    assert tags["llmops.status"] == ("passed" if gates["decide"] == "success" else "rejected")
    assert (gates["decide"] == "success") == (gates["eval_gate"] == gates["governance_gate"] == "success")
    if tags["llmops.status"] == "rejected":
        assert tags["llmops.rejection_reason"]


def test_training_logs_progress_with_an_eta_at_least_every_30_seconds(data_run, lifecycle):
    train = _wait_run(lifecycle, "llmops_train", _started_by_gold_after(data_run["run"]), 1500)
    resp = httpx.get(f"{lifecycle.url}/api/v2/dags/llmops_train/dagRuns/{train['dag_run_id']}/taskInstances/"
                     "train_final/logs/1", headers={**_admin(lifecycle), "Accept": "application/json"}, timeout=60)
    lines = [e["event"] if isinstance(e, dict) else e for e in resp.json()["content"]]
    progress = [line for line in lines if re.search(r"step \d+/\d+ loss \S+ lr \S+ tokens/s \d+ eta \S+", line)]
    assert len(progress) >= 2, lines[-30:]
    stamps = [datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S") for line in progress]
    assert max(b - a for a, b in zip(stamps, stamps[1:], strict=False)).total_seconds() <= 31


def _rows(stack: Stack) -> dict[str, list[str]]:
    """The ids of DS's silver and gold rows in the stack's lake."""
    lake = Path(stack.extra_env["LLMOPS__PATHS__LAKE_ROOT"].removeprefix("file://"))
    tables = {("silver", "tickets"): "ticket_id", ("silver", "faq"): "faq_id", ("silver", "reviews"): "review_id",
              ("silver", "orders"): "order_id", ("gold", "sft"): "example_id"}  # fmt: skip
    return {f"{layer}/{table}": sorted(pads.dataset(lake / layer / table / f"ds={DS}", format="parquet")
                                       .to_table(columns=[key]).column(key).to_pylist())
            for (layer, table), key in tables.items()}  # fmt: skip


def test_a_data_rerun_without_new_examples_skips_training(data_run, lifecycle):
    """The same day's landing data run again gives the same silver and gold rows, and no new training: the chained
    run stops at its check, and says why."""
    _wait_run(lifecycle, "llmops_train", _started_by_gold_after(data_run["run"]), 1500)  # the first training
    first = _rows(lifecycle)
    assert all(first.values()) and len(set(first["gold/sft"])) == len(first["gold/sft"]), first
    resp = httpx.post(f"{lifecycle.url}/api/v2/dags/llmops_data/dagRuns", headers=_admin(lifecycle), timeout=30,
                      json={"logical_date": None, "conf": {"ds": DS}})
    assert resp.status_code == 200, resp.text
    rerun_id = resp.json()["dag_run_id"]
    assert _wait_run(lifecycle, "llmops_data", lambda r: r["dag_run_id"] == rerun_id, 900)["state"] == "success"
    rerun = _wait_run(lifecycle, "llmops_data", lambda r: r["dag_run_id"] == rerun_id, 60)
    assert _rows(lifecycle) == first
    second = _wait_run(lifecycle, "llmops_train", _started_by_gold_after(rerun), 600)
    states = _task_states(lifecycle, "llmops_train", second["dag_run_id"])
    assert states.pop("check_new_examples") == "success"
    assert set(states.values()) == {"skipped"}, states
    resp = httpx.get(f"{lifecycle.url}/api/v2/dags/llmops_train/dagRuns/{second['dag_run_id']}/taskInstances/"
                     "check_new_examples/logs/1", headers={**_admin(lifecycle), "Accept": "application/json"},
                     timeout=60)
    assert "skipping training: 0 new gold training examples" in resp.text, resp.text[-3000:]


def test_model_user_is_refused_training_in_the_ui_and_over_rest(lifecycle, browser):
    page = _page(browser, lifecycle, "modeluser")
    page.goto(f"{lifecycle.url}/dags/llmops_train")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(2000)
    shown = _shot(page, "06-modeluser-train")
    assert "llmops_train" in shown and page.get_by_role("button", name="Trigger").count() == 0, shown
    token = lifecycle.token("modeluser")
    resp = httpx.post(f"{lifecycle.url}/api/v2/dags/llmops_train/dagRuns", timeout=30,
                      headers={"Authorization": f"Bearer {token}"}, json={"logical_date": None, "conf": {}})
    assert resp.status_code == 403


def test_logged_out_every_report_and_plugin_url_needs_a_login(lifecycle, browser):
    for path in ("/llmops/ops", f"/llmops/reports/gates/silver/ds={DS}/data_docs/index.html",
                 "/llmops/reports/%2E%2E/%2E%2E/etc/passwd"):
        assert httpx.get(lifecycle.url + path, timeout=30).status_code == 401, path
    page = _page(browser, lifecycle, None)
    page.goto(f"{lifecycle.url}/dags/llmops_data")
    page.wait_for_load_state("networkidle")
    assert "Sign In" in _shot(page, "07-logged-out")

