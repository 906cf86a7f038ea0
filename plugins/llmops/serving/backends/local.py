"""The ``local`` backend: real CPU model servers, one per version, behind the same gateway binary as in kubernetes.

Each version's adapter is merged into the pinned base (``transformers serve`` cannot load an adapter) and
served by :func:`llmops.serving.server.serve_model` (its own process group, its own request-limit gateway).
One front gateway process, started with the first weights, splits the stable name's traffic between those
servers: the same code, weights (through its admin endpoint, bearer token) and per-variant metrics as the
vLLM sidecar. Use it as a context manager; leaving it stops every process it started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from llmops.config import ServingSettings
from llmops.serving.backends.base import AdminTrafficStore, BackendError, ServingBackend
from llmops.serving.gateway import gateway_args
from llmops.serving.merge import merge_adapter
from llmops.serving.server import HOST, Endpoint, free_port, serve_model
from llmops.serving.traffic import Target

log = logging.getLogger(__name__)


class LocalBackend(ServingBackend):
    """Versions of ``base_model_dir`` + adapter served from ``work_dir``; the front gateway listens on
    ``gateway_port`` (0: a free port). ``serving`` gives the servers' and the gateway's limits (max_tokens,
    max_prompt_chars, request_timeout_s, the gateway's queue) and the servers' start-up deadline."""

    def __init__(
        self,
        base_model_dir: str | Path,
        work_dir: str | Path,
        serving: ServingSettings,
        *,
        stable_name: str,
        gateway_port: int = 0,
        admin_token_env: str = "LLMOPS_GATEWAY_ADMIN_TOKEN",
        inference_log: str | None = None,
    ):
        port = gateway_port or free_port()
        self._token = os.environ.get(admin_token_env) or secrets.token_urlsafe(32)
        super().__init__(stable_name, f"http://{HOST}:{port}", AdminTrafficStore(f"http://{HOST}:{port}", self._token))
        self.base_model_dir, self.work_dir = Path(base_model_dir), Path(work_dir)
        self._port, self._token_env = port, admin_token_env
        self._limits = {"max_tokens": serving.max_tokens, "max_prompt_chars": serving.max_prompt_chars,
                        "request_timeout_s": serving.request_timeout_s}  # fmt: skip
        self._queue = {"max_in_flight": serving.max_in_flight, "max_queued": serving.max_queued}
        self._startup_timeout_s = serving.startup_timeout_s
        self._inference_log = inference_log  # the lake the front gateway logs every request to (llmops_drift's input)
        self._versions: dict[str, tuple[Endpoint, contextlib.ExitStack]] = {}
        self._gateway: subprocess.Popen | None = None

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the front gateway, then every version's server."""
        self._stop_gateway()
        for version in list(self._versions):
            self._versions.pop(version)[1].close()

    def load_version(self, version: str, adapter_path: str | None, base_model_dir: str | Path | None = None) -> None:
        """Serve ``adapter_path`` merged into ``base_model_dir`` (default: the backend's base). Each version has its
        own server, so two versions on different bases is the two-Deployment path at no extra cost; without an
        adapter the base itself is served (the comparison for a first deployment, when there is no champion)."""
        if version in self._versions:
            raise BackendError(f"{version} is already loaded; a version is never reloaded under an existing name")
        base = Path(base_model_dir) if base_model_dir else self.base_model_dir
        model = merge_adapter(base, adapter_path, self.work_dir / "merged" / version) if adapter_path else base
        stack = contextlib.ExitStack()
        endpoint = stack.enter_context(serve_model(
            model, model_name=version, log_dir=self.work_dir / "logs" / version,
            startup_timeout_s=self._startup_timeout_s, **self._limits))  # fmt: skip
        self._versions[version] = (endpoint, stack)
        log.info("loaded %s (%s)", version, f"{adapter_path} on {base}" if adapter_path else f"base {base}")

    def unload_version(self, version: str) -> None:
        self._refuse_if_routed(version)
        if version in self._versions:
            self._versions.pop(version)[1].close()
            log.info("unloaded %s", version)

    def target(self, version: str) -> Target:
        if version not in self._versions:
            raise BackendError(f"{version} is not loaded; load it before giving it traffic")
        return Target(model=version, backend=self._versions[version][0].base_url.removesuffix("/v1"))

    def set_weights(self, stable: str, canary: str | None = None, canary_weight: float = 0.0) -> None:
        if self._gateway is None:
            self._start_gateway(self.target(stable))
        super().set_weights(stable, canary, canary_weight)

    def _start_gateway(self, first: Target) -> None:
        argv = [sys.executable, "-m", "llmops.serving.gateway", "--exit-with-parent", *gateway_args(
            first.backend, model=self.stable_name, backend_model=first.model, host=HOST, port=self._port,
            admin_token_env=self._token_env, inference_log=self._inference_log, **self._limits,
            **self._queue)]  # fmt: skip
        log_path = self.work_dir / "logs" / "front-gateway.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            env = {**os.environ, self._token_env: self._token}  # the token never shows on a command line
            self._gateway = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_file,
                                             stderr=subprocess.STDOUT, env=env, process_group=0)  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.gateway_url}/metrics", timeout=2).status_code == 200:
                    break
            if self._gateway.poll() is not None or time.monotonic() > deadline:
                self._stop_gateway()
                raise BackendError(f"the front gateway did not start; see {log_path}")
            time.sleep(0.1)
        log.info("front gateway for %s at %s (log: %s)", self.stable_name, self.gateway_url, log_path)

    def _stop_gateway(self) -> None:
        if self._gateway is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._gateway.pid, signal.SIGTERM)
        try:
            self._gateway.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self._gateway.pid, signal.SIGKILL)
            self._gateway.wait()
        self._gateway = None
