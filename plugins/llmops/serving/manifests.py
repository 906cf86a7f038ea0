"""The kubernetes serving manifests, rendered from the settings (``deploy``, ``serving``, ``runtime``, ``training``).

One vLLM pool serves the base model from the model-cache volume with runtime LoRA loading; every version is an
adapter loaded by its own name. The gateway sidecar splits the stable name's traffic by adapter, following the
traffic table in a mounted ConfigMap (``deploy.traffic_file``), and loads the adapters that table lists into the
vLLM beside it (``--sync-adapters``, :mod:`llmops.serving.adapter_sync`; the deploy step writes them there,
:mod:`llmops.serving.backends.adapter_pool`). The
container command lines come from the same builders the local runtime runs (:func:`llmops.serving.vllm.vllm_args`,
:func:`llmops.serving.gateway.gateway_args`). Also rendered: the Gateway API Inference Extension equivalents
(``InferencePool`` and an ``InferenceModelRewrite`` with weighted targets, for llm-d's endpoint picker) and, for a
candidate on a different base, a second pool (started with the candidate's adapter) and an ``HTTPRoute`` splitting
traffic between the two Deployments (:mod:`llmops.serving.backends.two_deployments` applies them).

``python -m llmops.serving.manifests render > manifests.yaml``; containers/vllm/deployment.yaml is that output
for the kubernetes profile (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import posixpath
import sys
from pathlib import PurePosixPath

import yaml

from llmops.config import Settings, load_settings
from llmops.serving.gateway import gateway_args
from llmops.serving.traffic import Route, Target, TrafficTable
from llmops.serving.vllm import VLLM_ENV, vllm_args

BASE_NAME = "base"  # the name vLLM serves the base model under (vllm_args' default)
INFERENCE_GROUP = "inference.networking.k8s.io"
COMPONENT = {"app.kubernetes.io/component": "model-server", "app.kubernetes.io/part-of": "llmops"}
WEIGHT_SCALE = 1000  # integer weights for the CRDs: per-mille of the traffic


def traffic_table(
    settings: Settings, stable: str, canary: str | None = None, canary_weight: float = 0.0
) -> TrafficTable:
    """The stable name split between ``stable`` and ``canary``, plus each version under its own name (what an
    endpoint picker that already rewrote the model name sends through the gateway)."""
    name = settings.deploy.stable_name
    split = Route(
        stable=Target(model=stable), canary=Target(model=canary) if canary else None, canary_weight=canary_weight
    )
    own = {v: Route(stable=Target(model=v)) for v in (stable, canary) if v and v != BASE_NAME}
    return TrafficTable(routes={name: split, **own})


def _metadata(settings: Settings, name: str, labels: dict[str, str] | None = None) -> dict:
    return {"name": name, "namespace": settings.runtime.namespace, "labels": {**COMPONENT, **(labels or {})}}


def _traffic_mount(settings: Settings) -> tuple[str, str]:
    path = settings.deploy.traffic_file
    if not path.startswith("/"):
        raise ValueError(
            f"deploy.traffic_file must be an absolute path in the pod (the ConfigMap's file), got {path!r}"
        )
    return posixpath.dirname(path), posixpath.basename(path)


def max_adapter_rank(settings: Settings) -> int:
    """The largest LoRA rank training can produce (the final fit or any sweep trial): every adapter must load."""
    return max(settings.training.lora_rank, *settings.training.sweep.space.lora_rank)


def service_url(settings: Settings, name: str) -> str:
    """The root URL of pool ``name``'s gateway Service inside the cluster."""
    return f"http://{name}.{settings.runtime.namespace}.svc:{settings.deploy.gateway_port}"


def canary_pool_name(settings: Settings) -> str:
    """The pool of a candidate on another base than the champion's."""
    return f"{settings.deploy.kubernetes.pool_name}-canary"


def vllm_command(settings: Settings, base_model: str, adapter: tuple[str, str] | None = None) -> list[str]:
    """``adapter`` (served name, path): a pool built for one version loads it at start; its pod reads it from the
    model-cache volume, the only one it mounts besides the traffic table."""
    k8s, serving, mount = settings.deploy.kubernetes, settings.serving, settings.runtime.model_cache_mount
    if adapter and not PurePosixPath(adapter[1]).is_relative_to(mount):
        raise ValueError(f"the adapter of {adapter[0]} must lie on the model-cache volume (runtime.model_cache_mount "
                         f"{mount}) for the pool's pod to read it, got {adapter[1]}")  # fmt: skip
    return vllm_args(
        base_model,
        *(adapter or ()),
        max_model_len=serving.vllm_max_model_len,
        max_tokens=serving.max_tokens,
        lora_rank=max_adapter_rank(settings),
        served_model_name=BASE_NAME,
        port=k8s.vllm_port,
        gpu_memory_utilization=k8s.gpu_memory_utilization,
        max_num_seqs=serving.max_in_flight,
        max_loras=k8s.max_loras,
    )


