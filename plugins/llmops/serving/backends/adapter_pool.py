"""The ``vllm`` backend in kubernetes (the adapter canary): every version is a LoRA adapter in the one vLLM pool,
loaded into each pod's vLLM by that pod's own gateway.

vLLM listens inside its pods only, and a call through the pool's Service reaches one pod of several, so the deploy
step never calls vLLM. It copies the adapter onto the model-cache volume (:mod:`.adapter_volume`) and lists it in
the pool's traffic table (the ConfigMap every pod's gateway follows, read-modify-written on its resourceVersion by
:class:`~.configmap.ConfigMapTrafficStore`), with a route under the version's own name (mirrored prompts ask for it
through the Service, ``deploy.vllm_url``). Each gateway loads the listed adapters into the vLLM beside it
(:mod:`llmops.serving.adapter_sync`). The step then asks every ready pod's gateway directly (``GET /adapters`` at
the pod's IP, the pods of the pool's Deployment found by its label through the Kubernetes API) until each reports
the adapter loaded from that path, within ``deploy.kubernetes.ready_timeout_s``. A pod reporting a failed load
fails the step with the gateway's message, and the adapter leaves the table again. Unloading takes it off the
table and waits until no pod's vLLM serves it. Pods that are not ready are not waited for: they get no traffic,
and a starting pod's gateway reports ready only once its first sync tried every listed adapter.

Metrics: every ready pod's gateway is scraped and the series are summed per variant (:func:`.base.sum_metrics`);
one scrape through the Service would sample a single pod. The load generator sends through the Service
(``gateway_url``), which spreads it over the pods like any caller.

The deploy task's service account needs get and patch on the traffic ConfigMap and list on pods in the namespace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from kubernetes import client as k8s

from llmops.config import Settings
from llmops.serving.adapter_sync import FAILED, LOADED
from llmops.serving.backends.adapter_volume import stage_adapter
from llmops.serving.backends.base import (
    BackendError,
    ServingBackend,
    VariantMetrics,
    read_gateway_metrics,
    sum_metrics,
)
from llmops.serving.backends.configmap import ConfigMapTrafficStore
from llmops.serving.backends.kube import KubeObjects
from llmops.serving.manifests import service_url
from llmops.serving.traffic import Route, Target, TrafficTable

log = logging.getLogger(__name__)
REPORT_TIMEOUT_S = 10.0  # a gateway answers /adapters from memory; one that takes longer counts as not reporting
# A pod's report (its gateway's GET /adapters) -> what keeps it from passing (None: it passes); raises
# BackendError when the pod failed for good.
Check = Callable[[dict], str | None]


def _ready(pod: dict) -> bool:
    meta, status = pod["metadata"], pod.get("status") or {}
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return ready and status.get("phase") == "Running" and bool(status.get("podIP")) and not meta.get(
        "deletionTimestamp")  # fmt: skip


def _gateway_port(pod: dict, default: int) -> int:
    """The ``http`` port of the pod's ``gateway`` container (as the pool was rendered), else ``default``."""
    for container in pod.get("spec", {}).get("containers", []):
        if container.get("name") == "gateway":
            for port in container.get("ports") or []:
                if port.get("name") == "http":
                    return int(port["containerPort"])
    return default


def _loaded(version: str, path: str) -> Check:
    def check(report: dict) -> str | None:
        status = report["adapters"].get(version)
        if status is None or status["path"] != path:
            return f"its table does not list {version} from {path} yet"
        if status["state"] == FAILED:
            raise BackendError(f"failed to load {version} from {path}: {status['error']}")
        return None if status["state"] == LOADED else f"{version} is {status['state']}"

    return check


def _unloaded(version: str) -> Check:
    return lambda report: f"its vLLM still serves {version}" if version in report["served"] else None


def _routed_elsewhere(table: TrafficTable, version: str) -> list[str]:
    """The names other than its own under which ``table`` routes to ``version``."""
    return sorted(name for name, route in table.routes.items() if name != version
                  and version in (route.stable.model, route.canary.model if route.canary else None))  # fmt: skip


