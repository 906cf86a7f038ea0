"""The evaluation gate's statistics: bootstrap intervals against hand-computed cases, metric direction,
and the pass/fail rule with and without a champion."""

from __future__ import annotations

import numpy as np
import pytest

from llmops.evaluation.stats import Threshold, bootstrap_mean_ci, decide, decide_metric


def test_equal_differences_give_a_degenerate_exact_interval():
    assert bootstrap_mean_ci(np.full(37, 0.25), n_resamples=500, seed=3) == (0.25, 0.25)
    assert bootstrap_mean_ci(np.zeros(5), n_resamples=10) == (0.0, 0.0)


@pytest.mark.parametrize(("confidence", "expected"), [(0.95, (0.0, 3.0)), (0.90, (0.0, 2.0))])
def test_percentile_interval_matches_the_exact_bootstrap_distribution(confidence, expected):
    # d = [0, 0, 3]: a resample's mean is k, the number of draws of the 3, k ~ Binomial(3, 1/3):
    # P(0) = 8/27, P(1) = 12/27, P(2) = 6/27, P(3) = 1/27. The 2.5% and 5% quantiles are 0; the 97.5%
    # quantile is 3 (P(k <= 2) = 26/27 = 0.963 < 0.975) and the 95% quantile is 2 (0.963 > 0.95 > 20/27).
    assert bootstrap_mean_ci(np.array([0.0, 0.0, 3.0]), n_resamples=20_000, confidence=confidence) == expected


def test_interval_has_the_width_of_the_standard_error_and_is_seeded():
    values = np.random.default_rng(0).normal(1.0, 2.0, size=400)
    low, high = bootstrap_mean_ci(values, n_resamples=4000, seed=1)
    half = 1.96 * values.std() / np.sqrt(values.size)  # ~0.196
    assert low < values.mean() < high
    assert (high - low) / 2 == pytest.approx(half, rel=0.08)
    assert bootstrap_mean_ci(values, n_resamples=4000, seed=1) == (low, high)
    assert bootstrap_mean_ci(values, n_resamples=4000, seed=2) != (low, high)


def test_resampling_in_chunks_draws_the_same_resamples(monkeypatch):
    # numpy's integer stream does not depend on how it is split into calls, so chunking (which bounds
    # memory for large item counts) must give the very same interval, last partial chunk included
    values = np.random.default_rng(5).normal(size=50)
    whole = bootstrap_mean_ci(values, n_resamples=1000, seed=4)
    monkeypatch.setattr("llmops.evaluation.stats._CHUNK_DRAWS", 50 * 7)  # 7 resamples per chunk, 143 chunks
    assert bootstrap_mean_ci(values, n_resamples=1000, seed=4) == whole


def test_bad_arguments_are_refused():
    for kwargs in ({"confidence": 1.0}, {"confidence": 0.0}, {"n_resamples": 0}):
        with pytest.raises(ValueError):
            bootstrap_mean_ci(np.ones(3), **kwargs)
    with pytest.raises(ValueError):
        bootstrap_mean_ci(np.array([]))
    with pytest.raises(ValueError):
        Threshold(max_regression=-0.1)


def test_direction_decides_what_a_regression_is():
    champion = np.full(50, 2.0)
    worse_nll = champion + 0.5  # higher NLL: worse when lower is better
    nll = decide_metric("nll", worse_nll, champion, higher_is_better=False, threshold=Threshold(0.1))
    assert (nll.difference, nll.ci_low, nll.ci_high) == (0.5, 0.5, 0.5)
    assert nll.regression_ok is False and not nll.passed
    # the same numbers for a higher-is-better metric are an improvement
    score = decide_metric("f1", worse_nll, champion, higher_is_better=True, threshold=Threshold(0.1))
    assert score.regression_ok is True and score.passed
    # a lower NLL passes even with zero tolerance
    better = decide_metric("nll", champion - 0.5, champion, higher_is_better=False, threshold=Threshold(0.0))
    assert better.passed


def test_floor_is_a_ceiling_for_lower_is_better_metrics():
    nll = np.full(10, 2.0)
    assert not decide_metric("nll", nll, None, higher_is_better=False, threshold=Threshold(floor=1.5)).passed
    assert decide_metric("nll", nll, None, higher_is_better=False, threshold=Threshold(floor=2.5)).passed
    em = np.array([1.0, 0.0] * 5)
    assert decide_metric("exact_match", em, None, higher_is_better=True, threshold=Threshold(floor=0.5)).passed
    assert not decide_metric("exact_match", em, None, higher_is_better=True, threshold=Threshold(floor=0.6)).passed


