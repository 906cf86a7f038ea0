"""Sequential canary analysis: canary against stable on the same windows, valid at every look.

Three metrics are proportions per variant, so one test serves them: error rate (5xx answers, the gateway's 504
timeouts included), latency and TTFT exceedance (the share of requests slower than the stable's p95 bucket bound
of end-to-end latency, resp. time to first token). Each variant's proportion gets a confidence sequence from
Robbins' two-sided normal-mixture boundary (Howard et al. 2021, "Time-uniform, nonparametric, nonasymptotic
confidence sequences", eq. 3.7); the difference's interval is the two sequences' Minkowski difference, each at
``alpha / 2``. The fourth, answer quality, is paired: mirrored held-out prompts answered by both versions and
scored with the evaluation gate's scorer (:mod:`llmops.deploy.quality`); the same boundary runs on the per-prompt
score differences directly.

The boundary's variance is the running sample variance with one pseudo-observation at the largest variance the
observation can have (1/4 for a proportion, 1 for a score difference in [-1, 1]), which makes it the asymptotic
confidence sequence of Waudby-Smith et al. 2024 ("Time-uniform central limit theory and asymptotic confidence
sequences", Thm 2.5) with a conservative start: the sub-Gaussian bound (1/4 whatever the rate) could not see
two extra points of errors before ~10,000 requests. Either way it holds at every look at once, so looking after
each window and stopping at the first bad one keeps the false-rollback rate near ``alpha``; bench/bench_canary.py
measures it.

Decision per metric: rollback when the interval lies wholly on the bad side of the threshold (the canary is worse
with confidence), otherwise pass; fewer than ``min_requests`` canary or stable observations is *insufficient*,
never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, astuple, dataclass
from enum import StrEnum

from llmops.config import DeployAnalysisSettings
from llmops.serving.backends.base import VariantMetrics

PROPORTION_MAX_VARIANCE = 0.25  # of a [0, 1] observation
DIFFERENCE_MAX_VARIANCE = 1.0  # of a [-1, 1] observation (a score difference)


class Decision(StrEnum):
    CONTINUE = "continue"
    ROLLBACK = "rollback"
    INSUFFICIENT = "insufficient data"


@dataclass(frozen=True)
class Counts:
    """A variant's outcomes over a window (or summed over windows): requests, errors, requests slower than the
    latency bound, and, of the streamed requests (``ttft_requests``), those whose first token came later than
    the TTFT bound."""

    requests: int
    errors: int
    slow: int
    ttft_requests: int = 0
    ttft_slow: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def information_radius(information: float, alpha: float, rho: float) -> float:
    """Robbins' normal-mixture boundary on an estimate whose variance is ``1 / information`` (the mSPRT's
    always-valid interval, Johari et al. 2022, "Always valid inference"); ``rho``: the mixture's precision."""
    if information <= 0:
        return math.inf
    return math.sqrt(2 * (information + rho) * math.log(math.sqrt((information + rho) / rho) / alpha)) / information


def mixture_rho(tuned_at: int, alpha: float, variance: float = PROPORTION_MAX_VARIANCE) -> float:
    """The mixture's precision that makes the boundary tightest near ``tuned_at`` observations
    (Howard et al. 2021, eq. 3.12's approximation), in information units (observations / variance)."""
    log_term = 2 * math.log(1 / alpha)
    return tuned_at / variance / (log_term + math.log(1 + log_term))


def running_variance(sum_x: float, sum_x2: float, n: int, max_variance: float) -> float:
    """Sample variance with one pseudo-observation at ``max_variance``: a few identical outcomes (no error yet,
    identical answers) never claim certainty, and the estimate tends to the true variance as ``n`` grows."""
    squares = max(0.0, sum_x2 - sum_x * sum_x / n) if n else 0.0
    return (squares + max_variance) / (n + 1)


def mean_interval(sum_x: float, sum_x2: float, n: int, alpha: float, tuned_at: int, max_variance: float,
                  bounds: tuple[float, float]) -> tuple[float, float]:  # fmt: skip
    """The always-valid interval on the mean of ``n`` observations (given by their sum and sum of squares)."""
    if n <= 0:
        return bounds
    variance = running_variance(sum_x, sum_x2, n, max_variance)
    radius = information_radius(n / variance, alpha, mixture_rho(tuned_at, alpha, variance))
    return max(bounds[0], sum_x / n - radius), min(bounds[1], sum_x / n + radius)


