"""The ``vllm`` backend where the deploy code reaches vLLM itself: every version is a LoRA adapter loaded at run
time into one vLLM server under its own name (:mod:`llmops.serving.lora`: never reloaded, never in place, each
call confirmed in ``/v1/models``). In kubernetes vLLM listens inside its pods only, so there the adapters go
through the pool's traffic table instead (:mod:`llmops.serving.backends.adapter_pool`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from llmops.serving.backends.base import BackendError, ServingBackend, TrafficStore
from llmops.serving.lora import LoraAdmin, LoraError
from llmops.serving.traffic import Target


@contextlib.contextmanager
def _as_backend_error() -> Iterator[None]:
    try:
        yield
    except LoraError as exc:
        raise BackendError(str(exc)) from exc


class VLLMBackend(ServingBackend):
    """Adapters in the vLLM server at ``vllm_url``; the gateway at ``gateway_url`` (whose ``--backend`` is that
    server) splits traffic by adapter name."""

    def __init__(
        self, vllm_url: str, *, stable_name: str, gateway_url: str, traffic: TrafficStore, timeout_s: float = 120.0
    ):
        super().__init__(stable_name, gateway_url, traffic)
        self.lora = LoraAdmin(vllm_url, timeout_s)

    def close(self) -> None:
        self.lora.close()

    def load_version(self, version: str, adapter_path: str) -> None:
        with _as_backend_error():
            self.lora.load(version, adapter_path)

    def unload_version(self, version: str) -> None:
        self._refuse_if_routed(version)
        with _as_backend_error():
            self.lora.unload(version)

    def target(self, version: str) -> Target:
        with _as_backend_error():
            served = self.lora.served()
        if version not in served:
            raise BackendError(f"{version} is not loaded in vLLM; load it before giving it traffic")
        return Target(model=version)
