"""Pods for the ``kubernetes`` runtime: the same command line a local step runs, in a pod.

Everything about the pod (image, resources, GPUs, node selection, secrets, volumes) comes from
settings.runtime, never from DAG files.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from kubernetes.client import models as k8s

from llmops.config import Settings, settings
from llmops.operators import ReportLink
from llmops.steps import Step


def pod_arguments(step: Step, cfg: Settings) -> dict[str, Any]:
    """KubernetesPodOperator arguments for ``step`` (tests render and schema-validate them)."""
    rt = cfg.runtime
    pod = rt.pods[step.pod]
    limits = {"cpu": pod.cpu, "memory": pod.memory}
    if pod.gpus:
        limits["nvidia.com/gpu"] = str(pod.gpus)
    volumes = [k8s.V1Volume(name="dshm", empty_dir=k8s.V1EmptyDirVolumeSource(medium="Memory", size_limit="8Gi"))]
    mounts = [k8s.V1VolumeMount(name="dshm", mount_path="/dev/shm")]
    return {
        "image": pod.image,
        "cmds": ["python"],
        "arguments": ["-m", step.module, *step.args],
        "namespace": rt.namespace,
        "service_account_name": rt.service_account,
        "env_vars": [k8s.V1EnvVar(name="LLMOPS_PROFILE", value=cfg.profile)]
        + [k8s.V1EnvVar(name=k, value=v) for k, v in step.env.items()],
        "secrets": [
            Secret("env", cfg.data.pseudonym_key_env, rt.pseudonym_secret, "key"),
            Secret("env", None, rt.lake_secret),  # all keys of the object-store credentials secret
        ],
        "container_resources": k8s.V1ResourceRequirements(requests=limits, limits=limits),
        "volumes": volumes,
        "volume_mounts": mounts,
        "node_selector": dict(rt.gpu_node_selector) if pod.gpus else None,
        "tolerations": [k8s.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")]
        if pod.gpus
        else None,
        "startup_timeout_seconds": rt.startup_timeout_s,
        "get_logs": True,
        "on_finish_action": "delete_pod",
        "labels": {"app.kubernetes.io/part-of": "llmops", "llmops/step": step.name},
    }


class KubernetesStepOperator(KubernetesPodOperator):
    """A step as a pod; the report link works as for the local operator."""

    template_fields = (*KubernetesPodOperator.template_fields, "report")
    operator_extra_links = (ReportLink(),)

    def __init__(self, *, step: Step, **kwargs: Any) -> None:
        super().__init__(**pod_arguments(step, settings()), **kwargs)
        self.step = step
        self.report = step.report
