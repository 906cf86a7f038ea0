"""Supervised fine-tuning with PEFT LoRA or QLoRA on TRL's ``SFTTrainer``, checkpointed so a restarted run resumes.

QLoRA (the default) loads the base in bitsandbytes NF4 with double quantization and bf16 compute, prepares
it with ``prepare_model_for_kbit_training`` and trains LoRA adapters with gradient checkpointing; plain LoRA
trains adapters over a full-precision base. A method the machine cannot run raises
:class:`MethodUnavailable`: never a silent fallback to another method.

The loop, checkpoints (adapter, optimizer, scheduler, RNG and data-loader position) and resuming are
``SFTTrainer``'s; the examples arrive tokenized with answer-only labels (``sft_data``), which its collator pads
as they are. Two callbacks add what the project needs: progress lines and metrics for MLflow, and the hook a
sweep's median-stopping rule uses to stop a trial at a validation report.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from datasets import Dataset
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training, set_peft_model_state_dict
from peft.utils import SAFETENSORS_WEIGHTS_NAME as SAFE_ADAPTER_NAME
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, TrainerCallback, TrainerState
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_callback import PrinterCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
from trl import SFTConfig, SFTTrainer
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

from llmops.training.sft_data import Encoded

log = logging.getLogger(__name__)

_STOPPED = "stopped_early.json"  # marker of a run the median rule stopped: a rerun returns, never trains on


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
    tokens: int = 0  # non-padding tokens trained on, over every attempt
    attempt_tokens: int = 0  # ... and in this attempt (since the resume), over train_seconds
    train_seconds: float = 0.0  # this attempt
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
            "tokens_per_s": round(self.attempt_tokens / self.train_seconds, 1) if self.train_seconds else None,
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


def planned_steps(cfg: TrainConfig, n_train: int) -> int:
    per_epoch = math.ceil(n_train / (cfg.batch_size * cfg.grad_accum))
    total = per_epoch * cfg.hyperparams.epochs
    return min(total, cfg.max_steps) if cfg.max_steps else total


def _fmt_eta(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def latest_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The newest complete checkpoint: the trainer writes its state file last, so one killed mid-write has none."""
    done = [p for p in Path(checkpoint_dir).glob(f"{PREFIX_CHECKPOINT_DIR}-*") if (p / TRAINER_STATE_NAME).exists()]
    return max(done, key=lambda p: int(p.name.rsplit("-", 1)[1]), default=None)


EvalHook = Callable[[int, float], bool]  # (step, validation loss) -> True to stop the run here
MetricsHook = Callable[[int, dict], None]  # (step, metrics) -> None, e.g. log to MLflow


