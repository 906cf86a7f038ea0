"""Pods for the ``kubernetes`` runtime: the same command line a local step runs, in a pod.

Everything about the pod (image, resources, GPUs, node selection, secrets, volumes) comes from
settings.runtime, never from DAG files.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from kubernetes.client import models as k8s

from llmops.asset_events import describe_outlets
from llmops.config import Settings, settings
from llmops.reports import ReportLink
from llmops.steps import EXIT_FAILED, NOT_RETRIED, Step


def _model_cache(cfg: Settings) -> tuple[k8s.V1Volume, k8s.V1VolumeMount]:
    """The model-cache volume, read-write (the vLLM pool's pods mount it read-only)."""
    rt = cfg.runtime
    claim = k8s.V1PersistentVolumeClaimVolumeSource(claim_name=rt.model_cache_pvc)
    return (k8s.V1Volume(name="model-cache", persistent_volume_claim=claim),
            k8s.V1VolumeMount(name="model-cache", mount_path=rt.model_cache_mount))  # fmt: skip


def _gpu_extras(cfg: Settings) -> dict[str, list]:
    """What a GPU step adds: the model cache and checkpoint volumes, the hub token, the cache's location."""
    rt = cfg.runtime
    cache, ckpt = rt.model_cache_mount, rt.checkpoint_mount
    cache_volume, cache_mount = _model_cache(cfg)
    return {
        "volumes": [
            cache_volume,
            k8s.V1Volume(name="checkpoints", persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
                claim_name=rt.checkpoint_pvc)),
        ],
        "mounts": [cache_mount, k8s.V1VolumeMount(name="checkpoints", mount_path=ckpt)],
        "env": [k8s.V1EnvVar(name="HF_HOME", value=f"{cache}/hf"),
                k8s.V1EnvVar(name="HF_HUB_OFFLINE", value="1"),  # the cache is filled ahead; never fetch mid-run
                k8s.V1EnvVar(name="LLMOPS__TRAINING__CHECKPOINT_ROOT", value=f"file://{ckpt}")],
        "secrets": [Secret("env", "HF_TOKEN", rt.hf_token_secret, "token")],
    }


def pod_arguments(step: Step, cfg: Settings) -> dict[str, Any]:
    """KubernetesPodOperator arguments for ``step`` (tests render and schema-validate them)."""
    rt = cfg.runtime
    pod = rt.pods[step.pod]
    limits = {"cpu": pod.cpu, "memory": pod.memory}
    gpu = _gpu_extras(cfg) if pod.gpus else {"volumes": [], "mounts": [], "env": [], "secrets": []}
    if pod.model_cache and not pod.gpus:  # the deploy step copies adapters there for the vLLM pool
        gpu["volumes"], gpu["mounts"] = ([part] for part in _model_cache(cfg))
    if pod.gpus:
        limits["nvidia.com/gpu"] = str(pod.gpus)
    volumes = [k8s.V1Volume(name="dshm", empty_dir=k8s.V1EmptyDirVolumeSource(medium="Memory",
                                                                           size_limit=rt.shm_size))]
    mounts = [k8s.V1VolumeMount(name="dshm", mount_path="/dev/shm")]
    return {
        "image": pod.image,
        "cmds": ["python"],
        "arguments": step.arguments(),
        "namespace": rt.namespace,
        "service_account_name": rt.service_account,
        "env_vars": [k8s.V1EnvVar(name="LLMOPS_PROFILE", value=cfg.profile)]
        + [k8s.V1EnvVar(name=k, value=v) for k, v in step.env.items()] + gpu["env"],
        "secrets": [
            Secret("env", cfg.data.pseudonym_key_env, rt.pseudonym_secret, "key"),
            Secret("env", None, rt.lake_secret),  # all keys of the object-store credentials secret
            Secret("env", None, rt.mlflow_secret),  # tracking server credentials
            *gpu["secrets"],
        ],
        "container_resources": k8s.V1ResourceRequirements(requests=limits, limits=limits),
        "volumes": volumes + gpu["volumes"],
        "volume_mounts": mounts + gpu["mounts"],
        "node_selector": dict(rt.gpu_node_selector) if pod.gpus else None,
        "tolerations": [k8s.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")]
        if pod.gpus
        else None,
        "startup_timeout_seconds": rt.startup_timeout_s,
        "get_logs": True,
        "deferrable": rt.deferrable_pods,
        "logging_interval": rt.log_interval_s if rt.deferrable_pods else None,
        "on_finish_action": "delete_pod",
        "labels": {"app.kubernetes.io/part-of": "llmops", "llmops/step": step.name},
    }


class KubernetesStepOperator(KubernetesPodOperator):
    """A step as a pod; the report link works as for the local operator."""

    template_fields = (*KubernetesPodOperator.template_fields, "report")
    operator_extra_links = (ReportLink(),)

    def __init__(self, *, step: Step, **kwargs: Any) -> None:
        super().__init__(**{**pod_arguments(step, settings()), **kwargs})  # a mapped task brings its arguments
        self.step = step
        self.report = step.report

    def execute(self, context: Any) -> Any:
        result = super().execute(context)  # deferrable: defers here, and the pod's end comes to trigger_reentry
        describe_outlets(context, self.outlets, list(self.arguments))
        return result

    def trigger_reentry(self, context: Any, event: dict[str, Any]) -> Any:
        result = super().trigger_reentry(context, event)  # a pod still running defers again (logging_interval)
        describe_outlets(context, self.outlets, list(self.arguments))
        return result

    def cleanup(self, pod: k8s.V1Pod, remote_pod: k8s.V1Pod, *args: Any, **kwargs: Any) -> None:
        """As the local operator: a step that exited 1 (it ran and found a problem) fails without retries."""
        try:
            super().cleanup(pod, remote_pod, *args, **kwargs)
        except AirflowException as exc:
            if type(exc) is AirflowException and exit_code(remote_pod, self.base_container_name) == EXIT_FAILED:
                raise AirflowFailException(f"{exc} ({NOT_RETRIED})") from exc
            raise


def exit_code(pod: k8s.V1Pod | None, container: str) -> int | None:
    """The named container's exit code once it has terminated, else None."""
    statuses = (pod.status.container_statuses if pod is not None and pod.status else None) or []
    status = next((s for s in statuses if s.name == container), None)
    terminated = status.state.terminated if status is not None and status.state else None
    return terminated.exit_code if terminated is not None else None
