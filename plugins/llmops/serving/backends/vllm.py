"""The ``vllm`` backend: every version is a LoRA adapter loaded at run time into one vLLM pool under its own name.

vLLM's documented HTTP API (with ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``): ``POST /v1/load_lora_adapter``
``{"lora_name", "lora_path"}``, ``POST /v1/unload_lora_adapter`` ``{"lora_name"}``, and ``GET /v1/models``,
which lists the base model and every loaded adapter by name. A version is never reloaded under an existing
name and ``load_inplace`` is never sent: vLLM #33791 re-reads such an adapter from disk on every request
and #42125 serves stale prefix-cache blocks after it. Each load and unload is confirmed in ``/v1/models``.
"""

from __future__ import annotations

import logging

import httpx

from llmops.serving.backends.base import BackendError, ServingBackend, TrafficStore
from llmops.serving.traffic import Target

log = logging.getLogger(__name__)


class VLLMBackend(ServingBackend):
    """Adapters in the vLLM pool at ``vllm_url``; the gateway at ``gateway_url`` (whose ``--backend`` is that pool)
    splits traffic by adapter name. ``transport`` is for tests only (vLLM needs a GPU)."""

    def __init__(
        self,
        vllm_url: str,
        *,
        stable_name: str,
        gateway_url: str,
        traffic: TrafficStore,
        timeout_s: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ):
        super().__init__(stable_name, gateway_url, traffic)
        self._http = httpx.Client(base_url=vllm_url.rstrip("/"), timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            answer = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendError(f"vLLM at {self._http.base_url} unreachable for {method} {path}: {exc!r}") from exc
        if answer.status_code != 200:
            raise BackendError(f"vLLM {method} {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer

    def served(self) -> set[str]:
        """The names vLLM serves now: the base model and every loaded adapter."""
        try:
            return {entry["id"] for entry in self._call("GET", "/v1/models").json()["data"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise BackendError(f"vLLM /v1/models answered an unexpected shape: {exc!r}") from exc

    def load_version(self, version: str, adapter_path: str) -> None:
        if version in self.served():
            raise BackendError(f"{version} is already loaded; a version is never reloaded under an existing name")
        self._call("POST", "/v1/load_lora_adapter", json={"lora_name": version, "lora_path": adapter_path})
        if version not in self.served():
            raise BackendError(f"vLLM accepted {version} but /v1/models does not list it")
        log.info("vLLM loaded adapter %s from %s", version, adapter_path)

    def unload_version(self, version: str) -> None:
        self._refuse_if_routed(version)
        if version not in self.served():
            log.info("%s is not loaded in vLLM; nothing to unload", version)
            return
        self._call("POST", "/v1/unload_lora_adapter", json={"lora_name": version})
        if version in self.served():
            raise BackendError(f"vLLM acknowledged unloading {version} but /v1/models still lists it")
        log.info("vLLM unloaded adapter %s", version)

    def target(self, version: str) -> Target:
        if version not in self.served():
            raise BackendError(f"{version} is not loaded in vLLM; load it before giving it traffic")
        return Target(model=version)
