"""Typed, validated configuration with profiles.

One place decides every setting: ``profiles/<name>.yaml`` (``local`` by default, picked with
``LLMOPS_PROFILE``) layered over the defaults below, then ``LLMOPS__SECTION__KEY=value``
environment overrides (values parsed as YAML). Each layer changes only what it names: sections and keyed
sections (metric thresholds, pods) merge field by field (see :func:`_layer`). A bad value stops
start-up with one line that names the setting (or the variable), the value and what was expected.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path, PurePosixPath
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROFILES_DIR = Path(__file__).with_name("profiles")
ENV_PREFIX = "LLMOPS__"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message says which and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SUPPORTED_SCHEMES = ("file", "s3a", "s3", "gs", "abfss", "hdfs")


def check_uri(value: str) -> str:
    """A lake or landing URI with a scheme the lake supports (checked here, before Spark sees it)."""
    if "://" not in value:
        raise ValueError(f"expected a URI such as file:///abs/path or s3a://bucket/prefix, got {value!r}")
    scheme = value.split("://", 1)[0]
    if scheme not in SUPPORTED_SCHEMES:
        raise ValueError(f"unsupported URI scheme {scheme!r} in {value!r}; supported: {', '.join(SUPPORTED_SCHEMES)}")
    return value.rstrip("/")


class PathsSettings(_Section):
    raw_root: str = f"file://{PROJECT_ROOT}/.lake/raw"
    lake_root: str = f"file://{PROJECT_ROOT}/.lake/lake"
    # Spark scratch and temp files: a killed JVM leaves blockmgr-* litter, keep it in a project folder.
    scratch_dir: str = str(PROJECT_ROOT / ".scratch")

    _uris = field_validator("raw_root", "lake_root")(classmethod(lambda cls, v: check_uri(v)))


class ObjectStoreSettings(_Section):
    """The S3 client of every step outside Spark (llmops.lakefs) for s3:// and s3a:// lake URIs.

    Credentials are never settings: the AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; pods get
    them from runtime.lake_secret) or the pod's role. Spark's own s3a client takes spark.conf (fs.s3a.*).
    """

    endpoint_url: str = ""  # an S3-compatible endpoint (MinIO, Ceph, ...), e.g. http://minio:9000; empty = AWS
    region: str = "us-east-1"
    # an unreachable store fails the step within seconds, it never hangs in retries
    connect_timeout_s: float = Field(5.0, gt=0)
    request_timeout_s: float = Field(30.0, gt=0)
    max_attempts: int = Field(3, ge=1)

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {v!r}")
        return v.rstrip("/")


class SparkSettings(_Section):
    # local[*] in-process by default; spark://host:7077 with submit: true goes through spark-submit to a cluster
    master: str = "local[*]"
    submit: bool = False
    event_log_dir: str = ""  # where drivers write event logs for the Spark history server; empty = none
    driver_memory: str = "4g"
    shuffle_partitions: int = Field(4, ge=1)
    arrow_batch_size: int = Field(20_000, ge=1_000)
    conf: dict[str, str] = {}


class DataSettings(_Section):
    languages: list[str] = ["en"]  # ISO 639-1 codes silver keeps; each must be one the identifier knows
    # language filter (llmops.screening.langid): a detection counts from this confidence and letter count
    # on; below, the declared `lang` decides, else the record is "unknown", which silver keeps unless told not to
    language_min_confidence: float = Field(0.5, gt=0, le=1)
    language_min_letters: int = Field(8, ge=1)
    keep_unknown_language: bool = True
    # the silver gate fails when the language filter removes more than this share of a source's records
    max_language_drop_share: float = Field(0.2, ge=0, le=1)
    max_quarantine_rate: float = Field(0.10, ge=0, le=1)
    # a new partition's row count must lie within [low, high] x the previous partition's
    row_count_ratio: tuple[float, float] = (0.2, 5.0)
    near_dup_threshold: float = Field(0.8, gt=0, le=1)
    minhash_permutations: int = Field(64, ge=8)
    minhash_bands: int = Field(16, ge=1)
    shingle_words: int = Field(3, ge=1)
    min_answer_chars: int = Field(20, ge=1)
    max_answer_chars: int = Field(4000, ge=1)
    min_question_chars: int = Field(10, ge=1)
    max_question_chars: int = Field(2000, ge=1)
    # sanity bound on any cleaned free-text value in silver (catches un-stripped HTML, concatenation bugs);
    # ingest applies it to each raw free-text field: a longer one is quarantined (too_long) or truncated
    max_text_chars: int = Field(20_000, ge=1)
    oversized_text: Literal["quarantine", "truncate"] = "quarantine"
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    # name of the environment variable that holds the pseudonymisation key (never the key itself)
    pseudonym_key_env: str = "LLMOPS_PSEUDONYM_KEY"
    # the silver/gold gates' independent personal-data scan (Presidio, expectations.pii_scan): texts scanned per
    # column at most (a seeded sample beyond), phone regions, and the lowest Presidio score that counts (0.5: a
    # phone needs a phone word next to it; without one Presidio flags order ids such as ORD-COS-0212838 at 0.4)
    pii_scan_max_rows: int = Field(2000, ge=1)
    pii_scan_phone_regions: list[str] = ["US", "GB", "CA", "DE", "FR", "ES", "IT", "NL", "CH", "IN", "BR", "AU"]
    pii_scan_min_score: float = Field(0.5, gt=0, le=1)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        from lingua import IsoCode639_1  # noqa: PLC0415 - the identifier the clean job uses (imports in ~1 ms)

        def supported(code: str) -> bool:
            try:
                return IsoCode639_1.from_str(code) is not None
            except ValueError:
                return False

        codes = [code.strip().lower() for code in value]
        unknown = [code for code in codes if not supported(code)]
        if unknown or not codes:
            raise ValueError(
                f"languages must be ISO 639-1 codes the language identifier (lingua) supports, got {unknown or codes}"
            )
        return codes

    @model_validator(mode="after")
    def _check(self) -> DataSettings:
        if self.minhash_permutations % self.minhash_bands:
            raise ValueError(
                f"minhash_permutations ({self.minhash_permutations}) must be a multiple of "
                f"minhash_bands ({self.minhash_bands})"
            )
        if abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(f"split_fractions must add up to 1, got {self.split_fractions}")
        low, high = self.row_count_ratio
        if not 0 < low <= 1 <= high:
            raise ValueError(f"row_count_ratio must satisfy 0 < low <= 1 <= high, got {self.row_count_ratio}")
        for field in ("answer", "question"):  # an empty range would drop every example
            shortest, longest = getattr(self, f"min_{field}_chars"), getattr(self, f"max_{field}_chars")
            if shortest > longest:
                raise ValueError(f"min_{field}_chars ({shortest}) must not exceed max_{field}_chars ({longest})")
        return self


class FeastSettings(_Section):
    project: str = "llmops"
    online_store: Literal["sqlite", "redis"] = "sqlite"
    redis_connection: str = "127.0.0.1:6379"


class PodSettings(_Section):
    image: str
    cpu: str = "2"
    memory: str = "8Gi"
    gpus: int = Field(0, ge=0)
    # mount the model-cache volume read-write without a GPU (GPU pods always mount it): the deploy step copies
    # adapters onto it for the vLLM pool's pods (llmops.serving.backends.adapter_volume)
    model_cache: bool = False


class RuntimeSettings(_Section):
    kind: Literal["local", "kubernetes"] = "local"
    namespace: str = "llmops"
    service_account: str = "llmops-runner"
    # GPU pods wait for node scale-up: at least 10 minutes
    startup_timeout_s: int = Field(900, ge=600)
    gpu_node_selector: dict[str, str] = {"nvidia.com/gpu.present": "true"}
    lake_secret: str = "llmops-lake-credentials"
    pseudonym_secret: str = "llmops-pseudonym-key"
    hf_token_secret: str = "llmops-hf-token"  # key `token`, exposed to GPU pods as HF_TOKEN
    mlflow_secret: str = "llmops-mlflow-credentials"  # all keys as env (MLFLOW_TRACKING_USERNAME, ...)
    # GPU pods mount a pre-filled Hugging Face cache and a checkpoint volume (PVC names)
    model_cache_pvc: str = "llmops-model-cache"
    model_cache_mount: str = "/models"
    checkpoint_pvc: str = "llmops-checkpoints"
    checkpoint_mount: str = "/checkpoints"
    shm_size: str = "8Gi"
    # KubernetesPodOperator's deferrable mode: the triggerer watches a running pod and no worker slot is held
    # (a rollout's analysis windows, a training run); its log is fetched every log_interval_s meanwhile
    deferrable_pods: bool = True
    # the local runtime's counterpart for the steps marked deferrable (the rollout): the step runs detached and
    # the triggerer watches it; the task adds its output to the log every log_interval_s
    deferrable_local_steps: bool = True
    log_interval_s: int = Field(60, ge=10)
    pods: dict[str, PodSettings] = {
        "spark": PodSettings(image="ghcr.io/llmops-airflow/spark:0.1.0", cpu="2", memory="8Gi"),
        "trainer": PodSettings(image="ghcr.io/llmops-airflow/trainer:0.1.0", cpu="8", memory="64Gi", gpus=1),
        "evaluator": PodSettings(image="ghcr.io/llmops-airflow/evaluator:0.1.0", cpu="4", memory="32Gi", gpus=1),
        "deploy": PodSettings(image="ghcr.io/llmops-airflow/evaluator:0.1.0", cpu="2", memory="8Gi",
                              model_cache=True),
    }


class TrackingSettings(_Section):
    """MLflow: tracking server (or a local SQLite file) and the model registry."""

    uri: str = f"sqlite:///{PROJECT_ROOT}/.lake/mlflow/mlflow.db"
    artifact_root: str = f"file://{PROJECT_ROOT}/.lake/mlflow/artifacts"
    experiment: str = "llmops"
    registered_model: str = "support-assistant"
    # A SQLite file that does not exist is refused (a mistyped path would start an empty registry), unless
    # this is set: then steps that track runs create it (the local profile, on first use). Readers never do.
    create_sqlite: bool = False
    # MLflow's HTTP client (as its MLFLOW_HTTP_REQUEST_* variables, unless set): an unreachable server is an error
    # within seconds, not after minutes of retries
    http_max_retries: int = Field(2, ge=0)
    http_backoff_factor: int = Field(1, ge=0)  # seconds, doubled per retry (MLflow takes whole seconds)
    http_timeout_s: int = Field(30, ge=1)


class BuiltinModelSettings(_Section):
    """The embedded default's own base model: a small Llama pretrained briefly on silver text."""

    hidden_size: int = Field(256, ge=16)
    intermediate_size: int = Field(1024, ge=16)
    layers: int = Field(4, ge=1)
    heads: int = Field(4, ge=1)
    max_positions: int = Field(512, ge=32)
    pretrain_steps: int = Field(150, ge=1)
    batch_size: int = Field(8, ge=1)
    seq_len: int = Field(128, ge=16)
    learning_rate: float = Field(3e-3, gt=0)
    seed: int = 0
    # the built base stays pinned across days (one base for adapter canaries); true builds a new one each run
    rebuild: bool = False


