"""The rollout on the local runtime: real transformers-serve processes behind the real gateway, real HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from llmops.config import DeployAnalysisSettings, DeploySettings
from llmops.deploy import approval, state
from llmops.deploy.quality import MirrorItem
from llmops.deploy.rollout import run_rollout
from llmops.serving.backends.local import LocalBackend
from llmops.serving.server import group_alive
from tests.serving.test_backends import SERVING, V6, V7, _adapter
from tests.training.conftest import tiny_model  # noqa: F401 - the session's tiny base model, a fixture

PROMPTS = ["Where is order 7?", "Cancel my order", "Refund please"]
REFERENCES = [MirrorItem("You are a support assistant.", q, "", a) for q, a in (
    ("Where is order 7?", "Order 7 ships on Monday."), ("Cancel my order", "Your order is cancelled."),
    ("Refund please", "Your refund is on its way."), ("Reset my password", "Use the reset link."),
    ("Change my address", "Your address is updated."), ("Track parcel 3", "Parcel 3 arrives Friday."))]  # fmt: skip
CFG = DeploySettings(steps=[25, 50, 100], window_s=1.0, step_deadline_s=60, load_rps=20, load_max_tokens=2,
                     drain_s=0.5, analysis=DeployAnalysisSettings(
                         min_requests=8, tuned_at_requests=50, quality_prompts_per_step=3, quality_min_prompts=3,
                         quality_max_tokens=4))  # fmt: skip


@pytest.fixture
def served(tiny_model, tmp_path, monkeypatch):  # noqa: F811
    """V6 (the champion, 100 %) and V7 (a second version of the same quality) loaded behind the gateway."""
    monkeypatch.setenv("LLMOPS_GATEWAY_ADMIN_TOKEN", "rollout-test-token")
    with LocalBackend(tiny_model, tmp_path / "work", SERVING, stable_name="support-assistant") as backend:
        for version, seed in ((V6, 1), (V7, 2)):
            backend.load_version(version, str(_adapter(tiny_model, tmp_path / "work" / "adapters" / version, seed)))
        backend.set_weights(V6)
        yield backend


class Client(threading.Thread):
    """A user calling the stable name all along, as one sticky caller; records when each request was sent and its
    answer's status (the gateway's error answers carry no variant header, so the time tells before/after the
    switch; a request sent before it may be answered after it)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.statuses, self.stop = url, [], threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while not self.stop.wait(0.05):
                body = {"model": "support-assistant", "prompt": "Hi", "max_tokens": 2, "user": "steady-user"}
                sent = time.time()
                try:
                    self.statuses.append((sent, client.post("/v1/completions", json=body).status_code))
                except httpx.HTTPError as exc:
                    self.statuses.append((sent, repr(exc)))


@pytest.mark.slow
def test_good_canary_reaches_100_percent_and_the_old_version_is_unloaded(served, tmp_path):
    v6_pgid = served._versions[V6][0].pgid
    final = run_rollout(served, V6, V7, CFG, tmp_path / "state", PROMPTS, references=REFERENCES)
    assert final.status == state.PROMOTED, final.reason
    assert [look.decision for look in final.looks] == ["continue", "continue"]
    assert [len(look.quality) for look in final.looks] == [3, 3]  # both versions answered 6 distinct prompts
    assert final.looks[1].results[-1]["metric"] == "quality_f1" and final.looks[1].results[-1]["stable_requests"] == 6
    assert all(look.canary["ttft_requests"] >= 8 for look in final.looks)  # the load generator streams
    assert all(look.canary["requests"] >= 8 for look in final.looks)  # the load generator filled the windows
    assert [w for _, w in final.weights] == [0.25, 0.5, 1.0]
    assert not group_alive(v6_pgid) and V6 not in served._versions
    answer = httpx.post(f"{served.gateway_url}/v1/completions", json={"prompt": "Hi", "max_tokens": 2})
    assert answer.status_code == 200 and answer.headers["X-Llmops-Version"] == V7
    assert state.load(state.state_path(tmp_path / "state", V6, V7)) == final
    report = Path(final.report).read_text()
    assert "promoted" in report and "data:image/png;base64," in report and report.count("<tr>") == 1 + 2 * 4
    assert run_rollout(served, V6, V7, CFG, tmp_path / "state", PROMPTS) == final  # an idempotent rerun


