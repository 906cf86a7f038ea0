"""The adapter canary in kubernetes (llmops.serving.backends.adapter_pool) with the real Kubernetes client.

No cluster exists here: the API server is the stand-in of tests.serving.kube_api over real HTTP, holding the pool's
rendered objects and its pods. Each pod is the real gateway with ``sync_adapters`` in front of its own stand-in
vLLM (tests.serving.upstream, vLLM's documented LoRA routes), following the traffic file the stand-in writes from
the pool's ConfigMap, as kubelet does; the backend reaches each gateway at the pod's IP and ``http`` port.
"""

from __future__ import annotations

import itertools
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from kubernetes import client as k8s

from llmops.config import ConfigError, DeployAnalysisSettings, DeploySettings, Settings, load_settings
from llmops.deploy import state
from llmops.deploy.rollout import run_rollout
from llmops.serving import gateway, manifests
from llmops.serving.backends.adapter_pool import AdapterPoolBackend
from llmops.serving.backends.adapter_volume import stage_adapter
from llmops.serving.backends.base import BackendError, ServingBackend, read_gateway_metrics
from llmops.serving.backends.kube import RESOURCES
from llmops.serving.server import free_port
from llmops.serving.traffic import Route, Target, TrafficTable
from tests.serving.kube_api import KubeAPI
from tests.serving.test_two_deployments import REFERENCES
from tests.serving.upstream import Upstream, serve_in_thread

STABLE, V7, V8 = "support-assistant", "support-assistant-v7", "support-assistant-v8"
POOL = "llmops-vllm"
GATEWAY = {"max_tokens": 16, "max_prompt_chars": 2000, "request_timeout_s": 10.0, "traffic_poll_s": 0.02,
           "sync_adapters": True, "adapter_resync_s": 0.2}  # fmt: skip


def _settings(tmp_path: Path, **environ: str) -> Settings:
    return load_settings("kubernetes", environ={
        "LLMOPS__RUNTIME__MODEL_CACHE_MOUNT": str(tmp_path / "models"),
        "LLMOPS__DEPLOY__KUBERNETES__READY_POLL_S": "0.02", "LLMOPS__DEPLOY__KUBERNETES__READY_TIMEOUT_S": "5",
        **environ})  # fmt: skip


def _adapter(path: Path, weights: bytes = b"lora-weights") -> Path:
    """An adapter as the registry's download leaves it on the deploy step's own disk."""
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text('{"r": 4}')
    (path / "adapter_model.safetensors").write_bytes(weights)
    return path


def _pod(name: str, pool: str, url: str | None, ready: bool = True) -> dict:
    """A pod of ``pool`` whose gateway answers at ``url`` (None: nothing listens at its address)."""
    port = int(url.rsplit(":", 1)[1]) if url else free_port()
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "llmops", "labels": {"app.kubernetes.io/name": pool}},
            "spec": {"containers": [{"name": "vllm"}, {"name": "gateway",
                                                          "ports": [{"name": "http", "containerPort": port}]}]},
            "status": {"phase": "Running", "podIP": "127.0.0.1",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}  # fmt: skip


@dataclass
class Pool:
    api: KubeAPI
    url: str
    vllms: dict[str, Upstream]  # pod -> its vLLM
    gateways: dict[str, str]  # pod -> its gateway
    settings: Settings

    def backend(self, api_url: str | None = None, pool_url: str | None = None) -> AdapterPoolBackend:
        api = k8s.ApiClient(k8s.Configuration(host=api_url or self.url))
        return AdapterPoolBackend(self.settings, api=api, pool_url=pool_url)

    def table(self) -> TrafficTable:
        return TrafficTable.model_validate_json(self.api.get("configmaps", "llmops-traffic")["data"]["traffic.json"])


