"""vLLM's runtime LoRA API, the one client both the deploy code and the gateway's adapter sync use.

vLLM documents it for ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``: ``POST /v1/load_lora_adapter``
``{"lora_name", "lora_path"}``, ``POST /v1/unload_lora_adapter`` ``{"lora_name"}``, and ``GET /v1/models``, which
lists the base model and every loaded adapter (an adapter's card names its base in ``parent`` and its directory in
``root``). A name is never reloaded and ``load_inplace`` is never sent: vLLM #33791 re-reads such an adapter from
disk on every request and #42125 serves stale prefix-cache blocks after it. Each load and unload is confirmed in
``/v1/models``, because an acknowledged call is not yet a served adapter. Only httpx, so the gateway may import it.
"""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger("llmops.serving.lora")


class LoraError(RuntimeError):
    """vLLM refused, failed or did not confirm a call; the message carries vLLM's own answer."""


class LoraAdmin:
    """The runtime LoRA routes of the vLLM server at ``vllm_url`` (its root)."""

    def __init__(self, vllm_url: str, timeout_s: float = 120.0):
        self._http = httpx.Client(base_url=vllm_url.rstrip("/"), timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            answer = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise LoraError(f"vLLM at {self._http.base_url} unreachable for {method} {path}: {exc!r}") from exc
        if answer.status_code != 200:
            raise LoraError(f"vLLM {method} {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer

    def _cards(self) -> list[dict]:
        try:
            cards = self._call("GET", "/v1/models").json()["data"]
            return [{"id": card["id"], "parent": card.get("parent"), "root": card.get("root")} for card in cards]
        except (ValueError, KeyError, TypeError) as exc:
            raise LoraError(f"vLLM /v1/models answered an unexpected shape: {exc!r}") from exc

    def served(self) -> set[str]:
        """Every name vLLM serves now: the base model and every loaded adapter."""
        return {card["id"] for card in self._cards()}

    def adapters(self) -> dict[str, str | None]:
        """The loaded adapters (cards with a ``parent``): name -> the directory vLLM loaded it from."""
        return {card["id"]: card["root"] for card in self._cards() if card["parent"]}

    def load(self, name: str, path: str) -> None:
        """Load the adapter at ``path`` (a directory vLLM's process can read) as ``name``; refused if taken."""
        if name in self.served():
            raise LoraError(f"{name} is already loaded; a version is never reloaded under an existing name")
        self._call("POST", "/v1/load_lora_adapter", json={"lora_name": name, "lora_path": path})
        if name not in self.served():
            raise LoraError(f"vLLM accepted {name} but /v1/models does not list it")
        log.info("vLLM loaded adapter %s from %s", name, path)

    def unload(self, name: str) -> None:
        """Unload ``name``; nothing to do if vLLM does not serve it."""
        if name not in self.served():
            log.info("%s is not loaded in vLLM; nothing to unload", name)
            return
        self._call("POST", "/v1/unload_lora_adapter", json={"lora_name": name})
        if name in self.served():
            raise LoraError(f"vLLM acknowledged unloading {name} but /v1/models still lists it")
        log.info("vLLM unloaded adapter %s", name)
