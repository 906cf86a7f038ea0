"""Smoke test of bench/bench_canary.py at 40 runs per cell (seconds, not a measurement): the JSON holds every
scenario x rule row with the fields the table prints, and the figures are the ones the rules must give."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_canary_runs_at_a_tiny_size(tmp_path):
    results = tmp_path / "canary.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_canary.py"), "--runs", "40", "--results",
                           str(results)], cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report = json.loads(results.read_text())
    rows = {(r["scenario"], r["rule"]): r for r in report["results"]}
    scenarios = {"null", "errors_+2pt", "latency_p95_+20%", "quality_-3pt"}
    rules = {"sequential", "flagger", "argo_failureLimit0", "argo_failureLimit3"}
    assert set(rows) == {(s, r) for s in scenarios for r in rules}
    assert report["setup"]["request_samples"] >= 100 and report["setup"]["quality_items"] >= 100
    for row in rows.values():
        assert 0 <= row["rollback_rate"] <= 1 and row["canary_requests_to_correct_decision"] > 0
    assert all(rows[(s, "sequential")]["undecided_rate"] == 0 for s in scenarios)  # ours decides by its last step
    # a 20 % slower canary is caught every time by our analysis; an identical one is promoted after 3 windows
    assert rows[("latency_p95_+20%", "sequential")]["rollback_rate"] == 1.0
    assert rows[("null", "sequential")]["windows_to_correct_decision"] == 3.0
    assert "sequential" in done.stdout and "target met" in done.stdout