@pytest.mark.slow
def test_bad_canary_is_rolled_back_at_the_first_step_naming_the_metric(served, tmp_path):
    os.killpg(served._versions[V7][0].pgid, signal.SIGKILL)  # the canary's server dies: every answer is 5xx
    user = Client(served.gateway_url)
    user.start()
    try:
        final = run_rollout(served, V6, V7, CFG, tmp_path / "state", PROMPTS)
    finally:
        user.stop.set()
        user.join()
    assert final.status == state.ROLLED_BACK
    assert final.reason.startswith("step 0 (25%): error_rate: canary 1.0000"), final.reason
    assert len(final.looks) == 1 and V7 not in served._versions
    assert served.read_metrics()[("stable", V6)].requests.get("5xx", 0) == 0  # stable never failed a request
    rolled_back_at = final.weights[-1][0]
    after = [status for at, status in user.statuses if at > rolled_back_at]
    assert after and set(after) == {200}  # the steady caller is served by stable once the canary is gone
    answer = httpx.post(f"{served.gateway_url}/v1/completions", json={"prompt": "Hi", "max_tokens": 2})
    assert answer.status_code == 200 and answer.headers["X-Llmops-Version"] == V6


@pytest.mark.slow
def test_a_rollout_killed_mid_step_is_resumed_to_a_consistent_end(served, tiny_model, tmp_path):  # noqa: F811
    """SIGKILL the process running a rollout while it waits in a step's window, then run it again: the rerun
    continues from the recorded step and ends promoted, with all traffic on one version."""
    state_dir, work = tmp_path / "state", tmp_path / "child"
    (work / "adapters").mkdir(parents=True)
    for version in (V6, V7):
        (work / "adapters" / version).symlink_to(tmp_path / "work" / "adapters" / version)
    path = state.state_path(state_dir, V6, V7)
    child = subprocess.Popen([sys.executable, "-m", "tests.deploy.rollout_child", str(tiny_model), str(work),
                              str(state_dir)], cwd=Path(__file__).parents[2])  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not ((recorded := state.load(path)) and recorded.weights) and time.monotonic() < deadline:
            assert child.poll() is None, "the rollout process ended before its first step"
            time.sleep(0.2)
        recorded = state.load(path)
        assert recorded.status == state.RUNNING and recorded.weights[-1][1] == 0.25
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        for pgid in (work / "pgids").read_text().split() if (work / "pgids").exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pgid), signal.SIGKILL)  # a killed worker leaves its servers behind (reported)
    final = run_rollout(served, V6, V7, CFG, state_dir, PROMPTS)
    assert final.status == state.PROMOTED, final.reason
    assert [w for _, w in final.weights] == [0.25, 0.25, 0.5, 1.0]  # step 0 recorded, re-applied, then onwards
    assert V6 not in served._versions and state.load(path) == final


@pytest.mark.slow
def test_an_on_call_rollback_ends_a_running_rollout_at_once(served, tmp_path):
    """`llmops deploy rollback` writes the rollout's state file from another process; the running rollout reads
    it after its window and stops there, with all of its traffic on stable, instead of going on to 50 %."""
    cfg = CFG.model_copy(update={"window_s": 3.0})
    path = state.state_path(tmp_path / "state", V6, V7)
    done = {}
    runner = threading.Thread(target=lambda: done.update(final=run_rollout(served, V6, V7, cfg, tmp_path / "state",
                                                                           PROMPTS)), daemon=True)  # fmt: skip
    runner.start()
    deadline = time.monotonic() + 60
    while not ((recorded := state.load(path)) and recorded.weights) and time.monotonic() < deadline:
        time.sleep(0.05)  # the rollout has set its first weight and waits out the window
    on_call = state.load(path)
    on_call.status, on_call.reason = state.ROLLED_BACK, "manual rollback by on-call"
    state.save(path, on_call)
    runner.join(timeout=120)
    final = done["final"]
    assert final.status == state.ROLLED_BACK and final.reason == "manual rollback by on-call"
    assert [w for _, w in final.weights] == [0.25] and not final.looks  # no 50 % step, the look was not recorded
    assert state.load(path) == final  # the on-call decision was not overwritten
    for _ in range(5):
        answer = httpx.post(f"{served.gateway_url}/v1/completions", json={"prompt": "Hi", "max_tokens": 2})
        assert answer.status_code == 200 and answer.headers["X-Llmops-Version"] == V6


