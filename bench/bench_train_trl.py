"""Benchmark: training tokens/s of TRL's SFTTrainer (the project's trainer now) against the hand-written loop
it replaced, same machine, same data, same model, same settings.

The old loop is read from git (``--baseline-commit``, the last commit that had it) into a scratch module, so
both run from one script. Each run is a fresh process at ``--threads`` torch threads: a synthetic gold table
(the training tests' question/answer rows) and a random-init Llama of the builtin base model's size, ``--steps``
optimizer steps; tokens/s (non-padding tokens, as the old loop counted them) over the steps after
``--warmup-steps``. Seconds on a shared 2-core machine are noisy: the load average is recorded with each run.

    .venv/bin/python bench/bench_train_trl.py [--impls loop trl] [--methods lora qlora] [--steps 12]
        [--results bench/results/train_trl.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE_COMMIT = "3c6131f"  # the last commit with the hand-written loop
DS = "2026-11-20"


def trainer_module(impl: str, work: Path, commit: str):
    """``trl``: the project's trainer; ``loop``: the old trainer.py from ``commit``, imported from a scratch file."""
    if impl == "trl":
        from llmops.training import trainer

        return trainer
    source = subprocess.run(["git", "show", f"{commit}:plugins/llmops/training/trainer.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    path = work / "baseline_trainer.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_trainer", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def setup(work: Path, examples: int) -> tuple[Path, Path]:
    """The tiny tokenizer and gold rows of the training tests, and a model of the builtin base model's size."""
    sys.path.insert(0, str(ROOT))  # the training tests' fixtures
    from llmops.config import settings
    from tests.training.fixtures import build_tiny_model, write_gold

    b = settings().training.builtin
    model = build_tiny_model(work / "model", hidden=b.hidden_size, layers=b.layers)
    write_gold(work / "lake", DS, examples)
    return model, work / "lake"


def worker(args) -> None:
    import torch

    from llmops.tokenizer import load_tokenizer
    from llmops.training.sft_data import encode_table, load_gold

    torch.set_num_threads(args.threads)
    work = Path(args.work_dir)
    module = trainer_module(args.worker, work, args.baseline_commit)
    tok = load_tokenizer(work / "model")
    gold = load_gold(f"file://{work / 'lake'}", DS)
    train_set = encode_table(tok, gold.split("train"), args.max_seq_len)
    val_set = encode_table(tok, gold.split("validation"), args.max_seq_len)
    hp = module.Hyperparams(learning_rate=2e-4, lora_rank=16, lora_alpha=32, lora_dropout=0.05, epochs=1)
    cfg = module.TrainConfig(base_model=str(work / "model"), hyperparams=hp, method=args.method,
                             batch_size=args.batch_size, max_steps=args.steps, warmup_steps=2,
                             eval_every=args.steps, checkpoint_every=args.steps, seed=42)
    model = module.load_model(cfg)
    stamps: dict[int, float] = {}

    def on_metrics(step: int, values: dict) -> None:
        if "train_loss" in values:
            stamps[step] = time.perf_counter()

    ckpt = work / f"ckpt-{args.worker}-{args.method}"
    shutil.rmtree(ckpt, ignore_errors=True)  # a fresh run, never a resume
    result = module.train(cfg, model, train_set, val_set, tok.pad_token_id, ckpt, on_metrics=on_metrics)
    measured = range(args.warmup_steps + 1, result.steps + 1)
    seconds = stamps[result.steps] - stamps[args.warmup_steps]
    # mean non-padding tokens per step over the whole run (both trainers count them the same way)
    tokens = result.tokens / result.steps * len(measured)
    Path(args.worker_out).write_text(json.dumps({
        "impl": args.worker, "method": args.method, "threads": args.threads, "steps": result.steps,
        "measured_steps": len(measured), "tokens_per_s": round(tokens / seconds, 1),
        "median_step_s": round(statistics.median(stamps[s] - stamps[s - 1] for s in measured), 3),
        "first_train_loss": round(result.train_loss[0][1], 4), "last_train_loss": round(result.train_loss[-1][1], 4),
        "final_val_loss": round(result.val_loss[-1][1], 4), "tokens": result.tokens,
        "mean_tokens_per_example": round(sum(len(e.input_ids) for e in train_set) / len(train_set), 1),
    }))


def run(args, work: Path, impl: str, method: str) -> dict:
    """One throughput run in a fresh process; its figures with the load average around it."""
    out = work / f"{impl}-{method}.json"
    before = [round(x, 2) for x in os.getloadavg()]
    subprocess.run([sys.executable, __file__, "--worker", impl, "--method", method, "--worker-out", str(out),
                    "--work-dir", str(work), "--threads", str(args.threads), "--steps", str(args.steps),
                    "--warmup-steps", str(args.warmup_steps), "--batch-size", str(args.batch_size),
                    "--max-seq-len", str(args.max_seq_len), "--baseline-commit", args.baseline_commit],
                   check=True, cwd=ROOT)
    r = {**json.loads(out.read_text()), "load_average_before": before,
         "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    print(f"{impl:<5} {method:<6} {r['tokens_per_s']:>8.0f} tokens/s  median step {r['median_step_s']:.3f} s  "
          f"loss {r['first_train_loss']:.3f} -> {r['last_train_loss']:.3f}  load {r['load_average_after']}", flush=True)
    return r


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impls", nargs="+", default=["loop", "trl"], choices=["loop", "trl"])
    parser.add_argument("--methods", nargs="+", default=["lora", "qlora"], choices=["lora", "qlora"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="runs per (impl, method), in alternating order")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-seq-len", type=int, default=256)
    parser.add_argument("--examples", type=int, default=400)
    parser.add_argument("--baseline-commit", default=BASELINE_COMMIT)
    parser.add_argument("--work-dir", default=str(ROOT / ".scratch" / "bench_train_trl"))
    parser.add_argument("--results", default="", help="JSON results file; empty = print only")
    for hidden in ("--worker", "--worker-out", "--method"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.update({"TRANSFORMERS_VERBOSITY": "error", "TQDM_DISABLE": "1", "OMP_NUM_THREADS": str(args.threads)})
    if args.worker:
        worker(args)
        return 0
    started = dt.datetime.now(dt.UTC)
    work = Path(args.work_dir)
    if not (work / "model").exists():
        setup(work, args.examples)
    rows = []
    for repeat in range(args.repeats):
        for method in args.methods:
            # alternate the order: a shared machine's load drifts, neither side always goes first
            for impl in args.impls if repeat % 2 == 0 else args.impls[::-1]:
                rows.append({**run(args, work, impl, method), "repeat": repeat})
    summary = [{"method": m, "impl": i, "median_tokens_per_s": statistics.median(
                r["tokens_per_s"] for r in rows if r["method"] == m and r["impl"] == i)}
               for m in args.methods for i in args.impls]
    for m in args.methods:
        by = {x["impl"]: x["median_tokens_per_s"] for x in summary if x["method"] == m}
        if {"trl", "loop"} <= by.keys():
            print(f"{m}: trl / loop tokens/s {by['trl'] / by['loop']:.2f} (medians over {args.repeats} repeats)")
    if args.results:
        Path(args.results).write_text(json.dumps({
            "benchmark": "train_trl", "started_at": started.isoformat(timespec="seconds"),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "baseline_commit": args.baseline_commit,
            "settings": {k: getattr(args, k) for k in ("threads", "steps", "warmup_steps", "batch_size",
                                                       "max_seq_len", "examples", "repeats")},
            "runs": rows, "summary": summary,
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
