"""Human approval of a rollout on the running system: the scheduler runs llmops_deploy with approval, the rollout
holds before 100 % while its analysis goes on (its step detached, its task deferred: no worker slot held), the
approval task waits in Airflow's Required Actions with the analysis as its body, and an answer through the HITL
REST API (what the UI's button sends) promotes the canary.
A later rollout that the on-call rolls back while its approval waits ends that approval at once (skipped), so
the run ends instead of holding the next rollout for the approval timeout.

A stack of its own (its own registry and lake): the shared one's registry holds the lifecycle test's versions,
and model_passed_gates events it queued would start rollouts of their own.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from llmops.config import settings
from llmops.deploy import run, state
from llmops.stack import Stack
from llmops.training import registry
from tests.deploy.conftest import deploy_environ, register
from tests.e2e.conftest import free_port
from tests.serving.test_backends import _adapter
from tests.training.conftest import DS, tiny_model  # noqa: F401 - the session's tiny base model, a fixture
from tests.training.fixtures import write_gold

pytestmark = pytest.mark.slow


def _get(stack: Stack, path: str, **params) -> dict:
    resp = httpx.get(f"{stack.url}/api/v2{path}", params=params, timeout=30,
                     headers={"Authorization": f"Bearer {stack.token('admin')}"})  # fmt: skip
    resp.raise_for_status()
    return resp.json()


def _wait(what: str, probe, timeout_s: float, every_s: float = 2.0, explain=lambda: ""):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s{explain()}")


def _explain(stack: Stack, run_id: str) -> str:
    """What a stuck run was doing: its task states, the services alive and healthy, and the tails of its task logs
    and of the scheduler's and triggerer's logs."""
    tis = _get(stack, f"/dags/llmops_deploy/dagRuns/{run_id}/taskInstances")["task_instances"]
    health = httpx.get(f"{stack.url}/api/v2/monitor/health", timeout=30).text
    parts = [f"\ntask states: { {ti['task_id']: ti['state'] for ti in tis} }\nalive: {sorted(stack.running())}"
             f"\nhealth: {health}"]
    logs = sorted((stack.home / "logs").glob(f"dag_id=llmops_deploy/run_id={run_id}/task_id=*/attempt=*.log"))
    for log in [*logs, stack.home / "services" / "scheduler.log", stack.home / "services" / "triggerer.log"]:
        lines = [_readable(line) for line in log.read_text(errors="replace").splitlines()]
        parts.append(f"\n--- {log.relative_to(stack.home)} (tail)\n" + "\n".join(lines)[-3000:])
    return "".join(parts)


def _readable(line: str) -> str:
    """A task log's JSON line as its level, event and error (the rest is the same for every line)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict):
        return line
    return " ".join(str(entry[k]) for k in ("timestamp", "level", "event", "error_detail") if k in entry)


def _trigger(stack: Stack, candidate: int) -> str:
    conf = {"ds": DS, "version": str(candidate), "steps": [50, 100], "window_s": 1, "approval": True}
    started = httpx.post(f"{stack.url}/api/v2/dags/llmops_deploy/dagRuns", timeout=30, json={"logical_date": None,
                         "conf": conf}, headers={"Authorization": f"Bearer {stack.token('admin')}"})  # fmt: skip
    started.raise_for_status()
    return started.json()["dag_run_id"]


def _wait_waiting(stack: Stack, run_id: str) -> None:
    """Until approve_promotion waits for a human (deferred on the rollout-end trigger, its request open)."""

    def waiting():
        ti = _get(stack, f"/dags/llmops_deploy/dagRuns/{run_id}/taskInstances/approve_promotion")
        assert ti["state"] not in ("skipped", "failed", "upstream_failed"), ti
        return ti if ti["state"] == "deferred" else None

    _wait("the approval task waiting for a human", waiting, 300)


def _wait_finished(stack: Stack, run_id: str) -> tuple[dict, dict[str, str]]:
    """The finished run and its task states."""

    def finished_run():
        dag_run = _get(stack, f"/dags/llmops_deploy/dagRuns/{run_id}")
        return dag_run if dag_run["state"] in ("success", "failed") else None

    finished = _wait("the run to finish", finished_run, 240, explain=lambda: _explain(stack, run_id))
    tis = _get(stack, f"/dags/llmops_deploy/dagRuns/{run_id}/taskInstances")["task_instances"]
    return finished, {ti["task_id"]: ti["state"] for ti in tis}