@contextmanager
def running_pool(tmp_path: Path, vllms: dict[str, Upstream] | None = None, **environ: str):
    """The API stand-in holding the rendered pool (its table: the stable name to the base), two ready pods, one
    pod not ready (nothing listens there) and a pod of another pool."""
    settings = _settings(tmp_path, **environ)
    (tmp_path / "models").mkdir()  # the model-cache volume, as the deploy step's pod mounts it
    vllms = vllms or {f"{POOL}-a": Upstream(), f"{POOL}-b": Upstream()}
    traffic_file = tmp_path / "traffic.json"
    api = KubeAPI({"llmops-traffic": traffic_file}, "traffic.json")
    for obj in manifests.pool(settings, POOL, settings.training.base_model, manifests.traffic_table(settings, "base")):
        api.put(RESOURCES[obj["kind"]][1], obj)
    with ExitStack() as stack:
        gateways = {}
        for pod, vllm in vllms.items():
            vllm_url = stack.enter_context(serve_in_thread(vllm.app()))
            app = gateway.build_app(vllm_url, traffic_file=traffic_file, **GATEWAY)
            gateways[pod] = stack.enter_context(serve_in_thread(app))
            api.put("pods", _pod(pod, POOL, gateways[pod]))
        api.put("pods", _pod(f"{POOL}-starting", POOL, None, ready=False))
        api.put("pods", _pod("other-pool-a", "other-pool", None))
        url = stack.enter_context(serve_in_thread(api.app))
        yield Pool(api, url, vllms, gateways, settings)


def test_an_adapter_is_on_every_pod_before_load_version_returns(tmp_path):
    with running_pool(tmp_path) as pool:
        backend = pool.backend()
        assert isinstance(backend, ServingBackend) and backend.gateway_url == "http://llmops-vllm.llmops.svc:8080"
        with pytest.raises(BackendError, match=f"{V7} is not listed in the traffic table of {POOL}"):
            backend.target(V7)
        backend.load_version(V7, str(_adapter(tmp_path / "scratch" / "v7")))
        staged = str(tmp_path / "models" / "llmops-adapters" / V7)
        assert {pod: vllm.adapters for pod, vllm in pool.vllms.items()} == {
            f"{POOL}-a": {V7: staged}, f"{POOL}-b": {V7: staged}}  # both loaded before it returned  # fmt: skip
        assert (Path(staged) / "adapter_model.safetensors").read_bytes() == b"lora-weights"
        assert pool.table().adapters == {V7: staged}
        assert pool.table().routes[V7] == Route(stable=Target(model=V7))  # its own name, for mirrored prompts
        assert backend.target(V7) == Target(model=V7)
        listed = [(method, path, query) for method, path, _, query, _ in pool.api.calls if path == "pods"]
        assert listed[-1] == ("GET", "pods", {"labelSelector": f"app.kubernetes.io/name={POOL}"})

        backend.load_version(V8, str(_adapter(tmp_path / "scratch" / "v8")))
        backend.set_weights(V7, V8, 0.5)
        assert set(pool.table().adapters) == {V7, V8}  # the weights change keeps the adapters listed
        assert all(set(vllm.adapters) == {V7, V8} for vllm in pool.vllms.values())
        loads = [call for vllm in pool.vllms.values() for call in vllm.lora_calls]
        assert len(loads) == 4 and all(op == "load" and "load_inplace" not in body for op, body in loads)

        sent = {f"{POOL}-a": 3, f"{POOL}-b": 2}  # callers the Service sent to each pod
        for pod, count in sent.items():
            for i in range(count):
                body = {"model": STABLE, "prompt": "hi", "max_tokens": 2, "user": f"{pod}-{i}"}
                httpx.post(f"{pool.gateways[pod]}/v1/completions", json=body, timeout=10).raise_for_status()
        per_pod = [read_gateway_metrics(url, STABLE) for url in pool.gateways.values()]
        summed = backend.read_metrics()
        assert set(summed) == {("stable", V7), ("canary", V8)}
        assert sum(m.requests.get("2xx", 0) for m in summed.values()) == 5
        for key, metrics in summed.items():
            assert metrics.requests.get("2xx", 0) == sum(p[key].requests.get("2xx", 0) for p in per_pod if key in p)
            answered = metrics.requests.get("2xx", 0)
            assert (metrics.latency_buckets[-1][1] if answered else 0) == answered  # +Inf counts every answer
            assert metrics.output_tokens == sum(p[key].output_tokens for p in per_pod if key in p)
        backend.close()


def test_unload_takes_the_adapter_off_the_table_and_waits_for_every_pod(tmp_path):
    with running_pool(tmp_path) as pool:
        backend = pool.backend()
        for version in (V7, V8):
            backend.load_version(version, str(_adapter(tmp_path / "scratch" / version)))
        backend.set_weights(V7, V8, 0.05)
        with pytest.raises(BackendError, match="still receives"):
            backend.unload_version(V8)
        backend.set_weights(V7)  # the rollback: all traffic to the stable, then the canary goes
        backend.unload_version(V8)
        assert all(set(vllm.adapters) == {V7} for vllm in pool.vllms.values())  # gone before it returned
        assert set(pool.table().adapters) == {V7} and V8 not in pool.table().routes
        with pytest.raises(BackendError, match="not listed"):
            backend.target(V8)
        backend.unload_version(V8)  # already gone: nothing to wait for
        backend.close()

        other = pool.backend()  # a table someone else changed: V7 still routed there
        with pytest.raises(BackendError, match=rf"still routes \['{STABLE}'\] to {V7}"):
            other.unload_version(V7)
        other.close()