class AdapterPoolBackend(ServingBackend):
    """Versions as adapters in pool ``deploy.kubernetes.pool_name``. ``api`` (default: in-cluster credentials) and
    ``pool_url`` (the pool's Service root; default: its cluster DNS name) are for tests."""

    def __init__(self, settings: Settings, *, api: k8s.ApiClient | None = None, pool_url: str | None = None):
        kube = settings.deploy.kubernetes
        traffic = ConfigMapTrafficStore.from_settings(settings, k8s.CoreV1Api(api) if api else None)
        super().__init__(settings.deploy.stable_name, pool_url or service_url(settings, kube.pool_name), traffic)
        self.settings, self.pool = settings, kube.pool_name
        self.objects = KubeObjects(settings.runtime.namespace, kube.field_manager, api)
        self._http = httpx.Client(timeout=REPORT_TIMEOUT_S)

    def close(self) -> None:
        self._http.close()

    def _table(self) -> TrafficTable:
        table = self.traffic.read()
        if table is None:
            raise BackendError(f"the pool {self.pool} has no traffic table: apply its manifests first")
        return table

    def _pods(self) -> dict[str, str]:
        """The pool's ready pods: name -> its gateway's root URL."""
        port = self.settings.deploy.gateway_port
        return {pod["metadata"]["name"]: f"http://{pod['status']['podIP']}:{_gateway_port(pod, port)}"
                for pod in self.objects.find("Pod", {"app.kubernetes.io/name": self.pool}) if _ready(pod)}  # fmt: skip

    def _problems(self, check: Check) -> dict[str, str]:
        """Pod -> why its gateway's report does not pass ``check``; empty when every ready pod passes (and there is
        at least one)."""
        pods = self._pods()
        if not pods:
            return {self.pool: f"no ready pod (label app.kubernetes.io/name={self.pool})"}
        problems = {}
        for name, url in pods.items():
            try:
                answer = self._http.get(f"{url}/adapters")
                answer.raise_for_status()
                report = answer.json()
                problem = check(report)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                problem, report = f"its gateway at {url} gives no adapter report: {exc!r}", {}
            except BackendError as exc:
                raise BackendError(f"pod {name} of {self.pool}: {exc}") from exc
            if problem is not None:
                problems[name] = problem + (f" (its last sync: {report['error']})" if report.get("error") else "")
        return problems

    def _wait(self, what: str, check: Check) -> None:
        kube = self.settings.deploy.kubernetes
        deadline = time.monotonic() + kube.ready_timeout_s
        while problems := self._problems(check):
            if time.monotonic() > deadline:
                where = "; ".join(f"{pod}: {problem}" for pod, problem in problems.items())
                raise BackendError(f"{what} on every ready pod of {self.pool} not within {kube.ready_timeout_s:g} s "
                                   f"(deploy.kubernetes.ready_timeout_s): {where}")  # fmt: skip
            time.sleep(kube.ready_poll_s)

    def load_version(self, version: str, adapter_path: str) -> None:
        path = stage_adapter(Path(adapter_path), version, self.settings)
        table = self._table()
        listed = table.adapters.get(version)
        if listed not in (None, path):
            raise BackendError(f"{version} is listed with {listed}, not {path}: a name is never reloaded")
        if listed is None or version not in table.routes:
            own = {version: Route(stable=Target(model=version))}
            self.traffic.write(TrafficTable(routes={**own, **table.routes}, adapters={**table.adapters, version: path}))
        try:
            self._wait(f"{version} loaded", _loaded(version, path))
        except BackendError:
            self._unlist_after_failure(version)
            raise
        log.info("every ready pod of %s serves %s from %s", self.pool, version, path)

    def _unlist(self, version: str) -> None:
        table = self._table()
        routes = {name: route for name, route in table.routes.items() if name != version}
        adapters = {name: path for name, path in table.adapters.items() if name != version}
        if (routes, adapters) != (table.routes, table.adapters):
            self.traffic.write(TrafficTable(routes=routes, adapters=adapters))

    def _unlist_after_failure(self, version: str) -> None:
        """Off the table again, so no pod keeps retrying it, unless the table routes traffic to it."""
        try:
            if not _routed_elsewhere(self._table(), version):
                self._unlist(version)
        except BackendError as exc:
            log.error("%s could not be taken off the traffic table of %s again: %s", version, self.pool, exc)

    def unload_version(self, version: str) -> None:
        self._refuse_if_routed(version)
        if elsewhere := _routed_elsewhere(self._table(), version):
            raise BackendError(f"the traffic table of {self.pool} still routes {elsewhere} to {version}")
        self._unlist(version)
        self._wait(f"{version} unloaded", _unloaded(version))
        log.info("no ready pod of %s serves %s any more", self.pool, version)

    def target(self, version: str) -> Target:
        path = self._table().adapters.get(version)
        if path is None:
            raise BackendError(f"{version} is not listed in the traffic table of {self.pool}; load it first")
        if problems := self._problems(_loaded(version, path)):
            where = "; ".join(f"{pod}: {problem}" for pod, problem in problems.items())
            raise BackendError(f"{version} is not loaded on every ready pod of {self.pool}: {where}")
        return Target(model=version)

    def read_metrics(self) -> dict[tuple[str, str], VariantMetrics]:
        """Every ready pod's gateway series, summed per variant."""
        pods = self._pods()
        if not pods:
            raise BackendError(f"no ready pod of {self.pool} to read metrics from")
        return sum_metrics([read_gateway_metrics(url, self.stable_name) for url in pods.values()])
