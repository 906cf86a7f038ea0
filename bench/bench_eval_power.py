"""Benchmark: the statistical power of the evaluation gate's paired bootstrap rule.

How often does the gate reject a candidate whose true mean is 0, 1, 2 or 5 points below the
champion's, for test splits of ~120 items (gold at 3,000 records) and 500 items? Per simulated
gate run, candidate and champion score the same items; their per-item scores are drawn from a
Gaussian copula (latent correlation ``--rho``: both models find the same items hard), so the
marginal means are exact and the true regression is known:

  exact_match  Bernoulli, champion p = 0.30
  f1           Beta with mean 0.45 and concentration 1.5 (U-shaped: many near-0, some near-1 items)
  gate         both of the above from the same items; the run fails when either metric fails

Each run goes through ``llmops.evaluation.stats.decide_metric`` with the gate's default thresholds
(``gate.DEFAULT_THRESHOLDS``) and its 95% percentile interval. Reported per cell: rejection rate
(regression > 0: power; regression = 0: false-rejection rate, target <= 5%), and the tolerance that
would hold false rejection at exactly 5% (the 5th percentile of -CI_low at no regression) with the
power it would buy. From that tolerance it also estimates (normal approximation, SE ~ 1/sqrt(n)) how
many items a 5-point regression needs to be caught 80% of the time at 5% false rejection.

Real models (``--real``, issue 11 §4): per-item scores of two LoRA adapters trained on the tiny fixture base with
the project trainer (same recipe, seeds 0 and 1, on Q/A pairs the test items are not among) and of the base
itself, scored by the real lm-eval harness on ``--real-items`` held-out items (the demo's test size). Each
simulated gate run resamples item pairs with replacement, centres their paired differences (the null: equal
models) and shifts them by the regression: 2 F1 points, +0.05 nats/token NLL. Both rules are applied: today's
tolerances (NLL 0.10) and the gate's configured ones. The first-candidate rule (the interval of base - candidate
NLL above the configured gain) is measured as a pass rate on the real adapter-vs-base pairs (should be ~1) and
on the same pairs centred (a candidate with no gain over its base, which the rule must reject: should be ~0).
Usage:

    .venv/bin/python bench/bench_eval_power.py [--sims 400] [--resamples 1000] [--rho 0.7]
        [--results bench/results/eval_power.json] [--real] [--real-items 120]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

from llmops.config import settings
from llmops.evaluation.gate import DEFAULT_THRESHOLDS, first_candidate_thresholds
from llmops.evaluation.stats import Threshold, decide_metric

RESULTS = Path(__file__).with_name("results") / "eval_power.json"
SIZES = (120, 500)
REGRESSIONS = (0.0, 0.01, 0.02, 0.05)
EM_P = 0.30
F1_MEAN, F1_CONCENTRATION = 0.45, 1.5
TARGET_FALSE_REJECTION = 0.05
TARGET_POWER, POWER_AT = 0.80, 0.05


def paired_latents(rng: np.random.Generator, n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-item uniforms for champion and candidate, correlated through a Gaussian copula."""
    z = rng.standard_normal((2, n))
    champion = z[0]
    candidate = rho * z[0] + np.sqrt(1 - rho**2) * z[1]
    return sps.norm.cdf(champion), sps.norm.cdf(candidate)


def exact_match(u: np.ndarray, p: float) -> np.ndarray:
    return (u > 1 - p).astype(float)  # the easiest items (high u) are the ones answered exactly


def f1(u: np.ndarray, mean: float) -> np.ndarray:
    return sps.beta.ppf(u, mean * F1_CONCENTRATION, (1 - mean) * F1_CONCENTRATION)


def simulate(n: int, regression: float, rho: float, sims: int, resamples: int, seed: int) -> dict:
    """CI lows and pass/fail of each metric, and of the two-metric gate, over ``sims`` simulated runs."""
    rng = np.random.default_rng(seed)
    lows = {"exact_match": [], "f1": []}
    failed = {"exact_match": [], "f1": [], "gate": []}
    for i in range(sims):
        u_champion, u_candidate = paired_latents(rng, n, rho)
        pairs = {
            "exact_match": (exact_match(u_candidate, EM_P - regression), exact_match(u_champion, EM_P)),
            "f1": (f1(u_candidate, F1_MEAN - regression), f1(u_champion, F1_MEAN)),
        }
        run_failed = False
        for metric, (candidate, champion) in pairs.items():
            decision = decide_metric(
                metric, candidate, champion, higher_is_better=True, threshold=DEFAULT_THRESHOLDS[metric],
                n_resamples=resamples, seed=i,
            )  # fmt: skip
            lows[metric].append(decision.ci_low)
            failed[metric].append(not decision.passed)
            run_failed |= not decision.passed
        failed["gate"].append(run_failed)
    return {"lows": {k: np.array(v) for k, v in lows.items()}, "failed": {k: np.mean(v) for k, v in failed.items()}}


