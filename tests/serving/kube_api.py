"""A stand-in Kubernetes API server over real HTTP, for the serving backends that change the cluster.

It keeps namespaced objects in a dict and answers as the API server documents: a server-side apply (PATCH
``application/apply-patch+yaml`` with a ``fieldManager``) creates (201) or replaces (200) an object, a ConfigMap
also takes a JSON merge patch, any other patch type is 415, a missing object is 404, every error is a ``Status``
with a message. A Deployment's status is written by a stand-in controller the test drives: after a spec change
the old status stays until the Deployment has been read ``ready_after`` times (None: never rolls out). Whenever
a ConfigMap with a traffic table changes, its table is written to the file the pool's gateway follows, as kubelet
updates a mounted ConfigMap. A collection answers a GET with a ``labelSelector`` (``k=v,...``) as a list of the
matching objects (the pods of a pool). ``fail`` makes every call answer that status.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from llmops.serving.traffic import TrafficTable, write_table

APPLY, MERGE = "application/apply-patch+yaml", "application/merge-patch+json"


def status(code: int, reason: str, message: str) -> JSONResponse:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message,
            "code": code}  # fmt: skip
    return JSONResponse(body, status_code=code)


class KubeAPI:
    """``traffic_files``: ConfigMap name -> the traffic file its pool's gateway follows (key ``key``)."""

    def __init__(self, traffic_files: dict[str, Path], key: str, ready_after: int = 2):
        self.objects: dict[tuple[str, str], dict] = {}  # (resource, name) -> object
        self.calls: list[tuple[str, str, str, dict, dict | None]] = []  # method, resource/name, type, query, body
        self.ready_after: dict[str, int | None] = {}  # Deployment -> reads before it rolls out (default below)
        self.default_ready_after = ready_after
        self.reads: Counter[str] = Counter()  # Deployment -> reads since its last spec change
        self.traffic_files, self.key = traffic_files, key
        self.fail: int | None = None
        self.app = FastAPI()
        for prefix in ("/api/{version}", "/apis/{group}/{version}"):
            self.app.add_api_route(f"{prefix}/namespaces/{{namespace}}/{{resource}}/{{name}}", self.handle,
                                   methods=["GET", "PATCH", "DELETE"])  # fmt: skip
            self.app.add_api_route(f"{prefix}/namespaces/{{namespace}}/{{resource}}", self.handle_list,
                                   methods=["GET"])  # fmt: skip

    def applied(self, kind: str | None = None) -> list[dict]:
        """The bodies of every server-side apply so far (of ``kind``), in order."""
        return [body for method, _, ctype, _, body in self.calls
                if method == "PATCH" and ctype == APPLY and kind in (None, body.get("kind"))]  # fmt: skip

    def get(self, resource: str, name: str) -> dict | None:
        return self.objects.get((resource, name))

    def put(self, resource: str, obj: dict) -> None:
        """Store ``obj`` as if applied earlier (a Deployment rolled out already)."""
        meta = obj["metadata"]
        stored = {**obj, "metadata": {**meta, "resourceVersion": "1", "generation": 1}}
        self.objects[(resource, meta["name"])] = stored
        if resource == "deployments":
            stored["status"] = self._done(stored)
        self._follow(resource, stored)

    async def handle_list(self, request: Request, namespace: str, resource: str):
        self.calls.append((request.method, resource, "", dict(request.query_params), None))
        if self.fail:
            return status(self.fail, "InternalError", "etcdserver: request timed out")
        wanted = dict(term.split("=", 1) for term in request.query_params.get("labelSelector", "").split(",") if term)
        items = [obj for (kind, _), obj in self.objects.items() if kind == resource
                 and wanted.items() <= (obj["metadata"].get("labels") or {}).items()]  # fmt: skip
        return {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}

    async def handle(self, request: Request, namespace: str, resource: str, name: str):
        ctype = request.headers.get("content-type", "")
        raw = await request.body()
        body = yaml.safe_load(raw) if raw else None
        self.calls.append((request.method, f"{resource}/{name}", ctype, dict(request.query_params), body))
        if self.fail:
            return status(self.fail, "InternalError", "etcdserver: request timed out")
        key, found = (resource, name), self.objects.get((resource, name))
        if request.method == "GET":
            if found is None:
                return status(404, "NotFound", f'{resource} "{name}" not found')
            if resource == "deployments":
                self._control(found)
            return found
        if request.method == "DELETE":
            if self.objects.pop(key, None) is None:
                return status(404, "NotFound", f'{resource} "{name}" not found')
            return {"kind": "Status", "apiVersion": "v1", "status": "Success", "details": {"name": name}}
        if ctype == APPLY:
            if "fieldManager" not in request.query_params:
                return status(400, "BadRequest", "PATCH requests with apply must specify a fieldManager")
            if body["metadata"]["name"] != name or body["metadata"].get("namespace") != namespace:
                return status(400, "BadRequest", "the name or namespace of the object does not match the URL")
            return self._apply(key, found, body)
        if ctype == MERGE and resource == "configmaps":
            if found is None:
                return status(404, "NotFound", f'configmaps "{name}" not found')
            found["data"] = {**found.get("data", {}), **body.get("data", {})}
            found["metadata"]["resourceVersion"] = str(int(found["metadata"]["resourceVersion"]) + 1)
            self._follow(resource, found)
            return found
        return status(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {ctype}")

    def _apply(self, key: tuple[str, str], found: dict | None, body: dict) -> JSONResponse:
        meta = found["metadata"] if found else {"resourceVersion": "0", "generation": 0}
        stored = {**body, "metadata": {**body["metadata"], "resourceVersion": str(int(meta["resourceVersion"]) + 1),
                                       "generation": meta["generation"]}}  # fmt: skip
        if found is None or found.get("spec") != body.get("spec"):
            stored["metadata"]["generation"] += 1
            if key[0] == "deployments":
                self.reads[key[1]] = 0
        if found and "status" in found:
            stored["status"] = found["status"]
        self.objects[key] = stored
        self._follow(key[0], stored)
        return JSONResponse(stored, status_code=200 if found else 201)

    def _follow(self, resource: str, obj: dict) -> None:
        path = self.traffic_files.get(obj["metadata"]["name"]) if resource == "configmaps" else None
        if path is not None:
            write_table(path, TrafficTable.model_validate(json.loads(obj["data"][self.key])))

    @staticmethod
    def _done(deployment: dict) -> dict:
        want = deployment["spec"]["replicas"]
        return {"observedGeneration": deployment["metadata"]["generation"], "replicas": want,
                "updatedReplicas": want, "readyReplicas": want, "availableReplicas": want,
                "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                                "message": "Deployment has minimum availability."}]}  # fmt: skip

    def _control(self, deployment: dict) -> None:
        """The controller's view after this many reads: the status from before the last change (or, for a new
        Deployment, a progressing one with no pod available) until it rolls out."""
        name = deployment["metadata"]["name"]
        self.reads[name] += 1
        wanted = self.ready_after.get(name, self.default_ready_after)
        if wanted is not None and self.reads[name] > wanted:
            deployment["status"] = self._done(deployment)
        elif "status" not in deployment:
            deployment["status"] = {
                "observedGeneration": deployment["metadata"]["generation"], "replicas": 1, "updatedReplicas": 1,
                "unavailableReplicas": 1,
                "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                                "message": f'ReplicaSet "{name}-7d9c" is progressing.'}]}  # fmt: skip