def _hold_rollout(served, tmp_path, **update) -> tuple[threading.Thread, dict, Path]:
    """A rollout needing approval (50 % then 100 %), run in a thread until it holds at 50 %."""
    cfg = CFG.model_copy(update={"steps": [50, 100], "approval_required": True, **update})
    path, done = state.state_path(tmp_path / "state", V6, V7), {}
    runner = threading.Thread(target=lambda: done.update(final=run_rollout(
        served, V6, V7, cfg, tmp_path / "state", PROMPTS, references=REFERENCES, run_id="manual__1")), daemon=True)
    runner.start()
    deadline = time.monotonic() + 90
    while not ((recorded := state.load(path)) and recorded.hold_started) and time.monotonic() < deadline:
        assert runner.is_alive(), "the rollout ended before its approval hold"
        time.sleep(0.1)
    return runner, done, path


@pytest.mark.slow
def test_an_approval_hold_keeps_analysing_and_promotes_only_when_approved(served, tmp_path):
    runner, done, path = _hold_rollout(served, tmp_path)
    found_path, holding = approval.find(tmp_path / "state", "manual__1")
    assert found_path == path and holding.status == state.RUNNING and holding.weights[-1][1] == 0.5
    body = approval.hold_body(holding, 3600)
    assert "holds at **50 %** canary traffic" in body and "quality_f1" in body and "error_rate" in body
    deadline = time.monotonic() + 60
    while len(state.load(path).looks) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the analysis goes on while nobody has answered
    assert len(state.load(path).looks) >= 2 and state.load(path).status == state.RUNNING
    approval.record(path, True, "alice")
    runner.join(timeout=60)
    final = done["final"]
    assert final.status == state.PROMOTED and final.reason.endswith("approved by alice"), final.reason
    assert [w for _, w in final.weights] == [0.5, 1.0] and V6 not in served._versions


@pytest.mark.slow
def test_a_failing_metric_rolls_back_during_the_approval_hold(served, tmp_path):
    """Flagger #1801: a canary that turns bad while waiting for approval is rolled back at once; the approver's
    later answer changes nothing."""
    runner, done, path = _hold_rollout(served, tmp_path)
    os.killpg(served._versions[V7][0].pgid, signal.SIGKILL)  # the canary's server dies during the hold
    runner.join(timeout=90)
    final = done["final"]
    assert final.status == state.ROLLED_BACK and final.reason.startswith("waiting for approval: error_rate"), \
        final.reason  # fmt: skip
    approval.record(path, True, "late approver")
    assert run_rollout(served, V6, V7, CFG, tmp_path / "state", PROMPTS).status == state.ROLLED_BACK


@pytest.mark.slow
def test_a_hold_nobody_answers_is_rolled_back_at_the_timeout(served, tmp_path):
    runner, done, _ = _hold_rollout(served, tmp_path, approval_timeout_s=2.0)
    runner.join(timeout=60)
    final = done["final"]
    assert final.status == state.ROLLED_BACK and final.reason == "no approval within 2 s"
    answer = httpx.post(f"{served.gateway_url}/v1/completions", json={"prompt": "Hi", "max_tokens": 2})
    assert answer.status_code == 200 and answer.headers["X-Llmops-Version"] == V6