def gateway_command(settings: Settings) -> list[str]:
    deploy, serving = settings.deploy, settings.serving
    _traffic_mount(settings)
    return [
        "python3",
        "-m",
        "llmops.serving.gateway",
        *gateway_args(
            f"http://127.0.0.1:{deploy.kubernetes.vllm_port}",
            model=deploy.stable_name,
            backend_model=BASE_NAME,
            host=deploy.gateway_host,
            port=deploy.gateway_port,
            max_tokens=serving.max_tokens,
            max_prompt_chars=serving.max_prompt_chars,
            request_timeout_s=serving.request_timeout_s,
            max_in_flight=serving.max_in_flight,
            max_queued=serving.max_queued,
            traffic_file=deploy.traffic_file,
            inference_log=settings.paths.lake_root if deploy.kubernetes.inference_log else None,
            sync_adapters=True,
        ),
    ]


def traffic_config_map(settings: Settings, name: str, table: TrafficTable) -> dict:
    _, filename = _traffic_mount(settings)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(settings, name),
        "data": {filename: table.model_dump_json(exclude_none=True)},
    }


def deployment(
    settings: Settings, name: str, base_model: str, config_map: str, adapter: tuple[str, str] | None = None
) -> dict:
    k8s, runtime = settings.deploy.kubernetes, settings.runtime
    labels = {"app.kubernetes.io/name": name}
    traffic_dir, _ = _traffic_mount(settings)
    drop_all = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    vllm = {
        "name": "vllm",
        "image": k8s.image,
        "command": vllm_command(settings, base_model, adapter),
        "env": [
            {"name": "HF_HOME", "value": f"{runtime.model_cache_mount}/hf"},
            {"name": "HF_HUB_OFFLINE", "value": "1"},
            *({"name": k, "value": v} for k, v in VLLM_ENV.items()),
        ],
        "resources": {
            "requests": {"cpu": k8s.cpu, "memory": k8s.memory, "nvidia.com/gpu": str(k8s.gpus)},
            "limits": {"memory": k8s.memory, "nvidia.com/gpu": str(k8s.gpus)},
        },
        "securityContext": drop_all,
        "volumeMounts": [
            {"name": "model-cache", "mountPath": runtime.model_cache_mount, "readOnly": True},
            {"name": "dshm", "mountPath": "/dev/shm"},
        ],
    }
    gateway = {
        "name": "gateway",
        "image": k8s.image,
        "command": gateway_command(settings),
        "ports": [{"name": "http", "containerPort": settings.deploy.gateway_port}],
        # ready once vLLM is: the gateway's /health asks vLLM's /health
        "readinessProbe": {
            "httpGet": {"path": "/health", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 6,
            "failureThreshold": 3,
        },
        "env": [{"name": "LLMOPS_PROFILE", "value": settings.profile}],
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "readOnlyRootFilesystem": True, **drop_all},
        "volumeMounts": [{"name": "traffic", "mountPath": traffic_dir, "readOnly": True}],
    }
    if k8s.inference_log:  # the lake's credentials, as the steps' pods get them (optional: a pod role serves too)
        gateway["envFrom"] = [{"secretRef": {"name": runtime.lake_secret, "optional": True}}]
    pod = {
        "automountServiceAccountToken": False,
        "nodeSelector": dict(runtime.gpu_node_selector),
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "terminationGracePeriodSeconds": 60,
        "containers": [vllm, gateway],
        "volumes": [
            {"name": "model-cache", "persistentVolumeClaim": {"claimName": runtime.model_cache_pvc, "readOnly": True}},
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": runtime.shm_size}},
            {"name": "traffic", "configMap": {"name": config_map}},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(settings, name, labels),
        "spec": {
            "replicas": k8s.replicas,
            "selector": {"matchLabels": labels},
            # keep serving while a new pod loads (needs one spare GPU during the roll-out)
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {**COMPONENT, **labels}}, "spec": pod},
        },
    }


def service(settings: Settings, name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(settings, name, {"app.kubernetes.io/name": name}),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": settings.deploy.gateway_port, "targetPort": "http"}],
        },
    }


def disruption_budget(settings: Settings, name: str) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(settings, name),
        "spec": {
            "minAvailable": settings.deploy.kubernetes.min_available,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        },
    }


def pool(
    settings: Settings, name: str, base_model: str, table: TrafficTable, adapter: tuple[str, str] | None = None
) -> list[dict]:
    """One vLLM pool: its traffic ConfigMap, Deployment, Service and PodDisruptionBudget (``adapter``: see
    :func:`vllm_command`)."""
    config_map = (
        f"{name}-traffic"
        if name != settings.deploy.kubernetes.pool_name
        else settings.deploy.kubernetes.traffic_config_map
    )
    return [
        traffic_config_map(settings, config_map, table),
        deployment(settings, name, base_model, config_map, adapter),
        service(settings, name),
        disruption_budget(settings, name),
    ]