def test_decision_rejects_a_clear_regression_and_passes_an_equal_candidate():
    rng = np.random.default_rng(7)
    champion = (rng.random(150) < 0.6).astype(float)
    regressed = champion * (rng.random(150) < 0.6)  # loses ~40% of the champion's correct answers
    directions = {"exact_match": True}
    thresholds = {"exact_match": Threshold(max_regression=0.05)}
    [bad] = decide({"exact_match": regressed}, {"exact_match": champion}, directions, thresholds)
    assert bad.difference < -0.15 and bad.ci_high < 0 and not bad.passed
    [same] = decide({"exact_match": champion.copy()}, {"exact_match": champion}, directions, thresholds)
    assert same.passed and (same.difference, same.ci_low, same.ci_high) == (0.0, 0.0, 0.0)


def test_tolerance_lets_a_small_uncertain_drop_through():
    rng = np.random.default_rng(11)
    champion = rng.random(200)
    candidate = champion - 0.01 + rng.normal(0, 0.05, 200)  # 1 point lower, CI roughly [-0.017, -0.003]
    strict = decide_metric("f1", candidate, champion, higher_is_better=True, threshold=Threshold(0.0))
    lenient = decide_metric("f1", candidate, champion, higher_is_better=True, threshold=Threshold(0.03))
    assert not strict.passed and lenient.passed
    assert -0.03 < strict.ci_low < strict.ci_high < 0


def test_without_champion_only_floors_decide():
    candidate = {"exact_match": np.zeros(20), "nll": np.full(20, 9.0)}
    thresholds = {"exact_match": Threshold(max_regression=0.0, floor=0.1), "nll": Threshold(max_regression=0.0)}
    em, nll = decide(candidate, None, {"exact_match": True, "nll": False}, thresholds)
    assert em.regression_ok is None and em.ci_low is None and em.floor_ok is False and not em.passed
    assert nll.regression_ok is None and nll.floor_ok is None and nll.passed  # no floor, nothing to compare


def test_unmeasured_threshold_is_an_error_and_unthresholded_metrics_are_reported_only():
    candidate, champion = {"f1": np.zeros(4), "extra/acc": np.zeros(4)}, {"f1": np.zeros(4), "extra/acc": np.ones(4)}
    directions = {"f1": True, "extra/acc": True}
    with pytest.raises(KeyError, match="rouge_l"):
        decide(candidate, champion, directions, {"rouge_l": Threshold()})
    f1, extra = decide(candidate, champion, directions, {"f1": Threshold()})
    assert f1.gated and f1.passed
    assert not extra.gated and extra.passed and extra.regression_ok is False and extra.difference == -1.0


def test_an_improvement_demanded_must_lie_beyond_the_whole_interval():
    rng = np.random.default_rng(3)
    reference = rng.normal(3.0, 0.5, 200)
    better = reference - 0.2 + rng.normal(0, 0.05, 200)  # lower NLL by ~0.2 nats
    demand = Threshold(max_regression=0.1, min_improvement=0.0)
    ok = decide_metric("nll", better, reference, higher_is_better=False, threshold=demand, n_resamples=2000)
    assert ok.passed and ok.improvement_ok and ok.ci_high < -0.1
    same = decide_metric("nll", reference, reference, higher_is_better=False, threshold=demand, n_resamples=2000)
    assert same.regression_ok and same.improvement_ok is False and not same.passed  # equal is no improvement
    strict = Threshold(max_regression=0.1, min_improvement=0.5)
    short = decide_metric("nll", better, reference, higher_is_better=False, threshold=strict, n_resamples=2000)
    assert short.improvement_ok is False and not short.passed  # ~0.2 gained, 0.5 demanded
    up = decide_metric("f1", -better, -reference, higher_is_better=True, threshold=demand, n_resamples=2000)
    assert up.improvement_ok and up.passed  # the same rule mirrored for a higher-is-better metric
    with pytest.raises(ValueError, match="min_improvement"):
        Threshold(min_improvement=-0.1)
