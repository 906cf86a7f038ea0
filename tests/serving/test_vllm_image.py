"""containers/vllm/Dockerfile: the gateway sidecar, and its inference log, run from what the image holds."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import yaml

from llmops.config import load_settings
from llmops.serving import manifests

ROOT = Path(__file__).resolve().parents[2]
VLLM_DIR = ROOT / "containers" / "vllm"
PACKAGE = ROOT / "plugins" / "llmops"
# what the gateway's own modules may import beyond the standard library: all of it ships with vLLM's image
VLLM_SHIPS = {"fastapi", "httpx", "uvicorn", "pydantic", "anyio", "prometheus_client", "yaml", "numpy"}
ENTRY_POINTS = ("llmops.serving.gateway", "llmops.monitoring.inference_log")


def _imports(module: str) -> tuple[set[str], set[str]]:
    """The project modules ``module`` imports (including its packages' ``__init__``) and its third-party imports."""
    path = Path(importlib.util.find_spec(module).origin)
    own, third_party = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])  # fmt: skip
        for name in names:
            top = name.split(".")[0]
            if top == "llmops":
                parts = name.split(".")
                own.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
            elif top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return {m for m in own if importlib.util.find_spec(m) is not None}, third_party


def _closure() -> tuple[set[str], set[str]]:
    seen, third_party, todo = set(), set(), list(ENTRY_POINTS)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        own, outside = _imports(module)
        third_party |= outside
        todo.extend(own - seen)
    return seen, third_party


def _pinned(requirement_lines: list[str]) -> dict[str, str]:
    return dict(line.strip().lower().split("==", 1) for line in requirement_lines if "==" in line)


def test_the_image_installs_what_the_gateway_and_its_inference_log_import_pinned_as_in_constraints():
    dockerfile = (VLLM_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    installs = [w for line in dockerfile.splitlines() if line.startswith("RUN pip install")
                for w in line.split()[3:] if not w.startswith("-")]  # fmt: skip
    pins = _pinned(installs)
    modules, third_party = _closure()
    assert "llmops.masking.pii" in modules  # the log masks before writing: the closure reaches the masking
    missing = third_party - VLLM_SHIPS - set(pins)
    assert not missing, f"imported by the gateway or its inference log, not in the vLLM image: {missing}"
    constraints = _pinned((ROOT / "constraints.txt").read_text().splitlines())
    assert {name: constraints.get(name) for name in pins} == pins, "pin them as constraints.txt does"


def test_the_image_holds_the_project_package_where_pythonpath_points():
    dockerfile = (VLLM_DIR / "Dockerfile").read_text()
    assert "ENV PYTHONPATH=/opt/llmops" in dockerfile
    assert "COPY plugins/llmops /opt/llmops/llmops" in dockerfile.splitlines()
    # the package's data files travel with it: the settings profiles the gateway's inference log loads
    assert (PACKAGE / "profiles" / "kubernetes.yaml").is_file()


def test_the_kubernetes_gateway_logs_inference_to_the_lake_with_its_credentials():
    objects = list(yaml.safe_load_all((VLLM_DIR / "deployment.yaml").read_text()))
    pod = next(d for d in objects if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    gateway = next(c for c in pod["containers"] if c["name"] == "gateway")
    command, settings = gateway["command"], load_settings("kubernetes", environ={})
    assert command[command.index("--inference-log") + 1] == settings.paths.lake_root
    assert {"name": "LLMOPS_PROFILE", "value": "kubernetes"} in gateway["env"]
    assert gateway["envFrom"] == [{"secretRef": {"name": settings.runtime.lake_secret, "optional": True}}]


def test_the_inference_log_can_be_turned_off():
    settings = load_settings("kubernetes", environ={"LLMOPS__DEPLOY__KUBERNETES__INFERENCE_LOG": "false"})
    pod = next(d for d in manifests.render(settings) if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    gateway = next(c for c in pod["containers"] if c["name"] == "gateway")
    assert "--inference-log" not in gateway["command"] and "envFrom" not in gateway
