"""The steps that run without Spark, on an ``s3a://`` lake served by an S3-compatible endpoint on loopback.

Publish a partition, read it back the way the trainer, the eval gate, the traffic generator and the leakage
scan do, publish a gate verdict and read it in the run summary, the ops page and the candidate decision, and
log inference traffic into the lake and read a window back. Spark's own s3a reads are not exercised here:
its Hadoop s3a jars cannot be fetched in this environment (docs/known-limits.md).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from expectations import gate
from expectations.verdict import ExpectationOutcome, TableOutcome
from llmops import lake, lakefs
from llmops.candidates.decision import _gate_problem
from llmops.config import ConfigError, load_settings, settings
from llmops.evaluation.items import read_test_split
from llmops.governance.leakage import gold_records
from llmops.monitoring.inference_log import InferenceLog, read_window
from llmops.monitoring.traffic import held_out_prompts
from llmops.ops_status import data_gates
from llmops.pipelines import model_gate_dir
from llmops.publish import publish_partition
from llmops.serving.gateway import RequestRecord
from llmops.step_summary import write_summary
from llmops.summary import rows
from llmops.tokenizer import training_texts
from llmops.training.base_model import resolved
from llmops.training.sft_data import load_gold

DS, NEXT = "2026-11-20", "2026-11-21"


def _gold(ids: list[str], splits: list[str], answer: str = "Reset it from the login page.") -> pa.Table:
    n = len(ids)
    return pa.table({
        "example_id": ids, "source": ["faq"] * n, "system": ["You are a support assistant."] * n,
        "instruction": [f"How do I reset my password? ({i})" for i in ids], "input": [""] * n,
        "output": [answer] * n, "split": splits,
    })  # fmt: skip


def _stage(tmp_path, name: str, table: pa.Table) -> str:
    folder = tmp_path / name
    folder.mkdir()
    pq.write_table(table, folder / f"part-{name}.parquet")
    return str(folder)


def test_publish_replaces_a_partition_and_the_readers_see_only_the_new_one(s3_lake, tmp_path):
    target = lake.partition_uri(s3_lake, "gold", "sft", DS)
    publish_partition(_stage(tmp_path, "v1", _gold(["a", "b"], ["train", "test"])), target)
    publish_partition(_stage(tmp_path, "v2", _gold(["a", "c", "d"], ["train", "test", "test"])), target)
    publish_partition(_stage(tmp_path, "v3", _gold(["e"], ["test"])), lake.partition_uri(s3_lake, "gold", "sft", NEXT))

    assert lakefs.files(target) == ["part-v2.parquet"]  # the replaced version's file is gone
    assert lakefs.list_partitions(lake.table_uri(s3_lake, "gold", "sft")) == [DS, NEXT]
    assert lakefs.previous_partition(lake.table_uri(s3_lake, "gold", "sft"), NEXT) == DS
    snapshot = load_gold(s3_lake, NEXT)  # the trainer's read
    assert sorted(snapshot.table["example_id"].to_pylist()) == ["a", "c", "d", "e"]
    assert snapshot.partitions == (DS, NEXT) and len(snapshot.content_hash) == 64
    assert sorted(read_test_split(s3_lake, NEXT)["example_id"].to_pylist()) == ["c", "d", "e"]  # the eval gate's
    assert len(held_out_prompts(s3_lake, NEXT)) == 3  # the traffic generator's
    uri, records = gold_records(s3_lake, DS)  # the governance leakage scan's
    assert uri == target and sorted(r[0] for r in records) == ["a", "c", "d"]


def test_the_content_hash_is_the_same_on_s3_and_on_a_local_lake(s3_lake, tmp_path):
    staged = _stage(tmp_path, "v1", _gold(["a", "b"], ["train", "test"]))
    local = f"file://{tmp_path}/lake"
    for root in (s3_lake, local):
        publish_partition(staged, lake.partition_uri(root, "gold", "sft", DS))
    assert load_gold(s3_lake, DS).content_hash == load_gold(local, DS).content_hash


def test_publishing_nothing_is_refused_and_keeps_the_partition(s3_lake, tmp_path):
    target = lake.partition_uri(s3_lake, "gold", "sft", DS)
    publish_partition(_stage(tmp_path, "v1", _gold(["a"], ["train"])), target)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="nothing staged"):
        publish_partition(str(tmp_path / "empty"), target)
    assert load_gold(s3_lake, DS).table.num_rows == 1


def test_a_gate_verdict_published_to_s3_reaches_the_summary_and_the_ops_page(s3_lake, tmp_path, monkeypatch):
    """The data gate's report is built in a local folder, uploaded, and the folder removed (Spark's reads and GX's
    validation are stubbed: tests/expectations runs them)."""
    outcome = ExpectationOutcome("expect_column_values_to_not_be_null", "text", {"unexpected": 3}, {}, False,
                                 description="no empty text")  # fmt: skip
    monkeypatch.setitem(gate.TABLES, "silver", lambda *args: ["tickets"])
    monkeypatch.setattr(gate, "validate_table", lambda *args: TableOutcome("tickets", 10, False, [outcome]))
    monkeypatch.setenv("LLMOPS__PATHS__SCRATCH_DIR", str(tmp_path / "scratch"))
    settings.cache_clear()
    verdict = gate.run_gate(None, "silver", s3_lake, DS)
    assert not verdict.passed
    target = lake.partition_uri(s3_lake, "reports", "gates/silver", DS)
    assert lakefs.read_json(lake.join(target, "verdict.json"))["passed"] is False
    assert not list((tmp_path / "scratch" / "lake-staging").iterdir()), "the local build folder was left behind"
    write_summary(s3_lake, "clean", DS, {"sources": {"tickets": {"silver": 10}}})

    table = rows(s3_lake, DS)
    assert [(stage, status, figure) for stage, status, figure, _ in table] == [
        ("clean", "ok", "silver rows 10"),
        ("gate_silver", "FAIL", "1 failed expectations"),
    ]
    (shown,) = data_gates(s3_lake)
    assert (shown["layer"], shown["ds"], shown["status"], shown["failed"]) == (
        "silver",
        DS,
        "failed",
        ["tickets: no empty text"],
    )


def test_a_data_gate_that_cannot_run_on_s3_still_uploads_an_error_verdict_and_fails(s3_lake, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOPS__PATHS__SCRATCH_DIR", str(tmp_path / "scratch"))
    settings.cache_clear()
    with pytest.raises(gate.GateError):
        gate.run_gate(None, "silver", s3_lake, DS)  # no Spark session: reading silver raises
    published = lakefs.read_json(lake.join(lake.partition_uri(s3_lake, "reports", "gates/silver", DS), "verdict.json"))
    assert published["passed"] is False and "AttributeError" in published["error"]


def test_the_decision_reads_gate_verdicts_from_s3_and_a_missing_one_fails_it(s3_lake):
    folder = model_gate_dir(s3_lake, "eval", DS)
    assert "did not run: no verdict at s3a://" in _gate_problem("eval", lake.join(folder, "verdict.json"), 3)
    lakefs.write_text(lake.join(folder, "verdict.json"), json.dumps({"candidate": {"version": 3}, "status": "passed"}))
    assert _gate_problem("eval", lake.join(folder, "verdict.json"), 3) is None
    assert "not version 4" in _gate_problem("eval", lake.join(folder, "verdict.json"), 4)


def test_step_summaries_round_trip(s3_lake):
    with pytest.raises(FileNotFoundError, match="run the base_model step first"):
        resolved(s3_lake, DS)
    write_summary(s3_lake, "base_model", DS, {"model": "/models/base/x", "content_hash": "abc", "builtin": True})
    assert resolved(s3_lake, DS)["content_hash"] == "abc"


def test_tokenizer_training_text_reads_silver_from_s3(s3_lake):
    lakefs.write_parquet(
        pa.table({"title": ["t"], "body": ["Great kettle, boils fast."]}),
        lake.join(lake.partition_uri(s3_lake, "silver", "reviews", DS), "part-0.parquet"),
    )
    assert training_texts(s3_lake, DS) == ["Great kettle, boils fast."]


def test_inference_log_writes_and_reads_a_window_on_s3(s3_lake):
    start = dt.datetime(2026, 12, 5, 14, 10, tzinfo=dt.UTC).timestamp()
    log = InferenceLog(s3_lake, flush_interval_s=60)
    for i in range(3):
        log(
            RequestRecord(
                endpoint="completions",
                started_at=start + i * 3600,
                status=200,
                version="v1",
                request={"prompt": f"question {i}"},
                response={"choices": [{"text": "answer"}]},
            )
        )
    log.flush()
    hour = dt.datetime(2026, 12, 5, 14, tzinfo=dt.UTC)
    window = read_window(s3_lake, hour, hour + dt.timedelta(hours=2))
    assert sorted(window["prompt"].to_pylist()) == ["question 0", "question 1"]
    assert lakefs.list_partitions(lake.join(s3_lake, "inference", "requests")) == ["2026-12-05"]


def test_an_unreachable_store_is_an_error_never_an_empty_result(s3_lake, monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("LLMOPS__OBJECT_STORE__ENDPOINT_URL", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("LLMOPS__OBJECT_STORE__CONNECT_TIMEOUT_S", "1")
    settings.cache_clear()
    with pytest.raises(OSError):
        rows(s3_lake, DS)
    with pytest.raises(OSError):
        lakefs.list_partitions(lake.table_uri(s3_lake, "gold", "sft"))


def test_the_endpoint_setting_must_be_a_url():
    with pytest.raises(ConfigError, match="object_store.endpoint_url"):
        load_settings("local", environ={"LLMOPS__OBJECT_STORE__ENDPOINT_URL": "minio:9000"})


def test_spark_s3a_client_gets_the_same_endpoint_and_spark_conf_still_wins():
    """What Spark is given; its s3a client itself needs the hadoop-aws jars, which cannot be fetched here."""
    from spark_jobs.session import s3a_conf

    cfg = load_settings("kubernetes", environ={"LLMOPS__OBJECT_STORE__ENDPOINT_URL": "http://minio:9000"})
    assert s3a_conf(cfg) == {"spark.hadoop.fs.s3a.endpoint": "http://minio:9000",
                             "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
                             "spark.hadoop.fs.s3a.path.style.access": "true"}  # fmt: skip
    assert s3a_conf(load_settings("kubernetes", environ={})) == {}  # AWS itself: Hadoop's defaults


def test_drift_metrics_need_a_local_file_named_when_the_lake_is_remote(s3_lake, monkeypatch):
    from llmops.monitoring.drift_check import metrics_file

    with pytest.raises(ValueError, match="monitoring.drift_metrics_file must be set"):
        metrics_file(s3_lake)
    monkeypatch.setenv("LLMOPS__MONITORING__DRIFT_METRICS_FILE", "/var/lib/node-exporter/llmops_drift.prom")
    settings.cache_clear()
    assert str(metrics_file(s3_lake)) == "/var/lib/node-exporter/llmops_drift.prom"


def test_governance_data_scan_reads_gold_from_s3_and_uploads_its_report(s3_lake, tmp_path, monkeypatch):
    """The daily gold scan as its DAG runs it (``--out-dir`` a lake URI): gold read from and report written to S3."""
    from llmops.governance.gate import main as governance_gate

    monkeypatch.setenv("LLMOPS__PATHS__SCRATCH_DIR", str(tmp_path / "scratch"))
    settings.cache_clear()
    leaky = _gold(["a", "b"], ["train", "test"], answer="Write to jane.doe@example.com or call +1 415 555 0134.")
    publish_partition(_stage(tmp_path, "v1", leaky), lake.partition_uri(s3_lake, "gold", "sft", DS))
    out = lake.join(s3_lake, "reports", "governance_scan", f"ds={DS}", "gold")
    code = governance_gate(["--lake-root", s3_lake, "--ds", DS, "--data-only", "--out-dir", out,
                            "--work-dir", str(tmp_path / "work")])  # fmt: skip
    report = lakefs.read_json(lake.join(out, "governance_report.json"))
    assert code == 1 and report["status"] == "failed"
    assert lakefs.is_file(lake.join(out, "governance_report.html"))
    assert report["leakage"][0]["findings"], "the planted e-mail and phone in gold were not reported"
    assert not list((tmp_path / "scratch" / "lake-staging").iterdir()), "the local build folder was left behind"


def test_drift_check_uploads_its_report_and_leaves_no_staging_folder(s3_lake, tmp_path, monkeypatch):
    """The hourly drift step on a remote lake builds its report locally, uploads it, then removes the build folder
    (the drift statistics themselves are stubbed: tests/monitoring covers them)."""
    import datetime as dt

    from llmops.monitoring import drift, drift_check, inference_log, prompts
    from llmops.training import registry

    def check(reference, window, *, out_dir, **kwargs):
        (out_dir / "verdict.json").write_text('{"status": "ok"}')
        return {"status": "ok"}

    tags = {"llmops.gold.table": "t", "llmops.gold.partitions": DS}
    monkeypatch.setattr(registry, "version_by_alias", lambda alias: {"version": "1", "tags": tags})
    monkeypatch.setattr(prompts, "gold_prompts", lambda *args: [])
    monkeypatch.setattr(inference_log, "read_window", lambda *args, **kwargs: [])
    monkeypatch.setattr(drift, "load_embedder", lambda: None)
    monkeypatch.setattr(drift, "check", check)
    monkeypatch.setenv("LLMOPS__PATHS__SCRATCH_DIR", str(tmp_path / "scratch"))
    monkeypatch.setenv("LLMOPS__MONITORING__DRIFT_METRICS_FILE", str(tmp_path / "drift.prom"))
    settings.cache_clear()
    assert drift_check.run(s3_lake, dt.datetime(2026, 12, 5, 14, tzinfo=dt.UTC)) == {"status": "ok"}
    assert lakefs.read_json(lake.join(s3_lake, "reports", "drift", "ds=2026-12-05", "hour=14", "verdict.json"))
    assert not list((tmp_path / "scratch" / "lake-staging").iterdir()), "the local build folder was left behind"


def test_rollout_state_report_and_approval_live_in_the_lake(s3_lake, monkeypatch):
    """A rollout pod that is replaced, and the approval task in the worker, read the same state: by default in
    the lake, here on S3."""
    from llmops.deploy import approval, run, state
    from llmops.deploy.report import write_report

    monkeypatch.setenv("LLMOPS__PATHS__LAKE_ROOT", s3_lake)
    settings.cache_clear()
    root = run.state_dir(settings())
    assert root == lake.join(s3_lake, "reports", "deploy", "rollouts")
    path = state.state_path(root, "sa-v1", "sa-v2")
    st = state.RolloutState(stable="sa-v1", canary="sa-v2", steps=[50, 100], run_id="scheduled__1", hold_started=1.0)
    state.save(path, st)
    approval.record(path, True, "alice")
    assert state.load(path) == st and state.listed(root) == [path]
    assert approval.find(root, "scheduled__1") == (path, st) and approval.read(path).by == "alice"
    report = write_report(st, state.report_path(path))
    assert report.startswith("s3a://") and "Rollout of sa-v2 over sa-v1" in lakefs.read_text(report)
    assert [r.canary for r in run.rollouts(settings())] == ["sa-v2"]


def test_airflow_plugin_serves_reports_from_s3_and_nothing_outside_them(s3_lake, monkeypatch):
    import importlib.util

    from fastapi import HTTPException

    from llmops.reports import report_href

    plugin = Path(lake.__file__).parents[1] / "llmops_plugin.py"  # Airflow loads it from plugins/
    spec = importlib.util.spec_from_file_location("llmops_plugin", plugin)
    spec.loader.exec_module(module := importlib.util.module_from_spec(spec))
    get_report = module.get_report
    monkeypatch.setenv("LLMOPS__PATHS__LAKE_ROOT", s3_lake)
    settings.cache_clear()
    page = lake.join(s3_lake, "reports", "gates", "silver", f"ds={DS}", "data_docs", "index.html")
    lakefs.write_text(page, "<h1>silver</h1>")
    lakefs.write_text(lake.join(s3_lake, "secret.txt"), "not a report")
    href = report_href(page)
    assert href == f"/llmops/reports/gates/silver/ds={DS}/data_docs/index.html"
    response = get_report(href.removeprefix("/llmops/reports/"), None)
    assert (response.body, response.media_type) == (b"<h1>silver</h1>", "text/html")
    for path in ("../secret.txt", "gates/../../secret.txt", "gates/silver/missing.html", "gates//x"):
        with pytest.raises(HTTPException) as err:
            get_report(path, None)
        assert err.value.status_code == 404


def test_training_files_go_to_the_checkpoint_volume_when_the_lake_is_remote(s3_lake, monkeypatch, tmp_path):
    """Checkpoints and run outputs are local files (a PVC in pods, where CHECKPOINT_ROOT is set); never a guess."""
    from llmops.training.fit import checkpoint_dir, output_dir
    from llmops.training.jobs import TrainingJob

    job = TrainingJob(s3_lake, DS)
    with pytest.raises(ValueError, match="training.checkpoint_root must be set"):
        output_dir(job, "k1")
    monkeypatch.setenv("LLMOPS__TRAINING__CHECKPOINT_ROOT", f"file://{tmp_path}/checkpoints")
    settings.cache_clear()
    assert (checkpoint_dir(job, "k1"), output_dir(job, "k1")) == (
        tmp_path / "checkpoints" / "k1",
        tmp_path / "checkpoints" / "runs" / "k1",
    )
