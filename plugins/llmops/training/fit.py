"""One training run of a job: encode its gold data, train, save and log everything to its MLflow run.

Shared by sweep trials and the final run, so both train the very same way.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from llmops import lake
from llmops.config import settings
from llmops.training import tracking
from llmops.training.jobs import TrainingJob
from llmops.training.trainer import EvalHook, Hyperparams, TrainConfig, TrainResult, load_model, save_outputs, train

log = logging.getLogger(__name__)


def checkpoint_dir(job: TrainingJob, run_key: str) -> Path:
    root = settings().training.checkpoint_root or lake.join(job.lake_root, "models", "checkpoints")
    return lake.local_path(root) / run_key


def output_dir(job: TrainingJob, run_key: str) -> Path:
    """The run's files before MLflow takes them: under a local lake's models/, else on the checkpoint volume."""
    if lake.is_local(job.lake_root):
        return lake.local_path(lake.join(job.lake_root, "models", "runs", run_key))
    if not settings().training.checkpoint_root:
        raise ValueError(f"training.checkpoint_root must be set when the lake is not local ({job.lake_root})")
    return lake.local_path(lake.join(settings().training.checkpoint_root, "runs", run_key))


def fit(job: TrainingJob, hp: Hyperparams, run_key: str, run_id: str, max_steps: int, eval_every: int,
        on_eval: EvalHook | None = None) -> tuple[TrainResult, Path]:
    """Train ``hp`` on the job's Feast-selected train split, validate on its validation split; log to ``run_id``."""
    import torch  # noqa: PLC0415 - heavy; DAG files never import this module
    from transformers import AutoTokenizer  # noqa: PLC0415

    from llmops.training.sft_data import encode_table  # noqa: PLC0415

    t = settings().training
    torch.set_num_threads(t.threads or os.cpu_count() or 1)
    base = job.base
    kwargs = {} if base["builtin"] or Path(base["model"]).is_dir() else {"revision": base["revision"]}
    tokenizer = AutoTokenizer.from_pretrained(base["model"], **kwargs)
    if tokenizer.pad_token_id is None:  # many instruct models ship without one
        tokenizer.pad_token = tokenizer.eos_token
    train_set = encode_table(tokenizer, job.examples.split("train"), t.max_seq_len)
    val_set = encode_table(tokenizer, job.examples.split("validation"), t.max_seq_len)
    log.info("%d training and %d validation examples (Feast-selected) from gold partitions %s (sha256 %s)",
             len(train_set), len(val_set), ",".join(job.gold.partitions), job.gold.content_hash[:12])
    cfg = TrainConfig(
        base_model=base["model"], hyperparams=hp, method=job.method,
        revision=None if base["builtin"] else base["revision"], batch_size=t.batch_size, grad_accum=t.grad_accum,
        max_steps=max_steps, warmup_steps=t.warmup_steps, eval_every=eval_every,
        max_eval_examples=t.max_eval_examples, checkpoint_every=t.checkpoint_every,
        keep_checkpoints=t.keep_checkpoints, seed=t.seed,
    )
    client = tracking.client()
    model = load_model(cfg)
    result = train(cfg, model, train_set, val_set, tokenizer.pad_token_id, checkpoint_dir(job, run_key),
                   on_eval=on_eval, on_metrics=lambda step, values: tracking.log_metrics(client, run_id, step, values))
    out = output_dir(job, run_key)
    save_outputs(model, tokenizer, result, cfg, out)
    tracking.log_files(client, run_id, [out / "metrics.json", out / "loss_curve.png", out / "train_config.json"])
    client.log_artifacts(run_id, str(out / "adapter"), "adapter")
    summary = {k: v for k, v in result.metrics().items() if isinstance(v, int | float) and not isinstance(v, bool)}
    tracking.log_metrics(client, run_id, result.steps, {f"final_{k}" if k == "steps" else k: v
                                                        for k, v in summary.items()})
    tracking.set_tags(client, run_id, {"llmops.train_examples": len(train_set),
                                       "llmops.validation_examples": len(val_set)})
    return result, out
