"""The two-Deployment path in kubernetes (llmops.serving.backends.two_deployments) with the real Kubernetes client.

No cluster exists here: the API server is the stand-in of tests.serving.kube_api over real HTTP. Each pool is the
real gateway over the real OpenAI-shaped upstream, following the traffic file the stand-in writes from the pool's
ConfigMap, and a pool's Service answers only while its Deployment exists. The champion (V7) is served by the main
pool from the start, as the adapter path leaves it; the candidate (V8) sits on another base.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from kubernetes import client as k8s

from llmops.config import DeployAnalysisSettings, DeploySettings, Settings, load_settings
from llmops.deploy import state
from llmops.deploy.quality import MirrorItem
from llmops.deploy.rollout import run_rollout
from llmops.serving import gateway, manifests
from llmops.serving.backends.base import BackendError, ServingBackend, read_gateway_metrics
from llmops.serving.backends.kube import RESOURCES
from llmops.serving.backends.two_deployments import TwoDeploymentsBackend
from llmops.serving.server import free_port
from llmops.serving.traffic import Route, Target, TrafficTable, write_table
from tests.serving.kube_api import APPLY, KubeAPI
from tests.serving.test_manifests import validate
from tests.serving.upstream import serve_in_thread

STABLE, V7, V8, V10 = "support-assistant", "support-assistant-v7", "support-assistant-v8", "support-assistant-v10"
BASE_B, ADAPTER_B = "/models/base/support-assistant-8b-v2", "/models/adapters/support-assistant-v8"
BASE_C, ADAPTER_C = "/models/base/support-assistant-8b-v3", "/models/adapters/support-assistant-v10"
MAIN, CANARY = "llmops-vllm", "llmops-vllm-canary"
REFERENCES = [MirrorItem("You are a support assistant.", q, "", a) for q, a in (
    ("How do I reset my password?", "Use the reset link on the sign-in page."),
    ("Where is my order?", "Track it from the Orders page."),
    ("Can I change my plan?", "Yes, under Billing."))]  # fmt: skip
GATEWAY = {"max_tokens": 16, "max_prompt_chars": 2000, "request_timeout_s": 10.0, "traffic_poll_s": 0.02}


def _settings(**environ: str) -> Settings:
    return load_settings("kubernetes", environ={
        "LLMOPS__DEPLOY__KUBERNETES__HTTP_GATEWAY_URL": "http://gateway.invalid",
        "LLMOPS__DEPLOY__KUBERNETES__READY_POLL_S": "0.02", "LLMOPS__DEPLOY__KUBERNETES__READY_TIMEOUT_S": "10",
        "LLMOPS__DEPLOY__DRAIN_S": "0", **environ})  # fmt: skip


@dataclass
class Cluster:
    api: KubeAPI
    url: str
    gateways: dict[str, str]  # pool -> its gateway (the Service's endpoint)
    settings: Settings
    closed: str  # where nothing listens

    def service_url(self, name: str) -> str:
        """A Service answers while its Deployment has an available pod."""
        deployment = self.api.get("deployments", name) or {}
        return self.gateways[name] if (deployment.get("status") or {}).get("availableReplicas") else self.closed

    def backend(self, canary: str = V8, base: str = BASE_B, adapter: str = ADAPTER_B,
                api_url: str | None = None) -> TwoDeploymentsBackend:  # fmt: skip
        api = k8s.ApiClient(k8s.Configuration(host=api_url or self.url))
        return TwoDeploymentsBackend(self.settings, canary=canary, canary_base=base, canary_adapter=adapter, api=api,
                                     service_url=self.service_url)  # fmt: skip

    def weights(self) -> list[tuple[str, int]]:
        route = self.api.get("httproutes", MAIN)
        return [(ref["name"], ref["weight"]) for ref in route["spec"]["rules"][0]["backendRefs"]]

    def canary_objects(self) -> list[dict | None]:
        return [self.api.get(resource, name) for resource, name in (
            ("configmaps", f"{CANARY}-traffic"), ("deployments", CANARY), ("services", CANARY),
            ("poddisruptionbudgets", CANARY))]  # fmt: skip


@contextmanager
def running_cluster(tmp_path, upstream_url: str, canary_upstream: str | None = None, settings: Settings | None = None):
    """The API stand-in holding the main pool, rolled out, its table routing the stable name to V7; both gateways."""
    settings = settings or _settings()
    files = {MAIN: tmp_path / "main.json", CANARY: tmp_path / "canary.json"}
    champion = TrafficTable(routes={STABLE: Route(stable=Target(model=V7))})
    write_table(files[CANARY], TrafficTable(routes={"nothing-yet": Route(stable=Target(model="base"))}))
    api = KubeAPI({"llmops-traffic": files[MAIN], f"{CANARY}-traffic": files[CANARY]}, "traffic.json")
    for obj in manifests.pool(settings, MAIN, settings.training.base_model, champion):
        api.put(RESOURCES[obj["kind"]][1], obj)
    with ExitStack() as stack:
        gateways = {name: stack.enter_context(serve_in_thread(gateway.build_app(backend, traffic_file=files[name],
                                                                                **GATEWAY)))
                    for name, backend in ((MAIN, upstream_url), (CANARY, canary_upstream or upstream_url))}  # fmt: skip
        url = stack.enter_context(serve_in_thread(api.app))
        yield Cluster(api, url, gateways, settings, f"http://127.0.0.1:{free_port()}")


def _loaded(cluster: Cluster) -> TwoDeploymentsBackend:
    """A backend serving the champion in the main pool and the candidate in its own (what the deploy step loads)."""
    backend = cluster.backend()
    backend.load_version(V7, "/models/adapters/support-assistant-v7")
    backend.load_version(V8, ADAPTER_B)
    return backend


def _vllm(deployment: dict) -> list[str]:
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "vllm")["command"]


def test_the_canary_pool_is_applied_as_rendered_and_answers(upstream, tmp_path):
    seen, url = upstream
    with running_cluster(tmp_path, url) as cluster:
        backend = cluster.backend()
        assert isinstance(backend, ServingBackend)
        with pytest.raises(BackendError, match=f"{V8} is not served by {CANARY} or {MAIN}"):
            backend.target(V8)
        with pytest.raises(BackendError, match=f"{MAIN} does not serve support-assistant-v6 alone"):
            backend.load_version("support-assistant-v6", "/models/adapters/v6")  # not what the main pool serves

        backend.load_version(V7, "/models/adapters/support-assistant-v7")  # the champion gets its own name there
        champion = cluster.api.get("configmaps", "llmops-traffic")["data"]["traffic.json"]
        table = TrafficTable.model_validate_json(champion)
        assert table.routes == {STABLE: Route(stable=Target(model=V7)), V7: Route(stable=Target(model=V7))}
        assert cluster.api.applied() == []  # the table was merge-patched, the main pool left as it was

        backend.load_version(V8, ADAPTER_B)
        rendered = manifests.render(cluster.settings, stable=V7, canary=V8, canary_base=BASE_B,
                                    canary_adapter=ADAPTER_B)  # fmt: skip
        assert cluster.api.applied() == [o for o in rendered if o["metadata"]["name"].startswith(CANARY)]
        for obj in cluster.api.applied():
            validate(obj)
        applies = [query for method, _, ctype, query, _ in cluster.api.calls if method == "PATCH" and ctype == APPLY]
        assert applies == [{"fieldManager": "llmops-deploy", "force": "true"}] * 4
        assert cluster.api.reads[CANARY] == 3  # polled until the controller reported it rolled out
        command = _vllm(cluster.api.get("deployments", CANARY))
        assert command[2] == BASE_B and command[command.index("--lora-modules") + 1] == f"{V8}={ADAPTER_B}"
        assert seen.seen[-1]["model"] == V8 and seen.seen[-1]["max_tokens"] == 1  # answered through its gateway

        assert backend.target(V8) == Target(model=V8, backend=cluster.gateways[CANARY])
        assert backend.target(V7) == Target(model=V7, backend=cluster.gateways[MAIN])
        with pytest.raises(BackendError, match=f"built with {ADAPTER_B}"):
            backend.load_version(V8, "/models/adapters/another")
        backend.close()
        off_volume = cluster.backend(canary=V10, base=BASE_C, adapter="/tmp/scratch/candidates/r10/adapter")
        with pytest.raises(BackendError, match="must lie on the model-cache volume"):
            off_volume.load_version(V10, "/tmp/scratch/candidates/r10/adapter")
        assert len(cluster.api.applied()) == 4  # refused before anything was applied


def test_weights_go_to_the_http_route_and_metrics_come_from_both_pools(upstream, tmp_path):
    with running_cluster(tmp_path, upstream[1]) as cluster:
        backend = _loaded(cluster)
        backend.set_weights(V7, V8, 0.25)
        assert cluster.api.applied("HTTPRoute") == [manifests.http_route(cluster.settings, 0.25)]
        validate(cluster.api.get("httproutes", MAIN))
        assert cluster.weights() == [(MAIN, 750), (CANARY, 250)]

        for pool, count in ((MAIN, 3), (CANARY, 2)):  # callers the route sent to each pool
            for i in range(count):
                body = {"model": STABLE, "prompt": "hi", "max_tokens": 2, "user": f"u{i}"}
                httpx.post(f"{cluster.gateways[pool]}/v1/completions", json=body, timeout=10).raise_for_status()
        metrics = backend.read_metrics()
        assert set(metrics) == {("stable", V7), ("canary", V8)}
        assert metrics[("stable", V7)].requests == {"2xx": 3} and metrics[("canary", V8)].requests == {"2xx": 2}
        assert metrics[("canary", V8)].variant == "canary" and metrics[("canary", V8)].latency_buckets

        backend.set_weights(V7)
        assert cluster.weights() == [(MAIN, 1000), (CANARY, 0)]
        with pytest.raises(BackendError, match=f"but {V8} is served by {CANARY} and {V7} by {MAIN}"):
            backend.set_weights(V8, V7, 0.5)
        assert cluster.weights() == [(MAIN, 1000), (CANARY, 0)]
        backend.close()


def test_rollback_deletes_the_canary_pool(upstream, tmp_path):
    with running_cluster(tmp_path, upstream[1]) as cluster:
        backend = _loaded(cluster)
        backend.set_weights(V7, V8, 0.05)
        backend.set_weights(V7)  # finish(): all traffic to the stable, then the canary goes
        with pytest.raises(BackendError, match="still receives"):
            backend.unload_version(V7)
        backend.unload_version(V8)
        deleted = [path for method, path, *_ in cluster.api.calls if method == "DELETE"]
        assert deleted == [f"poddisruptionbudgets/{CANARY}", f"services/{CANARY}", f"deployments/{CANARY}",
                           f"configmaps/{CANARY}-traffic"]  # fmt: skip
        assert cluster.canary_objects() == [None] * 4
        assert cluster.weights() == [(MAIN, 1000), (CANARY, 0)]
        assert [o["metadata"]["name"] for o in cluster.api.applied() if o["kind"] != "HTTPRoute"] == [
            f"{CANARY}-traffic", CANARY, CANARY, CANARY]  # the main pool was never touched  # fmt: skip
        assert not any(variant == "canary" for variant, _ in backend.read_metrics())
        backend.unload_version(V8)  # already gone: a 404 on delete is not an error
        backend.close()


def test_promotion_hands_the_main_pool_to_the_winner_and_a_later_rollout_works(upstream, tmp_path):
    with running_cluster(tmp_path, upstream[1]) as cluster:
        settings, backend = cluster.settings, _loaded(cluster)
        backend.set_weights(V7, V8, 0.5)
        backend.set_weights(V8)  # finish(): all traffic to the winner, then the old stable goes
        assert cluster.weights() == [(MAIN, 0), (CANARY, 1000)]
        with pytest.raises(BackendError, match="still receives"):
            backend.unload_version(V8)
        applied = len(cluster.api.applied())
        backend.unload_version(V7)

        handed = cluster.api.applied()[applied:]
        assert handed == [*manifests.pool(settings, MAIN, BASE_B, manifests.traffic_table(settings, V8),
                                          (V8, ADAPTER_B)), manifests.http_route(settings, 0.0)]  # fmt: skip
        assert cluster.api.reads[MAIN] == 3  # the old spec's status was not taken for the new one rolled out
        calls = [(method, path) for method, path, *_ in cluster.api.calls]
        back, gone = calls.index(("PATCH", f"httproutes/{MAIN}"), -10), calls.index(("DELETE", f"deployments/{CANARY}"))
        assert back < gone  # the traffic is back on the main pool before the canary pool goes
        assert cluster.weights() == [(MAIN, 1000), (CANARY, 0)] and cluster.canary_objects() == [None] * 4
        assert _vllm(cluster.api.get("deployments", MAIN))[2] == BASE_B
        assert backend.target(V8) == Target(model=V8, backend=cluster.gateways[MAIN])
        assert not any(variant == "canary" for variant, _ in backend.read_metrics())
        backend.close()

        # the next candidate, on yet another base: a fresh canary pool beside the champion, now in the main pool
        later = cluster.backend(canary=V10, base=BASE_C, adapter=ADAPTER_C)
        assert later.target(V8).backend == cluster.gateways[MAIN]
        later.load_version(V10, ADAPTER_C)
        later.set_weights(V8, V10, 0.05)
        assert cluster.weights() == [(MAIN, 950), (CANARY, 50)]
        assert _vllm(cluster.api.get("deployments", CANARY))[2] == BASE_C
        later.close()


def test_a_failed_hand_over_keeps_the_traffic_on_the_canary_pool_and_blocks_another_canary(upstream, tmp_path):
    settings = _settings(LLMOPS__DEPLOY__KUBERNETES__READY_TIMEOUT_S="0.5")
    with running_cluster(tmp_path, upstream[1], settings=settings) as cluster:
        backend = _loaded(cluster)
        backend.set_weights(V8)
        cluster.api.ready_after[MAIN] = None  # no GPU for the main pool on the new base
        with pytest.raises(BackendError, match=f"not rolled out within 0.5 s.*the traffic stays 100 % on {CANARY}, "
                                               f"which serves {V8}"):  # fmt: skip
            backend.unload_version(V7)
        assert cluster.weights() == [(MAIN, 0), (CANARY, 1000)] and None not in cluster.canary_objects()

        later = cluster.backend(canary=V10, base=BASE_C, adapter=ADAPTER_C)
        with pytest.raises(BackendError, match=f"{CANARY} runs another version and the HTTPRoute {MAIN} gives it "
                                               f"weight 1000: {V10} is not applied over it"):  # fmt: skip
            later.load_version(V10, ADAPTER_C)
        assert _vllm(cluster.api.get("deployments", CANARY))[2] == BASE_B
        backend.load_version(V8, ADAPTER_B)  # the same candidate again (its pool lost its pods) is re-applied
        backend.close()


def test_a_pool_that_never_rolls_out_fails_within_the_timeout(upstream, tmp_path, caplog):
    settings = _settings(LLMOPS__DEPLOY__KUBERNETES__READY_TIMEOUT_S="0.5")
    with running_cluster(tmp_path, upstream[1], settings=settings) as cluster:
        cluster.api.ready_after[CANARY] = None
        backend = cluster.backend()
        started = time.monotonic()
        with caplog.at_level(logging.INFO, "llmops.serving.backends.kube"), pytest.raises(
            BackendError, match=rf"Deployment llmops/{CANARY} not rolled out within 0.5 s "
            r"\(deploy.kubernetes.ready_timeout_s\): 0 of 1 updated replicas available \(Progressing=True "
            f'ReplicaSetUpdated: ReplicaSet "{CANARY}-7d9c" is progressing.'):  # fmt: skip
            backend.load_version(V8, ADAPTER_B)
        assert time.monotonic() - started < 3
        assert f"Deployment llmops/{CANARY}: 0 of 1 updated replicas available" in caplog.text  # progress logged
        with pytest.raises(BackendError, match="not served"):
            backend.target(V8)  # its Service has no ready endpoint
        backend.close()


def test_a_pool_that_does_not_answer_for_the_version_fails(upstream, tmp_path):
    """Rolled out and listing the version, but its vLLM does not answer: not served."""
    with running_cluster(tmp_path, upstream[1], canary_upstream=f"http://127.0.0.1:{free_port()}") as cluster:
        backend = cluster.backend()
        with pytest.raises(BackendError, match=rf"{CANARY} lists {V8} but does not answer for it: POST "
                                               r"\S+/v1/completions answered 5\d\d"):  # fmt: skip
            backend.load_version(V8, ADAPTER_B)
        backend.close()


def test_api_errors_and_an_unreachable_api_server_fail_closed(upstream, tmp_path):
    with running_cluster(tmp_path, upstream[1]) as cluster:
        backend = _loaded(cluster)
        cluster.api.fail = 500
        error = "the Kubernetes API answered 500: etcdserver: request timed out"
        with pytest.raises(BackendError, match=f"PATCH HTTPRoute llmops/{MAIN}: {error}"):
            backend.set_weights(V7, V8, 0.05)
        with pytest.raises(BackendError, match=f"DELETE PodDisruptionBudget llmops/{CANARY}: {error}"):
            backend.unload_version(V8)
        with pytest.raises(BackendError, match=f"GET HTTPRoute llmops/{MAIN}: {error}"):
            cluster.backend(canary=V10, base=BASE_C, adapter=ADAPTER_C).load_version(V10, ADAPTER_C)
        cluster.api.fail = None
        assert None not in cluster.canary_objects()  # nothing was taken for deleted
        down = cluster.backend(api_url=cluster.closed)
        with pytest.raises(BackendError, match=f"GET HTTPRoute llmops/{MAIN}: cannot reach the Kubernetes API"):
            down.load_version(V8, ADAPTER_B)
        with pytest.raises(BackendError, match=f"PATCH HTTPRoute llmops/{MAIN}: cannot reach the Kubernetes API"):
            down.set_weights(V7, V8, 0.05)
        backend.close()
        down.close()


def _route_gateway(cluster: Callable[[], Cluster]) -> FastAPI:
    """The Gateway API implementation: each request to the backendRef the HTTPRoute's weights draw."""
    app = FastAPI()

    @app.post("/v1/{path:path}")
    async def forward(path: str, request: Request) -> Response:
        refs = cluster().api.get("httproutes", MAIN)["spec"]["rules"][0]["backendRefs"]
        (ref,) = random.choices(refs, weights=[r["weight"] for r in refs])
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(f"{cluster().service_url(ref['name'])}/v1/{path}", content=await request.body(),
                                       headers={"Content-Type": "application/json"})  # fmt: skip
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    return app


