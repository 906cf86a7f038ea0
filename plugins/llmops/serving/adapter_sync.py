"""The gateway's adapter sync (``--sync-adapters``): its own vLLM holds exactly the adapters the traffic table lists.

In kubernetes vLLM listens inside its pod only and a pool has several pods, so the deploy step cannot load an
adapter into each vLLM itself. It lists the adapter in the pool's traffic table (the ConfigMap every pod's gateway
follows), and each gateway loads it into the vLLM beside it, as llm-d's lora-syncer does. A sync runs at start,
whenever the table changes, and every ``--adapter-resync-s`` (a restarted vLLM container gets its adapters back):

* a listed adapter vLLM does not serve is loaded (:class:`llmops.serving.lora.LoraAdmin`: never a reload of a
  served name, never in place, confirmed in ``/v1/models``); a failed load is retried at the next sync;
* an adapter vLLM serves under a listed name but from another directory is reported failed, not reloaded;
* an adapter vLLM serves that is neither listed nor routed by the table is unloaded (a routed one never is: the
  version answers traffic, or was started on vLLM's command line).

Every outcome is visible: per adapter on ``GET /adapters`` (:meth:`AdapterSync.report`, which the deploy step reads
from each pod) and in ``llmops_gateway_adapter_state``/``llmops_gateway_adapter_errors_total``, and every failure
is logged. A pass blocks on vLLM, so the gateway runs it in a worker thread; the report is read on the event loop,
so each status is replaced whole, never changed in place.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from llmops.serving.gateway_metrics import GatewayMetrics
from llmops.serving.lora import LoraAdmin, LoraError
from llmops.serving.traffic import TrafficTable

log = logging.getLogger("llmops.gateway.adapters")
PENDING, LOADED, FAILED = "pending", "loaded", "failed"


@dataclass(frozen=True)
class AdapterStatus:
    path: str
    state: str = PENDING
    error: str | None = None


def routed(table: TrafficTable) -> set[str]:
    """The names the table sends to the gateway's own backend (targets without a ``backend`` of their own)."""
    return {t.model for r in table.routes.values() for t in (r.stable, r.canary) if t is not None and not t.backend}


class AdapterSync:
    def __init__(self, lora: LoraAdmin, metrics: GatewayMetrics):
        self.lora, self.metrics = lora, metrics
        self.status: dict[str, AdapterStatus] = {}
        self.served: set[str] = set()  # the adapters vLLM served after the last pass that reached it
        self.synced_at: float | None = None  # epoch seconds of that pass (None: none yet, the pod is not ready)
        self.error: str | None = None  # why the last pass could not read vLLM (None: it could)

    def sync(self, table: TrafficTable) -> None:
        """One pass over ``table`` (blocking)."""
        kept = self.status
        self.status = {name: kept[name] if name in kept and kept[name].path == path else AdapterStatus(path)
                       for name, path in table.adapters.items()}  # fmt: skip
        self._publish()
        try:
            served = self.lora.adapters()
        except LoraError as exc:
            self.error = str(exc)
            self.metrics.adapter_errors.labels("", "list").inc()
            log.error("adapter sync cannot read vLLM's adapters: %s", exc)
            return
        self.error = None
        for name in sorted(set(served) - set(table.adapters) - routed(table)):
            self._unload(name, served)
        for name, status in self.status.items():
            if name not in served:
                self._load(name, status.path, served)
            elif served[name] not in (None, status.path):
                self._set(name, FAILED, f"vLLM serves {name} from {served[name]}, not {status.path}; a name is "
                          "never reloaded: list the version under a new name")  # fmt: skip
            else:
                self._set(name, LOADED)
        self.served, self.synced_at = set(served), time.time()
        self._publish()

    def _load(self, name: str, path: str, served: dict[str, str | None]) -> None:
        try:
            self.lora.load(name, path)
        except LoraError as exc:
            self.metrics.adapter_errors.labels(name, "load").inc()
            log.error("adapter %s from %s not loaded: %s", name, path, exc)
            self._set(name, FAILED, str(exc))
            return
        served[name] = path
        self._set(name, LOADED)

    def _unload(self, name: str, served: dict[str, str | None]) -> None:
        try:
            self.lora.unload(name)
        except LoraError as exc:
            self.metrics.adapter_errors.labels(name, "unload").inc()
            log.error("adapter %s, no longer listed, not unloaded: %s", name, exc)
            return
        del served[name]

    def _set(self, name: str, state: str, error: str | None = None) -> None:
        self.status[name] = AdapterStatus(self.status[name].path, state, error)

    def _publish(self) -> None:
        self.metrics.adapter_state.clear()
        for name, status in self.status.items():
            self.metrics.adapter_state.labels(name, status.state).set(1)

    def report(self) -> dict:
        return {"adapters": {name: asdict(status) for name, status in self.status.items()},
                "served": sorted(self.served), "synced_at": self.synced_at, "error": self.error}  # fmt: skip
