"""Sequential canary analysis: null streams pass, bad ones are caught at the first look that shows it, and too
few requests is never a pass."""

from __future__ import annotations

import random

from llmops.config import DeployAnalysisSettings
from llmops.deploy.analysis import Counts, Decision, analyse, format_table, mixture_radius, overall, rollback_reason

CFG = DeployAnalysisSettings(min_requests=20)


def _window(rng: random.Random, n: int, error_rate: float, slow_rate: float) -> Counts:
    return Counts(n, sum(rng.random() < error_rate for _ in range(n)), sum(rng.random() < slow_rate for _ in range(n)))


def _looks(rng, canary_error: float, canary_slow: float, windows=((380, 20), (300, 100), (200, 200), (0, 400))):
    """Decisions at each look of a rollout (stable, canary requests per window), counts summed across looks."""
    stable, canary, decisions = Counts(0, 0, 0), Counts(0, 0, 0), []
    for s_n, c_n in windows:
        stable += _window(rng, s_n, 0.01, 0.05)
        canary += _window(rng, c_n, canary_error, canary_slow)
        decisions.append(overall(analyse(stable, canary, CFG)))
        if decisions[-1] is Decision.ROLLBACK:
            break
    return decisions


def test_null_canary_is_not_rolled_back_at_any_look():
    rng = random.Random(7)
    rollbacks = sum(Decision.ROLLBACK in _looks(rng, 0.01, 0.05) for _ in range(200))
    assert rollbacks <= 200 * CFG.alpha  # the guarantee holds across all four looks


def test_clearly_bad_canary_is_rolled_back_at_the_first_look_that_shows_it():
    rng = random.Random(11)
    assert _looks(rng, 1.0, 0.05) == [Decision.ROLLBACK]  # every canary request fails: the first look
    decisions = _looks(rng, 0.3, 0.05)  # 30 % errors: not provable on 20 requests, provable on 120
    assert decisions[0] is not Decision.ROLLBACK and decisions[-1] is Decision.ROLLBACK and len(decisions) <= 3
    results = analyse(Counts(400, 4, 20), Counts(100, 2, 60), CFG)
    assert overall(results) is Decision.ROLLBACK
    assert "p95_latency_exceedance" in rollback_reason(results) and "error_rate" not in rollback_reason(results)


def test_insufficient_data_is_not_a_pass():
    results = analyse(Counts(400, 4, 20), Counts(5, 0, 0), CFG)
    assert overall(results) is Decision.INSUFFICIENT
    assert overall(analyse(Counts(0, 0, 0), Counts(0, 0, 0), CFG)) is Decision.INSUFFICIENT
    assert mixture_radius(0, 0.05, 1.0) == float("inf")


def test_table_is_aligned_and_names_every_column():
    lines = format_table(analyse(Counts(400, 4, 20), Counts(100, 1, 5), CFG)).splitlines()
    assert lines[0].split()[:3] == ["metric", "stable", "canary"] and len(lines) == 3
    assert lines[1].index("0.0100") == lines[0].index("stable")  # columns line up
    assert "400/100" in lines[1]