def difference_interval(stable: tuple[int, int], canary: tuple[int, int], alpha: float,
                        tuned_at: int) -> tuple[float, float]:  # fmt: skip
    """The always-valid interval on canary - stable for two proportions, (events, requests) each: one boundary on
    the difference, whose variance is the sum of the two estimates' (the two-sample mSPRT)."""
    (s_k, s_n), (c_k, c_n) = stable, canary
    if min(s_n, c_n) <= 0:
        return -1.0, 1.0
    s_var = running_variance(s_k, s_k, s_n, PROPORTION_MAX_VARIANCE)
    c_var = running_variance(c_k, c_k, c_n, PROPORTION_MAX_VARIANCE)
    # tuned where each variant has seen tuned_at requests at the variance seen so far
    rho = mixture_rho(tuned_at, alpha, s_var + c_var)
    radius = information_radius(1 / (s_var / s_n + c_var / c_n), alpha, rho)
    difference = c_k / c_n - s_k / s_n
    return max(-1.0, difference - radius), min(1.0, difference + radius)


@dataclass(frozen=True)
class MetricResult:
    metric: str
    stable: float
    canary: float
    difference: float  # canary - stable
    low: float  # the always-valid interval on canary - stable
    high: float
    threshold: float  # signed, on canary - stable: above it is worse (below it where higher_is_better)
    decision: Decision
    stable_requests: int
    canary_requests: int
    higher_is_better: bool = False


def _decide(low: float, high: float, threshold: float, higher_is_better: bool, observed: int,
            min_requests: int) -> Decision:  # fmt: skip
    worse = high < threshold if higher_is_better else low > threshold
    if worse:  # clear evidence: decided even on few requests, as the interval is valid at every n
        return Decision.ROLLBACK
    return Decision.INSUFFICIENT if observed < min_requests else Decision.CONTINUE


def _worse_than_threshold(stable: tuple[int, int], canary: tuple[int, int], threshold: float, alpha: float,
                          tuned_at: int) -> bool:  # fmt: skip
    """The always-valid test of "canary - stable <= threshold" with the variance that hypothesis implies (both
    rates from the pooled events, the canary's ``threshold`` higher; the score test's variance): with rare events
    (errors near 0 %) it sees a 2-point rise several times sooner than the interval, whose variance comes from
    the canary's own rate."""
    (s_k, s_n), (c_k, c_n) = stable, canary
    if min(s_n, c_n) <= 0:
        return False
    n = s_n + c_n
    p_s = min(1.0, max(0.0, (s_k + c_k - c_n * threshold) / n))
    p_c = min(1.0, p_s + threshold)
    # one pseudo-observation at the largest variance per variant, as for the interval
    s_var = (s_n * p_s * (1 - p_s) + PROPORTION_MAX_VARIANCE) / (s_n + 1)
    c_var = (c_n * p_c * (1 - p_c) + PROPORTION_MAX_VARIANCE) / (c_n + 1)
    radius = information_radius(1 / (s_var / s_n + c_var / c_n), alpha, mixture_rho(tuned_at, alpha, s_var + c_var))
    return c_k / c_n - s_k / s_n - threshold > radius


def compare(metric: str, stable: tuple[int, int], canary: tuple[int, int], *, threshold: float, alpha: float,
            tuned_at: int, min_requests: int) -> MetricResult:  # fmt: skip
    """Canary minus stable for one proportion (higher is worse), each given as (events, requests)."""
    (s_k, s_n), (c_k, c_n) = stable, canary
    low, high = difference_interval(stable, canary, alpha, tuned_at)
    s_rate, c_rate = (s_k / s_n if s_n else math.nan), (c_k / c_n if c_n else math.nan)
    decision = _decide(low, high, threshold, False, min(s_n, c_n), min_requests)
    if decision is not Decision.ROLLBACK and _worse_than_threshold(stable, canary, threshold, alpha, tuned_at):
        decision = Decision.ROLLBACK
    return MetricResult(metric, s_rate, c_rate, c_rate - s_rate, low, high, threshold, decision, s_n, c_n)


