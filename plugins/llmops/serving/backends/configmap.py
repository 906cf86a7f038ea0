"""The traffic table in the kubernetes runtime: the ConfigMap the gateway sidecar mounts (``deploy.traffic_file``).

A mounted ConfigMap is read-only inside the pod, so the deploy task changes the weights through the Kubernetes
API; kubelet then swaps the mounted file and the gateway's watcher picks it up (no restart). The patch is a JSON
merge patch of the one data key, carrying the ``resourceVersion`` of the last read: a concurrent change makes the
API server answer 409 instead of being overwritten.
"""

from __future__ import annotations

import posixpath

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from llmops.config import Settings
from llmops.serving.backends.base import BackendError
from llmops.serving.backends.kube import in_cluster_client
from llmops.serving.traffic import TrafficTable


class ConfigMapTrafficStore:
    """``TrafficStore`` over the ConfigMap ``name`` in ``namespace``, the table JSON under data key ``key``."""

    def __init__(self, namespace: str, name: str, key: str, api: k8s.CoreV1Api | None = None):
        self.namespace, self.name, self.key = namespace, name, key
        self._api = api
        self._resource_version: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, api: k8s.CoreV1Api | None = None) -> ConfigMapTrafficStore:
        """The ConfigMap the rendered manifests mount (:mod:`llmops.serving.manifests`)."""
        key = posixpath.basename(settings.deploy.traffic_file)
        if not key:
            raise BackendError("deploy.traffic_file is empty: the kubernetes runtime needs the ConfigMap's file")
        return cls(settings.runtime.namespace, settings.deploy.kubernetes.traffic_config_map, key, api)

    @property
    def api(self) -> k8s.CoreV1Api:
        if self._api is None:
            self._api = k8s.CoreV1Api(in_cluster_client())
        return self._api

    def _where(self) -> str:
        return f"ConfigMap {self.namespace}/{self.name}"

    def read(self) -> TrafficTable | None:
        try:
            found = self.api.read_namespaced_config_map(self.name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise BackendError(f"cannot read {self._where()}: {exc.status} {exc.reason}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise BackendError(f"cannot reach the Kubernetes API to read {self._where()}: {exc!r}") from exc
        self._resource_version = found.metadata.resource_version
        raw = (found.data or {}).get(self.key)
        if raw is None:
            return None
        try:
            return TrafficTable.model_validate_json(raw)
        except ValidationError as exc:
            raise BackendError(f"{self._where()} key {self.key} holds no valid traffic table: {exc}") from exc

    def write(self, table: TrafficTable) -> None:
        metadata = {"resourceVersion": self._resource_version} if self._resource_version else {}
        body = {"metadata": metadata, "data": {self.key: table.model_dump_json(exclude_none=True)}}
        try:
            # the client would pick json-patch+json for a dict body, which the API server rejects: say merge-patch
            patched = self.api.patch_namespaced_config_map(
                self.name, self.namespace, body, _content_type="application/merge-patch+json"
            )
        except ApiException as exc:
            hint = " (changed by someone else since it was read)" if exc.status == 409 else ""
            raise BackendError(f"cannot patch {self._where()}: {exc.status} {exc.reason}{hint}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise BackendError(f"cannot reach the Kubernetes API to patch {self._where()}: {exc!r}") from exc
        self._resource_version = patched.metadata.resource_version