class SearchSpace(_Section):
    """HyperOpt search space; bounds are inclusive."""

    learning_rate: tuple[float, float] = (1e-5, 1e-3)  # log-uniform
    lora_rank: list[int] = [8, 16, 32]
    lora_alpha: list[int] = [16, 32, 64]
    lora_dropout: tuple[float, float] = (0.0, 0.2)  # uniform
    epochs: list[int] = [1, 2, 3]

    @model_validator(mode="after")
    def _check(self) -> SearchSpace:
        low, high = self.learning_rate
        if not 0 < low < high:
            raise ValueError(f"learning_rate bounds must satisfy 0 < low < high, got {self.learning_rate}")
        if not 0 <= self.lora_dropout[0] <= self.lora_dropout[1] < 1:
            raise ValueError(f"lora_dropout bounds must satisfy 0 <= low <= high < 1, got {self.lora_dropout}")
        if not (self.lora_rank and self.lora_alpha and self.epochs):
            raise ValueError("lora_rank, lora_alpha and epochs need at least one choice each")
        return self


class SweepSettings(_Section):
    max_trials: int = Field(6, ge=1)
    parallel_trials: int = Field(1, ge=1)  # bounded concurrency of trial tasks/processes
    trial_steps: int = Field(40, ge=1)  # budget: optimizer steps per trial at most
    eval_every: int = Field(5, ge=1)  # a trial reports validation loss every this many steps
    seed: int = 7
    # Katib's medianstop: stop a trial whose best loss by step s is worse than the median of the completed
    # trials' running averages up to s, once min_trials have completed and it has reported start_step times
    median_stop: bool = True
    median_stop_min_trials: int = Field(3, ge=1)
    median_stop_start_step: int = Field(4, ge=1)
    space: SearchSpace = SearchSpace()


