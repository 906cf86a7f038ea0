"""In the kubernetes runtime every task is a pod; each pod it would create validates against the
official Kubernetes schema and carries the settings' image, resources, secrets and volumes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
        if type(task).__name__ == "MappedOperator":  # one of its pods: the first mapped command line
            task = task.unmap({"arguments": [*task.partial_kwargs["step"].arguments(), "--index", "0"]})
        if not hasattr(task, "build_pod_request_obj"):
            continue  # light tasks that run inside Airflow itself (short-circuit checks, mapping inputs)
        pod = ApiClient().sanitize_for_serialization(task.build_pod_request_obj(dry_run=True))
        try:
            kubernetes_validate.validate(pod, "1.33", strict=True)
            error = None
        except Exception as exc:
            error = str(exc)
        out[f"{dag.dag_id}.{task.task_id}"] = {"pod": pod, "error": error, "deferrable": task.deferrable,
                                               "logging_interval": task.logging_interval}
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
    assert "llmops_data.clean" in pods and "llmops_deploy.rollout" in pods
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
        # the triggerer watches the pod: no worker slot held through a rollout's windows or a training run
        assert rendered["deferrable"] is True and rendered["logging_interval"] == 60, name
    assert pods["llmops_data.ingest"]["pod"]["spec"]["containers"][0]["args"][:2] == ["-m", "spark_jobs.ingest"]


def test_training_pods_get_a_gpu_volumes_and_secrets(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", _RENDER, str(ROOT / "dags")],
        env=airflow_env(tmp_path, LLMOPS_PROFILE="kubernetes"), capture_output=True, text=True, timeout=300,
    )
    pods = json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("JSON:"))[5:])
    gpu_tasks = {"base_model", "prepare_sweep", "sweep_trial", "train_final", "register_candidate"}
    assert {f"llmops_train.{t}" for t in gpu_tasks} <= set(pods)
    for task in gpu_tasks:
        rendered = pods[f"llmops_train.{task}"]
        assert rendered["error"] is None, f"{task}: {rendered['error']}"
        spec = rendered["pod"]["spec"]
        container = spec["containers"][0]
        assert container["image"] == "ghcr.io/llmops-airflow/trainer:0.1.0"
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        claims = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in spec["volumes"]}
        assert claims["model-cache"] == "llmops-model-cache" and claims["checkpoints"] == "llmops-checkpoints"
        assert next(v for v in spec["volumes"] if v["name"] == "dshm")["emptyDir"]["medium"] == "Memory"
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts == {"dshm": "/dev/shm", "model-cache": "/models", "checkpoints": "/checkpoints"}
        env = {e["name"]: e for e in container["env"]}
        assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "llmops-hf-token", "key": "token"}
        assert "value" not in env["HF_TOKEN"]  # the token itself never appears in the spec
        assert env["HF_HOME"]["value"] == "/models/hf" and env["HF_HUB_OFFLINE"]["value"] == "1"
        assert env["LLMOPS__TRAINING__CHECKPOINT_ROOT"]["value"] == "file:///checkpoints"
        assert any(src.get("secretRef", {}).get("name") == "llmops-mlflow-credentials"
                   for src in container["envFrom"])
    trial = pods["llmops_train.sweep_trial"]["pod"]["spec"]["containers"][0]["args"]
    assert trial[:4] == ["-m", "llmops.training.sweep", "trial", "--lake-root"] and trial[-2:] == ["--index", "0"]
    assert "nvidia.com/gpu" not in pods["llmops_data.clean"]["pod"]["spec"]["containers"][0]["resources"]["limits"]


def test_a_deferred_pod_describes_its_outlets_when_it_ends(monkeypatch):
    """In deferrable mode the pod's end reaches trigger_reentry, not execute: the outlets are described there."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    from llmops import pods
    from llmops.pipelines import deploy_steps

    seen = []
    monkeypatch.setattr(KubernetesPodOperator, "trigger_reentry", lambda self, context, event: "pod ended")
    monkeypatch.setattr(pods, "describe_outlets", lambda context, outlets, arguments: seen.append(arguments))
    (step,) = deploy_steps("file:///lake", "2026-12-05")
    operator = pods.KubernetesStepOperator(task_id="rollout", step=step)
    assert operator.deferrable is True
    assert operator.trigger_reentry({}, {"status": "success"}) == "pod ended"
    assert seen == [step.arguments()]


def _ended_pod(exit_code: int):
    from kubernetes.client import models as k8s

    terminated = k8s.V1ContainerState(terminated=k8s.V1ContainerStateTerminated(exit_code=exit_code))
    status = k8s.V1ContainerStatus(name="base", state=terminated, image="i", image_id="i", ready=False,
                                   restart_count=0)  # fmt: skip
    return k8s.V1Pod(metadata=k8s.V1ObjectMeta(name="llmops-gate-bronze"),
                     status=k8s.V1PodStatus(phase="Failed", container_statuses=[status]))  # fmt: skip


def test_a_pod_that_exits_1_fails_without_retries_and_one_that_errors_is_retried(monkeypatch):
    """Exit 1 is a verdict on the input (a failed gate): retrying it only repeats it. Exit 2 (could not run) is
    the operator's plain failure, which Airflow retries. Only the pod API calls are stubbed; the decision is real."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from llmops import pods
    from llmops.pipelines import deploy_steps

    for io in ("is_istio_enabled", "patch_already_checked", "process_pod_deletion", "_read_pod_container_states",
               "_read_pod_events"):
        monkeypatch.setattr(KubernetesPodOperator, io, lambda self, *args, **kwargs: None)
    (step,) = deploy_steps("file:///lake", "2026-12-05")
    operator = pods.KubernetesStepOperator(task_id="rollout", step=step)
    with pytest.raises(AirflowFailException, match="not retried"):
        operator.cleanup(_ended_pod(1), _ended_pod(1))
    with pytest.raises(AirflowException, match="returned a failure") as error:
        operator.cleanup(_ended_pod(2), _ended_pod(2))
    assert type(error.value) is AirflowException
