"""In the kubernetes runtime every task is a pod; each pod it would create validates against the
official Kubernetes schema and carries the settings' image, resources, secrets and volumes."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.airflow_env import ROOT, airflow_env

_RENDER = r"""
import json, sys
import kubernetes_validate
from kubernetes.client import ApiClient
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
out = {}
for dag in bag.dags.values():
    for task in dag.tasks:
        pod = ApiClient().sanitize_for_serialization(task.build_pod_request_obj(dry_run=True))
        try:
            kubernetes_validate.validate(pod, "1.33", strict=True)
            error = None
        except Exception as exc:
            error = str(exc)
        out[f"{dag.dag_id}.{task.task_id}"] = {"pod": pod, "error": error}
print("JSON:" + json.dumps(out))
"""


def test_every_pod_validates_and_uses_settings(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", _RENDER, str(ROOT / "dags")],
        env=airflow_env(tmp_path, LLMOPS_PROFILE="kubernetes"), capture_output=True, text=True, timeout=300,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("JSON:")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-3000:]
    pods = json.loads(line[5:])
    assert "llmops_data.clean" in pods
    for name, rendered in pods.items():
        assert rendered["error"] is None, f"{name}: {rendered['error']}"
        spec = rendered["pod"]["spec"]
        container = spec["containers"][0]
        assert container["image"].startswith("ghcr.io/llmops-airflow/"), name
        assert container["resources"]["limits"]["memory"], name
        assert container["command"] == ["python"] and container["args"][0] == "-m", name
        env = {e["name"]: e for e in container.get("env", [])}
        assert env["LLMOPS_PROFILE"]["value"] == "kubernetes"
        assert env["LLMOPS_PSEUDONYM_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "llmops-pseudonym-key"
        assert any(src.get("secretRef", {}).get("name") == "llmops-lake-credentials"
                   for src in container.get("envFrom", []))
        assert {"name": "dshm", "mountPath": "/dev/shm"} in container["volumeMounts"]
        assert spec["serviceAccountName"] == "llmops-runner"
    assert pods["llmops_data.ingest"]["pod"]["spec"]["containers"][0]["args"][:2] == ["-m", "spark_jobs.ingest"]
