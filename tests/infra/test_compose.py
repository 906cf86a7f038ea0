"""docker-compose.yaml against the Compose Specification's JSON Schema (no Docker engine runs here), and against
this repository: every image it builds has its Dockerfile, every file it mounts exists, secrets stay out of git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "third_party" / "schemas" / "compose-spec" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_compose_file_is_valid_against_the_compose_spec(compose):
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(compose)


def test_the_schema_rejects_a_broken_service(compose):
    broken = {**compose, "services": {**compose["services"], "redis": {**compose["services"]["redis"],
                                                                       "ports": "6379"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(broken)


def test_every_built_image_has_its_dockerfile(compose):
    builds = {name: s["build"] for name, s in compose["services"].items() if "build" in s}
    assert builds, "the compose file builds the project's images"
    for name, build in builds.items():
        context = ROOT / build["context"]
        assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name


def test_every_bind_mounted_file_exists(compose):
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_secret_files_are_never_committed(compose):
    for name, secret in compose.get("secrets", {}).items():
        path = secret["file"]
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0
        assert ignored, f"secret {name} ({path}) must be git-ignored"


def test_every_service_port_binds_loopback(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_services_the_profiles_need_are_defined(compose):
    assert {"postgres", "redis", "mlflow", "airflow-init", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer", "prometheus", "alertmanager", "spark-master",
            "spark-worker"} <= set(compose["services"])
