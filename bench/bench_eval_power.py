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
many items a 5-point regression needs to be caught 80% of the time at 5% false rejection. Usage:

    .venv/bin/python bench/bench_eval_power.py [--sims 400] [--resamples 1000] [--rho 0.7]
        [--results bench/results/eval_power.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

from llmops.evaluation.gate import DEFAULT_THRESHOLDS
from llmops.evaluation.stats import decide_metric

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
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
