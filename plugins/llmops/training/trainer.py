"""Supervised fine-tuning with PEFT LoRA or QLoRA, checkpointed so a restarted run resumes.

QLoRA (the default) loads the base in bitsandbytes NF4 with double quantization and bf16 compute, prepares
it with ``prepare_model_for_kbit_training`` and trains LoRA adapters with gradient checkpointing; plain LoRA
trains adapters over a full-precision base. A method the machine cannot run raises
:class:`MethodUnavailable`: never a silent fallback to another method.

The loop is deliberately small and explicit: the order of examples is a pure function of (seed, epoch), and
a checkpoint holds the adapter, optimizer, scheduler, RNG states and the loss history, so a run killed at any
point and restarted continues from its latest checkpoint with the same data order.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training, set_peft_model_state_dict
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, get_cosine_schedule_with_warmup

from llmops.training.sft_data import IGNORE_INDEX, Encoded

log = logging.getLogger(__name__)

_STATE = "trainer_state.pt"
_CHECKPOINT_PREFIX = "step-"


class MethodUnavailable(RuntimeError):
    """The requested training method cannot run on this machine (and no other method is substituted)."""


@dataclass(frozen=True)
class Hyperparams:
    learning_rate: float
    lora_rank: int
    lora_alpha: int
    lora_dropout: float
    epochs: int


@dataclass(frozen=True)
class TrainConfig:
    base_model: str  # a directory or a Hugging Face id
    hyperparams: Hyperparams
    method: str = "qlora"
    revision: str | None = None  # hub revision; ignored for a directory
    batch_size: int = 8
    grad_accum: int = 1
    max_steps: int = 0  # 0 = as many as the epochs take
    warmup_steps: int = 5
    eval_every: int = 20
    max_eval_examples: int = 128
    checkpoint_every: int = 20
    keep_checkpoints: int = 2
    seed: int = 42
    log_every: int = 0  # 0 = about 20 progress lines per run


@dataclass
class TrainResult:
    steps: int  # optimizer steps taken (including those before a resume)
    planned_steps: int
    stopped_early: bool
    resumed_from: int | None
    train_loss: list[tuple[int, float]] = field(default_factory=list)  # (step, loss)
    val_loss: list[tuple[int, float]] = field(default_factory=list)  # (step, loss)
    tokens: int = 0
    train_seconds: float = 0.0
    method: str = ""

    @property
    def best_val_loss(self) -> float | None:
        return min((loss for _, loss in self.val_loss), default=None)

    def metrics(self) -> dict:
        final_val = self.val_loss[-1][1] if self.val_loss else None
        return {
            "steps": self.steps,
            "planned_steps": self.planned_steps,
            "stopped_early": self.stopped_early,
            "resumed_from": self.resumed_from,
            "final_train_loss": self.train_loss[-1][1] if self.train_loss else None,
            "first_train_loss": self.train_loss[0][1] if self.train_loss else None,
            "final_val_loss": final_val,
            "best_val_loss": self.best_val_loss,
            "tokens": self.tokens,
            "train_seconds": round(self.train_seconds, 2),
            "tokens_per_s": round(self.tokens / self.train_seconds, 1) if self.train_seconds else None,
            "method": self.method,
        }


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def compute_dtype() -> torch.dtype:
    """bf16 where the hardware does it natively (GPUs, CPUs with AVX512-BF16/AMX), else fp32."""
    if device() == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_bf16() else torch.float32


def require_method(method: str) -> None:
    """Raise MethodUnavailable, naming the cause, when ``method`` cannot run here."""
    if method == "lora":
        return
    if method != "qlora":
        raise MethodUnavailable(f"unknown training method {method!r}; expected 'qlora' or 'lora'")
    try:
        import bitsandbytes as bnb  # noqa: PLC0415 - optional backend, checked only when asked for
    except Exception as exc:  # ImportError, or a CUDA library that fails to load
        raise MethodUnavailable(f"qlora needs bitsandbytes, which cannot be imported here: {exc}") from None
    try:  # a 4-bit round trip on this device: proves the backend has NF4 kernels for it
        weight = torch.randn(64, 64, dtype=torch.bfloat16, device=device())
        packed, state = bnb.functional.quantize_4bit(weight, quant_type="nf4")
        bnb.functional.dequantize_4bit(packed, state)
    except Exception as exc:
        raise MethodUnavailable(
            f"qlora: bitsandbytes {bnb.__version__} has no 4-bit NF4 support on {device()}: {exc}. "
            "Use method 'lora' explicitly, or run on a machine bitsandbytes supports."
        ) from None


def load_model(cfg: TrainConfig):
    """The base model with fresh LoRA adapters, ready to train (QLoRA: quantized NF4 base)."""
    require_method(cfg.method)
    dtype = compute_dtype()
    kwargs = {} if Path(cfg.base_model).is_dir() or not cfg.revision else {"revision": cfg.revision}
    if cfg.method == "qlora":
        quant = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if dtype != torch.float16 else torch.float16,
        )
        model = AutoModelForCausalLM.from_pretrained(
            cfg.base_model, quantization_config=quant, device_map=device(), dtype=quant.bnb_4bit_compute_dtype,
            **kwargs,
        )
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False}
        )
    else:
        # GPUs hold the frozen base in bf16; on a CPU it stays fp32 and autocast computes in bf16 where it can
        weights = torch.float32 if device() == "cpu" else dtype
        model = AutoModelForCausalLM.from_pretrained(cfg.base_model, dtype=weights, **kwargs).to(device())
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    hp = cfg.hyperparams
    torch.manual_seed(cfg.seed)  # LoRA's A matrices are drawn here: same seed, same initial adapter
    lora = LoraConfig(
        r=hp.lora_rank, lora_alpha=hp.lora_alpha, lora_dropout=hp.lora_dropout,
        target_modules="all-linear", task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def collate(examples: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch; padding is masked out of attention and of the loss."""
    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The example order of one epoch: a pure function of (seed, epoch), so a resumed run sees the same."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator).tolist()


