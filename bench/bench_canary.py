"""Benchmark: the canary analysis's false and missed rollbacks, and requests to a decision, against Flagger's and
Argo Rollouts' rules on the same simulated streams.

Per-request outcomes come from real servers, committed as small data files:

* ``bench/data/canary_requests.json``: status, end-to-end latency and time to first token of streamed
  completions from the project's own model server (``llmops.serving.server.serve_model``: transformers serve
  behind the gateway, the tiny fixture model, 16 tokens, two concurrent callers on this 2-core machine), made by
  ``bench_canary.py --record 300``;
* per-prompt F1 of two LoRA adapters trained on the tiny base with seeds 0 and 1, scored against the held-out
  references by the evaluation gate's own harness (``bench/results/eval_power.json``, ``real_models``).

Each simulated rollout draws every window's requests from those samples with replacement (stable and canary
from the same pool), then makes the canary bad in one way: ``null`` (identical), ``errors_+2pt`` (each canary
request also fails with probability 0.02), ``latency_p95_+20%`` (canary latency and TTFT x 1.2), ``quality_-3pt``
(per-prompt score differences, centred on zero as for equal models, shifted by -0.03). A window is
``--window-requests`` requests split by the canary weight (one minute at ten requests a second by default), plus
``--mirror`` mirrored prompt pairs for the quality metric.

Rules, on the same streams:

* ``sequential`` (ours, ``llmops.deploy.analysis`` at ``DeployAnalysisSettings``' defaults): steps 5 -> 25 -> 50 %
  (then 100 % is the promotion), one window each, counts summed since the start; latency/TTFT exceedance over the
  stable's p95 bucket bound of the gateway's own histogram buckets;
* ``flagger``: the docs' Canary analysis (interval 1m, ``threshold: 5``, ``stepWeight: 10``, ``maxWeight: 50``;
  request-success-rate >= 99 %): a check per interval on the canary alone against fixed limits, a failed check
  holds the weight, the fifth one rolls back; latency and TTFT p99 at most 1.1 x the stable's p99 over the
  samples, mean F1 of the interval's mirrored prompts at least the stable's mean - 0.02 (the lines an operator
  would draw from the stable's history);
* ``argo_failureLimit0`` / ``argo_failureLimit3``: an AnalysisRun in the background of setWeight 10 ... 50 steps
  (one measurement per step, same fixed conditions), failed when failures exceed ``failureLimit`` (0 is its
  default, 3 the docs' example).

Reported per scenario and rule: rollback rate (for ``null``: the false-rollback rate), mean canary requests until
the decision (promotion for ``null``, rollback for the bad ones) and mean windows. Target: false rollback <= 5 %,
every bad canary rolled back in >= 90 % of runs, fewer canary requests to a correct decision than Flagger's rule.

Usage:

    .venv/bin/python bench/bench_canary.py [--runs 1000] [--window-requests 600] [--mirror 100]
        [--results bench/results/bench_canary.json] [--record N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llmops.config import DeployAnalysisSettings  # noqa: E402
from llmops.deploy import analysis  # noqa: E402
from llmops.serving.gateway_metrics import LATENCY_BUCKETS, TTFT_BUCKETS  # noqa: E402

REQUESTS_FILE = ROOT / "bench" / "data" / "canary_requests.json"
SCORES_FILE = ROOT / "bench" / "results" / "eval_power.json"
OUR_STEPS = (0.05, 0.25, 0.50)  # DeploySettings.steps before the 100 % promotion
FLAGGER = {"threshold": 5, "step_weight": 0.10, "max_weight": 0.50, "min_success": 0.99}
FIXED_SLACK = {"latency": 1.1, "quality": 0.02}  # the fixed lines: 1.1 x stable p99, stable mean F1 - 0.02
MAX_WINDOWS = 50  # a rule still undecided by then counts as undecided


@dataclass
class Samples:
    """The per-request and per-prompt pools the streams are drawn from."""

    failed: np.ndarray  # bool per request
    latency: np.ndarray  # seconds
    ttft: np.ndarray
    stable_f1: np.ndarray  # per held-out prompt
    diff_f1: np.ndarray  # canary - stable per prompt, centred: equal models


def load_samples() -> Samples:
    requests = json.loads(REQUESTS_FILE.read_text())["requests"]
    scores = json.loads(SCORES_FILE.read_text())["real_models"]["scores"]
    stable, other = np.array(scores["seed0"]["f1"]), np.array(scores["seed1"]["f1"])
    diff = other - stable
    return Samples(
        failed=np.array([r["status"] >= 500 for r in requests]),
        latency=np.array([r["latency_s"] for r in requests]),
        ttft=np.array([r["ttft_s"] if r["ttft_s"] is not None else r["latency_s"] for r in requests]),
        stable_f1=stable,
        diff_f1=diff - diff.mean(),
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    extra_errors: float = 0.0
    slowdown: float = 1.0
    quality_shift: float = 0.0


SCENARIOS = (
    Scenario("null"),
    Scenario("errors_+2pt", extra_errors=0.02),
    Scenario("latency_p95_+20%", slowdown=1.2),
    Scenario("quality_-3pt", quality_shift=-0.03),
)


@dataclass
class Window:
    """One window's draws for each variant: failed, latency, ttft per request; (stable, canary) F1 per prompt."""

    stable: tuple[np.ndarray, np.ndarray, np.ndarray]
    canary: tuple[np.ndarray, np.ndarray, np.ndarray]
    pairs: np.ndarray  # shape (mirror, 2)


