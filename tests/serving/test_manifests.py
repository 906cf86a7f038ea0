"""The kubernetes serving manifests: every object validates against its official schema (Kubernetes 1.33 for core
objects, the vendored upstream CRDs for the rest), the command lines are the ones the local runtime builds, and
the checked-in containers/vllm/deployment.yaml is the renderer's output."""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from llmops.config import load_settings
from llmops.serving import gateway, manifests
from llmops.serving.traffic import assign, read_table
from llmops.serving.vllm import VLLM_ENV, vllm_args

ROOT = Path(__file__).resolve().parents[2]
VLLM_DIR = ROOT / "containers" / "vllm"
SCHEMAS = ROOT / "third_party" / "schemas"
CRD_FILES = {
    "HTTPRoute": "gateway-api-v1.6.1/httproutes.yaml",
    "InferencePool": "gateway-api-inference-extension/inferencepools-v1.6.0.yaml",
    "InferenceModelRewrite": "gateway-api-inference-extension/inferencemodelrewrites-v1alpha2-v1.4.0-rc.3.yaml",
    "ServiceMonitor": "prometheus-operator-v0.93.0/servicemonitors.yaml",
    "PrometheusRule": "prometheus-operator-v0.93.0/prometheusrules.yaml",  # llmops.monitoring.manifests
}
CORE_KINDS = {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"}


def _strict(schema: dict) -> dict:
    """Unknown fields are errors, as under the API server's strict field validation (without it they would be
    pruned silently): every object schema that lists its properties gets additionalProperties: false."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    schema["properties"]["metadata"] = {"type": "object"}  # the API server checks ObjectMeta itself
    return schema


def _crd_validator(obj: dict) -> jsonschema.Validator:
    crd = yaml.safe_load((SCHEMAS / CRD_FILES[obj["kind"]]).read_text())
    group, version = obj["apiVersion"].split("/")
    assert crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == obj["kind"]
    served = {v["name"]: v for v in crd["spec"]["versions"] if v.get("served")}
    assert version in served, f"{obj['kind']} {version} is not served by the vendored CRD ({sorted(served)})"
    return jsonschema.Draft7Validator(_strict(served[version]["schema"]["openAPIV3Schema"]))


def validate(obj: dict) -> None:
    if obj["kind"] in CORE_KINDS:
        kubernetes_validate.validate(obj, "1.33", strict=True)
    else:
        _crd_validator(obj).validate(obj)


@pytest.fixture(scope="module")
def settings():
    return load_settings("kubernetes", environ={})


RENDERINGS = {
    "base only": {},
    "adapter canary": {"stable": "support-assistant-v7", "canary": "support-assistant-v8", "canary_weight": 0.05},
    "canary at 100 %": {"stable": "support-assistant-v7", "canary": "support-assistant-v8", "canary_weight": 1.0},
    "base change": {
        "stable": "support-assistant-v7",
        "canary": "support-assistant-v8",
        "canary_weight": 0.25,
        "canary_base": "/models/base/support-assistant-8b-v2",
    },
}


@pytest.mark.parametrize("case", RENDERINGS)
def test_every_object_validates_against_its_official_schema(settings, case):
    objects = manifests.render(settings, **RENDERINGS[case])
    for obj in objects:
        validate(obj)
    kinds = sorted(o["kind"] for o in objects)
    if "canary_base" in RENDERINGS[case]:
        assert kinds.count("Deployment") == 2 and "HTTPRoute" in kinds
    else:
        assert set(kinds) == CORE_KINDS | {"ServiceMonitor", "InferencePool", "InferenceModelRewrite"}


def test_the_crd_check_can_fail(settings):
    """The strict CRD check refuses a misspelt field and an out-of-range weight (so the passes above mean something)."""
    by_kind = {o["kind"]: o for o in manifests.render(settings, **RENDERINGS["base change"])}
    route = copy.deepcopy(by_kind["HTTPRoute"])
    route["spec"]["rules"][0]["backendRefs"][0]["weigth"] = 1
    with pytest.raises(jsonschema.ValidationError, match="weigth"):
        validate(route)
    rewrite = manifests.inference_model_rewrite(settings, "v1", "v2", 0.5)
    rewrite["spec"]["rules"][0]["targets"][0]["weight"] = 0
    with pytest.raises(jsonschema.ValidationError, match="minimum"):
        validate(rewrite)


def test_weights_in_the_rewrite_and_the_route(settings):
    rewrite = manifests.inference_model_rewrite(settings, "support-assistant-v7", "support-assistant-v8", 0.05)
    rule = rewrite["spec"]["rules"][0]
    assert rule["matches"] == [{"model": {"type": "Exact", "value": "support-assistant"}}]
    assert rule["targets"] == [
        {"modelRewrite": "support-assistant-v7", "weight": 950},
        {"modelRewrite": "support-assistant-v8", "weight": 50},
    ]
    # a variant at 0 is left out: the CRD's weights are >= 1
    assert [
        t["modelRewrite"]
        for t in manifests.inference_model_rewrite(settings, "a", "b", 1.0)["spec"]["rules"][0]["targets"]
    ] == ["b"]
    assert manifests.inference_model_rewrite(settings, "a", None, 0.0)["spec"]["rules"][0]["targets"] == [
        {"modelRewrite": "a", "weight": 1000}
    ]
    refs = manifests.http_route(settings, 0.25)["spec"]["rules"][0]["backendRefs"]
    assert [(r["name"], r["weight"], r["port"]) for r in refs] == [
        ("llmops-vllm", 750, settings.deploy.gateway_port),
        ("llmops-vllm-canary", 250, settings.deploy.gateway_port),
    ]


def test_command_lines_are_the_runtime_builders(settings, monkeypatch):
    deploy, serving = settings.deploy, settings.serving
    pod = next(o for o in manifests.render(settings) if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}

    vllm = containers["vllm"]["command"]
    assert vllm == vllm_args(
        settings.training.base_model,
        max_model_len=serving.vllm_max_model_len,
        max_tokens=serving.max_tokens,
        lora_rank=32,
        port=8000,
        max_num_seqs=serving.max_in_flight,
        max_loras=2,
    )
    assert "--enable-lora" in vllm and "--lora-modules" not in vllm  # versions are loaded at run time by name
    assert int(vllm[vllm.index("--max-loras") + 1]) >= 2
    assert vllm[vllm.index("--max-lora-rank") + 1] == "32"  # the sweep's largest rank
    assert VLLM_ENV.items() <= {e["name"]: e["value"] for e in containers["vllm"]["env"]}.items()
    assert "ports" not in containers["vllm"]  # only the gateway is reachable

    command = containers["gateway"]["command"]
    assert command[:3] == ["python3", "-m", "llmops.serving.gateway"]
    # the gateway's own parser takes the line and builds its app from the traffic file
    seen = {}
    monkeypatch.setattr(gateway, "build_app", lambda *a, **kw: seen.update(backend=a[0], **kw))
    monkeypatch.setattr(gateway.uvicorn, "run", lambda app, host, port, **kw: seen.update(host=host, port=port))
    gateway.main(command[3:])
    assert seen["traffic_file"] == Path(deploy.traffic_file) and seen["admin_token"] is None
    assert (seen["host"], seen["port"], seen["max_in_flight"]) == ("0.0.0.0", 8080, serving.max_in_flight)
    backend = ("http://127.0.0.1:8000", deploy.stable_name, "base")
    assert (seen["backend"], seen["model"], seen["backend_model"]) == backend
    limits = ("max_tokens", "max_prompt_chars", "request_timeout_s", "max_queued")
    assert {k: seen[k] for k in limits} == {k: getattr(serving, k) for k in limits}
    (log,) = seen["on_request_done"]  # the sidecar logs inference into the lake
    assert log.lake_root == settings.paths.lake_root
    log.close()


def test_the_gateway_reads_the_mounted_config_map(settings, tmp_path):
    objects = manifests.render(settings, **RENDERINGS["adapter canary"])
    config_map = next(o for o in objects if o["kind"] == "ConfigMap")
    pod = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    gateway_container = next(c for c in pod["containers"] if c["name"] == "gateway")
    mount = next(m for m in gateway_container["volumeMounts"] if m["name"] == "traffic")
    volume = next(v for v in pod["volumes"] if v["name"] == "traffic")
    assert volume["configMap"]["name"] == config_map["metadata"]["name"] and mount["readOnly"]
    ((filename, content),) = config_map["data"].items()
    assert f"{mount['mountPath']}/{filename}" == settings.deploy.traffic_file
    (tmp_path / filename).write_text(content)
    table, _ = read_table(tmp_path / filename)
    picks = {assign(table, "support-assistant", f"user-{i}").target.model for i in range(400)}
    assert picks == {"support-assistant-v7", "support-assistant-v8"}
    assert assign(table, "support-assistant-v8", "x").target.model == "support-assistant-v8"  # picker-rewritten


def test_service_monitor_scrapes_the_gateway(settings):
    objects = manifests.render(settings)
    monitor = next(o for o in objects if o["kind"] == "ServiceMonitor")
    svc = next(o for o in objects if o["kind"] == "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    port = next(p for p in svc["spec"]["ports"] if p["name"] == monitor["spec"]["endpoints"][0]["port"])
    assert port["port"] == settings.deploy.gateway_port
    pool = next(o for o in objects if o["kind"] == "InferencePool")
    assert pool["spec"]["targetPorts"] == [{"number": settings.deploy.gateway_port}]


def test_a_relative_traffic_file_is_refused():
    settings = load_settings("kubernetes", environ={"LLMOPS__DEPLOY__TRAFFIC_FILE": "traffic.json"})
    with pytest.raises(ValueError, match="absolute path"):
        manifests.render(settings)


def test_checked_in_manifests_are_the_rendered_ones(settings):
    """containers/vllm/deployment.yaml is `python -m llmops.serving.manifests render` for the kubernetes profile."""
    checked_in = (VLLM_DIR / "deployment.yaml").read_text()
    rendered = manifests.to_yaml(manifests.render(settings))
    assert checked_in.split("\n", 2)[2] == rendered, "regenerate it: see its first line"
    runtime = settings.runtime
    pod = next(d for d in yaml.safe_load_all(checked_in) if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [runtime.model_cache_pvc]
    dockerfile = (VLLM_DIR / "Dockerfile").read_text()
    base_image = next(line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM "))
    assert base_image.startswith("vllm/vllm-openai:v") and base_image[-1].isdigit()  # a pinned release
    assert "ENV PYTHONPATH=/opt/llmops" in dockerfile
