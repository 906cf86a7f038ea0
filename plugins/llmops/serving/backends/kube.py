"""The serving objects in the cluster, by kind and name (or label, for a pool's pods), through the real Kubernetes
client.

Changes are server-side applies (PATCH ``application/apply-patch+yaml`` with a field manager and ``force``): one
idempotent call creates or updates an object to the rendered fields, so a rerun converges on the same objects and
a field another manager set is taken over rather than merged into. Any API error or an unreachable API server is
a :class:`BackendError` naming the object and the API server's own message: an error is never taken for done.
"""

from __future__ import annotations

import json
import logging
import time

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from llmops.serving.backends.base import BackendError

log = logging.getLogger(__name__)

# the kinds llmops.serving.manifests renders for a pool and its route: kind -> (apiVersion, resource)
RESOURCES = {
    "ConfigMap": ("v1", "configmaps"),
    "Service": ("v1", "services"),
    "Deployment": ("apps/v1", "deployments"),
    "PodDisruptionBudget": ("policy/v1", "poddisruptionbudgets"),
    "HTTPRoute": ("gateway.networking.k8s.io/v1", "httproutes"),
    "Pod": ("v1", "pods"),
}
APPLY_PATCH = "application/apply-patch+yaml"


def in_cluster_client() -> k8s.ApiClient:
    """The deploy task pod's own credentials (its service account)."""
    from kubernetes import config

    config.load_incluster_config()
    return k8s.ApiClient()


def api_message(exc: ApiException) -> str:
    """The API server's words in an error answer (its Status ``message``), else the HTTP reason."""
    try:
        return json.loads(exc.body)["message"]
    except (TypeError, ValueError, KeyError):
        return str(exc.reason)


def rollout_progress(deployment: dict) -> tuple[bool, str]:
    """Whether ``deployment`` has rolled out its current spec, and how far it is (``kubectl rollout status``'s
    rule): a status the controller wrote before the last change, or old pods still running, is not done."""
    status, want = deployment.get("status") or {}, deployment["spec"].get("replicas", 1)
    if status.get("observedGeneration", 0) < deployment["metadata"].get("generation", 0):
        return False, "waiting for the controller to see the latest spec"
    updated, total, available = (status.get(k, 0) for k in ("updatedReplicas", "replicas", "availableReplicas"))
    if updated >= want and total <= updated and available >= updated:
        return True, f"{available} of {want} replicas available"
    if updated < want:
        progress = f"{updated} of {want} new replicas updated"
    elif total > updated:
        progress = f"{total - updated} old replicas pending termination"
    else:
        progress = f"{available} of {updated} updated replicas available"
    conditions = "; ".join(f"{c['type']}={c['status']} {c.get('reason', '')}: {c.get('message', '')}"
                           for c in status.get("conditions") or [])  # fmt: skip
    return False, f"{progress} ({conditions})" if conditions else progress


class KubeObjects:
    """Objects of :data:`RESOURCES` in ``namespace``, applied as ``field_manager``; ``api`` (default: in-cluster
    credentials, on first use) is for tests."""

    def __init__(self, namespace: str, field_manager: str, api: k8s.ApiClient | None = None, timeout_s: float = 30.0):
        self.namespace, self.field_manager, self.timeout_s = namespace, field_manager, timeout_s
        self._api = api

    @property
    def api(self) -> k8s.ApiClient:
        if self._api is None:
            self._api = in_cluster_client()
        return self._api

    def _collection(self, kind: str) -> str:
        api_version, resource = RESOURCES[kind]
        root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        return f"{root}/namespaces/{self.namespace}/{resource}"

    def _call(self, method: str, kind: str, name: str, body: dict | None = None, query: tuple = ()) -> dict | None:
        """The API's answer as a dict; None for a GET or DELETE of a missing object."""
        return self._request(method, f"{self._collection(kind)}/{name}", f"{method} {kind} {self.namespace}/{name}",
                             body, query)  # fmt: skip

    def _request(self, method: str, path: str, where: str, body: dict | None = None, query: tuple = ()) -> dict | None:
        headers = {"Accept": "application/json", **({"Content-Type": APPLY_PATCH} if method == "PATCH" else {})}
        try:
            return self.api.call_api(path, method,
                                     query_params=list(query), header_params=headers, body=body,
                                     response_types_map={200: "object", 201: "object", 202: "object"},
                                     auth_settings=["BearerToken"], _return_http_data_only=True,
                                     _request_timeout=self.timeout_s)  # fmt: skip
        except ApiException as exc:
            if exc.status == 404 and method in ("GET", "DELETE"):
                return None
            raise BackendError(f"{where}: the Kubernetes API answered {exc.status}: {api_message(exc)}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise BackendError(f"{where}: cannot reach the Kubernetes API: {exc!r}") from exc

    def apply(self, obj: dict) -> dict:
        """Server-side apply ``obj`` (created if missing); the object as stored."""
        query = (("fieldManager", self.field_manager), ("force", "true"))
        return self._call("PATCH", obj["kind"], obj["metadata"]["name"], obj, query)

    def read(self, kind: str, name: str) -> dict | None:
        return self._call("GET", kind, name)

    def find(self, kind: str, labels: dict[str, str]) -> list[dict]:
        """The objects of ``kind`` whose labels include ``labels``."""
        selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        where = f"LIST {kind} in {self.namespace} ({selector})"
        found = self._request("GET", self._collection(kind), where, query=(("labelSelector", selector),))
        return (found or {}).get("items") or []

    def delete(self, kind: str, name: str) -> bool:
        """Delete the object (its pods go in the background); False if it was not there."""
        return self._call("DELETE", kind, name, query=(("propagationPolicy", "Background"),)) is not None

    def wait_rolled_out(self, name: str, timeout_s: float, poll_s: float) -> None:
        """Until Deployment ``name`` has rolled out its current spec (:func:`rollout_progress`), logging each change
        of its progress; :class:`BackendError` with the last progress after ``timeout_s``."""
        deadline, last = time.monotonic() + timeout_s, ""
        while True:
            found = self.read("Deployment", name)
            if found is None:
                raise BackendError(f"Deployment {self.namespace}/{name} does not exist")
            done, progress = rollout_progress(found)
            if done:
                log.info("Deployment %s/%s rolled out: %s", self.namespace, name, progress)
                return
            if progress != last:
                log.info("Deployment %s/%s: %s", self.namespace, name, progress)
                last = progress
            if time.monotonic() > deadline:
                raise BackendError(f"Deployment {self.namespace}/{name} not rolled out within {timeout_s:g} s "
                                   f"(deploy.kubernetes.ready_timeout_s): {progress}")  # fmt: skip
            time.sleep(poll_s)