def items_needed(n: int, calibrated_tolerance: float, confidence: float = 0.95) -> int:
    """Items for TARGET_POWER at a POWER_AT regression with a recalibrated tolerance (normal approximation).

    Failing iff CI_low < -tolerance and false rejection 5% puts the tolerance at (z_ci + z_fr) SE; a
    regression d is then caught with power P when d / SE = z_fr + z_P, and SE scales as 1/sqrt(n).
    """
    z_ci = sps.norm.ppf(0.5 + confidence / 2)
    se = calibrated_tolerance / (z_ci + sps.norm.ppf(1 - TARGET_FALSE_REJECTION))
    se_needed = POWER_AT / (sps.norm.ppf(1 - TARGET_FALSE_REJECTION) + sps.norm.ppf(TARGET_POWER))
    return int(np.ceil(n * (se / se_needed) ** 2))


# ---------------------------------------------------------------- per-item scores of real models

TODAY = {"f1": Threshold(0.10), "nll": Threshold(0.10)}  # the tolerances before issue 11 (NLL 0.10 nats/token)
REAL_REGRESSION = {"f1": -0.02, "nll": 0.05}  # 2 F1 points; +0.05 nats/token (a regression in each one's direction)
HIGHER_IS_BETTER = {"exact_match": True, "f1": True, "rouge_l": True, "nll": False}


def real_scores(n_items: int, steps: int, work: Path) -> dict[str, dict[str, list[float]]]:
    """Per-item scores (by item, same order) of the tiny base and two adapters trained with seeds 0 and 1."""
    import torch  # noqa: PLC0415 - only the real-model part needs it

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fixture models live in the tests package
    from llmops.evaluation.harness import ModelRef, evaluate_model  # noqa: PLC0415
    from llmops.tokenizer import load_tokenizer  # noqa: PLC0415
    from llmops.training.sft_data import encode_example  # noqa: PLC0415
    from tests.gates.fixture_models import Recipe, train_adapter  # noqa: PLC0415
    from tests.training.fixtures import SYSTEM, build_tiny_model, qa_pairs  # noqa: PLC0415

    torch.set_num_threads(1)
    base = build_tiny_model(work / "base")
    tok = load_tokenizer(base)
    train = qa_pairs(400, seed=0)
    held_out = [p for p in dict.fromkeys(qa_pairs(4 * n_items, seed=7)) if p not in set(train)][:n_items]
    if len(held_out) < n_items:
        raise ValueError(f"only {len(held_out)} held-out Q/A pairs, {n_items} asked for")
    examples = [encode_example(tok, SYSTEM, q, None, a, 64) for q, a in train]
    items = [{"example_id": f"qa-{i:04d}", "source": "faq", "system": SYSTEM, "instruction": q, "input": "",
              "output": a} for i, (q, a) in enumerate(held_out)]  # fmt: skip
    models = {"base": ModelRef(str(base))}
    for seed in (0, 1):
        recipe = Recipe(steps=steps, batch_size=16, learning_rate=1e-2, rank=16, seed=seed)
        train_adapter(base, examples, tok.pad_token_id, recipe, work / f"seed{seed}")
        models[f"seed{seed}"] = ModelRef(str(base), str(work / f"seed{seed}"))
    scores = {}
    for name, model in models.items():
        run = evaluate_model(model, items, work / "lm_eval" / name, max_new_tokens=16)
        keys = sorted(run.scores["nll"])
        scores[name] = {m: [run.scores[m][k] for k in keys] for m in HIGHER_IS_BETTER}
    return scores


def resampled_failures(
    candidate: np.ndarray, reference: np.ndarray, metric: str, shift: float, threshold: Threshold, *,
    centred: bool, n: int, sims: int, resamples: int, seed: int,
) -> tuple[float, np.ndarray]:  # fmt: skip
    """Failure rate of the rule over ``sims`` gate runs on ``n`` item pairs resampled from the real pairs, their
    differences centred (the null) or not, then shifted by ``shift``; and each run's interval bound on the
    regression side (CI high for lower-is-better metrics, -CI low otherwise)."""
    rng = np.random.default_rng(seed)
    diffs = candidate - reference
    if centred:
        diffs = diffs - diffs.mean()
    higher = HIGHER_IS_BETTER[metric]
    failed, bounds = [], []
    for i in range(sims):
        pick = rng.integers(0, reference.size, n)
        d = decide_metric(metric, reference[pick] + diffs[pick] + shift, reference[pick], higher_is_better=higher,
                          threshold=threshold, n_resamples=resamples, seed=i)  # fmt: skip
        failed.append(not d.passed)
        bounds.append(-d.ci_low if higher else d.ci_high)
    return float(np.mean(failed)), np.array(bounds)