def _loss_sum(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Summed next-token loss over answer tokens, and their count (so batches weigh by tokens)."""
    batch = {k: v.to(model.device) for k, v in batch.items()}
    with torch.autocast(device_type=device(), dtype=compute_dtype(), enabled=compute_dtype() != torch.float32):
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    targets = batch["labels"][:, 1:]
    loss = torch.nn.functional.cross_entropy(
        logits[:, :-1].float().reshape(-1, logits.size(-1)), targets.reshape(-1),
        ignore_index=IGNORE_INDEX, reduction="sum",
    )
    return loss, int((targets != IGNORE_INDEX).sum())


@torch.no_grad()
def evaluate(model, examples: list[Encoded], batch_size: int, pad_id: int) -> float:
    """Mean loss per answer token over ``examples``."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(examples), batch_size):
        loss, n = _loss_sum(model, collate(examples[start:start + batch_size], pad_id))
        total, count = total + float(loss), count + n
    model.train()
    return total / max(count, 1)


def _checkpoints(checkpoint_dir: Path) -> list[Path]:
    done = [p for p in checkpoint_dir.glob(f"{_CHECKPOINT_PREFIX}*") if (p / _STATE).exists()]
    return sorted(done, key=lambda p: int(p.name[len(_CHECKPOINT_PREFIX):]))


def latest_checkpoint(checkpoint_dir: Path) -> Path | None:
    found = _checkpoints(Path(checkpoint_dir)) if Path(checkpoint_dir).exists() else []
    return found[-1] if found else None


def _save_checkpoint(model, optimizer, scheduler, result: TrainResult, checkpoint_dir: Path, keep: int) -> Path:
    """Write a checkpoint next to its final name and rename it in: a kill mid-write leaves no half checkpoint."""
    final = checkpoint_dir / f"{_CHECKPOINT_PREFIX}{result.steps:06d}"
    tmp = checkpoint_dir / f".tmp-{final.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "result": asdict(result),
            "rng": {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()},
        },
        tmp / _STATE,
    )
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in _checkpoints(checkpoint_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _restore(checkpoint: Path, model, optimizer, scheduler) -> TrainResult:
    weights = next(checkpoint.glob("adapter_model.safetensors"))
    set_peft_model_state_dict(model, load_file(weights))
    state = torch.load(checkpoint / _STATE, weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"]["torch"])
    random.setstate(state["rng"]["python"])
    np.random.set_state(state["rng"]["numpy"])
    saved = state["result"]
    saved["train_loss"] = [tuple(x) for x in saved["train_loss"]]
    saved["val_loss"] = [tuple(x) for x in saved["val_loss"]]
    return TrainResult(**saved)


def planned_steps(cfg: TrainConfig, n_train: int) -> int:
    per_epoch = math.ceil(n_train / (cfg.batch_size * cfg.grad_accum))
    total = per_epoch * cfg.hyperparams.epochs
    return min(total, cfg.max_steps) if cfg.max_steps else total


def _fmt_eta(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


EvalHook = Callable[[int, float], bool]  # (step, validation loss) -> True to stop the run here
MetricsHook = Callable[[int, dict], None]  # (step, metrics) -> None, e.g. log to MLflow


def train(
    cfg: TrainConfig,
    model,
    train_set: list[Encoded],
    val_set: list[Encoded],
    pad_id: int,
    checkpoint_dir: Path,
    on_eval: EvalHook | None = None,
    on_metrics: MetricsHook | None = None,
) -> TrainResult:
    """Train ``model`` (from :func:`load_model`) on ``train_set``; resume from ``checkpoint_dir`` if it holds one.

    Progress (step, loss, learning rate, tokens/s, ETA) goes to the log. ``on_eval`` sees each validation
    loss and may stop the run (a sweep's median-stopping rule); ``on_metrics`` receives every logged value.
    """
    if not train_set:
        raise ValueError("no training examples")
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    total = planned_steps(cfg, len(train_set))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.hyperparams.learning_rate, weight_decay=0.0)
    scheduler = get_cosine_schedule_with_warmup(optimizer, min(cfg.warmup_steps, total // 2), total)
    result = TrainResult(steps=0, planned_steps=total, stopped_early=False, resumed_from=None, method=cfg.method)
    checkpoint = latest_checkpoint(checkpoint_dir)
    if checkpoint is not None:
        result = _restore(checkpoint, model, optimizer, scheduler)
        result.resumed_from = result.steps
        log.info("resuming from %s (step %d of %d)", checkpoint.name, result.steps, total)
    if result.steps >= total or result.stopped_early:
        log.info("run already complete at step %d", result.steps)
        return result
    val_set = val_set[: cfg.max_eval_examples]
    log_every = cfg.log_every or max(1, total // 20)
    per_epoch = math.ceil(len(train_set) / cfg.batch_size)
    model.train()
    started, tokens_at_start = time.perf_counter(), result.tokens
    time_before = result.train_seconds
    window_loss, window_tokens = 0.0, 0
    while result.steps < total:
        for micro in range(cfg.grad_accum):
            index = result.steps * cfg.grad_accum + micro  # global micro-batch number
            epoch, position = divmod(index, per_epoch)
            order = epoch_order(len(train_set), cfg.seed, epoch)
            batch = [train_set[i] for i in order[position * cfg.batch_size:(position + 1) * cfg.batch_size]]
            loss_sum, n_tokens = _loss_sum(model, collate(batch, pad_id))
            (loss_sum / max(n_tokens, 1) / cfg.grad_accum).backward()
            window_loss += loss_sum.detach().item()
            window_tokens += n_tokens
            result.tokens += sum(len(e.input_ids) for e in batch)
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        result.steps += 1
        step = result.steps
        loss = window_loss / max(window_tokens, 1)
        result.train_loss.append((step, loss))
        window_loss, window_tokens = 0.0, 0
        elapsed = time.perf_counter() - started
        result.train_seconds = time_before + elapsed
        tokens_per_s = (result.tokens - tokens_at_start) / max(elapsed, 1e-9)
        lr = scheduler.get_last_lr()[0]
        if on_metrics:
            on_metrics(step, {"train_loss": loss, "learning_rate": lr, "tokens_per_s": tokens_per_s})
        if step % log_every == 0 or step == total:
            eta = elapsed / max(step - (result.resumed_from or 0), 1) * (total - step)
            log.info("step %d/%d loss %.4f lr %.2e tokens/s %.0f eta %s",
                     step, total, loss, lr, tokens_per_s, _fmt_eta(eta))
        if step % cfg.eval_every == 0 or step == total:
            if val_set:
                val_loss = evaluate(model, val_set, cfg.batch_size, pad_id)
                result.val_loss.append((step, val_loss))
                log.info("step %d/%d validation loss %.4f", step, total, val_loss)
                if on_metrics:
                    on_metrics(step, {"val_loss": val_loss})
                if on_eval and step < total and on_eval(step, val_loss):
                    result.stopped_early = True
            if result.stopped_early:
                _save_checkpoint(model, optimizer, scheduler, result, checkpoint_dir, cfg.keep_checkpoints)
                log.info("stopped early at step %d/%d", step, total)
                return result
        if step % cfg.checkpoint_every == 0 or step == total:
            path = _save_checkpoint(model, optimizer, scheduler, result, checkpoint_dir, cfg.keep_checkpoints)
            log.info("checkpoint %s", path)
    return result


def save_outputs(model, tokenizer, result: TrainResult, cfg: TrainConfig, out_dir: Path) -> Path:
    """Adapter (+ tokenizer), metrics.json, config.json and loss_curve.png under ``out_dir``."""
    from llmops.training.plots import loss_curve  # noqa: PLC0415 - matplotlib only when a run ends

    out_dir = Path(out_dir)
    adapter = out_dir / "adapter"
    model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    (out_dir / "metrics.json").write_text(json.dumps(result.metrics(), indent=2))
    (out_dir / "train_config.json").write_text(json.dumps(asdict(cfg), indent=2))
    loss_curve(result.train_loss, result.val_loss, out_dir / "loss_curve.png",
               title=f"{cfg.method} r={cfg.hyperparams.lora_rank} lr={cfg.hyperparams.learning_rate:.1e}")
    return adapter