def draw(rng: np.random.Generator, s: Samples, sc: Scenario, n_stable: int, n_canary: int, mirror: int) -> Window:
    def requests(n: int, bad: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        i = rng.integers(0, len(s.latency), n)
        failed, latency, ttft = s.failed[i], s.latency[i], s.ttft[i]
        if bad:
            failed = failed | (rng.random(n) < sc.extra_errors)
            latency, ttft = latency * sc.slowdown, ttft * sc.slowdown
        return failed, latency, ttft

    j = rng.integers(0, len(s.stable_f1), mirror)
    stable_f1 = s.stable_f1[j]
    canary_f1 = np.clip(stable_f1 + s.diff_f1[j] + sc.quality_shift, 0.0, 1.0)
    return Window(requests(n_stable, False), requests(n_canary, True), np.stack([stable_f1, canary_f1], axis=1))


def bucket_p95(values: np.ndarray, buckets: tuple[float, ...]) -> float:
    """The stable's p95 as the gateway's histogram gives it: the smallest bucket bound over 95 % of requests."""
    cumulative = [(b, float((values <= b).sum())) for b in buckets] + [(float("inf"), float(len(values)))]
    return analysis.p95_bound(cumulative)


def counts(variant: tuple[np.ndarray, np.ndarray, np.ndarray], bounds: tuple[float, float]) -> analysis.Counts:
    failed, latency, ttft = variant
    n = len(failed)
    return analysis.Counts(n, int(failed.sum()), int((latency > bounds[0]).sum()), n, int((ttft > bounds[1]).sum()))


def run_sequential(rng, s: Samples, sc: Scenario, cfg: DeployAnalysisSettings, w_requests: int, mirror: int,
                   bounds: tuple[float, float]) -> tuple[bool, int, int]:  # fmt: skip
    """Our rollout: (rolled back, canary requests seen, windows). A window short of data is an
    'insufficient' look, which ends the rollout as a rollback (as at the step deadline)."""
    stable, canary = analysis.Counts(0, 0, 0), analysis.Counts(0, 0, 0)
    pairs: list[tuple[float, float]] = []
    seen = 0
    for k, weight in enumerate(OUR_STEPS, 1):
        n_c = round(w_requests * weight)
        window = draw(rng, s, sc, w_requests - n_c, n_c, mirror)
        stable, canary = stable + counts(window.stable, bounds), canary + counts(window.canary, bounds)
        pairs += [tuple(p) for p in window.pairs.tolist()]
        seen += n_c
        decision = analysis.overall(analysis.analyse(stable, canary, cfg, pairs if mirror else None))
        if decision is not analysis.Decision.CONTINUE:
            return True, seen, k
    return False, seen, len(OUR_STEPS)


def fixed_check(window: Window, limits: dict[str, float]) -> bool:
    """Flagger's/Argo's per-interval check on the canary alone: True when every metric is within its fixed limit."""
    failed, latency, ttft = window.canary
    if len(failed) and 1 - failed.mean() < limits["min_success"]:
        return False
    if len(latency) and np.quantile(latency, 0.99) > limits["latency_p99"]:
        return False
    if len(ttft) and np.quantile(ttft, 0.99) > limits["ttft_p99"]:
        return False
    return not (len(window.pairs) and window.pairs[:, 1].mean() < limits["quality_min"])


def run_flagger(rng, s: Samples, sc: Scenario, limits: dict[str, float], w_requests: int,
                mirror: int) -> tuple[bool | None, int, int]:  # fmt: skip
    weight, failures, seen = FLAGGER["step_weight"], 0, 0
    for k in range(1, MAX_WINDOWS + 1):
        n_c = round(w_requests * weight)
        window = draw(rng, s, sc, w_requests - n_c, n_c, mirror)
        seen += n_c
        if not fixed_check(window, limits):
            failures += 1
            if failures >= FLAGGER["threshold"]:
                return True, seen, k
            continue  # a failed check holds the weight
        if weight >= FLAGGER["max_weight"] - 1e-9:
            return False, seen, k
        weight += FLAGGER["step_weight"]
    return None, seen, MAX_WINDOWS


def run_argo(rng, s: Samples, sc: Scenario, limits: dict[str, float], w_requests: int, mirror: int,
             failure_limit: int) -> tuple[bool, int, int]:  # fmt: skip
    weights = np.arange(FLAGGER["step_weight"], FLAGGER["max_weight"] + 1e-9, FLAGGER["step_weight"])
    failures, seen = 0, 0
    for k, weight in enumerate(weights, 1):
        n_c = round(w_requests * weight)
        window = draw(rng, s, sc, w_requests - n_c, n_c, mirror)
        seen += n_c
        failures += not fixed_check(window, limits)
        if failures > failure_limit:
            return True, seen, k
    return False, seen, len(weights)


def simulate(rule: Callable, sc: Scenario, runs: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    outcomes = [rule(rng, sc) for _ in range(runs)]
    rolled = [o for o in outcomes if o[0] is True]
    correct = [o for o in outcomes if o[0] is (sc.name != "null")]
    return {
        "rollback_rate": len(rolled) / runs,
        "undecided_rate": sum(o[0] is None for o in outcomes) / runs,
        "canary_requests_to_correct_decision": float(np.mean([o[1] for o in correct])) if correct else None,
        "windows_to_correct_decision": float(np.mean([o[2] for o in correct])) if correct else None,
    }


def record(n: int, out: Path, concurrency: int = 2, max_tokens: int = 16) -> None:
    """Stream ``n`` completions from the tiny fixture model served by the project's server; write the outcomes."""
    import tempfile  # noqa: PLC0415
    import threading  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    from llmops.serving.server import serve_model  # noqa: PLC0415
    from tests.training.fixtures import build_tiny_model, qa_pairs  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="bench-canary-"))
    prompts = [q for q, _ in qa_pairs(n, seed=11)]
    samples: list[dict] = []
    lock = threading.Lock()
    with serve_model(build_tiny_model(work / "tiny"), model_name="support-assistant-v1", max_tokens=max_tokens,
                     request_timeout_s=30, max_in_flight=concurrency, log_dir=work / "logs") as endpoint:  # fmt: skip

        def caller(indices: range) -> None:
            with httpx.Client(timeout=60) as client:
                for i in indices:
                    body = {"model": endpoint.model, "prompt": prompts[i], "max_tokens": max_tokens, "stream": True,
                            "temperature": 0}  # fmt: skip
                    started, ttft, status = time.monotonic(), None, 599
                    try:
                        with client.stream("POST", f"{endpoint.base_url}/completions", json=body) as answer:
                            status = answer.status_code
                            for line in answer.iter_lines():
                                if ttft is None and line.startswith("data: ") and '"text"' in line:
                                    ttft = time.monotonic() - started
                    except httpx.HTTPError:
                        pass
                    with lock:
                        samples.append({"status": status, "latency_s": round(time.monotonic() - started, 5),
                                        "ttft_s": None if ttft is None else round(ttft, 5)})  # fmt: skip

        threads = [threading.Thread(target=caller, args=(range(k, n, concurrency),)) for k in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    out.write_text(json.dumps({"made_by": f"bench/bench_canary.py --record {n}", "max_tokens": max_tokens,
                               "concurrency": concurrency, "requests": samples}))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--window-requests", type=int, default=600, help="requests per window, both variants")
    parser.add_argument(
        "--mirror",
        type=int,
        default=DeployAnalysisSettings().quality_prompts_per_step,
        help="mirrored prompt pairs per window (0: no quality metric)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--analysis",
        type=json.loads,
        default={},
        metavar="JSON",
        help="DeployAnalysisSettings overrides, e.g. '{\"alpha\": 0.1}' (default: the settings)",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "bench_canary.json")
    parser.add_argument("--record", type=int, metavar="N", help=f"record N requests into {REQUESTS_FILE} and stop")
    args = parser.parse_args()
    if args.record:
        record(args.record, REQUESTS_FILE)
        return 0
    started = time.monotonic()
    s, cfg = load_samples(), DeployAnalysisSettings(**args.analysis)
    bounds = (bucket_p95(s.latency, LATENCY_BUCKETS), bucket_p95(s.ttft, TTFT_BUCKETS))
    slack = FIXED_SLACK["latency"]
    limits = {"min_success": FLAGGER["min_success"], "latency_p99": slack * np.quantile(s.latency, 0.99),
              "ttft_p99": slack * np.quantile(s.ttft, 0.99),
              "quality_min": s.stable_f1.mean() - FIXED_SLACK["quality"]}  # fmt: skip
    w, m = args.window_requests, args.mirror
    rules = {
        "sequential": lambda rng, sc: run_sequential(rng, s, sc, cfg, w, m, bounds),
        "flagger": lambda rng, sc: run_flagger(rng, s, sc, limits, w, m),
        "argo_failureLimit0": lambda rng, sc: run_argo(rng, s, sc, limits, w, m, 0),
        "argo_failureLimit3": lambda rng, sc: run_argo(rng, s, sc, limits, w, m, 3),
    }
    rows = []
    for sc in SCENARIOS:
        for name, rule in rules.items():
            rows.append({"scenario": sc.name, "rule": name, **simulate(rule, sc, args.runs, args.seed)})
    by = {(r["scenario"], r["rule"]): r for r in rows}
    seq_ok = by[("null", "sequential")]["rollback_rate"] <= 0.05 and all(
        by[(sc.name, "sequential")]["rollback_rate"] >= 0.90 for sc in SCENARIOS[1:]
    )
    ours, flagger = ({sc.name: by[(sc.name, rule)]["canary_requests_to_correct_decision"] or np.inf for sc in SCENARIOS}
                     for rule in ("sequential", "flagger"))  # fmt: skip
    fewer = all(ours[name] < flagger[name] for name in ours)
    report = {
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version()},
        "setup": {
            "runs": args.runs,
            "window_requests": w,
            "mirror_per_window": m,
            "seed": args.seed,
            "requests_file": str(REQUESTS_FILE.relative_to(ROOT)),
            "request_samples": len(s.latency),
            "sample_error_rate": float(s.failed.mean()),
            "quality_items": len(s.stable_f1),
            "paired_f1_sd": float(s.diff_f1.std()),
            "stable_p95_bounds_s": bounds,
            "fixed_limits": {k: float(v) for k, v in limits.items()},
            "analysis": cfg.model_dump(),
            "our_steps": OUR_STEPS,
            "flagger": FLAGGER,
        },  # fmt: skip
        "results": rows,
        "target": {"false_rollback_le_5pct_and_bad_ge_90pct": seq_ok, "fewer_requests_than_flagger": fewer},
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=1))
    print(f"{'scenario':<18} {'rule':<20} {'rollback':>9} {'undecided':>9} {'canary req':>11} {'windows':>8}")
    for r in rows:
        req, win = r["canary_requests_to_correct_decision"], r["windows_to_correct_decision"]
        print(f"{r['scenario']:<18} {r['rule']:<20} {r['rollback_rate']:>9.3f} {r['undecided_rate']:>9.3f} "
              f"{'-' if req is None else f'{req:.0f}':>11} {'-' if win is None else f'{win:.2f}':>8}")  # fmt: skip
    print(f"target met: {report['target']}  ({report['seconds']} s; results in {args.results})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
