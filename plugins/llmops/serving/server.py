"""A managed local model server: ``transformers serve`` behind the request-limit gateway, as a context manager.

::

    with serve_model(merged_dir, max_tokens=256) as endpoint:
        OpenAIClient(endpoint.base_url, endpoint.model).complete("Hello", max_tokens=16)

Both processes run in one process group of their own, so one ``killpg`` takes everything they started
down. Whatever ends the ``with`` block (normal exit, an exception in it, a failed or timed-out start,
a backend that died) the group gets SIGTERM, then SIGKILL after a grace period, is waited for, and both
ports are checked to be free again. The gateway also stops the group if this process disappears
without cleaning up (SIGKILL), so a killed task does not leave a model server behind. Logs are kept
in files (``Endpoint.log_path``, ``Endpoint.gateway_log_path``) for the task log to point to; a failed
start raises :class:`ServerStartError` with their last lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from llmops.serving.client import OpenAIClient
from llmops.serving.gateway import gateway_args

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


class ServerStartError(RuntimeError):
    """The server did not become healthy: it exited, or the start-up timeout passed. Everything it
    started has been stopped by then; ``pgid``, ``ports`` and ``log_path`` say what it was."""

    def __init__(self, message: str, *, pgid: int, ports: list[int], log_path: Path):
        super().__init__(message)
        self.pgid, self.ports, self.log_path = pgid, ports, log_path


class _NotStarted(Exception):
    pass


class ServerStopError(RuntimeError):
    """Something the server started outlived the stop (a process in its group, or a bound port)."""


@dataclass(frozen=True)
class Endpoint:
    base_url: str  # the gateway, http://127.0.0.1:PORT/v1; the backend itself is not reachable through it
    model: str
    log_path: Path  # the model server's output
    gateway_log_path: Path
    pgid: int  # process group of the model server and the gateway
    backend_pid: int

    def client(self, timeout_s: float = 120.0) -> OpenAIClient:
        return OpenAIClient(self.base_url, self.model, timeout_s=timeout_s)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could bind ``port`` now. SO_REUSEADDR, as servers set it: connections left in
    TIME_WAIT do not count, only a socket still bound or listening."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit): ")


def _tail(path: Path, lines: int = 25) -> str:
    """The log's last lines, led by its last exception line: uvicorn logs its shutdown after the
    traceback, which pushes the cause out of a plain tail."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    causes = [line for line in text if _EXCEPTION_LINE.match(line)]
    return "\n".join(([f"cause: {causes[-1]}"] if causes else []) + text[-lines:])


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class _Running:
    """The two child processes and what they hold, and how to take them down."""

    def __init__(self, procs: list[subprocess.Popen], ports: list[int], run_dir: Path, grace_s: float):
        self.procs, self.ports, self.run_dir, self.grace_s = procs, ports, run_dir, grace_s
        self.pgid = procs[0].pid

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, sig)

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after the grace period, reap the children, then check that no
        process of the group and no bound port is left. Raises :class:`ServerStopError` if one is."""
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        if group_alive(self.pgid):
            self._signal(signal.SIGKILL)
        for proc in self.procs:
            proc.wait()
        shutil.rmtree(self.run_dir / "hf", ignore_errors=True)
        if not _wait_until(lambda: not group_alive(self.pgid), self.grace_s):
            raise ServerStopError(f"processes of group {self.pgid} survived SIGKILL")
        busy = [p for p in self.ports if not _wait_until(lambda p=p: port_is_free(p), self.grace_s)]
        if busy:
            raise ServerStopError(f"ports {busy} are still bound after the server stopped")


def _start(
    model_dir: Path,
    model: str,
    *,
    startup_timeout_s: float,
    max_tokens: int,
    max_prompt_chars: int,
    request_timeout_s: float,
    max_in_flight: int,
    max_queued: int,
    run_dir: Path,
    grace_s: float,
    emit: Callable[[str], None],
) -> tuple[_Running, Endpoint]:
    backend_port = free_port()
    gateway_port = free_port()
    while gateway_port == backend_port:
        gateway_port = free_port()
    hf_home = run_dir / "hf"
    (hf_home / "hub").mkdir(parents=True, exist_ok=True)  # transformers serve's /v1/models scans it
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    backend_argv = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(model_dir),
                    "--host", HOST, "--port", str(backend_port), "--device", "cpu", "--log-level", "info"]
    gateway_argv = [sys.executable, "-m", "llmops.serving.gateway", "--exit-with-parent", *gateway_args(
        f"http://{HOST}:{backend_port}", model=model, backend_model=str(model_dir), host=HOST, port=gateway_port,
        max_tokens=max_tokens, max_prompt_chars=max_prompt_chars, request_timeout_s=request_timeout_s,
        max_in_flight=max_in_flight, max_queued=max_queued)]
    log_path, gateway_log_path = run_dir / "model-server.log", run_dir / "gateway.log"
    emit(f"$ python {' '.join(backend_argv[1:])}  (log: {log_path})")
    started = time.monotonic()
    procs: list[subprocess.Popen] = []
    with log_path.open("ab") as backend_log, gateway_log_path.open("ab") as gateway_log:
        procs.append(subprocess.Popen(backend_argv, stdin=subprocess.DEVNULL, stdout=backend_log,
                                      stderr=subprocess.STDOUT, env=env, process_group=0))
        running = _Running(procs, [backend_port, gateway_port], run_dir, grace_s)
        try:  # the gateway joins the backend's group, so one killpg covers both
            procs.append(subprocess.Popen(gateway_argv, stdin=subprocess.DEVNULL, stdout=gateway_log,
                                          stderr=subprocess.STDOUT, env=env, process_group=running.pgid))
        except BaseException:
            running.stop()
            raise
    endpoint = Endpoint(f"http://{HOST}:{gateway_port}/v1", model, log_path, gateway_log_path, running.pgid,
                        procs[0].pid)
    try:
        with OpenAIClient(endpoint.base_url, model, timeout_s=5.0) as client:
            while not client.health():
                dead = [(name, p.returncode) for name, p in zip(("model server", "gateway"), procs, strict=True)
                        if p.poll() is not None]
                if dead:
                    raise _NotStarted(f"{dead[0][0]} exited with code {dead[0][1]} during start-up")
                if time.monotonic() - started > startup_timeout_s:
                    raise _NotStarted(f"{model_dir} was not healthy within {startup_timeout_s}s")
                time.sleep(0.2)
    except BaseException as exc:
        running.stop()
        if isinstance(exc, _NotStarted):
            raise ServerStartError(
                f"{exc}\n--- model server log ({log_path}), last lines:\n{_tail(log_path)}"
                f"\n--- gateway log ({gateway_log_path}), last lines:\n{_tail(gateway_log_path, 10)}",
                pgid=running.pgid, ports=running.ports, log_path=log_path,
            ) from None
        raise
    emit(f"model {model!r} served at {endpoint.base_url} after {time.monotonic() - started:.1f}s")
    return running, endpoint


@contextlib.contextmanager
def serve_model(
    model_dir: str | Path,
    *,
    model_name: str | None = None,
    startup_timeout_s: float = 120.0,
    max_tokens: int = 256,
    max_prompt_chars: int = 8000,
    request_timeout_s: float = 60.0,
    max_in_flight: int = 4,
    max_queued: int = 16,
    log_dir: str | Path | None = None,
    stop_grace_s: float = 10.0,
    emit: Callable[[str], None] | None = None,
) -> Iterator[Endpoint]:
    """Serve the full (merged) model in ``model_dir`` on CPU for the duration of the ``with`` block.

    Clients call it ``model_name`` (default: the directory's name). The limits are the gateway's (see
    :mod:`llmops.serving.gateway`). Logs go to ``log_dir`` (default: a new temporary directory) and are
    left there after the server stops.
    """
    emit = emit or log.info
    model_dir = Path(model_dir).resolve()
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"no model at {model_dir} (missing config.json); merge an adapter first")
    run_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="llmops-serve-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    running, endpoint = _start(
        model_dir,
        model_name or model_dir.name,
        startup_timeout_s=startup_timeout_s,
        max_tokens=max_tokens,
        max_prompt_chars=max_prompt_chars,
        request_timeout_s=request_timeout_s,
        max_in_flight=max_in_flight,
        max_queued=max_queued,
        run_dir=run_dir,
        grace_s=stop_grace_s,
        emit=emit,
    )
    try:
        yield endpoint
    except BaseException:
        try:
            running.stop()
        except ServerStopError as stop_error:  # report it, but let the block's own exception through
            log.error("%s", stop_error)
        raise
    running.stop()
    emit(f"model server for {endpoint.model!r} stopped")