def test_one_pod_failing_the_load_fails_the_step_with_its_message(tmp_path):
    broken = Upstream(load_error="CUDA out of memory. Tried to allocate 64.00 MiB")
    with running_pool(tmp_path, {f"{POOL}-a": Upstream(), f"{POOL}-b": broken}) as pool:
        backend = pool.backend()
        message = rf"pod {POOL}-b of {POOL}: failed to load {V7} from \S+: vLLM POST /v1/load_lora_adapter answered 400"
        with pytest.raises(BackendError, match=message + ".*CUDA out of memory"):
            backend.load_version(V7, str(_adapter(tmp_path / "scratch" / "v7")))
        assert pool.table().adapters == {} and V7 not in pool.table().routes  # off the table: no pod keeps retrying
        backend.close()


def test_a_pod_that_never_reports_and_the_api_down_fail_closed(tmp_path):
    with running_pool(tmp_path, LLMOPS__DEPLOY__KUBERNETES__READY_TIMEOUT_S="0.5") as pool:
        backend = pool.backend()
        backend.load_version(V7, str(_adapter(tmp_path / "scratch" / "v7")))
        pool.api.put("pods", _pod(f"{POOL}-c", POOL, None))  # ready, but its gateway does not answer
        no_report = rf"{POOL}-c: its gateway at http://127.0.0.1:\d+ gives no adapter report: ConnectError"
        with pytest.raises(BackendError, match=rf"{V8} loaded on every ready pod of {POOL} not within 0.5 s "
                                               rf"\(deploy.kubernetes.ready_timeout_s\): {no_report}"):  # fmt: skip
            backend.load_version(V8, str(_adapter(tmp_path / "scratch" / "v8")))
        with pytest.raises(BackendError, match=f"{V7} is not loaded on every ready pod of {POOL}: {no_report}"):
            backend.set_weights(V7)
        with pytest.raises(BackendError, match=r"metrics at http://127.0.0.1:\d+"):
            backend.read_metrics()
        pool.api.objects = {key: obj for key, obj in pool.api.objects.items() if key[0] != "pods"}
        with pytest.raises(BackendError, match=f"{POOL}: no ready pod"):
            backend.target(V7)  # nobody confirms it: not a pass
        with pytest.raises(BackendError, match=f"no ready pod of {POOL}"):
            backend.read_metrics()

        pool.api.fail = 500
        with pytest.raises(BackendError, match="cannot read ConfigMap llmops/llmops-traffic: 500"):
            backend.load_version(V8, str(tmp_path / "scratch" / "v8"))
        pool.api.fail = None
        down = pool.backend(api_url=f"http://127.0.0.1:{free_port()}")
        with pytest.raises(BackendError, match="cannot reach the Kubernetes API"):
            down.read_metrics()
        backend.close()
        down.close()


def test_the_pod_list_failing_fails_closed(tmp_path):
    with running_pool(tmp_path) as pool:
        backend = pool.backend()
        backend.load_version(V7, str(_adapter(tmp_path / "scratch" / "v7")))
        pool.api.fail = 503
        with pytest.raises(BackendError, match=f"LIST Pod in llmops \\(app.kubernetes.io/name={POOL}\\): the "
                                               "Kubernetes API answered 503"):  # fmt: skip
            backend.read_metrics()
        backend.close()


def _service(gateways: list[str]) -> FastAPI:
    """The pool's Service: each request to the next pod's gateway."""
    app, pods = FastAPI(), itertools.cycle(gateways)

    @app.post("/v1/{path:path}")
    async def forward(path: str, request: Request) -> Response:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(f"{next(pods)}/v1/{path}", content=await request.body(),
                                       headers={"Content-Type": "application/json"})  # fmt: skip
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    return app