def real_power(scores: dict, n: int, sims: int, resamples: int, seed: int) -> list[dict]:
    """Champion path (seed-1 adapter vs seed-0 adapter): false rejection and power, today's rule and the gate's;
    first-candidate rule (adapter vs its base): pass rate of the real adapter and of a no-gain candidate."""
    rows = []
    cand, champ = scores["seed1"], scores["seed0"]
    for metric, regression in REAL_REGRESSION.items():
        c, r = np.array(cand[metric]), np.array(champ[metric])
        for rule, threshold in (("today", TODAY[metric]), ("gate", DEFAULT_THRESHOLDS[metric])):
            row = {"path": "champion", "metric": metric, "rule": rule, "n_items": n,
                   "tolerance": threshold.max_regression, "regression": regression}  # fmt: skip
            null, bounds = resampled_failures(c, r, metric, 0.0, threshold, centred=True, n=n, sims=sims,
                                              resamples=resamples, seed=seed)  # fmt: skip
            power, _ = resampled_failures(c, r, metric, regression, threshold, centred=True, n=n, sims=sims,
                                          resamples=resamples, seed=seed + 1)  # fmt: skip
            calibrated = float(np.quantile(bounds, 1 - TARGET_FALSE_REJECTION))
            row.update(false_rejection=null, power=power, calibrated_tolerance=round(calibrated, 4),
                       paired_sd=float(np.std(c - r, ddof=1)))  # fmt: skip
            rows.append(row)
    gain = settings().evaluation.first_candidate_min_nll_gain
    first = first_candidate_thresholds(DEFAULT_THRESHOLDS, gain)["nll"]
    c, b = np.array(scores["seed0"]["nll"]), np.array(scores["base"]["nll"])
    for case, centred in (("trained adapter", False), ("no-gain candidate", True)):
        failed, _ = resampled_failures(c, b, "nll", 0.0, first, centred=centred, n=n, sims=sims,
                                       resamples=resamples, seed=seed + 2)  # fmt: skip
        rows.append({"path": "first_candidate", "metric": "nll", "rule": f"gain > {gain:g}", "n_items": n,
                     "case": case, "pass_rate": 1 - failed, "mean_gain": float(np.mean(b - c)) if not centred else 0.0,
                     "paired_sd": float(np.std(c - b, ddof=1))})  # fmt: skip
    return rows


def format_real_table(rows: list[dict]) -> list[str]:
    lines = [f"{'path':<16}{'metric':<6}{'rule':<9}{'n':>5}{'tol.':>7}{'false rej.':>11}{'power':>7}"
             f"{'at':>7}{'calib. tol.':>12}{'paired sd':>10}"]  # fmt: skip
    for r in rows:
        if r["path"] == "champion":
            lines.append(f"{'champion':<16}{r['metric']:<6}{r['rule']:<9}{r['n_items']:>5}{r['tolerance']:>7.3f}"
                         f"{r['false_rejection']:>11.3f}{r['power']:>7.3f}{r['regression']:>+7.2f}"
                         f"{r['calibrated_tolerance']:>12.4f}{r['paired_sd']:>10.4f}")  # fmt: skip
        else:
            lines.append(f"{'first candidate':<16}{r['metric']:<6}{r['rule']:<9}{r['n_items']:>5}  {r['case']}: "
                         f"passes {r['pass_rate']:.3f} (mean gain {r['mean_gain']:+.3f} nats/token, "
                         f"paired sd {r['paired_sd']:.3f})")  # fmt: skip
    return lines


def format_table(rows: list[dict]) -> list[str]:
    def rate(value: float | None, digits: int) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [
        f"{'n':>4}  {'metric':<12}  {'regression':>10}  {'rejected':>8}  {'calib. tol.':>11}  {'rejected@calib.':>15}"
    ]
    for r in rows:
        lines.append(
            f"{r['n_items']:>4}  {r['metric']:<12}  {r['true_regression']:>10.2f}  {r['rejection_rate']:>8.3f}  "
            f"{rate(r.get('calibrated_tolerance'), 4):>11}  {rate(r.get('rejection_rate_at_calibrated'), 3):>15}"
        )
    return lines


