"""The two-Deployment path in kubernetes: a candidate on another base than the champion's gets a vLLM pool of its
own, and the Gateway API HTTPRoute splits the callers between the two pools' Services by weight.

The champion answers in the main pool ``<pool>`` (``deploy.kubernetes.pool_name``), the candidate in
``<pool>-canary``, started on its base with its adapter on vLLM's command line (vLLM listens inside its pod only,
so a pool built for one version takes it at start). The objects are the ones :mod:`llmops.serving.manifests`
renders, server-side applied (:mod:`llmops.serving.backends.kube`). A version counts as served once its pool has
rolled out, its gateway lists the version and answers a one-token completion for it. Each pool's gateway counts
its own callers, and in the canary pool the candidate is that gateway's ``stable``: the analysis gets the main
pool's series plus the canary pool's series of the candidate, relabelled ``canary``.

Promotion hands the main pool's name to the winner instead of leaving the champion in ``<pool>-canary``: once the
route sends everything to the canary pool and the drain has passed, ``<pool>`` is re-applied on the winner's base
with its adapter; when that has rolled out and answers, the route goes back to 100 % ``<pool>`` and the canary pool
is deleted. So ``<pool>`` always serves the champion, and what names it (its traffic ConfigMap, the InferencePool,
``serving.endpoint_url``) stays true: the next candidate on the same base is an adapter canary in ``<pool>``, the
next on yet another base a fresh ``<pool>-canary``. The price is a restart of ``<pool>`` on the new base (a third
pool's GPUs while it rolls, ``maxSurge: 1``), after which its traffic table is the rendered one (the stable name
and the winner's own name). A rollback deletes the canary pool; the route is at 100 % ``<pool>`` already.

The deploy task's service account needs get, patch and delete on Deployments, Services, ConfigMaps,
PodDisruptionBudgets and HTTPRoutes in the namespace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable

import httpx
from kubernetes import client as k8s

from llmops.config import Settings
from llmops.serving import manifests
from llmops.serving.backends.base import BackendError, ServingBackend, VariantMetrics, read_gateway_metrics
from llmops.serving.backends.configmap import ConfigMapTrafficStore
from llmops.serving.backends.kube import KubeObjects
from llmops.serving.manifests import canary_pool_name, http_route, pool, traffic_table
from llmops.serving.traffic import Route, Target

log = logging.getLogger(__name__)


def _vllm_command(deployment: dict) -> list[str]:
    return next(c["command"] for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "vllm")


class TwoDeploymentsBackend(ServingBackend):
    """The champion in the main pool; the candidate ``canary`` (its served name) on ``canary_base`` with the adapter
    at ``canary_adapter`` in the canary pool. ``api`` (default: in-cluster credentials) and ``service_url`` (pool
    name -> its gateway Service's root URL; default: the cluster's DNS name) are for tests."""

    def __init__(
        self,
        settings: Settings,
        *,
        canary: str,
        canary_base: str,
        canary_adapter: str,
        api: k8s.ApiClient | None = None,
        service_url: Callable[[str], str] | None = None,
    ):
        kube = settings.deploy.kubernetes
        if not kube.http_gateway_url:
            raise BackendError("deploy.kubernetes.http_gateway_url is empty: a candidate on another base is compared "
                               "through the HTTPRoute's split, so the deploy step must reach its Gateway")  # fmt: skip
        if kube.replicas != 1:
            raise BackendError(f"deploy.kubernetes.replicas is {kube.replicas}: the two-Deployment path reads each "
                               "pool's gateway counters through its Service, which needs one pod per pool "
                               "(docs/known-limits.md)")  # fmt: skip
        traffic = ConfigMapTrafficStore.from_settings(settings, k8s.CoreV1Api(api) if api else None)
        super().__init__(settings.deploy.stable_name, kube.http_gateway_url, traffic)
        self.settings, self.canary = settings, canary
        self.canary_base, self.canary_adapter = canary_base, canary_adapter
        self.main, self.canary_pool = kube.pool_name, canary_pool_name(settings)
        self.objects = KubeObjects(settings.runtime.namespace, kube.field_manager, api)
        self._service_url = service_url or (lambda name: manifests.service_url(settings, name))
        self._http = httpx.Client(timeout=settings.serving.client_timeout_s)
        self._pools: dict[str, str] = {}  # version -> the pool found serving it

    def close(self) -> None:
        self._http.close()

    def _listed(self, name: str) -> set[str]:
        """The names pool ``name``'s gateway serves (its traffic table's routes)."""
        url = f"{self._service_url(name)}/v1/models"
        try:
            answer = self._http.get(url)
            answer.raise_for_status()
            return {entry["id"] for entry in answer.json()["data"]}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise BackendError(f"the gateway of {name} at {url}: {exc!r}") from exc

    def _await_serving(self, name: str, version: str) -> None:
        """Until pool ``name``'s gateway lists ``version`` (kubelet brings a changed ConfigMap within a minute or
        so), then one completion for it: the pool's vLLM has the version, not only its gateway's table."""
        kube = self.settings.deploy.kubernetes
        deadline = time.monotonic() + kube.ready_timeout_s
        while True:
            try:
                if version in (listed := self._listed(name)):
                    break
                problem = f"its gateway lists only {sorted(listed)}"
            except BackendError as exc:
                problem = str(exc)
            if time.monotonic() > deadline:
                raise BackendError(f"{name} does not serve {version} within {kube.ready_timeout_s:g} s: {problem}")
            time.sleep(kube.ready_poll_s)
        url = f"{self._service_url(name)}/v1/completions"
        try:
            answer = self._http.post(url, json={"model": version, "prompt": "Hello", "max_tokens": 1})
        except httpx.HTTPError as exc:
            raise BackendError(f"{name} lists {version} but POST {url} failed: {exc!r}") from exc
        if answer.status_code != 200:
            raise BackendError(f"{name} lists {version} but does not answer for it: POST {url} answered "
                               f"{answer.status_code}: {answer.text[:300]}")  # fmt: skip
        self._pools[version] = name

    def _pool_objects(self, name: str, version: str) -> list[dict]:
        """Pool ``name`` serving ``version`` on the candidate's base, with its adapter."""
        table = traffic_table(self.settings, version)
        try:
            return pool(self.settings, name, self.canary_base, table, (version, self.canary_adapter))
        except ValueError as exc:
            raise BackendError(str(exc)) from exc

    def _roll_out(self, objects: list[dict], version: str) -> None:
        name = next(o["metadata"]["name"] for o in objects if o["kind"] == "Deployment")
        for obj in objects:
            self.objects.apply(obj)
        kube = self.settings.deploy.kubernetes
        self.objects.wait_rolled_out(name, kube.ready_timeout_s, kube.ready_poll_s)
        self._await_serving(name, version)

    def _refuse_if_taken(self, objects: list[dict]) -> None:
        """A canary pool that carries traffic and runs another version is not replaced: a promotion whose hand-over
        failed leaves the champion there."""
        route = self.objects.read("HTTPRoute", self.main) or {}
        refs = [ref for rule in route.get("spec", {}).get("rules", []) for ref in rule.get("backendRefs", [])]
        weight = sum(ref.get("weight", 1) for ref in refs if ref.get("name") == self.canary_pool)
        running = self.objects.read("Deployment", self.canary_pool)
        ours = next(o for o in objects if o["kind"] == "Deployment")
        if weight and running is not None and _vllm_command(running) != _vllm_command(ours):
            raise BackendError(f"{self.canary_pool} runs another version and the HTTPRoute {self.main} gives it "
                               f"weight {weight}: {self.canary} is not applied over it (a promotion that did not hand "
                               f"{self.main} over leaves the champion there; docs/known-limits.md)")  # fmt: skip

    def _own_name_in_main_pool(self, version: str) -> None:
        """The champion under its own name in the main pool's traffic table too (mirrored prompts ask for it)."""
        table = self.traffic.read()
        route = table.routes.get(self.stable_name) if table else None
        if route is None or route.canary is not None or route.stable.model != version:
            routed = route.model_dump(exclude_none=True) if route else "nowhere"
            raise BackendError(f"{self.main} does not serve {version} alone as {self.stable_name} (its traffic "
                               f"table routes it {routed}): the rollout's stable must be what it serves")  # fmt: skip
        if version not in table.routes:
            self.traffic.write(table.with_routes({**table.routes, version: Route(stable=Target(model=version))}))
        self._await_serving(self.main, version)

    def load_version(self, version: str, adapter_path: str) -> None:
        """The candidate: its pool applied, rolled out and answering. Any other version is the champion, served in
        the main pool already: it gets its own name there."""
        if version != self.canary:
            self._own_name_in_main_pool(version)
            return
        if adapter_path != self.canary_adapter:
            raise BackendError(f"{self.canary}'s pool is built with {self.canary_adapter}, not {adapter_path}")
        objects = self._pool_objects(self.canary_pool, version)
        self._refuse_if_taken(objects)
        self._roll_out(objects, version)
        log.info("%s serves %s on its base %s", self.canary_pool, version, self.canary_base)

    def target(self, version: str) -> Target:
        pools = (self.canary_pool, self.main) if version == self.canary else (self.main,)
        for name in pools:
            with contextlib.suppress(BackendError):  # an absent pool's Service does not answer
                if version in self._listed(name):
                    self._pools[version] = name
                    return Target(model=version, backend=self._service_url(name))
        raise BackendError(f"{version} is not served by {' or '.join(pools)}; load it before giving it traffic")

    def _pool_of(self, version: str) -> str:
        self.target(version)
        return self._pools[version]

    def set_weights(self, stable: str, canary: str | None = None, canary_weight: float = 0.0) -> None:
        """The HTTPRoute's weights: ``canary_weight`` to the canary pool, the rest to the main pool, which must serve
        ``canary`` and ``stable``; a version alone gets everything, in whichever pool serves it."""
        pools = [self._pool_of(v) for v in (stable, canary) if v]
        if canary is None:
            weight = 1.0 if pools == [self.canary_pool] else 0.0
        elif pools == [self.main, self.canary_pool]:
            weight = canary_weight
        else:
            raise BackendError(f"the HTTPRoute splits {self.main} (stable) and {self.canary_pool} (canary), but "
                               f"{stable} is served by {pools[0]} and {canary} by {pools[1]}")  # fmt: skip
        self.objects.apply(http_route(self.settings, weight))
        self.routed = frozenset(v for v in (stable, canary) if v)
        where = ", ".join(f"{v} in {p}" for v, p in zip((stable, canary), pools, strict=False))
        log.info("HTTPRoute %s: %s %.0f%%, %s %.0f%% (%s)", self.main, self.main, 100 * (1 - weight),
                 self.canary_pool, 100 * weight, where)  # fmt: skip

    def read_metrics(self) -> dict[tuple[str, str], VariantMetrics]:
        """The main pool's series, and while the candidate is in its own pool, that pool's series of the candidate
        relabelled ``canary``."""
        found = read_gateway_metrics(self._service_url(self.main), self.stable_name)
        if self._pools.get(self.canary) == self.canary_pool:
            own = read_gateway_metrics(self._service_url(self.canary_pool), self.stable_name)
            found.update({("canary", v): dataclasses.replace(m, variant="canary")
                          for (_, v), m in own.items() if v == self.canary})  # fmt: skip
        return found

    def unload_version(self, version: str) -> None:
        """Rolled back (``version`` is the candidate): the canary pool is deleted. Promoted (``version`` is the old
        champion and the candidate's pool has all the traffic): the main pool is handed to the candidate."""
        self._refuse_if_routed(version)
        if version == self.canary:
            self._delete_canary_pool()
        elif self.routed == {self.canary} and self._pools.get(self.canary) == self.canary_pool:
            self._hand_over()
        else:
            raise BackendError(f"{version} is served by {self.main}, which goes to {self.canary} only once "
                               f"{self.canary_pool} carries all the traffic")  # fmt: skip

    def _hand_over(self) -> None:
        log.info("%s promoted: %s restarts on %s with it, then takes the traffic back from %s", self.canary,
                 self.main, self.canary_base, self.canary_pool)  # fmt: skip
        try:
            self._roll_out(self._pool_objects(self.main, self.canary), self.canary)
        except BackendError as exc:
            raise BackendError(f"{exc}; the traffic stays 100 % on {self.canary_pool}, which serves {self.canary}, "
                               f"until {self.main} does (docs/known-limits.md)") from exc  # fmt: skip
        self.objects.apply(http_route(self.settings, 0.0))
        drain_s = self.settings.deploy.drain_s
        log.info("HTTPRoute %s: 100%% %s again; %s goes after %g s of drain", self.main, self.main, self.canary_pool,
                 drain_s)  # fmt: skip
        time.sleep(drain_s)
        self._delete_canary_pool()

    def _delete_canary_pool(self) -> None:
        """Its objects, named as :func:`pool` renders them; the Deployment's pods go in the background."""
        rendered = pool(self.settings, self.canary_pool, self.canary_base, traffic_table(self.settings, self.canary))
        for obj in reversed(rendered):
            self.objects.delete(obj["kind"], obj["metadata"]["name"])
        self._pools = {v: p for v, p in self._pools.items() if p != self.canary_pool}
        log.info("deleted the pool %s", self.canary_pool)
