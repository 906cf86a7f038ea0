"""Katib's median stopping rule: when it must stop a trial, and when it must not."""

from __future__ import annotations

from llmops.training.median_stop import decide, running_average

GOOD = [[(5, 3.0), (10, 2.5), (15, 2.2), (20, 2.0)], [(5, 3.1), (10, 2.6), (15, 2.3), (20, 2.1)],
        [(5, 2.9), (10, 2.4), (15, 2.1), (20, 1.9)]]


def test_running_average_counts_reports_up_to_the_step():
    assert running_average([(5, 3.0), (10, 2.0), (15, 1.0)], 10) == 2.5
    assert running_average([(5, 3.0)], 4) is None


def test_stops_a_trial_worse_than_the_median():
    bad = [(5, 4.0), (10, 3.9), (15, 3.9), (20, 3.8)]
    decision = decide(bad, GOOD, min_trials=3, start_step=4)
    assert decision.stop and "worse than the median 2.4250" in decision.reason  # median of 2.425, 2.525, 2.325


def test_keeps_a_trial_that_keeps_up():
    fine = [(5, 3.0), (10, 2.5), (15, 2.3), (20, 2.3)]
    assert not decide(fine, GOOD, min_trials=3, start_step=4).stop


def test_waits_for_min_trials_and_start_step():
    bad = [(5, 9.0), (10, 9.0), (15, 9.0), (20, 9.0)]
    assert not decide(bad, GOOD[:2], min_trials=3, start_step=4).stop
    assert not decide(bad[:3], GOOD, min_trials=3, start_step=4).stop
    assert decide(bad, GOOD, min_trials=3, start_step=4).stop


def test_compares_only_reports_up_to_the_trials_step():
    # the completed trials were bad early and good late: at step 10 their average is still high
    late_bloomers = [[(5, 9.0), (10, 9.0), (15, 1.0), (20, 1.0)]] * 3
    early = [(5, 5.0), (10, 5.0)]
    assert not decide(early, late_bloomers, min_trials=3, start_step=2).stop
