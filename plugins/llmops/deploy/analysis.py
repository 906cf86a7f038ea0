"""Sequential canary analysis: canary against stable on the same windows, valid at every look.

Each metric is a proportion per variant (error rate: 5xx answers, the gateway's 504 timeouts included;
latency: the share of requests slower than the stable's p95 bucket bound in the first window), so one test
serves both. Each variant's proportion gets an always-valid confidence sequence from Robbins' two-sided
normal-mixture boundary for a 1/2-sub-Gaussian sum (Howard et al. 2021, "Time-uniform, nonparametric,
nonasymptotic confidence sequences", eq. 3.7): by Ville's inequality it holds at every look at once, so
looking after each window and stopping at the first bad one keeps the error rate at ``alpha``. The
difference's interval is the two sequences' Minkowski difference, each at ``alpha / 2``.

Decision per metric: rollback when the interval's lower end exceeds the threshold (the canary is worse with
confidence), otherwise pass; fewer than ``min_requests`` canary or stable requests is *insufficient*, never
a pass.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum

from llmops.config import DeployAnalysisSettings
from llmops.serving.backends.base import VariantMetrics

_SUB_GAUSSIAN_VARIANCE = 0.25  # a [0, 1] observation is 1/2-sub-Gaussian


class Decision(StrEnum):
    CONTINUE = "continue"
    ROLLBACK = "rollback"
    INSUFFICIENT = "insufficient data"


@dataclass(frozen=True)
class Counts:
    """A variant's outcomes over a window (or summed over windows): requests, errors, and requests slower
    than the latency bound."""

    requests: int
    errors: int
    slow: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.requests + other.requests, self.errors + other.errors, self.slow + other.slow)


def mixture_radius(n: int, alpha: float, rho: float) -> float:
    """Half-width of the always-valid confidence sequence for the mean of ``n`` [0, 1] observations."""
    if n <= 0:
        return math.inf
    v = _SUB_GAUSSIAN_VARIANCE * n
    return math.sqrt(2 * (v + rho) * math.log(math.sqrt((v + rho) / rho) / alpha)) / n


def mixture_rho(tuned_at: int, alpha: float) -> float:
    """The mixture's precision that makes the boundary tightest near ``tuned_at`` observations
    (Howard et al. 2021, eq. 3.12's approximation)."""
    log_term = 2 * math.log(1 / alpha)
    return _SUB_GAUSSIAN_VARIANCE * tuned_at / (log_term + math.log(1 + log_term))


def proportion_interval(successes: int, n: int, alpha: float, rho: float) -> tuple[float, float]:
    if n <= 0:
        return 0.0, 1.0
    p, r = successes / n, mixture_radius(n, alpha, rho)
    return max(0.0, p - r), min(1.0, p + r)


@dataclass(frozen=True)
class MetricResult:
    metric: str
    stable: float
    canary: float
    difference: float
    low: float  # the always-valid interval on canary - stable
    high: float
    threshold: float
    decision: Decision
    stable_requests: int
    canary_requests: int


def compare(metric: str, stable: tuple[int, int], canary: tuple[int, int], *, threshold: float, alpha: float,
            tuned_at: int, min_requests: int) -> MetricResult:  # fmt: skip
    """Canary minus stable for one proportion, each given as (events, requests)."""
    rho = mixture_rho(tuned_at, alpha)
    (s_k, s_n), (c_k, c_n) = stable, canary
    s_low, s_high = proportion_interval(s_k, s_n, alpha / 2, rho)
    c_low, c_high = proportion_interval(c_k, c_n, alpha / 2, rho)
    s_rate, c_rate = (s_k / s_n if s_n else math.nan), (c_k / c_n if c_n else math.nan)
    low, high = c_low - s_high, c_high - s_low
    if low > threshold:  # clear evidence: decided even on few requests, as the interval is valid at every n
        decision = Decision.ROLLBACK
    elif min(s_n, c_n) < min_requests:
        decision = Decision.INSUFFICIENT
    else:
        decision = Decision.CONTINUE
    return MetricResult(metric, s_rate, c_rate, c_rate - s_rate, low, high, threshold, decision, s_n, c_n)


def analyse(stable: Counts, canary: Counts, cfg: DeployAnalysisSettings) -> list[MetricResult]:
    """Both metrics over the windows seen so far (the counts summed since the rollout began)."""
    common = {"alpha": cfg.alpha, "tuned_at": cfg.tuned_at_requests, "min_requests": cfg.min_requests}
    return [
        compare("error_rate", (stable.errors, stable.requests), (canary.errors, canary.requests),
                threshold=cfg.error_rate_threshold, **common),
        compare("p95_latency_exceedance", (stable.slow, stable.requests), (canary.slow, canary.requests),
                threshold=cfg.latency_exceedance_threshold, **common),
    ]  # fmt: skip


def overall(results: list[MetricResult]) -> Decision:
    """Rollback if any metric says so, else insufficient if any lacks data, else continue."""
    decisions = {r.decision for r in results}
    for decision in (Decision.ROLLBACK, Decision.INSUFFICIENT):
        if decision in decisions:
            return decision
    return Decision.CONTINUE


def rollback_reason(results: list[MetricResult]) -> str:
    """The failing metrics with their values, for tags, logs and the report."""
    return "; ".join(
        f"{r.metric}: canary {r.canary:.4f} vs stable {r.stable:.4f}, difference {r.difference:+.4f} "
        f"interval [{r.low:+.4f}, {r.high:+.4f}] > threshold {r.threshold}"
        for r in results if r.decision is Decision.ROLLBACK
    )  # fmt: skip


def format_table(results: list[MetricResult]) -> str:
    """The aligned analysis table for the task log (Flagger #1810)."""
    header = ("metric", "stable", "canary", "difference [interval]", "threshold", "decision", "requests s/c")
    rows = [header] + [
        (r.metric, f"{r.stable:.4f}", f"{r.canary:.4f}", f"{r.difference:+.4f} [{r.low:+.4f}, {r.high:+.4f}]",
         f"{r.threshold:g}", str(r.decision), f"{r.stable_requests}/{r.canary_requests}")
        for r in results
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def as_dicts(results: list[MetricResult]) -> list[dict]:
    return [{**asdict(r), "decision": str(r.decision)} for r in results]


# -- from the gateway's cumulative series to window counts ------------------------------------------------------


def p95_bound(metrics: VariantMetrics) -> float:
    """The smallest latency bucket bound under which at least 95 % of the variant's requests fall."""
    total = metrics.latency_buckets[-1][1] if metrics.latency_buckets else 0.0
    for bound, cumulative in metrics.latency_buckets:
        if total and cumulative >= 0.95 * total:
            return bound
    return math.inf


def _slower_than(metrics: VariantMetrics, bound: float) -> float:
    total = metrics.latency_buckets[-1][1] if metrics.latency_buckets else 0.0
    under = next((c for b, c in metrics.latency_buckets if b >= bound), total)
    return total - under


def window_counts(before: VariantMetrics | None, after: VariantMetrics | None, latency_bound: float) -> Counts:
    """A variant's counts between two reads of the gateway's cumulative series."""
    if after is None:
        return Counts(0, 0, 0)

    def totals(m: VariantMetrics | None) -> tuple[float, float, float]:
        if m is None:
            return 0.0, 0.0, 0.0
        return sum(m.requests.values()), m.requests.get("5xx", 0.0), _slower_than(m, latency_bound)

    a, b = totals(after), totals(before)
    if a[0] < b[0]:  # the gateway restarted: its counters began again
        b = (0.0, 0.0, 0.0)
    return Counts(*(int(round(x - y)) for x, y in zip(a, b, strict=True)))
