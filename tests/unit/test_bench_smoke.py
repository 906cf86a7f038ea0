"""Smoke test of bench/bench_clean.py at 2k records (not a timing test): the JSON holds every row of the
table, and the pandas baseline keeps the same records, with the same content hashes, as the Spark job."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
SIZE = 2000
TOLERANCE = 0.01  # share of a source's surviving records the two implementations may disagree on

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    results = tmp / "clean.json"
    env = {**os.environ, "LLMOPS__PATHS__SCRATCH_DIR": str(tmp / "scratch"), "PYSPARK_PYTHON": sys.executable}
    argv = ["--sizes", str(SIZE), "--repeats", "1", "--work-dir", str(tmp / "work"), "--results", results]
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_clean.py"), *map(str, argv)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return json.loads(results.read_text()), done.stdout


def test_json_has_every_row_with_a_positive_time(bench_run):
    report, _ = bench_run
    rows = {r["metric"]: r for r in report["results"] if r["size"] == SIZE}
    assert set(rows) == {"copy_floor", "normalise_mask_dedup", "clean_job", "pandas_baseline"}
    for row in rows.values():
        assert row["seconds"] > 0 and len(row["runs"]) == 1
        assert set(row["per_source"]) == {"tickets", "faq", "reviews"}
    assert rows["normalise_mask_dedup"]["ratio"] == pytest.approx(
        rows["normalise_mask_dedup"]["seconds"] / rows["copy_floor"]["seconds"], abs=0.01
    )
    assert rows["pandas_baseline"]["ratio"] == pytest.approx(
        rows["pandas_baseline"]["seconds"] / rows["clean_job"]["seconds"], abs=0.01
    )
    assert rows["pandas_baseline"]["met"] is None  # the 3x target is judged at 1M records only


def test_json_records_setup_machine_and_timestamps(bench_run):
    report, _ = bench_run
    setup = report["setup"][str(SIZE)]
    assert setup["generate_s"] > 0 and setup["ingest_s"] > 0
    # ~80% of the generated records belong to the text sources, ~2% of them are malformed
    assert sum(setup["bronze_rows"].values()) > 0.7 * SIZE
    machine = report["machine"]
    assert machine["nproc"] >= 1 and machine["python"].startswith("3.11")
    assert machine["spark"].startswith("4.")
    assert report["settings"]["spark"]["master"] == "local[2]"
    started, finished = (dt.datetime.fromisoformat(report[k]) for k in ("started_at", "finished_at"))
    assert started <= finished


def test_table_is_printed(bench_run):
    _, stdout = bench_run
    table = stdout[stdout.index("metric") :]
    for metric in ("copy_floor", "normalise_mask_dedup", "clean_job", "pandas_baseline"):
        assert metric in table


def test_pandas_and_spark_keep_the_same_records(bench_run):
    report, _ = bench_run
    for source, figures in report["agreement"][str(SIZE)].items():
        assert figures["spark_rows"] > 0, source
        allowed = TOLERANCE * figures["spark_rows"]
        assert figures["only_spark"] + figures["only_pandas"] <= allowed, (source, figures)
        assert figures["content_hash_differs"] <= allowed, (source, figures)


def test_skipped_pandas_size_is_recorded_as_skipped_not_a_number():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_clean
    finally:
        sys.path.remove(str(BENCH))
    rows = [
        {"metric": "copy_floor", "size": 10, "seconds": 1.0},
        {"metric": "normalise_mask_dedup", "size": 10, "seconds": 5.0},
        {"metric": "clean_job", "size": 10, "seconds": 8.0},
        bench_clean.skipped_row("pandas_baseline", 10, "size > --pandas-max-size 5"),
    ]
    bench_clean.add_ratios(rows, 10)
    assert rows[1]["ratio"] == 5.0 and rows[1]["met"] is False
    assert rows[3]["seconds"] is None and "ratio" not in rows[3] and rows[3]["skipped"]
    jobs = [
        {"metric": "clean_job", "size": 100_000, "seconds": 10.0},
        {"metric": "clean_job", "size": 1_000_000, "seconds": 115.0},
    ]
    growth = bench_clean.growth_row(jobs)
    assert growth["ratio"] == 11.5 and growth["met"] is True and growth["target"] == "<= 12"