def machine() -> dict:
    return {"nproc": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=400, help="simulated gate runs per cell")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples per run (gate: 10,000)")
    parser.add_argument("--rho", type=float, default=0.7, help="latent correlation of the two models' item scores")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--real", action="store_true", help="also simulate on per-item scores of real models")
    parser.add_argument("--real-items", type=int, default=120, help="held-out items (the demo's test size)")
    parser.add_argument("--real-steps", type=int, default=60, help="training steps of each real adapter")
    parser.add_argument("--scores", type=Path, help="reuse the per-item scores of an earlier --real results JSON")
    args = parser.parse_args(argv)

    started_at, t0 = dt.datetime.now(dt.UTC).isoformat(), time.monotonic()
    rows, needed = [], {}
    for n in args.sizes:
        cells = {r: simulate(n, r, args.rho, args.sims, args.resamples, args.seed + int(r * 1000))
                 for r in REGRESSIONS}  # fmt: skip
        for metric in ("exact_match", "f1", "gate"):
            calibrated = None
            if metric != "gate":
                # smallest tolerance with false rejection <= 5%: fail iff CI_low < -tolerance
                calibrated = float(-np.quantile(cells[0.0]["lows"][metric], TARGET_FALSE_REJECTION))
                needed.setdefault(metric, {})[n] = items_needed(n, calibrated)
            for r in REGRESSIONS:
                row = {"n_items": n, "metric": metric, "true_regression": r}
                row["rejection_rate"] = cells[r]["failed"][metric]
                if calibrated is not None:
                    row["calibrated_tolerance"] = round(calibrated, 4)
                    row["rejection_rate_at_calibrated"] = float(np.mean(cells[r]["lows"][metric] < -calibrated))
                rows.append(row)
    seconds = time.monotonic() - t0

    for line in format_table(rows):
        print(line)
    for metric, by_n in needed.items():
        estimates = ", ".join(f"~{v} (from n={n})" for n, v in by_n.items())
        print(f"items for {TARGET_POWER:.0%} power at a {POWER_AT * 100:g}-point regression, {metric}: {estimates}")
    print(f"{args.sims} simulated runs per cell, {args.resamples} resamples each, rho={args.rho}: {seconds:.1f}s")
    real = None
    if args.real or args.scores:
        t1 = time.monotonic()
        if args.scores:
            scores = json.loads(args.scores.read_text())["real_models"]["scores"]
        else:
            import tempfile  # noqa: PLC0415

            with tempfile.TemporaryDirectory() as work:
                scores = real_scores(args.real_items, args.real_steps, Path(work))
        scored_at = time.monotonic()
        real_rows = real_power(scores, args.real_items, args.sims, args.resamples, args.seed)
        for line in format_real_table(real_rows):
            print(line)
        real = {
            "setup": {"models": "tiny fixture base; LoRA adapters, seeds 0 and 1 (tests/gates/fixture_models)",
                      "n_items": args.real_items, "train_steps": args.real_steps, "sims": args.sims,
                      "resamples": args.resamples, "regressions": REAL_REGRESSION,
                      "today": {m: t.max_regression for m, t in TODAY.items()}},
            "seconds": {"scoring": round(scored_at - t1, 1), "simulation": round(time.monotonic() - scored_at, 1)},
            "means": {name: {m: float(np.mean(v)) for m, v in by.items()} for name, by in scores.items()},
            "results": real_rows,
            "scores": scores,
        }  # fmt: skip

    thresholds = {m: {"max_regression": t.max_regression, "floor": t.floor} for m, t in DEFAULT_THRESHOLDS.items()}
    report = {
        "started_at": started_at,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "seconds": round(seconds, 1),
        "machine": machine(),
        "setup": {
            "sims_per_cell": args.sims,
            "resamples": args.resamples,
            "confidence": 0.95,
            "rho": args.rho,
            "exact_match": {"distribution": "bernoulli", "champion_p": EM_P},
            "f1": {"distribution": "beta", "champion_mean": F1_MEAN, "concentration": F1_CONCENTRATION},
            "thresholds": thresholds,
            "target_false_rejection": TARGET_FALSE_REJECTION,
        },
        "results": rows,
        "items_for_80pct_power_at_5pt": {m: {str(n): v for n, v in by_n.items()} for m, by_n in needed.items()},
        "real_models": real,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