def test_an_approved_rollout_is_promoted_and_a_rolled_back_one_ends_its_approval(tmp_path, monkeypatch,
                                                                                 tiny_model):  # noqa: F811
    environ = deploy_environ(tmp_path)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    write_gold(tmp_path / "lake", DS, 60)
    champion = register(_adapter(tiny_model, tmp_path / "adapters" / "a", 1), str(tiny_model), "aaaa",
                        alias="champion")  # fmt: skip
    candidate = register(_adapter(tiny_model, tmp_path / "adapters" / "b", 2), str(tiny_model), "aaaa",
                         status="passed")  # fmt: skip
    stack = Stack(home=tmp_path / "airflow", state_dir=tmp_path / "stack-state", port=free_port(),
                  extra_env={**environ, "LLMOPS__AIRFLOW__RETRIES": "0"})  # fmt: skip
    stack.up()
    try:
        admin = {"Authorization": f"Bearer {stack.token('admin')}"}
        _wait("llmops_deploy parsed", lambda: httpx.get(f"{stack.url}/api/v2/dags/llmops_deploy", headers=admin,
                                                        timeout=30).status_code == 200 or None, 180)  # fmt: skip
        httpx.patch(f"{stack.url}/api/v2/dags/llmops_deploy", json={"is_paused": False}, headers=admin,
                    timeout=30).raise_for_status()  # fmt: skip
        run_id = _trigger(stack, candidate)
        task = f"/dags/llmops_deploy/dagRuns/{run_id}/taskInstances"
        _wait_waiting(stack, run_id)
        # the rollout holds no worker slot through its windows: its step runs detached, its task waits deferred
        _wait("the rollout task deferred", lambda: _get(stack, f"{task}/rollout")["state"] == "deferred" or None,
              60, 0.5)
        detail = _get(stack, f"{task}/approve_promotion/-1/hitlDetails")
        assert detail["options"] == ["Approve", "Reject"] and detail["defaults"] == ["Reject"]
        assert f"support-assistant-v{candidate}" in detail["subject"]
        assert "holds at **50 %** canary traffic" in detail["body"] and "quality_f1" in detail["body"]
        path = state.state_path(run.state_dir(settings()), f"support-assistant-v{champion}",
                                f"support-assistant-v{candidate}")  # fmt: skip
        held = len(state.load(path).looks)
        _wait("an analysis while waiting", lambda: len(state.load(path).looks) > held or None, 60, 0.5)

        answer = httpx.patch(f"{stack.url}/api/v2{task}/approve_promotion/-1/hitlDetails", headers=admin, timeout=30,
                             json={"chosen_options": ["Approve"]})  # fmt: skip
        assert answer.status_code == 200, answer.text
        finished, states = _wait_finished(stack, run_id)
        assert finished["state"] == "success", _explain(stack, run_id)
        final = state.load(path)
        assert final.status == state.PROMOTED and final.reason.endswith("approved by admin"), final.reason
        assert registry.version_by_alias(registry.CHAMPION)["version"] == candidate
        summary = json.loads((tmp_path / "lake" / "reports" / "deploy" / f"ds={DS}" / "summary.json").read_text())
        assert summary["status"] == "promoted" and summary["approval"] is True
        content = httpx.get(f"{stack.url}/api/v2{task}/rollout/logs/1", timeout=60,
                            headers={**admin, "Accept": "application/json"}).json()["content"]  # fmt: skip
        rollout_log = "\n".join(e["event"] if isinstance(e, dict) else e for e in content)
        assert "runs detached" in rollout_log and f"version {candidate} PROMOTED" in rollout_log, rollout_log[-3000:]

        # the next candidate is rolled back by the on-call while its approval waits: the approval task does not
        # wait on for hours (holding the run, and the next rollout behind it)
        third = register(_adapter(tiny_model, tmp_path / "adapters" / "c", 3), str(tiny_model), "aaaa",
                         status="passed")  # fmt: skip
        run_id = _trigger(stack, third)
        _wait_waiting(stack, run_id)
        path = state.state_path(run.state_dir(settings()), f"support-assistant-v{candidate}",
                                f"support-assistant-v{third}")  # fmt: skip
        st = state.load(path)  # what `llmops deploy rollback` writes: the state file is the rollout's truth
        st.status, st.reason = state.ROLLED_BACK, "rolled back by the on-call"
        state.save(path, st)
        finished, states = _wait_finished(stack, run_id)
        expected = {"rollout": "failed", "await_hold": "success", "approve_promotion": "skipped",
                    "announce_deployed": "upstream_failed"}
        assert (finished["state"], states) == ("failed", expected), _explain(stack, run_id)
        assert registry.version_by_alias(registry.CHAMPION)["version"] == candidate
    finally:
        stack.down()
        settings.cache_clear()
