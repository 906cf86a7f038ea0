"""Sequential canary analysis: null streams pass, bad ones are caught at the first look that shows it, and too
few requests is never a pass."""

from __future__ import annotations

import random

from llmops.config import DeployAnalysisSettings
from llmops.deploy.analysis import (
    Counts,
    Decision,
    analyse,
    compare_paired,
    format_table,
    information_radius,
    overall,
    rollback_reason,
)

CFG = DeployAnalysisSettings(min_requests=20)


def _window(rng: random.Random, n: int, error_rate: float, slow_rate: float, ttft_slow_rate: float = 0.05) -> Counts:
    def events(rate: float) -> int:
        return sum(rng.random() < rate for _ in range(n))

    return Counts(n, events(error_rate), events(slow_rate), n, events(ttft_slow_rate))


def _looks(rng, canary_error: float, canary_slow: float, windows=((380, 20), (300, 100), (200, 200), (0, 400)),
           canary_ttft_slow: float = 0.05):  # fmt: skip
    """Decisions at each look of a rollout (stable, canary requests per window), counts summed across looks."""
    stable, canary, decisions = Counts(0, 0, 0), Counts(0, 0, 0), []
    for s_n, c_n in windows:
        stable += _window(rng, s_n, 0.01, 0.05)
        canary += _window(rng, c_n, canary_error, canary_slow, canary_ttft_slow)
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
    decisions = _looks(rng, 0.06, 0.05)  # 6 % errors against 1 %: not provable on 20 requests, provable by 320
    assert decisions[0] is not Decision.ROLLBACK and decisions[-1] is Decision.ROLLBACK and len(decisions) <= 3
    results = analyse(Counts(400, 4, 20, 400, 20), Counts(100, 2, 60, 100, 5), CFG)
    assert overall(results) is Decision.ROLLBACK
    assert "p95_latency_exceedance" in rollback_reason(results) and "error_rate" not in rollback_reason(results)


def test_insufficient_data_is_not_a_pass():
    results = analyse(Counts(400, 4, 20), Counts(5, 0, 0), CFG)
    assert overall(results) is Decision.INSUFFICIENT
    assert overall(analyse(Counts(0, 0, 0), Counts(0, 0, 0), CFG)) is Decision.INSUFFICIENT
    assert information_radius(0, 0.05, 1.0) == float("inf")


def test_table_is_aligned_and_names_every_column():
    pairs = [(0.5, 0.5)] * 30
    lines = format_table(analyse(Counts(400, 4, 20, 400, 20), Counts(100, 1, 5, 100, 5), CFG, pairs)).splitlines()
    assert lines[0].split() == ["metric", "stable", "canary", "difference", "[interval]", "threshold", "decision",
                                "requests", "s/c"] and len(lines) == 5  # fmt: skip
    assert lines[1].index("0.0100") == lines[0].index("stable")  # columns line up
    assert "400/100" in lines[1] and lines[4].startswith("quality_f1") and "30/30" in lines[4]


def test_slow_first_token_alone_rolls_back_and_a_streamless_window_is_insufficient():
    rng = random.Random(3)
    decisions = _looks(rng, 0.01, 0.05, canary_ttft_slow=0.5)  # half the canary's first tokens are late
    assert decisions[-1] is Decision.ROLLBACK and len(decisions) <= 2
    results = analyse(Counts(400, 4, 20, 400, 20), Counts(100, 1, 5, 100, 50), CFG)
    assert [r.metric for r in results if r.decision is Decision.ROLLBACK] == ["p95_ttft_exceedance"]
    assert "p95_ttft_exceedance: canary 0.5000 vs stable 0.0500" in rollback_reason(results)
    no_streams = analyse(Counts(400, 4, 20), Counts(100, 1, 5), CFG)  # nobody streamed: TTFT unmeasured
    assert overall(no_streams) is Decision.INSUFFICIENT
    assert {r.metric: r.decision for r in no_streams}["p95_ttft_exceedance"] is Decision.INSUFFICIENT
    # the same ttft counts as the stable's are accepted
    assert overall(analyse(Counts(400, 4, 20, 400, 20), Counts(100, 1, 5, 100, 5), CFG)) is Decision.CONTINUE


def _pairs(rng: random.Random, n: int, shift: float) -> list[tuple[float, float]]:
    """Per-prompt (stable, canary) F1-like scores: shared prompt difficulty, per-version noise, canary shifted."""
    pairs = []
    for _ in range(n):
        hard = rng.random()
        stable = min(1.0, max(0.0, hard + rng.gauss(0, 0.15)))
        pairs.append((stable, min(1.0, max(0.0, hard + rng.gauss(0, 0.15) + shift))))
    return pairs


def test_quality_on_mirrored_prompts_rejects_a_worse_canary_and_accepts_an_equal_one():
    rng = random.Random(5)
    worse = compare_paired("quality_f1", _pairs(rng, 200, -0.15), max_drop=0.0, alpha=0.05, tuned_at=300,
                           min_pairs=20)  # fmt: skip
    assert worse.decision is Decision.ROLLBACK and worse.high < 0 and worse.higher_is_better
    assert "interval" in rollback_reason([worse]) and "< threshold" in rollback_reason([worse])
    rollbacks = sum(compare_paired("q", _pairs(rng, 200, 0.0), max_drop=0.0, alpha=0.05, tuned_at=300,
                                   min_pairs=20).decision is Decision.ROLLBACK for _ in range(200))  # fmt: skip
    assert rollbacks <= 200 * 0.05
    better = compare_paired("q", _pairs(rng, 200, +0.15), max_drop=0.0, alpha=0.05, tuned_at=300, min_pairs=20)
    assert better.decision is Decision.CONTINUE and better.low > 0
    # a tolerated drop is not rolled back: the interval must lie wholly below -max_drop
    assert compare_paired("q", _pairs(rng, 200, -0.15), max_drop=0.5, alpha=0.05, tuned_at=300,
                          min_pairs=20).decision is Decision.CONTINUE  # fmt: skip


def test_quality_on_few_prompts_is_insufficient_and_identical_answers_claim_no_certainty():
    few = compare_paired("q", [(0.6, 0.5)] * 5, max_drop=0.0, alpha=0.05, tuned_at=300, min_pairs=20)
    assert few.decision is Decision.INSUFFICIENT and few.canary_requests == 5
    none = compare_paired("q", [], max_drop=0.0, alpha=0.05, tuned_at=300, min_pairs=20)
    assert none.decision is Decision.INSUFFICIENT and (none.low, none.high) == (-1.0, 1.0)
    same = compare_paired("q", [(0.4, 0.4)] * 3, max_drop=0.0, alpha=0.05, tuned_at=300, min_pairs=1)
    assert same.low < -0.1 < 0.1 < same.high  # the pseudo-observation keeps three ties from proving anything
    assert overall(analyse(Counts(400, 4, 20, 400, 20), Counts(100, 1, 5, 100, 5), CFG, [(0.5, 0.5)] * 5)) is (
        Decision.INSUFFICIENT
    )
