"""The drift step end to end on a real (SQLite) MLflow registry and a lake: the champion's lineage names its
gold, the inference log holds the hour's traffic; no champion is a logged no-op; a registry that cannot be read
is an error exit, never a "no drift"."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmops import summary
from llmops.config import settings
from llmops.monitoring import drift_check
from llmops.monitoring.inference_log import InferenceLog
from llmops.serving.gateway import RequestRecord
from llmops.training import tracking
from tests.monitoring.drift_windows import shifted

END = dt.datetime(2026, 12, 5, 14, tzinfo=dt.UTC)


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOPS__TRACKING__URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("LLMOPS__TRACKING__CREATE_SQLITE", "true")
    monkeypatch.setenv("LLMOPS__MONITORING__DRIFT_METRICS_FILE", str(tmp_path / "drift.prom"))
    settings.cache_clear()
    yield tracking.client(), settings().tracking.registered_model
    settings.cache_clear()


def _lake(tmp_path, pool: list[str]) -> str:
    lake = tmp_path / "lake"
    gold = lake / "gold" / "sft" / "ds=2026-12-01"
    gold.mkdir(parents=True)
    train = pool[:400]
    pq.write_table(pa.table({"instruction": train, "input": [None] * len(train), "split": ["train"] * len(train)}),
                   gold / "part-0.parquet")  # fmt: skip
    log = InferenceLog(f"file://{lake}")
    for i, prompt in enumerate(shifted(pool[400:550], "language", 0.4, random.Random(7))):
        log(RequestRecord(endpoint="completions", started_at=END.timestamp() - 3000 + i, model="support-assistant",
                          variant="stable", version="v1", status=200, duration_s=0.3, request={"prompt": prompt},
                          response={"choices": [{"text": "Sure."}]}))  # fmt: skip
    log.close()
    return f"file://{lake}"


@pytest.mark.parametrize("max_window_rows", [None, 100], ids=["whole window", "window sampled while read"])
def test_the_champion_s_training_prompts_against_the_hour_s_traffic(registry, support_pool, tmp_path, monkeypatch,
                                                                    max_window_rows):  # fmt: skip
    if max_window_rows:  # the hour holds 150 rows
        monkeypatch.setenv("LLMOPS__MONITORING__DRIFT_MAX_WINDOW_ROWS", str(max_window_rows))
        settings.cache_clear()
    client, name = registry
    lake = _lake(tmp_path, support_pool)
    client.create_registered_model(name)
    client.create_model_version(name, source=str(tmp_path), tags={
        "llmops.gold.table": f"{lake}/gold/sft", "llmops.gold.partitions": "2026-12-01"})  # fmt: skip
    client.set_registered_model_alias(name, "champion", "1")
    assert drift_check.main(["--lake-root", lake, "--ds", "2026-12-05", "--hour", "14"]) == 0
    out = tmp_path / "lake" / "reports" / "drift" / "ds=2026-12-05" / "hour=14"
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["status"] == "drift" and verdict["drifted"]["language"] and verdict["window_rows"] == 150
    assert verdict["model"] == f"{name}:v1" and (out / "drift_report.html").is_file()
    assert f'llmops_drift_detected{{model="{name}:v1"}} 1.0' in (tmp_path / "drift.prom").read_text()
    ((stage, status, figure, report),) = summary.drift_rows(lake, "2026-12-05", "14")  # make demo's table row
    assert (stage, status, report) == ("drift", "DRIFT", f"{lake}/reports/drift/ds=2026-12-05/hour=14/"
                                       "drift_report.html")  # fmt: skip
    assert figure.startswith(f"{verdict['window_rows']} requests to 14:00 UTC: DRIFT in ") and "language" in figure
    assert summary.drift_rows(lake, "2026-12-05", "15")[0][1] == "NONE"  # no verdict is not a pass
    sampled = verdict["sampled"]
    if max_window_rows:
        assert sampled["window"] and sampled["window_rows_read"] == 100 and sampled["window_engine"] == "pyarrow"
        assert "100 of its 150 log rows were sampled" in verdict["note"]
        assert "with pyarrow" in (out / "drift_report.html").read_text()
    else:
        assert not sampled["window"] and sampled["window_rows_read"] == 150 and "sampled" not in verdict["note"]


def test_no_champion_is_a_logged_no_op(registry, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    assert drift_check.main(["--lake-root", f"file://{tmp_path}", "--ds", "2026-12-05", "--hour", "14"]) == 0
    assert "no version has the alias 'champion'" in caplog.text and not (tmp_path / "drift.prom").exists()


def test_a_champion_without_gold_lineage_is_an_error(registry, tmp_path):
    client, name = registry
    client.create_registered_model(name)
    client.create_model_version(name, source=str(tmp_path))
    client.set_registered_model_alias(name, "champion", "1")
    assert drift_check.main(["--lake-root", f"file://{tmp_path}", "--ds", "2026-12-05", "--hour", "14"]) == 2


def test_an_unreadable_registry_is_an_error_not_a_pass(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("LLMOPS__TRACKING__URI", f"sqlite:///{tmp_path}/missing/mlflow.db")
    settings.cache_clear()
    try:
        assert drift_check.main(["--lake-root", f"file://{tmp_path}", "--ds", "2026-12-05", "--hour", "14"]) == 2
    finally:
        settings.cache_clear()
    assert "drift check could not run" in caplog.text