def service_monitor(settings: Settings) -> dict:
    """Prometheus scrapes every pool's gateway: its per-variant series are the canary analysis' only source."""
    k8s = settings.deploy.kubernetes
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _metadata(settings, k8s.pool_name, k8s.service_monitor_labels),
        "spec": {
            "selector": {"matchLabels": COMPONENT},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}],
        },
    }


def inference_pool(settings: Settings) -> dict:
    k8s = settings.deploy.kubernetes
    return {
        "apiVersion": f"{INFERENCE_GROUP}/v1",
        "kind": "InferencePool",
        "metadata": _metadata(settings, k8s.pool_name),
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": k8s.pool_name}},
            "targetPorts": [{"number": settings.deploy.gateway_port}],
            "endpointPickerRef": {"name": k8s.endpoint_picker, "port": {"number": k8s.endpoint_picker_port}},
        },
    }


def _weights(canary_weight: float) -> tuple[int, int]:
    canary = round(canary_weight * WEIGHT_SCALE)
    return WEIGHT_SCALE - canary, canary


def inference_model_rewrite(settings: Settings, stable: str, canary: str | None, canary_weight: float) -> dict:
    """The stable name rewritten to the stable or canary adapter by weight (the endpoint picker's split; weights
    must be >= 1, so a variant at 0 is left out)."""
    k8s = settings.deploy.kubernetes
    weights = _weights(canary_weight if canary else 0.0)
    targets = [
        {"modelRewrite": model, "weight": weight}
        for model, weight in zip((stable, canary), weights, strict=True)
        if weight
    ]
    return {
        "apiVersion": "inference.networking.x-k8s.io/v1alpha2",
        "kind": "InferenceModelRewrite",
        "metadata": _metadata(settings, settings.deploy.stable_name),
        "spec": {
            "poolRef": {"group": INFERENCE_GROUP, "kind": "InferencePool", "name": k8s.pool_name},
            "rules": [
                {"matches": [{"model": {"type": "Exact", "value": settings.deploy.stable_name}}], "targets": targets}
            ],
        },
    }


def http_route(settings: Settings, canary_weight: float) -> dict:
    """A base-model change: the stable and the canary pool's Services, weighted."""
    k8s, port = settings.deploy.kubernetes, settings.deploy.gateway_port
    stable, canary = _weights(canary_weight)
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": _metadata(settings, k8s.pool_name),
        "spec": {
            "parentRefs": [{"name": k8s.http_gateway}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}],
                    "backendRefs": [
                        {"name": k8s.pool_name, "port": port, "weight": stable},
                        {"name": canary_pool_name(settings), "port": port, "weight": canary},
                    ],
                }
            ],
        },
    }


def render(
    settings: Settings,
    *,
    stable: str = BASE_NAME,
    canary: str | None = None,
    canary_weight: float = 0.0,
    canary_base: str | None = None,
    canary_adapter: str | None = None,
) -> list[dict]:
    """Every serving object. Without ``canary_base`` the canary is an adapter in the one pool; with it, the
    candidate's base gets its own pool (serving ``canary`` as its stable name's target, loading the adapter at
    ``canary_adapter`` at start when given) and an HTTPRoute."""
    k8s = settings.deploy.kubernetes
    base = settings.training.base_model
    if canary_base is None:
        return [
            *pool(settings, k8s.pool_name, base, traffic_table(settings, stable, canary, canary_weight)),
            service_monitor(settings),
            inference_pool(settings),
            inference_model_rewrite(settings, stable, canary, canary_weight),
        ]
    return [
        *pool(settings, k8s.pool_name, base, traffic_table(settings, stable)),
        *pool(
            settings,
            canary_pool_name(settings),
            canary_base,
            traffic_table(settings, canary or BASE_NAME),
            (canary, canary_adapter) if canary and canary_adapter else None,
        ),
        service_monitor(settings),
        http_route(settings, canary_weight),
    ]


def to_yaml(objects: list[dict]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="llmops.serving.manifests", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("render", help="print the manifests as YAML")
    cmd.add_argument("--profile", help="settings profile (default: LLMOPS_PROFILE)")
    cmd.add_argument("--stable", default=BASE_NAME, help="the version the stable name serves (default: the base)")
    cmd.add_argument("--canary", help="the canary version")
    cmd.add_argument("--canary-weight", type=float, default=0.0, help="canary share of traffic, 0..1")
    cmd.add_argument("--canary-base", help="the canary's base model when it differs: a second pool and an HTTPRoute")
    cmd.add_argument("--canary-adapter", help="with --canary-base: the canary's adapter, on the model-cache volume")
    args = parser.parse_args(argv)
    try:
        objects = render(
            load_settings(args.profile),
            stable=args.stable,
            canary=args.canary,
            canary_weight=args.canary_weight,
            canary_base=args.canary_base,
            canary_adapter=args.canary_adapter,
        )
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(to_yaml(objects))


if __name__ == "__main__":
    main()
