"""The whole llmops_data DAG through `airflow dags test`, on generated data with planted defects, in the
`integration` profile: Airflow's metadata database on PostgreSQL and Feast's online store on Redis.

One module-scoped run (plus a bad batch) feeds every assertion, because each DAG run costs a few minutes of Spark
work on a 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pyarrow.dataset as pads
import pytest
import redis

from llmops.config import settings
from llmops_demo import generate
from tests.airflow_env import BIN, airflow_env
from tests.deploy.conftest import register
from tests.integration.test_feast_redis import project_keys
from tests.services import POSTGRES, postgres_database, require_port
from tests.serving.test_backends import _adapter
from tests.training.conftest import tiny_model  # noqa: F401 - the session's tiny base model, a fixture

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DS = "2026-11-20"
BAD_DS = "2026-11-21"
RECORDS = 3000
TEXT_COLUMNS = {"tickets": ("subject", "resolution"), "faq": ("page_title", "question", "answer"),
                "reviews": ("title", "body")}
ID = {"tickets": "ticket_id", "faq": "faq_id", "reviews": "review_id"}


def _airflow(env: dict, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=timeout)


def _table(lake: Path, layer: str, table: str, ds: str):
    return pads.dataset(lake / layer / table / f"ds={ds}", format="parquet").to_table().to_pylist()


class Run:
    """A throw-away Airflow home, lake and landing zone, with its metadata in the PostgreSQL database at
    ``database_url`` and its online features under a Feast project of its own (the keys of other runs sharing
    this Redis are never read or deleted)."""

    def __init__(self, tmp: Path, database_url: str):
        self.home, self.lake, self.raw = tmp / "airflow", tmp / "lake", tmp / "raw"
        self.home.mkdir()
        self.database, self.project = database_url.rsplit("/", 1)[1], f"llmops_e2e_{uuid.uuid4().hex[:8]}"
        self.env = airflow_env(self.home, lake=self.lake, raw=self.raw, LLMOPS_PROFILE="integration",
                               LLMOPS__FEAST__PROJECT=self.project, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=database_url)
        proc = _airflow(self.env, "db", "migrate")
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]

    def dags_test(self, ds: str, conf: dict, dag_id: str = "llmops_data") -> subprocess.CompletedProcess:
        return _airflow(self.env, "dags", "test", dag_id, ds, "-c", json.dumps({"ds": ds, **conf}))

    def task_states(self, ds: str, dag_id: str = "llmops_data") -> dict[str, str]:
        """Task states of the run for ``ds``, straight from the metadata DB (CLI output mixes in log lines).

        Mapped task instances appear as ``task_id[map_index]``."""
        with psycopg2.connect(dbname=self.database, **POSTGRES) as db, db.cursor() as cur:
            cur.execute(
                "SELECT ti.task_id, ti.map_index, ti.state FROM task_instance ti JOIN dag_run dr"
                " ON ti.dag_id = dr.dag_id AND ti.run_id = dr.run_id"
                " WHERE dr.dag_id = %s AND to_char(dr.logical_date AT TIME ZONE 'UTC', 'YYYY-MM-DD') = %s",
                (dag_id, ds),
            )
            rows = cur.fetchall()
        return {(task if index < 0 else f"{task}[{index}]"): state for task, index, state in rows}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    require_port("127.0.0.1", 6379, "Redis", "start it (the integration profile's online store)")
    with postgres_database("llmops_e2e") as database_url:
        r = Run(tmp_path_factory.mktemp("e2e"), database_url)
        try:
            generate(f"file://{r.raw}", DS, RECORDS)
            r.first = r.dags_test(DS, {})
            assert r.first.returncode == 0, r.first.stdout[-6000:] + r.first.stderr[-6000:]
            r.manifest = json.loads((r.raw / "_manifests" / f"ds={DS}" / "manifest.json").read_text())
            r.silver = {s: _table(r.lake, "silver", s, DS) for s in ("tickets", "faq", "reviews", "orders")}
            r.gold = _table(r.lake, "gold", "sft", DS)
            yield r
        finally:
            client = redis.Redis(host="127.0.0.1", port=6379)
            if keys := project_keys(client, r.project):
                client.delete(*keys)


def test_the_run_is_recorded_in_postgresql_not_sqlite(run):
    assert run.task_states(DS) == dict.fromkeys(
        ("ingest", "gate_bronze", "clean", "gate_silver", "build_sft", "gate_gold", "featurize", "feast_materialize"),
        "success")
    assert not (run.home / "airflow.db").exists()


def _texts(row: dict, source: str) -> list[str]:
    texts = [row[c] or "" for c in TEXT_COLUMNS[source]]
    if source == "tickets":
        texts += [m["text"] or "" for m in row["messages"]]
    return texts


def test_quarantine_equals_planted_malformed(run):
    planted = {(m["source"], m["file"], m["line"], m["reason"]) for m in run.manifest["malformed"]}
    got = set()
    for source in ("tickets", "faq", "reviews", "orders"):
        for q in _table(run.lake, "quarantine", source, DS):
            got.add((source, q["_source_file"], q["_line"], q["reason"]))
    assert got == planted


def test_records_reconcile_per_source(run):
    summary = json.loads((run.lake / "reports" / "ingest" / f"ds={DS}" / "summary.json").read_text())
    for source, counts in run.manifest["counts"].items():
        got = summary["sources"][source]
        assert got["read"] == counts["records"] == got["bronze"] + got["quarantine"]


def test_personal_data_recall_and_nothing_raw_past_bronze(run):
    by_id = {s: {r[ID[s]]: r for r in run.silver[s]} for s in ID}
    checked = masked = 0
    for item in run.manifest["pii"]:
        row = by_id.get(item["source"], {}).get(item["record_id"])
        if row is None:  # removed by the language filter or dedup: nothing of it is in silver
            continue
        checked += 1
        masked += all(item["value"] not in t for t in _texts(row, item["source"]))
    assert checked > 50
    assert masked / checked >= 0.99, f"recall {masked / checked:.4f} over {checked} planted values"
    gold_text = "\n".join(g["text"] for g in run.gold)
    leaked = [i["value"] for i in run.manifest["pii"] if i["value"] in gold_text]
    assert leaked == []
    for source, rows in run.silver.items():
        columns = set(rows[0]) if rows else set()
        assert not columns & {"customer", "customer_email", "email", "name"}, source


def test_duplicates_removed(run):
    for kind in ("near_duplicates", "exact_duplicates"):
        assert run.manifest[kind], kind
        for pair in run.manifest[kind]:
            ids = {r[ID[pair["source"]]] for r in run.silver[pair["source"]]}
            assert not {pair["original_id"], pair["duplicate_id"]} <= ids or (
                pair["original_id"] == pair["duplicate_id"]
                and sum(r[ID[pair["source"]]] == pair["original_id"] for r in run.silver[pair["source"]]) == 1
            ), pair
    for source, rows in run.silver.items():
        hashes = [r["content_hash"] for r in rows if "content_hash" in r]
        assert len(hashes) == len(set(hashes)), source


def test_injections_flagged_and_kept_out_of_gold(run):
    gold_ids = {sid for g in run.gold for sid in g["source_ids"]}
    flagged = 0
    for item in run.manifest["injections"]:
        row = next((r for r in run.silver.get(item["source"], []) if r[ID[item["source"]]] == item["record_id"]), None)
        if row is not None:
            flagged += row["is_suspicious"]
            assert row[ID[item["source"]]] not in gold_ids
    assert flagged > 0


def test_gold_format_and_split(run):
    assert len(run.gold) > 100
    assert {g["split"] for g in run.gold} == {"train", "validation", "test"}
    for g in run.gold:
        assert g["text"].startswith("[Context] ") and "\n[Question] " in g["text"] and "\n[Answer] " in g["text"]


def test_features_materialized_and_online(run):
    from llmops.config import load_settings
    from llmops.feature_store import read_online

    cfg = load_settings("integration", environ={"LLMOPS__PATHS__LAKE_ROOT": f"file://{run.lake}",
                                                "LLMOPS__FEAST__PROJECT": run.project})
    assert cfg.feast.online_store == "redis"
    example = run.gold[0]["example_id"]
    online = read_online([example], ["llm_training_features:n_chars", "llm_training_features:injection_flag"], cfg=cfg)
    assert online["n_chars"][0] and online["n_chars"][0] > 0 and online["injection_flag"] == [False]
    assert project_keys(redis.Redis(host="127.0.0.1", port=6379), run.project)


def test_bad_batch_fails_the_gate_and_stops_downstream(run):
    generate(f"file://{run.raw}", BAD_DS, 1500, seed=11, malformed_rate=0.2)  # 20% > max_quarantine_rate
    proc = run.dags_test(BAD_DS, {})
    assert proc.returncode != 0
    states = run.task_states(BAD_DS)
    assert states["ingest"] == "success"
    assert states["gate_bronze"] == "failed"
    for task in ("clean", "gate_silver", "build_sft", "gate_gold", "featurize", "feast_materialize"):
        assert states[task] == "upstream_failed", (task, states[task])
    assert not (run.lake / "silver" / "tickets" / f"ds={BAD_DS}").exists()
    verdict = json.loads((run.lake / "reports" / "gates" / "bronze" / f"ds={BAD_DS}" / "verdict.json").read_text())
    assert verdict["passed"] is False
    assert "quarantine" in json.dumps(verdict)
    log_text = proc.stdout + proc.stderr
    assert "FAIL" in log_text


def test_cli_runs_same_steps_and_names_the_failed_gate(run):
    proc = subprocess.run(
        [str(BIN / "llmops"), "data", "run", "--raw-root", f"file://{run.raw}", "--lake-root", f"file://{run.lake}",
         "--ds", BAD_DS],
        env=run.env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "gate_bronze" in proc.stderr


def test_cli_rejects_a_bad_date(run):
    proc = subprocess.run([str(BIN / "llmops"), "data", "run", "--ds", "2026-02-30"], env=run.env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "YYYY-MM-DD" in proc.stderr


def test_governance_dag_scans_the_champion_and_the_days_gold(run, tiny_model, tmp_path, monkeypatch):  # noqa: F811
    """The daily scans: the champion (a LoRA version of the session's tiny model; training end to end is the live
    lifecycle's test) through its endpoint, and the day's gold partition alone."""
    for key in ("LLMOPS_PROFILE", "LLMOPS__TRACKING__URI", "LLMOPS__TRACKING__ARTIFACT_ROOT"):
        monkeypatch.setenv(key, run.env[key])
    monkeypatch.setenv("LLMOPS__TRACKING__CREATE_SQLITE", "true")  # the registry's first version creates it
    settings.cache_clear()
    try:
        register(_adapter(tiny_model, tmp_path / "adapter", 1), str(tiny_model), "aaaa", alias="champion")
    finally:
        settings.cache_clear()
    proc = _airflow(run.env, "dags", "test", "llmops_governance", DS, "-c", json.dumps({"ds": DS}))
    states = run.task_states(DS, "llmops_governance")
    assert states.get("scan_gold") == "success", proc.stdout[-4000:] + proc.stderr[-4000:]
    assert states.get("scan_champion") in ("success", "failed"), states
    scans = run.lake / "reports" / "governance_scan" / f"ds={DS}"
    champion = json.loads((scans / "champion" / "governance_report.json").read_text())
    assert champion["owasp"]["edition"] == "2025" and champion["lineage"]
    assert (champion["status"] == "passed") == (states["scan_champion"] == "success")
    assert json.loads((scans / "gold" / "governance_report.json").read_text())["status"] == "passed"
