"""Benchmark: CPU training throughput of QLoRA vs LoRA, and the sweep with vs without median stopping.

Both run on a gold/sft snapshot and a base model (default: the lake's builtin one, as the base_model step
resolved it), copied into a scratch lake with its own MLflow stores, so the real lake is only read.

  1. throughput  per run spec ``method[:threads]``, in a fresh process (what a trial pod pays): start-up
                 (imports, gold, tokenizer and encoding, model load) timed apart, then ``--steps`` optimizer
                 steps of the project's trainer; tokens/s over the steps after ``--warmup-steps``, peak RSS,
                 first/last train loss, final validation loss. QLoRA (NF4 base) against LoRA (fp32
                 base), at one thread by default: ``lora`` alone runs at the settings' thread count (all
                 cores), which a shared machine slows several-fold.
  2. sweep       the HyperOpt TPE sweep as the DAG runs it (prepare, run_trial per index, finish), in-process,
                 once without and once with Katib's median stopping rule, same seed, budget and data, each
                 against its own MLflow store. Target: median stopping spends <= 60% of the trial steps for a
                 best validation loss within 2% of the sweep without it. ``--lr-range`` sweeps another
                 learning-rate range (a second configuration, labelled as such; write it to its own results).

Part 2's figures are steps and losses, which do not depend on the machine; seconds on a shared 2-core machine
are noisy, so the load average is recorded before and after every run. Usage:

    .venv/bin/python bench/bench_train.py [--quick] [--lake-root URI --ds DATE --base-model PATH]
        [--runs qlora:1 lora:1 lora] [--lr-range LOW HIGH] [--work-dir .scratch/bench_train]
        [--results bench/results/train.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from llmops import feature_store, lake
from llmops.config import settings
from llmops.step_summary import summary_uri

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results") / "train.json"
STEP_RATIO_TARGET, LOSS_SLACK = 0.60, 0.02
# smoke mode: every code path, a few steps
QUICK = {"steps": 5, "runs": ["qlora", "lora"], "max_trials": 3, "trial_steps": 4, "eval_every": 2}

_t0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _t0:7.1f}s] {message}", flush=True)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine_info() -> dict:
    import bitsandbytes
    import peft
    import torch
    import transformers

    from llmops.training.trainer import compute_dtype

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "compute_dtype": str(compute_dtype()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "bitsandbytes": bitsandbytes.__version__,
    }


def scratch_lake(args, work: Path) -> tuple[str, str, str]:
    """Copy gold, its example features (and the base_model step's summary) into a scratch lake, with the Feast
    definitions applied there as the data DAG's feast_materialize does: (lake root, base model arg, model path).

    Trials write adapters and plots under ``<lake>/models/runs``; the scratch lake keeps them out of the real one.
    The sweep selects its examples through Feast (``sft_data.select_examples``), so the features travel too.
    """
    source = lake.local_path(args.lake_root)
    target = work / "lake"
    for table in (Path("gold") / "sft", Path("features") / feature_store.TRAINING_VIEW):
        for part in sorted((source / table).glob("ds=*")):
            if part.name[3:] <= args.ds:
                shutil.copytree(part, target / table / part.name)
    feature_store.apply(feature_store.with_lake_root(settings(), f"file://{target}"))
    if args.base_model:
        return f"file://{target}", args.base_model, args.base_model
    summary = lake.local_path(summary_uri(args.lake_root, "base_model", args.ds))
    copy = lake.local_path(summary_uri(f"file://{target}", "base_model", args.ds))
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(summary, copy)  # names the model by absolute path: read in place, never written
    return f"file://{target}", "builtin", json.loads(summary.read_text())["model"]


def worker(args) -> None:
    """One throughput run in this (fresh) process; writes its figures to ``--worker-out``."""
    started = time.perf_counter()
    import psutil
    import torch
    from transformers import AutoTokenizer

    from llmops.training import base_model
    from llmops.training.sft_data import encode_table, load_gold
    from llmops.training.trainer import Hyperparams, TrainConfig, load_model, train

    startup = {"imports_s": time.perf_counter() - started}
    t = settings().training
    threads = t.threads or os.cpu_count() or 1  # as fit() does
    torch.set_num_threads(threads)
    mark = time.perf_counter()
    base = base_model.resolved(args.lake_root, args.ds, args.base_model)
    gold = load_gold(args.lake_root, args.ds)
    startup["gold_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(base["model"])
    train_set = encode_table(tokenizer, gold.split("train"), t.max_seq_len)
    val_set = encode_table(tokenizer, gold.split("validation"), t.max_seq_len)[: t.max_eval_examples]
    startup["encode_s"] = time.perf_counter() - mark
    hp = Hyperparams(t.learning_rate, t.lora_rank, t.lora_alpha, t.lora_dropout, t.epochs)
    cfg = TrainConfig(base_model=base["model"], hyperparams=hp, method=args.worker, batch_size=t.batch_size,
                      max_steps=args.steps, warmup_steps=t.warmup_steps, eval_every=args.steps,
                      max_eval_examples=t.max_eval_examples, checkpoint_every=args.steps, seed=t.seed)
    mark = time.perf_counter()
    model = load_model(cfg)
    startup["model_load_s"] = time.perf_counter() - mark
    startup["total_s"] = time.perf_counter() - started
    rss_after_startup = psutil.Process().memory_info().rss
    trainable, total_params = model.get_nb_trainable_parameters()
    stamps: dict[int, float] = {}

    def on_metrics(step: int, values: dict) -> None:
        if "train_loss" in values:  # called right after the optimizer step, before any evaluation
            stamps[step] = time.perf_counter()

    result = train(cfg, model, train_set, val_set, tokenizer.pad_token_id, Path(args.worker_dir),
                   on_metrics=on_metrics)
    measured = range(args.warmup_steps + 1, result.steps + 1)
    tokens = result.tokens / result.steps * len(measured)  # the run's mean non-padding tokens per step
    seconds = stamps[result.steps] - stamps[args.warmup_steps]
    step_s = [stamps[s] - stamps[s - 1] for s in measured]
    figures = {
        "method": args.worker,
        "threads": threads,
        "steps": result.steps,
        "measured_steps": len(step_s),
        "tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
        "median_step_s": round(statistics.median(step_s), 3),
        "train_seconds_all_steps": round(result.train_seconds, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_after_startup_mib": round(rss_after_startup / 2**20, 1),
        "first_train_loss": round(result.train_loss[0][1], 4),
        "last_train_loss": round(result.train_loss[-1][1], 4),
        "final_val_loss": round(result.val_loss[-1][1], 4),
        "trainable_params": trainable,
        "params": total_params,
        "train_examples": len(train_set),
        "validation_examples": len(val_set),
        "mean_tokens_per_example": round(sum(len(e.input_ids) for e in train_set) / len(train_set), 1),
        "startup": {k: round(v, 2) for k, v in startup.items()},
    }
    Path(args.worker_out).write_text(json.dumps(figures))


def throughput(args, work: Path, lake_root: str, base: str) -> list[dict]:
    """One fresh process per run spec ``method[:threads]`` (no threads: the settings' count, i.e. all cores)."""
    rows = []
    for spec in args.runs:
        method, _, threads = spec.partition(":")
        name = spec.replace(":", "-t")
        out, ckpt = work / f"throughput-{name}.json", work / f"throughput-{name}"
        argv = [sys.executable, __file__, "--worker", method, "--worker-out", str(out), "--worker-dir", str(ckpt),
                "--lake-root", lake_root, "--ds", args.ds, "--base-model", base, "--steps", str(args.steps),
                "--warmup-steps", str(args.warmup_steps)]
        env = {**os.environ, **({"LLMOPS__TRAINING__THREADS": threads} if threads else {})}
        before = load()
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"{spec} throughput run failed:\n{done.stderr[-4000:]}")
        row = {**json.loads(out.read_text()), "load_average_before": before, "load_average_after": load()}
        progress(f"throughput {method}, {row['threads']} threads: {row['tokens_per_s']:.0f} tokens/s, start-up "
                 f"{row['startup']['total_s']} s, peak RSS {row['peak_rss_mib']} MiB, load {row['load_average_after']}")
        rows.append(row)
    return rows


def sweep_env(args, store: Path, median_stop: bool) -> dict[str, str]:
    env = {
        "LLMOPS__TRAINING__THREADS": str(args.sweep_threads),
        "LLMOPS__TRACKING__URI": f"sqlite:///{store}/mlflow.db",
        "LLMOPS__TRACKING__ARTIFACT_ROOT": f"file://{store}/artifacts",
        "LLMOPS__TRAINING__CHECKPOINT_ROOT": f"file://{store}/checkpoints",
        "LLMOPS__TRAINING__SWEEP__MEDIAN_STOP": str(median_stop).lower(),
        "LLMOPS__TRAINING__SWEEP__EVAL_EVERY": str(args.eval_every),
        "LLMOPS__TRAINING__SWEEP__MEDIAN_STOP_MIN_TRIALS": str(args.min_trials),
        "LLMOPS__TRAINING__SWEEP__MEDIAN_STOP_START_STEP": str(args.start_step),
    }
    if args.lr_range:
        env["LLMOPS__TRAINING__SWEEP__SPACE__LEARNING_RATE"] = json.dumps(args.lr_range)
    return env


def run_sweep(args, work: Path, lake_root: str, base: str, config: str, median_stop: bool) -> dict:
    """One whole sweep in this process against a fresh MLflow store; its trials and totals."""
    from llmops.training import sweep
    from llmops.training.jobs import TrainingJob

    label = f"{config}-{'median_stop' if median_stop else 'no_stop'}"
    os.environ.update(sweep_env(args, work / label, median_stop))
    settings.cache_clear()
    job = TrainingJob(lake_root, args.ds, base, args.sweep_method, args.max_trials, args.trial_steps,
                      dag_id="bench_train", dag_run_id=label)
    before, started = load(), time.perf_counter()
    sweep.prepare(job)
    trials = []
    for index in range(args.max_trials):
        mark = time.perf_counter()
        record = sweep.run_trial(job, index)
        trials.append({k: record[k] for k in ("index", "state", "steps", "best_val_loss", "params")}
                      | {"seconds": round(time.perf_counter() - mark, 1)})
        progress(f"{label} trial {index}: {record['state']} after {record['steps']} steps, best validation loss "
                 f"{record['best_val_loss']:.4f}, lr {record['params']['learning_rate']:.2e}")
    best = sweep.finish(job)["best"]
    return {
        "config": config,
        "median_stop": median_stop,
        "learning_rate_range": list(settings().training.sweep.space.learning_rate),
        "trials": trials,
        "trials_stopped": sum(t["state"] == "stopped" for t in trials),
        "steps_spent": sum(t["steps"] for t in trials),
        "steps_budget": args.max_trials * args.trial_steps,
        "best_val_loss": round(best["best_val_loss"], 4),
        "best_trial": best["index"],
        "seconds": round(time.perf_counter() - started, 1),
        "load_average_before": before,
        "load_average_after": load(),
    }


def best_possible_steps_ratio(args) -> float:
    """The fewest steps median stopping can spend, over the full budget: the first ``min_trials`` trials always
    complete (the rule waits for them), every later one runs at least until its ``start_step``-th report."""
    first = min(args.min_trials, args.max_trials)
    earliest = min(args.start_step * args.eval_every, args.trial_steps)
    return round((first * args.trial_steps + (args.max_trials - first) * earliest)
                 / (args.max_trials * args.trial_steps), 4)


def compare(no_stop: dict, stop: dict, args) -> dict:
    """Median stopping against the sweep without it: steps and best loss ratios, and how alike their trials were."""
    same = [a["index"] for a, b in zip(no_stop["trials"], stop["trials"], strict=True) if a["params"] == b["params"]]
    both_complete = [(a, b) for a, b in zip(no_stop["trials"], stop["trials"], strict=True)
                     if a["params"] == b["params"] and a["steps"] == b["steps"]]
    steps_ratio = round(stop["steps_spent"] / no_stop["steps_spent"], 3)
    loss_ratio = round(stop["best_val_loss"] / no_stop["best_val_loss"], 4)
    return {
        "config": stop["config"],
        "steps_ratio": steps_ratio,
        "loss_ratio": loss_ratio,
        "target": f"steps <= {STEP_RATIO_TARGET:.0%} and best loss <= +{LOSS_SLACK:.0%}",
        "steps_met": steps_ratio <= STEP_RATIO_TARGET,
        "loss_met": loss_ratio <= 1 + LOSS_SLACK,
        "met": steps_ratio <= STEP_RATIO_TARGET and loss_ratio <= 1 + LOSS_SLACK,
        "best_possible_steps_ratio": best_possible_steps_ratio(args),
        "stoppable_trials": max(args.max_trials - args.min_trials, 0),
        "identical_params_trials": same,
        "first_divergent_trial": next((i for i in range(len(stop["trials"])) if i not in same), None),
        # same parameters and steps in both sweeps should give the same losses: the runs are deterministic
        "max_loss_diff_identical_trials": max((abs(a["best_val_loss"] - b["best_val_loss"])
                                               for a, b in both_complete), default=None),
    }


def qlora_vs_lora(rows: list[dict]) -> list[dict]:
    """QLoRA's figures over LoRA's, per thread count that has both."""
    by = {(r["method"], r["threads"]): r for r in rows}
    return [{"threads": threads,
             "tokens_per_s_ratio": round(q["tokens_per_s"] / lo["tokens_per_s"], 3),
             "median_step_ratio": round(q["median_step_s"] / lo["median_step_s"], 3),
             "peak_rss_ratio": round(q["peak_rss_mib"] / lo["peak_rss_mib"], 3)}
            for (method, threads), q in by.items() if method == "qlora" and (lo := by.get(("lora", threads)))]


def print_tables(rows: list[dict], sweeps: list[dict], comparison: dict) -> None:
    if rows:
        print_throughput(rows)
    print(f"\n{'sweep':<30} {'trials':>6} {'stopped':>7} {'steps':>9} {'best val loss':>13} {'best trial':>10} "
          f"{'seconds':>8}  load after")
    for s in sweeps:
        label = f"{s['config']} {'median_stop' if s['median_stop'] else 'no_stop'}"
        print(f"{label:<30} {len(s['trials']):>6} {s['trials_stopped']:>7} "
              f"{s['steps_spent']:>4}/{s['steps_budget']:<4} {s['best_val_loss']:>13.4f} {s['best_trial']:>10} "
              f"{s['seconds']:>8.1f}  {s['load_average_after']}")
    c = comparison
    same = f"{len(c['identical_params_trials'])}/{len(sweeps[0]['trials'])}"
    print(f"\n{'config':<16} {'steps ratio':>11} {'floor':>6} {'loss ratio':>10} {'same params':>11}  "
          f"{'target':<40} met?")
    print(f"{c['config']:<16} {c['steps_ratio']:>11.3f} {c['best_possible_steps_ratio']:>6.3f} "
          f"{c['loss_ratio']:>10.4f} {same:>11}  {c['target']:<40} {'yes' if c['met'] else 'NO'}")
    print("floor: the steps ratio if every trial the rule may judge stopped at its first chance")


def print_throughput(rows: list[dict]) -> None:
    print(f"\n{'method':<7} {'thr':>3} {'steps':>5} {'tokens/s':>9} {'med step s':>10} {'seconds':>8} "
          f"{'peak RSS MiB':>12} {'loss first':>10} {'last':>7} {'val loss':>8}  load after")
    for r in rows:
        print(f"{r['method']:<7} {r['threads']:>3} {r['measured_steps']:>5} {r['tokens_per_s']:>9.0f} "
              f"{r['median_step_s']:>10.2f} {r['seconds']:>8.1f} {r['peak_rss_mib']:>12.0f} "
              f"{r['first_train_loss']:>10.3f} {r['last_train_loss']:>7.3f} {r['final_val_loss']:>8.3f}  "
              f"{r['load_average_after']}")
    for q in qlora_vs_lora(rows):
        print(f"qlora / lora at {q['threads']} threads: tokens/s {q['tokens_per_s_ratio']:.2f}, "
              f"median step {q['median_step_ratio']:.2f}, peak RSS {q['peak_rss_ratio']:.2f}")
    print(f"\n{'start-up (s)':<12} {'thr':>3} {'imports':>8} {'gold':>6} {'encode':>7} {'model load':>10} {'total':>7}")
    for r in rows:
        s = r["startup"]
        print(f"{r['method']:<12} {r['threads']:>3} {s['imports_s']:>8.2f} {s['gold_s']:>6.2f} {s['encode_s']:>7.2f} "
              f"{s['model_load_s']:>10.2f} {s['total_s']:>7.2f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake-root", default=f"file://{ROOT}/.lake/lake", help="lake to read gold data from")
    parser.add_argument("--ds", default="2026-11-20")
    parser.add_argument("--base-model", default="", help="model path; empty = the lake's resolved builtin model")
    parser.add_argument("--quick", action="store_true", help=f"smoke mode: {QUICK}")
    # all cores (a bare method) measures the settings' default, which a shared machine slows several-fold
    parser.add_argument("--runs", nargs="*", default=["qlora:1", "lora:1"],
                        help="throughput runs, method[:threads]; no threads = the settings' (all cores); none = skip")
    parser.add_argument("--steps", type=int, default=30, help="throughput: optimizer steps per method")
    parser.add_argument("--warmup-steps", type=int, default=3, help="throughput: steps left out of tokens/s")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-seq-len", type=int, default=256)
    parser.add_argument("--sweep-method", default="lora", choices=["qlora", "lora"])
    # a sweep's figures are steps, not seconds; one thread keeps its wall time predictable on a shared machine
    parser.add_argument("--sweep-threads", type=int, default=1, help="torch threads per trial; 0 = all cores")
    parser.add_argument("--max-trials", type=int, default=8)
    parser.add_argument("--trial-steps", type=int, default=40)
    parser.add_argument("--eval-every", type=int, default=5, help="sweep: validation loss every N steps")
    parser.add_argument("--min-trials", type=int, default=3, help="median rule: completed trials before it acts")
    parser.add_argument("--start-step", type=int, default=4, help="median rule: reports before it acts")
    parser.add_argument("--lr-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        help="sweep this learning-rate range instead of the settings' (a second, labelled config)")
    parser.add_argument("--work-dir", default=str(ROOT / ".scratch" / "bench_train"), help="wiped first")
    parser.add_argument("--results", default=str(RESULTS))
    for hidden in ("--worker", "--worker-out", "--worker-dir"):  # a throughput run in its own process
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    if args.steps <= args.warmup_steps:
        parser.error("--steps must exceed --warmup-steps")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.update({"LLMOPS__TRAINING__BATCH_SIZE": str(args.batch_size),
                       "LLMOPS__TRAINING__MAX_SEQ_LEN": str(args.max_seq_len),
                       "TRANSFORMERS_VERBOSITY": "error", "TQDM_DISABLE": "1"})
    settings.cache_clear()
    if args.worker:
        worker(args)
        return 0
    started_at, started = dt.datetime.now(dt.UTC), time.perf_counter()
    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    machine = {**machine_info(), "load_average_at_start": load()}
    lake_root, base, base_path = scratch_lake(args, work)
    progress(f"{machine['nproc']} cores, load {machine['load_average_at_start']}, base model {base}, ds {args.ds}")
    rows = throughput(args, work, lake_root, base)
    config = f"lr {args.lr_range[0]:g}-{args.lr_range[1]:g}" if args.lr_range else "default"
    sweeps = [run_sweep(args, work, lake_root, base, config, stop) for stop in (False, True)]
    comparison = compare(*sweeps, args)
    machine["load_average_at_end"] = load()
    total = round(time.perf_counter() - started, 1)
    print_tables(rows, sweeps, comparison)
    t = settings().training
    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({
        "benchmark": "train",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "total_seconds": total,
        "argv": sys.argv[1:] if argv is None else [str(a) for a in argv],
        "quick": args.quick,
        "machine": machine,
        "data": {"lake_root": args.lake_root, "ds": args.ds, "base_model": base, "base_model_path": base_path},
        "settings": {
            "throughput": {"runs": args.runs, "steps": args.steps, "warmup_steps": args.warmup_steps,
                           "batch_size": t.batch_size, "max_seq_len": t.max_seq_len,
                           "hyperparams": t.model_dump(include={"learning_rate", "lora_rank", "lora_alpha",
                                                                "lora_dropout", "warmup_steps", "seed"})},
            "sweep": {"method": args.sweep_method, "threads": t.threads or os.cpu_count(),
                      "max_trials": args.max_trials, "trial_steps": args.trial_steps,
                      **t.sweep.model_dump(exclude={"max_trials", "trial_steps", "median_stop", "space"}),
                      "space": t.sweep.space.model_dump(exclude={"learning_rate"})},
        },
        "throughput": rows,
        "qlora_vs_lora": qlora_vs_lora(rows),
        "sweeps": sweeps,
        "comparison": comparison,
    }, indent=2) + "\n")
    print(f"\ntotal {total} s, load average {machine['load_average_at_start']} -> {machine['load_average_at_end']}")
    print(f"wrote {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