def compare_paired(metric: str, pairs: Sequence[tuple[float, float]], *, max_drop: float, alpha: float,
                   tuned_at: int, min_pairs: int) -> MetricResult:  # fmt: skip
    """Mean per-prompt score of canary minus stable (higher is better) from (stable, canary) score pairs in [0, 1];
    rollback when the interval lies wholly below ``-max_drop``."""
    n = len(pairs)
    diffs = [c - s for s, c in pairs]
    low, high = mean_interval(sum(diffs), sum(d * d for d in diffs), n, alpha, tuned_at, DIFFERENCE_MAX_VARIANCE,
                              (-1.0, 1.0))  # fmt: skip
    s_mean = sum(s for s, _ in pairs) / n if n else math.nan
    c_mean = sum(c for _, c in pairs) / n if n else math.nan
    threshold = -max_drop or 0.0  # not -0.0 in the table
    decision = _decide(low, high, threshold, True, n, min_pairs)
    return MetricResult(metric, s_mean, c_mean, c_mean - s_mean, low, high, threshold, decision, n, n, True)


def analyse(stable: Counts, canary: Counts, cfg: DeployAnalysisSettings,
            quality: Sequence[tuple[float, float]] | None = None) -> list[MetricResult]:  # fmt: skip
    """Every metric over the windows seen so far (the counts summed since the rollout began); the quality row
    only when mirrored prompts were scored (``quality``: (stable, canary) score per prompt)."""
    common = {"alpha": cfg.alpha, "tuned_at": cfg.tuned_at_requests, "min_requests": cfg.min_requests}
    results = [
        compare("error_rate", (stable.errors, stable.requests), (canary.errors, canary.requests),
                threshold=cfg.error_rate_threshold, **common),
        compare("p95_latency_exceedance", (stable.slow, stable.requests), (canary.slow, canary.requests),
                threshold=cfg.latency_exceedance_threshold, **common),
        compare("p95_ttft_exceedance", (stable.ttft_slow, stable.ttft_requests),
                (canary.ttft_slow, canary.ttft_requests), threshold=cfg.ttft_exceedance_threshold, **common),
    ]  # fmt: skip
    if quality is not None:
        results.append(compare_paired(f"quality_{cfg.quality_metric}", quality, max_drop=cfg.quality_max_drop,
                                      alpha=cfg.alpha, tuned_at=cfg.quality_tuned_at_prompts,
                                      min_pairs=cfg.quality_min_prompts))  # fmt: skip
    return results


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
        f"interval [{r.low:+.4f}, {r.high:+.4f}] {'<' if r.higher_is_better else '>'} threshold {r.threshold:g}"
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


def p95_bound(buckets: list[tuple[float, float]]) -> float:
    """The largest bucket bound at or below a histogram's p95 (at least 5 % of observations lie above it; the
    smallest bound if that already holds more than 95 %). With the gateway's coarse buckets (a factor of 2 apart),
    the bound above the p95 would leave a tail too thin to see a 20 % slowdown."""
    total = buckets[-1][1] if buckets else 0.0
    if not total:
        return math.inf
    under = [bound for bound, cumulative in buckets if cumulative <= 0.95 * total]
    return under[-1] if under else buckets[0][0]


def _above(buckets: list[tuple[float, float]], bound: float) -> float:
    total = buckets[-1][1] if buckets else 0.0
    under = next((c for b, c in buckets if b >= bound), total)
    return total - under


def window_counts(before: VariantMetrics | None, after: VariantMetrics | None, latency_bound: float,
                  ttft_bound: float = math.inf) -> Counts:  # fmt: skip
    """A variant's counts between two reads of the gateway's cumulative series."""
    if after is None:
        return Counts(0, 0, 0)

    def totals(m: VariantMetrics | None) -> tuple[float, ...]:
        if m is None:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        ttft_total = m.ttft_buckets[-1][1] if m.ttft_buckets else 0.0
        return (sum(m.requests.values()), m.requests.get("5xx", 0.0), _above(m.latency_buckets, latency_bound),
                ttft_total, _above(m.ttft_buckets, ttft_bound))  # fmt: skip

    a, b = totals(after), totals(before)
    if a[0] < b[0]:  # the gateway restarted: its counters began again
        b = (0.0,) * len(b)
    return Counts(*(int(round(x - y)) for x, y in zip(a, b, strict=True)))