def test_the_rollout_promotes_an_adapter_canary_across_the_pool(tmp_path):
    """llmops.deploy.rollout unchanged on this backend: the steps in the table, the analysis on both pods' series
    summed, the load generator and the mirrored prompts through the Service, and the old champion unloaded from
    every pod after the promotion."""
    with running_pool(tmp_path) as pool, serve_in_thread(_service(list(pool.gateways.values()))) as service:
        backend = pool.backend(pool_url=service)
        for version in (V7, V8):
            backend.load_version(version, str(_adapter(tmp_path / "scratch" / version)))
        cfg = DeploySettings(steps=[50, 100], window_s=1.0, step_deadline_s=30, load_rps=20, load_max_tokens=2,
                             drain_s=0, vllm_url=service, analysis=DeployAnalysisSettings(
                                 min_requests=5, tuned_at_requests=50, quality_prompts_per_step=3,
                                 quality_min_prompts=3, quality_max_tokens=4))  # fmt: skip
        final = run_rollout(backend, V7, V8, cfg, tmp_path / "rollouts", [item.prompt for item in REFERENCES],
                            references=REFERENCES)  # fmt: skip
        backend.close()
        assert final.status == state.PROMOTED, final.reason
        look = final.looks[0]
        assert look.canary_weight == 0.5 and look.stable["requests"] >= 5 and look.canary["requests"] >= 5
        assert len(look.quality) == 3
        answered = {pod: sum(m.requests.get("2xx", 0) for m in read_gateway_metrics(url, STABLE).values())
                    for pod, url in pool.gateways.items()}  # fmt: skip
        assert all(answered.values())  # the load went to both pods, and the analysis counted both
        mirrored = Counter(body["model"] for vllm in pool.vllms.values() for body in vllm.seen if "messages" in body)
        assert mirrored == {V7: 3, V8: 3}  # each version asked by its own name through the Service
        assert pool.table().adapters == {V8: str(tmp_path / "models" / "llmops-adapters" / V8)}
        assert pool.table().routes[STABLE] == Route(stable=Target(model=V8))
        assert all(vllm.adapters == {V8: pool.table().adapters[V8]} for vllm in pool.vllms.values())


def test_the_adapter_is_copied_onto_the_volume_once(tmp_path):
    settings = _settings(tmp_path)
    mount = tmp_path / "models"
    with pytest.raises(BackendError, match=r"not mounted at \S+models \(runtime.model_cache_mount\).*model_cache: t"):
        stage_adapter(_adapter(tmp_path / "scratch" / "v7"), V7, settings)
    mount.mkdir()
    staged = Path(stage_adapter(tmp_path / "scratch" / "v7", V7, settings))
    assert staged == mount / "llmops-adapters" / V7
    assert sorted(p.name for p in staged.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert [p.name for p in staged.parent.iterdir()] == [V7]  # no partial copy left beside it
    written = (staged / "adapter_model.safetensors").stat().st_mtime_ns
    assert stage_adapter(tmp_path / "scratch" / "v7", V7, settings) == str(staged)  # the same adapter again
    assert (staged / "adapter_model.safetensors").stat().st_mtime_ns == written  # not copied twice
    retrained = _adapter(tmp_path / "scratch" / "v7-retrained", b"other-weights")
    with pytest.raises(BackendError, match="holds another adapter .* never replaced"):
        stage_adapter(retrained, V7, settings)
    on_volume = _adapter(mount / "adapters" / "r8")
    assert stage_adapter(on_volume, V8, settings) == str(on_volume)  # already where the pods read it
    for outside in ("../elsewhere", "/models/adapters", ""):
        with pytest.raises(ConfigError, match="deploy.kubernetes.adapter_dir"):
            _settings(tmp_path, LLMOPS__DEPLOY__KUBERNETES__ADAPTER_DIR=outside)


def test_the_deploy_steps_pod_mounts_the_model_cache_read_write_without_a_gpu():
    from llmops.pipelines import deploy_steps
    from llmops.pods import pod_arguments

    settings = load_settings("kubernetes", environ={})
    (step,) = deploy_steps("s3a://lake", "2024-01-01")
    args = pod_arguments(step, settings)
    mount = next(m for m in args["volume_mounts"] if m.name == "model-cache")
    assert mount.mount_path == "/models" and not mount.read_only
    volume = next(v for v in args["volumes"] if v.name == "model-cache")
    assert volume.persistent_volume_claim.claim_name == "llmops-model-cache"
    assert volume.persistent_volume_claim.read_only is None
    assert "nvidia.com/gpu" not in args["container_resources"].limits and args["node_selector"] is None
