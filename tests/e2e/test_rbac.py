"""Role-based access through a real api-server with the FAB auth manager: who may trigger which DAG.

One throw-away Airflow home (SQLite) holds this repository's DAGs plus an admin-only probe DAG, so the
403 path is proven even before the admin-only training and deployment DAGs exist.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from llmops.access import ADMIN_ONLY_DAGS, DEVELOPER_DAGS, USERS_ENV
from tests.airflow_env import BIN, ROOT, airflow_env

pytestmark = pytest.mark.slow

PROBE = "llmops_rbac_probe"
USERS = {"admin": "Admin", "dev": "Developer", "consumer": "ModelUser"}


def _run(args: list[str], env: dict[str, str], timeout: int = 300) -> str:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """Migrated DB, roles and users bootstrapped, DAGs serialized with their permissions, api-server up."""
    home = tmp_path_factory.mktemp("rbac")
    dags = home / "dags"
    shutil.copytree(ROOT / "dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "tests" / "fixtures" / "dags" / f"{PROBE}.py", dags)
    env = airflow_env(
        home,
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__AUTH_MANAGER="airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        AIRFLOW__API__SECRET_KEY=secrets.token_hex(32),
        **{USERS_ENV: json.dumps([{"username": u, "password": f"{u}-pw", "role": r} for u, r in USERS.items()])},
    )
    bootstrap = [sys.executable, "-m", "llmops.access", "bootstrap"]
    _run([str(BIN / "airflow"), "db", "migrate"], env)
    first = _run(bootstrap, env)
    _run([str(BIN / "airflow"), "dags", "reserialize"], env)
    rerun = _run(bootstrap, env)

    port = _free_port()
    log = (home / "api-server.log").open("w")
    started = time.monotonic()
    server = subprocess.Popen(
        ["nice", str(BIN / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        while True:
            assert server.poll() is None, (home / "api-server.log").read_text()[-3000:]
            assert time.monotonic() - started < 120, "api-server not healthy after 120 s"
            try:
                if client.get("/api/v2/monitor/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        print(f"api-server healthy after {time.monotonic() - started:.1f} s")
        tokens = {}
        for user in USERS:
            resp = client.post("/auth/token", json={"username": user, "password": f"{user}-pw"})
            assert resp.status_code == 201, resp.text
            tokens[user] = {"Authorization": f"Bearer {resp.json()['access_token']}"}
        dag_ids = {d["dag_id"] for d in client.get("/api/v2/dags", params={"limit": 1000},
                                                   headers=tokens["admin"]).json()["dags"]}
        yield {"client": client, "tokens": tokens, "dags": dag_ids, "bootstrap": (first, rerun)}
    finally:
        client.close()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _trigger(airflow, user: str, dag_id: str) -> httpx.Response:
    return airflow["client"].post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": {}},
                                  headers=airflow["tokens"][user])


def _present(airflow, dag_ids) -> list[str]:
    return sorted(set(dag_ids) & airflow["dags"])


def test_bootstrap_creates_roles_and_users_then_changes_nothing(airflow):
    first, rerun = airflow["bootstrap"]
    for user, role in USERS.items():
        assert f"user {user}: created with role {role}" in first
    assert "role ModelUser: + can_read on My Profile" in first
    assert rerun.strip().endswith("roles and users already up to date"), rerun


def test_every_dag_synced_its_access_control(airflow):
    """A DAG whose access_control names a missing role or resource shows up as an import error."""
    resp = airflow["client"].get("/api/v2/importErrors", headers=airflow["tokens"]["admin"])
    assert resp.status_code == 200
    assert resp.json()["import_errors"] == []
    assert {PROBE, "llmops_data"} <= airflow["dags"]


def test_developer_cannot_trigger_admin_only_dags(airflow):
    for dag_id in _present(airflow, ADMIN_ONLY_DAGS | {PROBE}):
        assert _trigger(airflow, "dev", dag_id).status_code == 403, dag_id


def test_developer_triggers_data_and_governance_dags(airflow):
    for dag_id in _present(airflow, DEVELOPER_DAGS):
        resp = _trigger(airflow, "dev", dag_id)
        assert resp.status_code == 200, f"{dag_id}: {resp.text}"


def test_developer_views_every_dag_and_its_runs(airflow):
    client, headers = airflow["client"], airflow["tokens"]["dev"]
    listed = {d["dag_id"] for d in client.get("/api/v2/dags", params={"limit": 1000}, headers=headers).json()["dags"]}
    assert listed == airflow["dags"]
    for dag_id in _present(airflow, ADMIN_ONLY_DAGS | {PROBE}):
        assert client.get(f"/api/v2/dags/{dag_id}/dagRuns", headers=headers).status_code == 200, dag_id
    # viewing is not editing: pausing an admin-only DAG is refused too
    assert client.patch(f"/api/v2/dags/{PROBE}", json={"is_paused": False}, headers=headers).status_code == 403


def test_admin_triggers_every_dag(airflow):
    for dag_id in _present(airflow, ADMIN_ONLY_DAGS | DEVELOPER_DAGS | {PROBE}):
        resp = _trigger(airflow, "admin", dag_id)
        assert resp.status_code == 200, f"{dag_id}: {resp.text}"


def test_model_user_can_neither_trigger_nor_list_dags(airflow):
    for dag_id in _present(airflow, ADMIN_ONLY_DAGS | DEVELOPER_DAGS | {PROBE}):
        assert _trigger(airflow, "consumer", dag_id).status_code == 403, dag_id
    headers = airflow["tokens"]["consumer"]
    assert airflow["client"].get("/api/v2/dags", headers=headers).status_code == 403
    assert airflow["client"].get("/api/v2/dags/llmops_data/dagRuns", headers=headers).status_code == 403
