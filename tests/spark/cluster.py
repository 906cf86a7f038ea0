"""A real Spark standalone cluster on loopback for tests: one master and N workers started with pyspark's own
``bin/spark-class`` (nothing downloaded), torn down with their process groups."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from llmops.steps.spark_submit import spark_home


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(what: str, check, procs: list[subprocess.Popen], logs: Path, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            tails = {f.name: f.read_text()[-1500:] for f in logs.glob("*.log")}
            raise RuntimeError(f"a Spark daemon exited while waiting for {what}: {tails}")
        try:
            state = check()
            if state:
                return state
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Spark standalone cluster: no {what} after {timeout_s:.0f} s")


@contextlib.contextmanager
def standalone_cluster(work: Path, workers: int = 2, cores: int = 1, memory: str = "1g") -> Iterator[str]:
    """Yields the master URL (``spark://127.0.0.1:<port>``) once every worker has registered."""
    spark_class = str(spark_home() / "bin" / "spark-class")
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(work / "logs")}
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    port, ui = _free_port(), _free_port()
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("w") as out:
            procs.append(subprocess.Popen([spark_class, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True))

    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
              "--webui-port", str(ui))
        status = lambda: httpx.get(f"http://127.0.0.1:{ui}/json/", timeout=5).json()  # noqa: E731
        _wait("master", lambda: status().get("status") == "ALIVE", procs, logs)
        for i in range(workers):
            start(f"worker-{i}", "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
                  "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory,
                  "--webui-port", str(_free_port()), "--work-dir", str(work / f"worker-{i}"))
        _wait(f"{workers} workers", lambda: status().get("aliveworkers") == workers, procs, logs)
        yield f"spark://127.0.0.1:{port}"
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
