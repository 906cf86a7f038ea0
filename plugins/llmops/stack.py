"""The live Airflow stack on one machine: api-server, scheduler, dag-processor and triggerer.

``make up`` (``python -m llmops.stack up``) starts the four services with LocalExecutor on 127.0.0.1 only,
this repository's DAGs and plugins, the FAB auth manager and the three roles with one user each; ``make down``
stops exactly the processes ``up`` started (by the pids it recorded), nothing else.

Why not ``airflow standalone``: it forces SimpleAuthManager (no per-DAG roles) and its log servers listen on
every interface. Here the scheduler and triggerer skip their log servers: with LocalExecutor the api-server
reads task logs from the shared ``$AIRFLOW_HOME/logs`` folder.

Credentials and secrets (user passwords, the JWT and API secret keys) are generated on the first start, kept
outside the repository in the state folder (``$XDG_STATE_HOME/llmops/<checkout>/``, mode 0600), and the
passwords are printed once. ``LLMOPS_PROFILE=integration`` puts the metadata database on PostgreSQL
(127.0.0.1:5432, database ``llmops_airflow``, created when missing) and checks that PostgreSQL and Redis
answer before anything starts.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from llmops import pg_admin
from llmops.access import ADMIN, DEVELOPER, MODEL_USER, USERS_ENV
from llmops.serving.server import port_is_free

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
# heartbeat entries of /api/v2/monitor/health that must say "healthy"
HEALTH_KEYS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
USERS = {"admin": ADMIN, "developer": DEVELOPER, "modeluser": MODEL_USER}
POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/llmops_airflow"
REDIS_ADDRESS = ("127.0.0.1", 6379)


class StackError(RuntimeError):
    """The stack cannot start or stop; the message says why and what to do."""


def default_state_dir() -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "llmops" / hashlib.sha1(str(REPO).encode()).hexdigest()[:12]


def _private_json(path: Path, make: Callable[[], dict]) -> dict:
    """The JSON in ``path``, created by ``make()`` with owner-only permissions on first use."""
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(value, f, indent=2)
    return value


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """The pid runs and is still an Airflow process (a recycled pid is not ours to signal)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"airflow" in cmdline


