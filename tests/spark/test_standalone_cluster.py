"""The data DAG's Spark steps submitted with spark-submit to a real standalone cluster (a master and two workers
on loopback) give the same tables as the in-process local[2] run: row counts and content hashes. This flushes out
driver-local assumptions (code not shipped to executors, state only the driver holds)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from tests.spark.cluster import standalone_cluster

pytestmark = pytest.mark.slow

DS = "2026-11-28"
STEPS = ("ingest", "clean", "build_sft")
# the driver's own clock, not data: when the run happened
RUN_DEPENDENT = {"_ingested_at", "ingested_at", "processed_at"}

RUN_STEPS = """
import sys
from llmops.pipelines import data_steps
from llmops.steps import run_local
raw, lake, ds, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
for step in data_steps(raw, lake, ds, "en"):
    if step.name in names:
        run_local(step, emit=print)
"""


def _run_steps(raw: Path, lake: Path, scratch: Path, **settings: str) -> str:
    env = {**os.environ, "LLMOPS__PATHS__SCRATCH_DIR": str(scratch), "LLMOPS__SPARK__SHUFFLE_PARTITIONS": "2",
           "LLMOPS__SPARK__DRIVER_MEMORY": "1g", "SPARK_LOCAL_IP": "127.0.0.1", **settings}
    proc = subprocess.run([sys.executable, "-c", RUN_STEPS, f"file://{raw}", f"file://{lake}", DS, ",".join(STEPS)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


def _tables(lake: Path) -> dict[str, tuple[int, str]]:
    """Every published partition for DS: row count and a hash of its rows in a canonical order."""
    out = {}
    for part in sorted(lake.glob(f"*/*/ds={DS}")):
        if part.parts[-3] in ("reports",):
            continue
        table = pads.dataset(part, format="parquet").to_table()
        table = table.drop_columns([c for c in table.column_names if c in RUN_DEPENDENT])
        rows = sorted(json.dumps(row, sort_keys=True, default=str) for row in table.to_pylist())
        out[f"{part.parts[-3]}/{part.parts[-2]}"] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def test_spark_steps_on_a_standalone_cluster_equal_the_local_run(tmp_path):
    raw = tmp_path / "raw"
    proc = subprocess.run([sys.executable, "-m", "llmops_demo", "--out", f"file://{raw}", "--ds", DS,
                           "--records", "500"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    _run_steps(raw, tmp_path / "local", tmp_path / "scratch-local", LLMOPS__SPARK__MASTER="local[2]")
    events = tmp_path / "spark-events"
    with standalone_cluster(tmp_path / "cluster") as master:
        log = _run_steps(raw, tmp_path / "cluster-lake", tmp_path / "scratch-cluster", LLMOPS__SPARK__MASTER=master,
                         LLMOPS__SPARK__SUBMIT="true", LLMOPS__SPARK__EVENT_LOG_DIR=f"file://{events}")
    assert log.count("spark-submit --master spark://127.0.0.1:") == len(STEPS), log[-3000:]
    local, cluster = _tables(tmp_path / "local"), _tables(tmp_path / "cluster-lake")
    assert {"bronze/tickets", "silver/tickets", "gold/sft"} <= set(local), sorted(local)
    assert cluster == local
    # one event log per submitted application, readable by the history server
    assert len(list(events.iterdir())) == len(STEPS)
