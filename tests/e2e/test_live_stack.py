"""`make up` / `make down`: the four Airflow services on loopback with FAB roles, and a stop that touches
nothing but what was started."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import httpx
import psutil
import pytest

from llmops.stack import SERVICES, Stack, StackError
from tests.airflow_env import ROOT

pytestmark = pytest.mark.slow


def test_every_service_is_healthy_and_listens_on_loopback_only(live_stack):
    health = httpx.get(f"{live_stack.url}/api/v2/monitor/health", timeout=10).json()
    assert {k: v["status"] for k, v in health.items()} == dict.fromkeys(health, "healthy")
    running = live_stack.running()
    assert set(running) == set(SERVICES)
    listening = set()
    for pid in running.values():
        for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            listening |= {c.laddr for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
    assert listening, "the api-server listens somewhere"
    assert {addr.ip for addr in listening} == {"127.0.0.1"}, listening


def test_credentials_live_outside_the_repo_owner_only(live_stack):
    users = live_stack.state_dir / "users.json"
    assert ROOT not in users.resolve().parents
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert {spec["role"] for spec in live_stack.credentials().values()} == {"Admin", "Developer", "ModelUser"}


def test_roles_hold_over_rest(live_stack):
    def trigger(user: str, dag_id: str) -> int:
        headers = {"Authorization": f"Bearer {live_stack.token(user)}"}
        return httpx.post(f"{live_stack.url}/api/v2/dags/{dag_id}/dagRuns", headers=headers, timeout=30,
                          json={"logical_date": None, "conf": {}}).status_code

    assert trigger("modeluser", "llmops_train") == 403
    assert trigger("developer", "llmops_train") == 403
    with pytest.raises(StackError, match="login as developer failed"):
        Stack(home=live_stack.home, state_dir=live_stack.state_dir / "other", port=live_stack.port).token("developer")


def test_dags_stay_paused_after_up(live_stack):
    """As up left them, before any test switched one on (the stack is shared by the session)."""
    paused = live_stack.paused_after_up
    assert {"llmops_data", "llmops_train"} <= set(paused) and all(paused.values()), paused


def test_up_refuses_a_taken_port_with_one_line(live_stack, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "llmops.stack", "up", "--home", str(tmp_path / "home"), "--port", str(live_stack.port)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: port {live_stack.port} on 127.0.0.1 is in use by another process: stop it, "
                                   "or start on another port (make up PORT=8081)")


def test_down_stops_exactly_what_up_started(tmp_path):
    """A bystander whose command line says "airflow" survives; every recorded process group is gone."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "airflow"])
    home = tmp_path / "home"
    (home / "services").mkdir(parents=True)
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(120)", "airflow-scheduler"],
        start_new_session=True, stdout=subprocess.PIPE, text=True)
    assert sleeper.stdout.readline().strip() == "up"  # the interpreter runs (a launcher shim has exec'd it)
    (home / "services" / "pids.json").write_text(f'{{"scheduler": {sleeper.pid}}}')
    try:
        stopped = Stack(home=home, state_dir=tmp_path / "state").down(grace_s=5)
        assert stopped == ["scheduler"]
        assert sleeper.wait(timeout=10) is not None
        assert bystander.poll() is None
        assert not (home / "services" / "pids.json").exists()
    finally:
        bystander.kill()