@dataclass
class Stack:
    home: Path  # AIRFLOW_HOME: metadata DB (SQLite), logs, config
    state_dir: Path = field(default_factory=default_state_dir)
    host: str = "127.0.0.1"
    port: int = 8080
    profile: str = "local"
    dags_folder: Path = REPO / "dags"
    extra_env: dict[str, str] = field(default_factory=dict)
    api_workers: int = 1  # API server processes; one leaves this 2-core machine's second core to the rest

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pids_file(self) -> Path:
        return self.home / "services" / "pids.json"

    def credentials(self) -> dict[str, dict[str, str]]:
        """username -> {password, role}; generated once."""
        return _private_json(self.state_dir / "users.json", lambda: {
            name: {"password": secrets.token_urlsafe(12), "role": role} for name, role in USERS.items()
        })

    def _secrets(self) -> dict[str, str]:
        return _private_json(self.state_dir / "secrets.json", lambda: {
            "jwt_secret": secrets.token_hex(32), "api_secret_key": secrets.token_hex(32),
        })

    def database_url(self) -> str:
        if explicit := self.extra_env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
            return explicit
        return POSTGRES_URL if self.profile == "integration" else f"sqlite:///{self.home}/airflow.db"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        keys = self._secrets()
        env.update(
            AIRFLOW_HOME=str(self.home),
            LLMOPS_PROFILE=self.profile,
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags_folder),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__AUTH_MANAGER="airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.url}/execution/",
            AIRFLOW__API__BASE_URL=self.url,
            AIRFLOW__API__HOST=self.host,
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__SECRET_KEY=keys["api_secret_key"],
            AIRFLOW__API_AUTH__JWT_SECRET=keys["jwt_secret"],
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=self.database_url(),
            PYSPARK_PYTHON=sys.executable,
            PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        )
        env.update(self.extra_env)
        return env

    # --- lifecycle

    def running(self) -> dict[str, int]:
        if not self.pids_file.exists():
            return {}
        return {name: pid for name, pid in json.loads(self.pids_file.read_text()).items() if _alive(pid)}

    def preflight(self) -> None:
        if not port_is_free(self.port, self.host):
            raise StackError(f"port {self.port} on {self.host} is in use by another process: stop it, or start "
                             f"on another port (make up PORT=8081)")
        if self.profile == "integration":
            db = urlsplit(self.database_url())
            if not _reachable(db.hostname or "127.0.0.1", db.port or 5432):
                raise StackError(f"PostgreSQL at {db.hostname}:{db.port or 5432} does not answer: start it "
                                 "(docker compose up -d postgres, or the system service) and retry")
            if not _reachable(*REDIS_ADDRESS):
                raise StackError("Redis at 127.0.0.1:6379 does not answer: start it (docker compose up -d redis)")
            # the metadata database and MLflow's (the integration profile's tracking store)
            pg_admin.ensure(self.database_url(), db.path.lstrip("/"), "mlflow")

    def _airflow(self, *args: str, timeout: int = 600) -> None:
        proc = subprocess.run([str(Path(sys.executable).parent / "airflow"), *args], env=self.env(),
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise StackError(f"airflow {' '.join(args)} failed:\n{(proc.stdout + proc.stderr)[-2000:]}")

    def prepare(self) -> None:
        """Schema (FAB tables included), roles and users: idempotent."""
        self.home.mkdir(parents=True, exist_ok=True)
        self._airflow("db", "migrate")
        users = [{"username": u, **spec} for u, spec in self.credentials().items()]
        proc = subprocess.run([sys.executable, "-m", "llmops.access", "bootstrap"],
                              env={**self.env(), USERS_ENV: json.dumps(users)}, capture_output=True, text=True)
        if proc.returncode != 0:
            raise StackError(f"role bootstrap failed:\n{(proc.stdout + proc.stderr)[-2000:]}")

    def up(self, timeout_s: float = 240.0) -> None:
        if running := self.running():
            raise StackError(f"already running ({', '.join(running)}); `make down` first")
        self.preflight()
        self.prepare()
        logs = self.home / "services"
        logs.mkdir(parents=True, exist_ok=True)
        args = {
            "api-server": ["api-server", "--host", self.host, "--port", str(self.port), "--workers",
                           str(self.api_workers)],
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
        }
        pids = {}
        for name in SERVICES:
            with (logs / f"{name}.log").open("ab") as out:
                proc = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), *args[name]], env=self.env(),
                                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            pids[name] = proc.pid
        self.pids_file.write_text(json.dumps(pids))
        try:
            self.wait_healthy(timeout_s)
        except StackError:
            self.down()
            raise

    def wait_healthy(self, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        health: dict = {}
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while time.monotonic() < deadline:
                if dead := [n for n, pid in json.loads(self.pids_file.read_text()).items() if not _alive(pid)]:
                    tail = (self.home / "services" / f"{dead[0]}.log").read_text(errors="replace")[-2000:]
                    raise StackError(f"{dead[0]} exited during start-up; the end of its log:\n{tail}")
                try:
                    health = client.get("/api/v2/monitor/health").json()
                except (httpx.TransportError, ValueError):
                    health = {}
                if health and all((health.get(k) or {}).get("status") == "healthy" for k in HEALTH_KEYS):
                    return health
                time.sleep(1)
        raise StackError(f"not healthy after {timeout_s:.0f} s: {health or 'api-server does not answer'}")

    def down(self, grace_s: float = 30.0) -> list[str]:
        """SIGTERM each recorded process group, SIGKILL what is left after ``grace_s``; forget the pids."""
        running = self.running()
        for pid in running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(_alive(pid) for pid in running.values()):
            time.sleep(0.5)
        for pid in running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self.pids_file.unlink(missing_ok=True)
        return sorted(running)

    def token(self, username: str) -> str:
        password = self.credentials()[username]["password"]
        resp = httpx.post(f"{self.url}/auth/token", json={"username": username, "password": password}, timeout=30)
        if resp.status_code != 201:
            raise StackError(f"login as {username} failed: HTTP {resp.status_code} {resp.text[:200]}")
        return resp.json()["access_token"]

    def unpause(self, dag_ids: list[str]) -> None:
        headers = {"Authorization": f"Bearer {self.token('admin')}"}
        for dag_id in dag_ids:
            resp = httpx.patch(f"{self.url}/api/v2/dags/{dag_id}", json={"is_paused": False},
                               headers=headers, timeout=30)
            if resp.status_code != 200:
                raise StackError(f"unpausing {dag_id}: HTTP {resp.status_code} {resp.text[:200]}")


def _llmops_dag_ids() -> list[str]:
    return sorted(p.stem for p in (REPO / "dags").glob("llmops_*.py"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m llmops.stack", description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["up", "down", "status"])
    p.add_argument("--home", type=Path, default=Path(os.environ.get("AIRFLOW_HOME") or REPO / ".airflow"))
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--unpause", action="store_true", help="unpause the llmops DAGs (a new install stays paused)")
    args = p.parse_args(argv)
    stack = Stack(home=args.home.resolve(), port=args.port, profile=os.environ.get("LLMOPS_PROFILE", "local"))
    try:
        if args.command == "down":
            stopped = stack.down()
            print(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")
        elif args.command == "status":
            running = stack.running()
            print(f"running: {', '.join(running)} at {stack.url}" if running else "not running")
        else:
            first_start = not (stack.state_dir / "users.json").exists()
            stack.up()
            if args.unpause:
                stack.unpause(_llmops_dag_ids())
            print(f"Airflow is up at {stack.url} ({stack.profile} profile, logs in {stack.home / 'services'})")
            if first_start:
                print(f"users (shown once; kept in {stack.state_dir / 'users.json'}, mode 0600):")
                for name, spec in stack.credentials().items():
                    print(f"  {name:<10} {spec['role']:<10} {spec['password']}")
            if not args.unpause:
                print("DAGs stay paused: unpause them in the UI, or `make up UNPAUSE=1`")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