class ProgressCallback(TrainerCallback):
    """Progress lines (step, loss, learning rate, tokens/s, ETA) every ``log_every`` steps and at least every
    ``max_quiet_s`` seconds; every train loss, learning rate and validation loss also goes to ``on_metrics``."""

    def __init__(self, log_every: int, on_metrics: MetricsHook | None, max_quiet_s: float = 30.0):
        self.log_every, self.on_metrics, self.max_quiet_s = log_every, on_metrics, max_quiet_s

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = self.last_line = time.perf_counter()
        self.first_step, self.tokens_at_start = state.global_step, state.num_input_tokens_seen

    def tokens_per_s(self, state) -> float:
        return (state.num_input_tokens_seen - self.tokens_at_start) / max(time.perf_counter() - self.started, 1e-9)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:
            return
        step, now = state.global_step, time.perf_counter()
        speed = self.tokens_per_s(state)
        if self.on_metrics:
            self.on_metrics(step, {"train_loss": logs["loss"], "learning_rate": logs["learning_rate"],
                                   "tokens_per_s": speed})
        if step % self.log_every == 0 or step == state.max_steps or now - self.last_line >= self.max_quiet_s:
            self.last_line = now
            eta = (now - self.started) / max(step - self.first_step, 1) * (state.max_steps - step)
            log.info("step %d/%d loss %.4f lr %.2e tokens/s %.0f eta %s", step, state.max_steps, logs["loss"],
                     logs["learning_rate"], speed, _fmt_eta(eta))

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        log.info("step %d/%d validation loss %.4f", state.global_step, state.max_steps, metrics["eval_loss"])
        if self.on_metrics:
            self.on_metrics(state.global_step, {"val_loss": metrics["eval_loss"]})

    def on_save(self, args, state, control, **kwargs):
        log.info("checkpoint %s", Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")


class EarlyStopCallback(TrainerCallback):
    """Asks ``on_eval`` at each validation report whether to stop (a sweep's median rule); a stopped run saves a
    checkpoint and a marker, so a rerun returns its result instead of training on."""

    def __init__(self, on_eval: EvalHook, marker: Path):
        self.on_eval, self.marker = on_eval, marker

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        step = state.global_step
        if step < state.max_steps and self.on_eval(step, metrics["eval_loss"]):
            self.marker.write_text(json.dumps({"step": step}))
            control.should_training_stop = control.should_save = True
            log.info("stopped early at step %d/%d", step, state.max_steps)


def _dataset(examples: list[Encoded]) -> Dataset:
    return Dataset.from_dict({"input_ids": [e.input_ids for e in examples], "labels": [e.labels for e in examples]})


def _sft_config(cfg: TrainConfig, checkpoint_dir: Path, total: int, has_val: bool) -> SFTConfig:
    dtype = compute_dtype()
    return SFTConfig(
        output_dir=str(checkpoint_dir), max_steps=total, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.hyperparams.learning_rate, lr_scheduler_type="cosine",
        warmup_steps=min(cfg.warmup_steps, total // 2), weight_decay=0.0, max_grad_norm=1.0, optim="adamw_torch",
        bf16=dtype == torch.bfloat16, fp16=dtype == torch.float16, use_cpu=device() == "cpu",
        gradient_checkpointing=False,  # load_model enabled it on the model already
        logging_steps=1, eval_strategy="steps" if has_val else "no", eval_steps=cfg.eval_every,
        save_strategy="steps", save_steps=cfg.checkpoint_every, save_total_limit=cfg.keep_checkpoints,
        seed=cfg.seed, data_seed=cfg.seed, include_num_input_tokens_seen="non_padding",
        max_length=None,  # examples arrive cut to max_seq_len (sft_data)
        report_to="none", disable_tqdm=True, dataloader_num_workers=0,
    )


def _result(state, total: int, method: str, resumed_from: int | None, stopped: bool, seconds: float,
            tokens_at_start: int) -> TrainResult:
    history = state.log_history
    return TrainResult(
        steps=state.global_step, planned_steps=total, stopped_early=stopped, resumed_from=resumed_from,
        train_loss=[(h["step"], h["loss"]) for h in history if "loss" in h],
        val_loss=[(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h],
        tokens=state.num_input_tokens_seen, attempt_tokens=state.num_input_tokens_seen - tokens_at_start,
        train_seconds=seconds, method=method,
    )


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
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    total = planned_steps(cfg, len(train_set))
    val_set = val_set[: cfg.max_eval_examples]
    marker = checkpoint_dir / _STOPPED
    checkpoint = latest_checkpoint(checkpoint_dir)
    progress = ProgressCallback(cfg.log_every or max(1, total // 20), on_metrics)
    callbacks = [progress] + ([EarlyStopCallback(on_eval, marker)] if on_eval else [])
    trainer = SFTTrainer(
        model=model, args=_sft_config(cfg, checkpoint_dir, total, bool(val_set)),
        train_dataset=_dataset(train_set), eval_dataset=_dataset(val_set) if val_set else None,
        processing_class=_tokenizer(cfg), data_collator=DataCollatorForLanguageModeling(pad_token_id=pad_id),
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # the progress callback logs instead of printing dicts
    resumed_from = None
    if checkpoint is not None:
        trainer.state = TrainerState.load_from_json(str(checkpoint / TRAINER_STATE_NAME))
        resumed_from = trainer.state.global_step
        if marker.exists() or resumed_from >= total:
            log.info("run already complete at step %d (%s)", resumed_from,
                     "stopped early" if marker.exists() else "all steps done")
            set_peft_model_state_dict(model, load_file(checkpoint / SAFE_ADAPTER_NAME))  # its trained adapter
            return _result(trainer.state, total, cfg.method, resumed_from, marker.exists(), 0.0,
                           trainer.state.num_input_tokens_seen)
        log.info("resuming from %s (step %d of %d)", checkpoint.name, resumed_from, total)
    tokens_before = trainer.state.num_input_tokens_seen if checkpoint is not None else 0
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    return _result(trainer.state, total, cfg.method, resumed_from, marker.exists(), time.perf_counter() - started,
                   tokens_before)


def _tokenizer(cfg: TrainConfig):
    kwargs = {} if Path(cfg.base_model).is_dir() or not cfg.revision else {"revision": cfg.revision}
    return AutoTokenizer.from_pretrained(cfg.base_model, **kwargs)


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
