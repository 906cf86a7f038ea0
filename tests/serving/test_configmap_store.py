"""The kubernetes runtime's traffic weights: the real Kubernetes python client patches the gateway's ConfigMap.

No cluster exists here, so the API server is a small stand-in over real HTTP that keeps one ConfigMap and
answers as the API server documents (merge patch only with its content type, 409 on a stale resourceVersion,
404 for a missing object); everything on the client side (URL, verb, headers, body, errors) is the real client's.
"""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from kubernetes import client as k8s

from llmops.config import load_settings
from llmops.serving.backends.base import BackendError
from llmops.serving.backends.configmap import ConfigMapTrafficStore
from llmops.serving.traffic import Route, Target, TrafficTable
from tests.serving.upstream import free_port, serve_in_thread

PATH = "/api/v1/namespaces/llmops/configmaps/llmops-traffic"


def _status(code: int, reason: str, message: str) -> JSONResponse:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message,
            "code": code}  # fmt: skip
    return JSONResponse(body, status_code=code)


class ConfigMapAPI:
    """One ConfigMap behind the API server's GET and PATCH routes; ``patches`` records what arrived."""

    def __init__(self, data: dict[str, str] | None):
        self.data, self.version, self.patches = data, 1, []
        self.app = FastAPI()
        self.app.get(PATH)(self.get)
        self.app.patch(PATH)(self.patch)

    def _object(self) -> dict:
        meta = {"name": "llmops-traffic", "namespace": "llmops", "resourceVersion": str(self.version)}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": self.data}

    async def get(self):
        if self.data is None:
            return _status(404, "NotFound", 'configmaps "llmops-traffic" not found')
        return self._object()

    async def patch(self, request: Request):
        body = json.loads(await request.body())
        self.patches.append((request.headers["content-type"], body))
        if self.data is None:
            return _status(404, "NotFound", 'configmaps "llmops-traffic" not found')
        if request.headers["content-type"] != "application/merge-patch+json" or not isinstance(body, dict):
            return _status(415, "UnsupportedMediaType", "expected a merge patch")
        wanted = body.get("metadata", {}).get("resourceVersion")
        if wanted is not None and wanted != str(self.version):
            return _status(409, "Conflict", "the object has been modified; please apply your changes to the latest")
        self.data = {**self.data, **body.get("data", {})}
        self.version += 1
        return self._object()


def _api(url: str) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(k8s.ApiClient(k8s.Configuration(host=url)))


def _table(canary_weight: float) -> TrafficTable:
    route = Route(stable=Target(model="support-assistant-v7"), canary=Target(model="support-assistant-v8"),
                  canary_weight=canary_weight)  # fmt: skip
    return TrafficTable(routes={"support-assistant": route})


@pytest.fixture
def settings():
    return load_settings("kubernetes", environ={})


def test_weights_are_patched_into_the_config_map(settings):
    server = ConfigMapAPI({"traffic.json": _table(0.0).model_dump_json(), "other": "kept"})
    with serve_in_thread(server.app) as url:
        store = ConfigMapTrafficStore.from_settings(settings, api=_api(url))
        assert store.read() == _table(0.0)
        store.write(_table(0.25))
        store.write(_table(0.5))  # the second write carries the version the first one produced
        assert store.read() == _table(0.5)
    (content_type, first), (_, second) = server.patches
    assert content_type == "application/merge-patch+json"
    assert first["metadata"] == {"resourceVersion": "1"} and second["metadata"] == {"resourceVersion": "2"}
    assert TrafficTable.model_validate_json(first["data"]["traffic.json"]) == _table(0.25)
    assert server.data["other"] == "kept" and server.version == 3


def test_a_concurrent_change_is_refused_not_overwritten(settings):
    server = ConfigMapAPI({"traffic.json": _table(0.0).model_dump_json()})
    with serve_in_thread(server.app) as url:
        ours, theirs = (ConfigMapTrafficStore.from_settings(settings, api=_api(url)) for _ in range(2))
        ours.read()
        theirs.read()
        theirs.write(_table(1.0))
        with pytest.raises(BackendError, match="409.*changed by someone else"):
            ours.write(_table(0.05))
    assert TrafficTable.model_validate_json(server.data["traffic.json"]) == _table(1.0)


def test_missing_or_invalid_config_map(settings):
    missing = ConfigMapAPI(None)
    with serve_in_thread(missing.app) as url:
        store = ConfigMapTrafficStore.from_settings(settings, api=_api(url))
        assert store.read() is None
        with pytest.raises(BackendError, match="404"):
            store.write(_table(0.0))
    broken = ConfigMapAPI({"traffic.json": '{"routes": {}}'})
    with serve_in_thread(broken.app) as url:
        with pytest.raises(BackendError, match="no valid traffic table"):
            ConfigMapTrafficStore.from_settings(settings, api=_api(url)).read()


def test_api_server_down_is_an_error(settings):
    api = _api(f"http://127.0.0.1:{free_port()}")
    store = ConfigMapTrafficStore.from_settings(settings, api=api)
    with pytest.raises(BackendError, match="cannot reach the Kubernetes API"):
        store.read()
    with pytest.raises(BackendError, match="cannot reach the Kubernetes API"):
        store.write(_table(0.0))
