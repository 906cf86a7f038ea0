"""Paired bootstrap confidence intervals and the gate's pass/fail rule. Pure numpy.

Candidate and champion answer the same items, so the gate bootstraps the per-item differences
(candidate - champion): item difficulty cancels out and the interval is much narrower than two
independent intervals would suggest. A metric passes when the interval rules out a regression
larger than its tolerance and the candidate's own mean clears its floor. Direction is explicit:
for lower-is-better metrics (NLL) a regression is a positive difference. A metric may also demand an
improvement (``min_improvement``): the whole interval must lie beyond it, as a first candidate's NLL
must against its own base model. And it may refuse a regression the interval proves
(``max_significant_regression``): the whole interval lies beyond it on the worse side, as a first
candidate's generation metrics must not against its own base model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

_CHUNK_DRAWS = 2_000_000  # index draws held in memory at once


@dataclass(frozen=True)
class Threshold:
    """What one metric must satisfy.

    ``max_regression``: how much worse than the champion the candidate may be, in the metric's own
    units, judged on the confidence bound (0 = the interval must rule out any regression).
    ``floor``: the worst acceptable candidate mean, a minimum for higher-is-better metrics and a
    maximum for lower-is-better ones; None = no absolute bound.

    ``min_improvement``: when set, the interval must show the candidate better than the reference by more
    than this (0 = any improvement the interval rules in entirely); None = no improvement demanded.

    ``max_significant_regression``: when set, the candidate fails when the interval shows it worse than the
    reference by more than this, i.e. the whole interval lies beyond it on the worse side (0 = any significant
    regression); unlike ``max_regression`` it judges the bound nearer to no difference. None = not checked.
    """

    max_regression: float = 0.0
    floor: float | None = None
    min_improvement: float | None = None
    max_significant_regression: float | None = None

    def __post_init__(self):
        if self.max_regression < 0:
            raise ValueError(f"max_regression must be >= 0, got {self.max_regression}")
        if self.min_improvement is not None and self.min_improvement < 0:
            raise ValueError(f"min_improvement must be >= 0, got {self.min_improvement}")
        if self.max_significant_regression is not None and self.max_significant_regression < 0:
            raise ValueError(f"max_significant_regression must be >= 0, got {self.max_significant_regression}")


@dataclass(frozen=True)
class MetricDecision:
    metric: str
    higher_is_better: bool
    n: int
    candidate_mean: float
    champion_mean: float | None
    difference: float | None  # mean(candidate - champion)
    ci_low: float | None  # percentile bootstrap interval of the difference
    ci_high: float | None
    max_regression: float
    floor: float | None
    regression_ok: bool | None  # None: no champion to compare with
    floor_ok: bool | None  # None: no floor set
    passed: bool
    gated: bool = True  # False: measured and reported, but without a threshold it decides nothing
    min_improvement: float | None = None
    improvement_ok: bool | None = None  # None: no improvement demanded (or no reference)
    max_significant_regression: float | None = None
    significant_regression_ok: bool | None = None  # False: the interval proves a regression beyond the above


def bootstrap_mean_ci(
    values: np.ndarray, *, n_resamples: int = 10_000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (pass paired differences for a paired CI).

    Resamples items with replacement ``n_resamples`` times from ``np.random.default_rng(seed)`` and
    returns the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of the resampled means.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"need a non-empty 1-d array, got shape {values.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    n = values.size
    chunk = max(1, _CHUNK_DRAWS // n)
    means = np.concatenate(
        [values[rng.integers(0, n, size=(min(chunk, n_resamples - done), n))].mean(axis=1)
         for done in range(0, n_resamples, chunk)]
    )  # fmt: skip
    alpha = 1 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def decide_metric(
    metric: str,
    candidate: np.ndarray,
    champion: np.ndarray | None,
    *,
    higher_is_better: bool,
    threshold: Threshold,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> MetricDecision:
    """One metric's verdict; ``candidate[i]`` and ``champion[i]`` must score the same item."""
    candidate = np.asarray(candidate, dtype=np.float64)
    candidate_mean = float(candidate.mean())
    floor_ok = None
    if threshold.floor is not None:
        floor_ok = candidate_mean >= threshold.floor if higher_is_better else candidate_mean <= threshold.floor
    champion_mean = difference = low = high = regression_ok = improvement_ok = significant_regression_ok = None
    if champion is not None:
        champion = np.asarray(champion, dtype=np.float64)
        if champion.shape != candidate.shape:
            raise ValueError(f"{metric}: candidate has {candidate.shape} scores, champion {champion.shape}")
        diffs = candidate - champion
        champion_mean, difference = float(champion.mean()), float(diffs.mean())
        low, high = bootstrap_mean_ci(diffs, n_resamples=n_resamples, confidence=confidence, seed=seed)
        regression_ok = low >= -threshold.max_regression if higher_is_better else high <= threshold.max_regression
        if threshold.min_improvement is not None:
            gain = threshold.min_improvement
            improvement_ok = low > gain if higher_is_better else high < -gain
        if threshold.max_significant_regression is not None:
            bound = threshold.max_significant_regression
            significant_regression_ok = high >= -bound if higher_is_better else low <= bound
    return MetricDecision(
        metric=metric,
        higher_is_better=higher_is_better,
        n=int(candidate.size),
        candidate_mean=candidate_mean,
        champion_mean=champion_mean,
        difference=difference,
        ci_low=low,
        ci_high=high,
        max_regression=threshold.max_regression,
        floor=threshold.floor,
        regression_ok=regression_ok,
        floor_ok=floor_ok,
        passed=all(ok is not False for ok in (regression_ok, floor_ok, improvement_ok, significant_regression_ok)),
        min_improvement=threshold.min_improvement,
        improvement_ok=improvement_ok,
        max_significant_regression=threshold.max_significant_regression,
        significant_regression_ok=significant_regression_ok,
    )


def decide(
    candidate: dict[str, np.ndarray],
    champion: dict[str, np.ndarray] | None,
    higher_is_better: dict[str, bool],
    thresholds: dict[str, Threshold],
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[MetricDecision]:
    """A decision for every measured metric; those without a threshold are reported, not gated.

    A threshold for a metric that was not measured is an error, not a silent pass: a typo in the
    config must not open the gate.
    """
    unknown = sorted(set(thresholds) - set(candidate))
    if unknown:
        raise KeyError(f"thresholds name metrics that were not measured: {unknown}; measured: {sorted(candidate)}")
    decisions = []
    for metric in [*thresholds, *sorted(set(candidate) - set(thresholds))]:
        decision = decide_metric(
            metric,
            candidate[metric],
            None if champion is None else champion[metric],
            higher_is_better=higher_is_better[metric],
            threshold=thresholds.get(metric, Threshold()),
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )
        if metric not in thresholds:
            decision = replace(decision, passed=True, gated=False)
        decisions.append(decision)
    return decisions