def test_the_rollout_promotes_a_candidate_on_another_base_through_the_route(upstream, tmp_path):
    """llmops.deploy.rollout unchanged on this backend: steps on the HTTPRoute, the analysis on both pools' series
    (the load generator replays prompts through the route), promotion with the hand-over."""
    cluster = None
    with serve_in_thread(_route_gateway(lambda: cluster)) as route_url:
        settings = _settings(LLMOPS__DEPLOY__KUBERNETES__HTTP_GATEWAY_URL=route_url)
        with running_cluster(tmp_path, upstream[1], settings=settings) as cluster:
            backend = _loaded(cluster)
            cfg = DeploySettings(steps=[50, 100], window_s=1.0, step_deadline_s=30, load_rps=20, load_max_tokens=2,
                                 drain_s=0, analysis=DeployAnalysisSettings(
                                     min_requests=5, tuned_at_requests=50, quality_prompts_per_step=3,
                                     quality_min_prompts=3, quality_max_tokens=4))  # fmt: skip
            final = run_rollout(backend, V7, V8, cfg, tmp_path / "rollouts", [item.prompt for item in REFERENCES],
                                references=REFERENCES)  # fmt: skip
            backend.close()
            # the mirrored prompts asked each version by its own name in its own pool
            mirrored = {v: read_gateway_metrics(cluster.gateways[pool], v)[("stable", v)].requests["2xx"]
                        for v, pool in ((V7, MAIN), (V8, CANARY))}  # fmt: skip
    assert final.status == state.PROMOTED, final.reason
    look = final.looks[0]
    assert look.canary_weight == 0.5 and look.stable["requests"] >= 5 and look.canary["requests"] >= 5
    assert len(look.quality) == 3 and mirrored == {V7: 1 + 3, V8: 1 + 3}  # one check at load, three mirrored
    assert cluster.weights() == [(MAIN, 1000), (CANARY, 0)] and cluster.canary_objects() == [None] * 4
    assert _vllm(cluster.api.get("deployments", MAIN))[2] == BASE_B
