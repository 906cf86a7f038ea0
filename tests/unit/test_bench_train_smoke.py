"""Smoke test of bench/bench_train.py --quick on a tiny model and gold table (not a timing test): the JSON holds
both throughput rows, both sweeps and their comparison, with every field the tables print."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.fixtures import build_tiny_model, write_gold

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
DS = "2026-11-20"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench-train")
    model = build_tiny_model(tmp / "tiny-model")
    write_gold(tmp / "lake", DS, 120)
    results = tmp / "train.json"
    argv = ["--quick", "--lake-root", f"file://{tmp}/lake", "--ds", DS, "--base-model", model,
            "--max-seq-len", "64", "--work-dir", tmp / "work", "--results", results]
    done = subprocess.run([sys.executable, str(BENCH / "bench_train.py"), *map(str, argv)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return json.loads(results.read_text()), done.stdout, tmp


def test_throughput_rows_for_both_methods(bench_run):
    report, _, _ = bench_run
    rows = {r["method"]: r for r in report["throughput"]}
    assert set(rows) == {"qlora", "lora"}
    for row in rows.values():
        assert row["steps"] == 5 and row["measured_steps"] == 2
        assert row["tokens"] > 0 and row["seconds"] > 0 and row["tokens_per_s"] > 0
        assert row["peak_rss_mib"] >= row["rss_after_startup_mib"] > 0
        for key in ("first_train_loss", "last_train_loss", "final_val_loss"):
            assert row[key] > 0, key
        startup = row["startup"]
        assert startup["total_s"] >= startup["imports_s"] + startup["model_load_s"] > 0
        assert row["train_examples"] == 96 and row["validation_examples"] == 12
    # same seed, data and initial adapter: the two methods differ only by the base's quantization
    assert rows["qlora"]["first_train_loss"] == pytest.approx(rows["lora"]["first_train_loss"], rel=0.05)


def test_both_sweeps_and_their_comparison(bench_run):
    report, _, _ = bench_run
    sweeps = {s["median_stop"]: s for s in report["sweeps"]}
    assert set(sweeps) == {False, True}
    for s in sweeps.values():
        assert len(s["trials"]) == 3 and s["steps_budget"] == 12
        assert s["steps_spent"] == sum(t["steps"] for t in s["trials"]) <= 12
        assert s["best_val_loss"] == pytest.approx(min(t["best_val_loss"] for t in s["trials"]), abs=1e-4)
    assert sweeps[False]["trials_stopped"] == 0
    comparison = report["comparison"]
    assert comparison["steps_ratio"] == pytest.approx(sweeps[True]["steps_spent"] / sweeps[False]["steps_spent"],
                                                      abs=1e-3)
    assert comparison["loss_ratio"] == pytest.approx(sweeps[True]["best_val_loss"] / sweeps[False]["best_val_loss"],
                                                     abs=1e-3)
    assert isinstance(comparison["met"], bool) and comparison["best_possible_steps_ratio"] == 1.0  # none stoppable
    # three trials never reach the rule's three completed trials, and TPE starts random with the same seeds
    assert comparison["identical_params_trials"] == [0, 1, 2]
    assert comparison["max_loss_diff_identical_trials"] == pytest.approx(0, abs=1e-6)


def test_machine_load_and_tables(bench_run):
    report, stdout, tmp = bench_run
    assert report["quick"] is True and report["total_seconds"] > 0
    machine = report["machine"]
    assert len(machine["load_average_at_start"]) == 3 and len(machine["load_average_at_end"]) == 3
    for header in ("tokens/s", "start-up (s)", "best val loss", "steps ratio"):
        assert header in stdout
    assert not (tmp / "lake" / "models").exists()  # trials wrote into the scratch lake, not the source