class ExampleSelectionSettings(_Section):
    """Which gold examples a run trains on, by their Feast features (llmops.training.sft_data.select_examples)."""

    exclude_injection: bool = True  # drop examples whose composed text trips an injection rule
    min_quality_score: float = Field(0.4, ge=0, le=1)  # llmops.example_features.quality
    languages: list[str] = []  # ISO 639-1 codes to keep; empty = any
    sources: list[str] = []  # gold sources to keep; empty = any


class TrainingSettings(_Section):
    # a Hugging Face id or a path; "builtin" builds the project's own small Llama (see `builtin`)
    base_model: str = "builtin"
    base_model_revision: str = "main"
    method: Literal["qlora", "lora"] = "qlora"
    max_seq_len: int = Field(256, ge=16)
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    # hyperparameters of a run without a sweep; a sweep's best trial overrides them
    learning_rate: float = Field(2e-4, gt=0)
    lora_rank: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    epochs: int = Field(1, ge=1)
    max_steps: int = Field(120, ge=0)  # cap on the final run's optimizer steps; 0 = no cap
    warmup_steps: int = Field(5, ge=0)
    eval_every: int = Field(20, ge=1)
    max_eval_examples: int = Field(128, ge=1)
    checkpoint_every: int = Field(20, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    seed: int = 42
    threads: int = Field(0, ge=0)  # torch CPU threads; 0 = all cores
    min_new_examples: int = Field(50, ge=0)
    # where checkpoints go; empty = <lake_root>/models/checkpoints (a PVC mount in the kubernetes profile)
    checkpoint_root: str = ""
    builtin: BuiltinModelSettings = BuiltinModelSettings()
    sweep: SweepSettings = SweepSettings()
    selection: ExampleSelectionSettings = ExampleSelectionSettings()


class MetricThreshold(_Section):
    max_regression: float = Field(0.0, ge=0)  # lower CI bound of (candidate - champion) must stay above -this
    floor: float | None = None  # absolute bound on the candidate's mean (a ceiling for lower-is-better metrics)


class EvaluationSettings(_Section):
    """The lm-eval gate. Tolerances are sized for ~120 test items (bench/bench_eval_power.py); scale them by
    sqrt(120 / n) for a larger test split."""

    thresholds: dict[str, MetricThreshold] = {
        "exact_match": MetricThreshold(max_regression=0.15),
        "f1": MetricThreshold(max_regression=0.10),
        "rouge_l": MetricThreshold(max_regression=0.10),
        # a ceiling (lower is better): guessing uniformly over the builtin tokenizer's 8,192 ids costs ln(8192) =
        # 9.0 nats per token, so a candidate above 8 learned next to nothing
        # NLL carries the decision at this size: on real models' per-item scores (paired sd ~0.19 nats/token), 0.065
        # keeps false rejection <= 5% and catches a +0.05 regression >= 80% of the time (generation metrics cannot:
        # a 2-point F1 regression is caught ~never at 120 items; their tolerances only stop gross regressions)
        "nll": MetricThreshold(max_regression=0.065, floor=8.0),
    }
    # with no champion, a candidate is judged against its own base model without the adapter: the interval of
    # (base - candidate) answer NLL per token must lie above this gain, the other metrics within their tolerances,
    first_candidate_min_nll_gain: float = Field(0.0, ge=0)
    # and no generation metric (exact_match, f1, rouge_l) significantly worse: the interval of (candidate - base)
    # must not lie wholly below -this. The tolerances above let a candidate that answers with empty text pass
    # against a weak base (the first demo: f1 0.005 vs 0.084, CI [-0.093, -0.067], within 0.10)
    first_candidate_max_significant_regression: float = Field(0.0, ge=0)
    n_resamples: int = Field(10_000, ge=100)
    confidence: float = Field(0.95, gt=0, lt=1)
    seed: int = 0
    limit: int | None = Field(None, ge=1)  # score at most this many test items (None = all)
    extra_tasks: list[str] = []  # standard lm-eval tasks, for clusters that have them cached
    device: str = Field("cpu", pattern=r"^(cpu|cuda|mps|xpu)(:\d+)?$")  # a torch device: cpu, cuda, cuda:1, ...
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    batch_size: int = Field(8, ge=1)
    max_new_tokens: int = Field(128, ge=1)
    worst_examples: int = Field(10, ge=0)

    @field_validator("thresholds")
    @classmethod
    def _non_empty(cls, value: dict) -> dict:
        if not value:
            raise ValueError("at least one metric threshold is needed: a gate with none passes everything")
        return value


class ServingSettings(_Section):
    """Serving for evaluations and scans: local start-up, the gateway's limits (OWASP LLM10), a remote endpoint."""

    startup_timeout_s: float = Field(120.0, gt=0)
    stop_grace_s: float = Field(10.0, gt=0)
    max_tokens: int = Field(256, ge=1)  # per-request cap; more is refused with 400, none gets the cap
    max_prompt_chars: int = Field(8000, ge=1)  # longer prompts are refused with 413
    request_timeout_s: float = Field(60.0, gt=0)  # backend answer deadline, queueing included; 504 after it
    max_in_flight: int = Field(4, ge=1)  # requests the gateway has at its backends at once
    max_queued: int = Field(16, ge=0)  # requests waiting for one of those slots; beyond, 429 with Retry-After
    client_timeout_s: float = Field(120.0, gt=0)
    model_name: str = "candidate"
    endpoint_url: str = ""  # kubernetes: the gateway Service's /v1 URL; empty = serve locally
    vllm_max_model_len: int = Field(4096, ge=256)

    @model_validator(mode="after")
    def _check(self) -> ServingSettings:
        if self.client_timeout_s <= self.request_timeout_s:
            raise ValueError("client_timeout_s must exceed request_timeout_s so clients see the gateway's 504")
        if self.max_tokens >= self.vllm_max_model_len:
            raise ValueError("max_tokens must leave room for a prompt in vllm_max_model_len")
        return self


class DeployAnalysisSettings(_Section):
    """Sequential canary analysis (llmops.deploy.analysis): the always-valid test's error rate and thresholds on
    canary - stable differences (bench/bench_canary.py measures false and missed rollbacks at these values)."""

    alpha: float = Field(0.05, gt=0, lt=1)  # chance that a canary as good as stable is ever rolled back, per metric
    error_rate_threshold: float = Field(0.0, ge=0, le=1)  # tolerated extra 5xx/timeout share
    latency_exceedance_threshold: float = Field(0.0, ge=0, le=1)  # tolerated extra share above stable's p95
    ttft_exceedance_threshold: float = Field(0.0, ge=0, le=1)  # same for time to first token (streamed requests)
    tuned_at_requests: int = Field(500, ge=1)  # the boundary is tightest near this many requests per variant
    min_requests: int = Field(20, ge=1)  # per variant and look; fewer is "insufficient data", never a pass
    # answer quality on mirrored held-out prompts, scored by the evaluation gate's scorer (llmops.deploy.quality)
    quality_metric: Literal["f1", "rouge_l", "exact_match"] = "f1"
    quality_max_drop: float = Field(0.0, ge=0, le=1)  # tolerated drop of the canary's mean score per prompt
    quality_prompts_per_step: int = Field(400, ge=0)  # mirrored to both versions at each step; 0: quality not tested
    quality_min_prompts: int = Field(20, ge=1)  # scored pairs before quality can pass
    quality_tuned_at_prompts: int = Field(1000, ge=1)
    quality_max_tokens: int = Field(128, ge=1)  # the gate's generation length

    @model_validator(mode="after")
    def _check(self) -> DeployAnalysisSettings:
        # quality is mirrored once per step: a first step with fewer pairs than the test needs could never pass
        if 0 < self.quality_prompts_per_step < self.quality_min_prompts:
            raise ValueError("quality_prompts_per_step must be 0 (quality not tested) or at least quality_min_prompts")
        return self


class DeployKubernetesSettings(_Section):
    """The vLLM pool's manifests (llmops.serving.manifests renders them; containers/vllm/deployment.yaml)."""

    pool_name: str = "llmops-vllm"  # Deployment, Service, PDB, InferencePool; the canary base adds "-canary"
    image: str = "ghcr.io/llmops-airflow/vllm:0.1.0"
    replicas: int = Field(1, ge=1)
    min_available: int = Field(0, ge=0)  # PodDisruptionBudget: 0 lets a drain take the only pod of a 1-replica pool
    cpu: str = "4"
    memory: str = "32Gi"
    gpus: int = Field(1, ge=1)
    vllm_port: int = Field(8000, ge=1, le=65535)  # inside the pod only: clients reach the gateway
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_loras: int = Field(2, ge=2)  # the stable and a canary adapter at once
    traffic_config_map: str = "llmops-traffic"
    http_gateway: str = "llmops-gateway"  # the Gateway API Gateway the HTTPRoute attaches to
    # that Gateway's address as the deploy step reaches it (e.g. http://llmops-gateway.llmops.svc): a candidate on
    # another base is replayed prompts through the HTTPRoute's split; empty refuses that path (two_deployments)
    http_gateway_url: str = ""
    field_manager: str = "llmops-deploy"  # server-side apply's owner of the fields the deploy step sets
    ready_timeout_s: float = Field(1800.0, gt=0)  # a pool rolled out, or every pod loaded an adapter, by then
    ready_poll_s: float = Field(5.0, gt=0)
    # where the deploy step copies each version's adapter (<runtime.model_cache_mount>/<adapter_dir>/<served name>)
    # for the pool's pods, which list them in their traffic table and load them (llmops.serving.adapter_sync)
    adapter_dir: str = "llmops-adapters"
    endpoint_picker: str = "llmops-epp"  # llm-d's endpoint picker Service (InferencePool)
    endpoint_picker_port: int = Field(9002, ge=1, le=65535)
    service_monitor_labels: dict[str, str] = {"release": "prometheus"}  # what the Prometheus selects
    # the gateway logs each request (masked) to paths.lake_root for the drift check (llmops.monitoring.inference_log)
    inference_log: bool = True

    @field_validator("adapter_dir")
    @classmethod
    def _inside_the_volume(cls, value: str) -> str:
        path = PurePosixPath(value)
        if not path.parts or path.is_absolute() or ".." in path.parts:
            raise ValueError(f"expected a directory relative to runtime.model_cache_mount, without '..', got {value!r}")
        return value


class DeploySettings(_Section):
    """Canary serving (llmops.serving.backends): the stable name clients call, who serves the versions, where the
    gateway's traffic weights live, and where its Prometheus metrics are (``/metrics`` on ``gateway_port``)."""

    backend: Literal["local", "vllm"] = "local"  # local: one transformers-serve process per version
    stable_name: str = "support-assistant"  # the model name clients ask for; versions are served as <name>-v<N>
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(0, ge=0, le=65535)  # 0: a free port, chosen at start (local)
    admin_token_env: str = "LLMOPS_GATEWAY_ADMIN_TOKEN"  # the admin endpoint's bearer token (local weights)
    traffic_file: str = ""  # kubernetes: the mounted ConfigMap file the gateway follows; empty: admin endpoint
    traffic_poll_s: float = Field(1.0, gt=0)
    # where the deploy code asks each version by its own name (mirrored prompts): vLLM's root; in kubernetes the
    # pool's gateway Service, whose table routes each loaded version's own name to it
    vllm_url: str = "http://127.0.0.1:8000"
    steps: list[float] = [5, 25, 50, 100]  # canary traffic percent per rollout step
    window_s: float = Field(60.0, gt=0)  # analysis window per step
    step_deadline_s: float = Field(300.0, gt=0)  # a step still short of min_requests by then fails (rollback)
    load_rps: float = Field(2.0, ge=0)  # held-out prompts replayed through the stable name when traffic is short
    load_max_tokens: int = Field(8, ge=1)
    drain_s: float = Field(5.0, ge=0)  # wait before unloading a version whose traffic moved away
    # a human's Approve/Reject (Airflow's HITL ApprovalOperator) before 100 %; the analysis goes on while it waits
    approval_required: bool = False
    approval_timeout_s: float = Field(4 * 3600.0, gt=0)  # no answer by then: rolled back (never promoted unasked)
    state_dir: str = ""  # rollout state and reports (llmops.deploy.state); empty = <lake>/reports/deploy/rollouts
    analysis: DeployAnalysisSettings = DeployAnalysisSettings()
    kubernetes: DeployKubernetesSettings = DeployKubernetesSettings()


class GovernanceSettings(_Section):
    suite: str = ""  # empty = the bundled probes/owasp_llm_2025_v1.yaml
    thresholds: dict[str, float] = {}  # attack-success-rate overrides over the suite's, e.g. {"LLM01": 0.1}
    request_timeout_s: float = Field(120.0, gt=0)
    garak_executable: str = ""  # empty = garak not run
    work_dir: str = ""  # empty = <paths.scratch_dir>/governance


class MonitoringSettings(_Section):
    """The alert webhook receiver (llmops.monitoring.webhook) and the drift check."""

    # Airflow connection holding the webhook secrets: extra {"bearer_tokens": [...], "hmac_secrets": [...]}
    webhook_connection_id: str = "llmops_alert_webhook"
    # the connection is read again after this long: a rotated or revoked secret takes effect within it (0: always)
    secrets_cache_s: float = Field(10.0, ge=0, le=300)
    # where Grafana / the drift check put the signature and its timestamp (Grafana's name differs by version)
    signature_header: str = "X-Grafana-Alerting-Signature"
    timestamp_header: str = "X-Grafana-Alerting-Timestamp"
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    replay_window_s: int = Field(300, ge=10)  # a signed delivery older or newer than this is refused
    dedup_window_s: int = Field(6 * 3600, ge=60)  # one retraining run per alert fingerprint in this window
    state_url: str = ""  # SQLAlchemy URL of the receiver's memory; empty = SQLite under a local lake
    # drift check (llmops.monitoring.drift): the window of the inference log it compares with the training prompts
    drift_window_h: int = Field(1, ge=1)
    drift_sample: int = Field(1000, ge=50)  # prompts per side at most; a larger window is sampled
    # a window of more log rows is sampled down to this many while it is read (pyarrow, streamed by batch)
    drift_max_window_rows: int = Field(100_000, ge=100)
    drift_min_rows: int = Field(30, ge=10)  # fewer distinct prompts in the window: no verdict
    drift_alpha: float = Field(0.05, gt=0, lt=1)  # family-wise false-alarm rate of one window's verdict
    # the Prometheus textfile the drift exporter serves; empty = <lake>/reports/drift/metrics/llmops_drift.prom
    drift_metrics_file: str = ""


class AirflowSettings(_Section):
    retries: int = Field(2, ge=0)
    retry_delay_s: int = Field(30, ge=1)
    max_retry_delay_s: int = Field(600, ge=1)
    step_timeout_min: int = Field(60, ge=1)


class Settings(_Section):
    profile: str = "local"
    paths: PathsSettings = PathsSettings()
    object_store: ObjectStoreSettings = ObjectStoreSettings()
    spark: SparkSettings = SparkSettings()
    data: DataSettings = DataSettings()
    feast: FeastSettings = FeastSettings()
    runtime: RuntimeSettings = RuntimeSettings()
    airflow: AirflowSettings = AirflowSettings()
    tracking: TrackingSettings = TrackingSettings()
    training: TrainingSettings = TrainingSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    serving: ServingSettings = ServingSettings()
    deploy: DeploySettings = DeploySettings()
    governance: GovernanceSettings = GovernanceSettings()
    monitoring: MonitoringSettings = MonitoringSettings()


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _section_type(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _layer(model: type[BaseModel], base: dict, override: dict) -> dict:
    """``override`` over ``base`` (both ``model``'s fields as dicts), changing only what the override names.

    Sections merge field by field; so do keyed sections (``dict[str, Section]``: metric thresholds, pods),
    whose entries stay unless an override sets one to null. Other values, lists and plain maps (a node
    selector) included, are replaced whole.
    """
    out = dict(base)
    for name, value in override.items():
        field, current = model.model_fields.get(name), out.get(name)
        if field is None or not isinstance(value, dict) or not isinstance(current, dict):
            out[name] = value  # validation names an unknown field or a wrong type
        elif section := _section_type(field.annotation):
            out[name] = _layer(section, current, value)
        elif get_origin(field.annotation) is dict and (entry := _section_type(get_args(field.annotation)[1])):
            entries = dict(current)
            for key, item in value.items():
                if item is None:  # `rouge_l: null` drops an entry
                    entries.pop(key, None)
                elif isinstance(item, dict) and isinstance(entries.get(key), dict):
                    entries[key] = _layer(entry, entries[key], item)
                else:
                    entries[key] = item
            out[name] = entries
        else:
            out[name] = value
    return out


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """``LLMOPS__SECTION__KEY=value`` variables as nested settings; a value that is not YAML, or a variable that
    nests under a plain value, is a ConfigError naming the variable."""
    overrides: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
        try:
            value = yaml.safe_load(raw) if raw else raw
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{name}={raw!r} is not a valid YAML value: {problem}") from None
        node = overrides
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: {'.'.join(keys[:-1])} is set to a plain value by another variable")
        if isinstance(node.get(keys[-1]), dict) and isinstance(value, dict):
            node[keys[-1]] = _deep_merge(value, node[keys[-1]])
        else:
            node[keys[-1]] = value
    return overrides


def _problem(err: Any) -> str:
    """One validation error: the setting, its value (not a whole section's) and what is wrong."""
    where, value = ".".join(str(p) for p in err["loc"]), err.get("input")
    return f"{where}: {err['msg']}" if isinstance(value, dict) else f"{where}={value!r}: {err['msg']}"


def load_settings(profile: str | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build the settings for ``profile`` (default: $LLMOPS_PROFILE or ``local``)."""
    environ = dict(os.environ if environ is None else environ)
    profile = profile or environ.get("LLMOPS_PROFILE") or "local"
    profile_file = PROFILES_DIR / f"{profile}.yaml"
    if not profile_file.exists():
        known = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))
        raise ConfigError(f"unknown profile {profile!r} (LLMOPS_PROFILE); known profiles: {', '.join(known)}")
    data = yaml.safe_load(profile_file.read_text()) or {}
    data = _layer(Settings, _layer(Settings, Settings().model_dump(), data), _env_overrides(environ))
    data["profile"] = profile
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigError(f"invalid settings for profile {profile!r}: {problems}") from None


@functools.cache
def settings() -> Settings:
    """The process-wide settings, validated once."""
    return load_settings()
