"""The ingest job on a small raw tree written here: bronze + quarantine partitions, counts, reruns."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmops import lake
from llmops.contracts.raw_landing import ORDERS_HEADER, REASONS, SOURCES
from spark_jobs import ingest
from spark_jobs.schemas import BRONZE, QUARANTINE
from spark_jobs.session import read_partition

DS = "2024-05-01"
ROOT = Path(__file__).resolve().parents[2]


def _ticket(i: int, **changes) -> dict:
    record = {
        "ticket_id": f"T-{i}",
        "created_at": "2024-05-01T10:00:00Z",
        "channel": "chat",
        "customer": {"id": f"C-{i}", "email": f"c{i}@example.com", "name": "Ana"},
        "subject": "Speaker crackles",
        "messages": [{"role": "customer", "text": "It crackles at high volume."}],
    }
    return {**record, **changes}


def _review(i: int, **changes) -> dict:
    record = {
        "review_id": f"R-{i}",
        "product_id": "P-1",
        "rating": 5,
        "body": "Great.",
        "created_at": "2024-05-01",
    }
    return {**record, **changes}


def _lines(*items) -> bytes:
    return b"".join((i if isinstance(i, bytes) else json.dumps(i).encode()) + b"\n" for i in items)


FAQ = (
    b"<html><head><title>Warranty</title><script>var h = '<h2>x</h2>';</script></head><body>"
    b"<nav><h2>Menu</h2></nav><h2>How long is the warranty?</h2><p>Two years.</p>"
    b"<h3>Does it cover water damage?</h3><h3>How do I claim?</h3><ol><li>Open a ticket.</li></ol>"
    b"<footer><h3>Contact</h3></footer></body></html>"
)
ORDER = b"O-1,C-1,a@example.com,Speaker,delivered,2024-05-01T09:00:00Z,59.99"


@pytest.fixture
def raw_root(tmp_path) -> str:
    """A raw tree with every source and, per record, what the job must do with it."""
    files = {
        "tickets/a.jsonl": _lines(_ticket(1, tags=["audio"]), _ticket(2, channel="fax"), b"{oops", _ticket(3)),
        "tickets/b.jsonl.gz": gzip.compress(_lines(_ticket(4), b'{"ticket_id": "T-\xff"}', _ticket(5, messages=[]))),
        "reviews/r.jsonl": _lines(_review(1), _review(2, rating="5"), _review(3, rating=0)).replace(b"\n", b"\r\n"),
        "orders/o.csv": b"\n".join([",".join(ORDERS_HEADER).encode(), ORDER, b"O-2,C-2,,TV,lost,2024-05-01,1", b""]),
        "orders/old.csv.gz": gzip.compress(b"id,total\n1,2\n3,4\n"),
        "faq/p.html": FAQ,
    }
    for name, data in files.items():
        source, file = name.split("/")
        path = tmp_path / "raw" / source / f"ds={DS}" / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (tmp_path / "raw" / "orders" / f"ds={DS}" / "_SUCCESS").write_bytes(b"")
    return f"file://{tmp_path}/raw"


def _uri(raw_root: str, source: str, file: str) -> str:
    return f"{raw_root}/{source}/ds={DS}/{file}"


def _expected_quarantine(raw_root: str) -> set[tuple[str, int, str]]:
    return {
        (_uri(raw_root, "tickets", "a.jsonl"), 2, "invalid_value"),
        (_uri(raw_root, "tickets", "a.jsonl"), 3, "malformed_record"),
        (_uri(raw_root, "tickets", "b.jsonl.gz"), 2, "invalid_utf8"),
        (_uri(raw_root, "tickets", "b.jsonl.gz"), 3, "invalid_value"),
        (_uri(raw_root, "reviews", "r.jsonl"), 2, "wrong_type"),
        (_uri(raw_root, "reviews", "r.jsonl"), 3, "invalid_value"),
        (_uri(raw_root, "orders", "o.csv"), 3, "invalid_value"),
        (_uri(raw_root, "orders", "old.csv.gz"), 2, "bad_header"),
        (_uri(raw_root, "orders", "old.csv.gz"), 3, "bad_header"),
        (_uri(raw_root, "faq", "p.html"), 2, "missing_field"),
    }


EXPECTED_BRONZE = {"tickets": {"T-1", "T-3", "T-4"}, "reviews": {"R-1"}, "orders": {"O-1"}, "faq": {1, 3}}
BRONZE_KEY = {"tickets": "ticket_id", "reviews": "review_id", "orders": "order_id", "faq": "_line"}


def _names_and_types(schema) -> list[tuple[str, object]]:
    return [(f.name, f.dataType) for f in schema.fields]


def test_ingest_source_splits_every_record_into_bronze_or_quarantine(spark, raw_root):
    quarantined = set()
    for source in SOURCES:
        bronze, quarantine = ingest.ingest_source(spark, raw_root, source, DS)
        assert _names_and_types(bronze.schema) == _names_and_types(BRONZE[source])
        assert _names_and_types(quarantine.schema) == _names_and_types(QUARANTINE)
        assert {r[BRONZE_KEY[source]] for r in bronze.collect()} == EXPECTED_BRONZE[source]
        rows = quarantine.collect()
        assert {r["source"] for r in rows} <= {source}
        quarantined |= {(r["_source_file"], r["_line"], r["reason"]) for r in rows}
    assert quarantined == _expected_quarantine(raw_root)


def test_bronze_values_are_typed_and_traceable(spark, raw_root):
    tickets, _ = ingest.ingest_source(spark, raw_root, "tickets", DS)
    first = tickets.where("ticket_id = 'T-1'").first()
    assert first["extra"] == {"tags": '["audio"]'}
    assert (first["_source_file"], first["_line"]) == (_uri(raw_root, "tickets", "a.jsonl"), 1)
    assert first["created_at"].isoformat() == "2024-05-01T10:00:00"  # session time zone is UTC
    assert first["messages"][0]["role"] == "customer"
    order = ingest.ingest_source(spark, raw_root, "orders", DS)[0].first()
    assert str(order["total"]) == "59.99" and order["_line"] == 2
    _, quarantine = ingest.ingest_source(spark, raw_root, "tickets", DS)
    bad_utf8 = quarantine.where("reason = 'invalid_utf8'").first()
    assert bad_utf8["raw_bytes"] and "\ufffd" in bad_utf8["raw"]


def test_run_publishes_partitions_reconciles_and_reruns_idempotently(spark, raw_root, lake_root):
    summary = ingest.run(raw_root, lake_root, DS)
    expected_q = _expected_quarantine(raw_root)
    for source in SOURCES:
        counts = summary["sources"][source]
        n_bronze, n_quarantine = (
            len(EXPECTED_BRONZE[source]),
            sum(1 for q in expected_q if f"/{source}/" in q[0]),
        )
        assert (counts["bronze"], counts["quarantine"]) == (n_bronze, n_quarantine)
        assert counts["read"] == n_bronze + n_quarantine
        assert set(counts["reasons"]) == set(REASONS)
    assert summary["sources"]["orders"]["reasons"]["bad_header"] == 2
    assert summary["sources"]["tickets"]["files"] == 2 and summary["sources"]["orders"]["files"] == 2
    assert summary["read"] == 17 and summary["quarantine"] == 10
    assert summary["quarantine_rate"] == pytest.approx(10 / 17)
    written = json.loads(lake.local_path(ingest.summary_uri(lake_root, DS)).read_text())
    assert written == json.loads(json.dumps(summary))

    again = ingest.run(raw_root, lake_root, DS)
    assert again["sources"] == summary["sources"]
    for source in SOURCES:
        bronze = read_partition(spark, lake_root, "bronze", source, DS)
        quarantine = read_partition(spark, lake_root, "quarantine", source, DS)
        assert bronze.count() == summary["sources"][source]["bronze"]
        assert quarantine.count() == summary["sources"][source]["quarantine"]
        assert bronze.schema.simpleString() == BRONZE[source].simpleString()  # Parquet drops non-null flags
        staging = lake.local_path(lake.table_uri(lake_root, "bronze", source)) / "_staging"
        assert not staging.exists() or not any(staging.iterdir())


def test_nothing_landed_is_an_error_that_publishes_nothing(spark, raw_root, lake_root, tmp_path, capsys):
    ingest.run(raw_root, lake_root, DS, sources=("reviews",))
    before = read_partition(spark, lake_root, "bronze", "reviews", DS).count()
    (tmp_path / "landed-elsewhere" / "reviews" / "ds=2024-04-30").mkdir(parents=True)
    for missing in (f"file://{tmp_path}/no-such-root", f"file://{tmp_path}/landed-elsewhere"):
        args = ["--raw-root", missing, "--lake-root", lake_root, "--ds", DS, "--sources", "reviews"]
        assert ingest.main(args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "nothing published" in err, err
        assert ("does not exist" if "no-such" in missing else f"no raw records for ds={DS}") in err
        assert read_partition(spark, lake_root, "bronze", "reviews", DS).count() == before == 1
    # a source whose files hold no record is refused too, before any other source is published
    header_only = tmp_path / "header-only"
    (header_only / "orders" / f"ds={DS}").mkdir(parents=True)
    (header_only / "orders" / f"ds={DS}" / "o.csv").write_bytes(",".join(ORDERS_HEADER).encode() + b"\n")
    (header_only / "reviews" / f"ds={DS}").mkdir(parents=True)
    (header_only / "reviews" / f"ds={DS}" / "r.jsonl").write_bytes(_lines(_review(7), _review(8)))
    with pytest.raises(ingest.NothingLandedError, match="for orders"):
        ingest.run(f"file://{header_only}", lake_root, DS, sources=("reviews", "orders"))
    assert read_partition(spark, lake_root, "bronze", "reviews", DS).count() == before


def test_allow_empty_publishes_an_empty_day_and_reports_what_it_replaced(spark, raw_root, lake_root, tmp_path):
    ingest.run(raw_root, lake_root, DS, sources=("reviews",))
    summary = ingest.run(f"file://{tmp_path}/nothing", lake_root, DS, sources=("reviews",), allow_empty=True)
    assert summary["sources"]["reviews"]["replaced_bronze_rows"] == 1
    assert read_partition(spark, lake_root, "bronze", "reviews", DS).count() == 0


def test_a_source_without_files_gets_empty_partitions_when_allowed(spark, raw_root, lake_root, tmp_path):
    empty_raw = f"file://{tmp_path}/nothing-landed"
    summary = ingest.run(empty_raw, lake_root, DS, sources=("faq", "orders"), allow_empty=True)
    assert summary["sources"]["faq"] == {
        "files": 0,
        "read": 0,
        "bronze": 0,
        "quarantine": 0,
        "quarantine_rate": 0.0,
        "reasons": dict.fromkeys(REASONS, 0),
    }
    faq = read_partition(spark, lake_root, "bronze", "faq", DS)
    assert faq.count() == 0 and faq.schema.simpleString() == BRONZE["faq"].simpleString()
    assert read_partition(spark, lake_root, "quarantine", "orders", DS).count() == 0


def test_a_lossy_write_fails_reconciliation_with_exit_code_1(spark, raw_root, lake_root, monkeypatch):
    real_write = ingest.write_partition

    def drop_one_row(df, lake_root, layer, table, ds):
        return real_write(df.limit(max(df.count() - 1, 0)), lake_root, layer, table, ds)

    monkeypatch.setattr(ingest, "write_partition", drop_one_row)
    args = ["--raw-root", raw_root, "--lake-root", lake_root, "--ds", DS, "--sources", "reviews"]
    assert ingest.main(args) == 1
    summary = json.loads(lake.local_path(ingest.summary_uri(lake_root, DS)).read_text())
    assert summary["reconciled"] is False and "reviews: 3 records read" in summary["problems"][0]


def test_main_succeeds_on_a_good_tree(spark, raw_root, lake_root):
    assert ingest.main(["--raw-root", raw_root, "--lake-root", lake_root, "--ds", DS, "--sources", "faq"]) == 0


def test_reconciliation_problem_names_the_source_and_counts():
    assert ingest.reconciliation_problem("faq", {"read": 5, "bronze": 3, "quarantine": 2}) is None
    problem = ingest.reconciliation_problem("faq", {"read": 5, "bronze": 3, "quarantine": 1})
    assert problem == "faq: 5 records read but 3 in bronze + 1 in quarantine = 4"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--raw-root", "/no/scheme", "--lake-root", "file:///l", "--ds", DS], "expected a URI"),
        (["--raw-root", "file:///r", "--lake-root", "file:///l", "--ds", "2024-5-1"], "YYYY-MM-DD"),
        (
            ["--raw-root", "file:///r", "--lake-root", "file:///l", "--ds", DS, "--sources", "logs"],
            "unknown source",
        ),
        (["--raw-root", "file:///r", "--ds", DS], "--lake-root"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args, error, capsys):
    with pytest.raises(SystemExit) as exit_info:
        ingest.main(args)
    assert exit_info.value.code == 2
    assert error in capsys.readouterr().err


def test_runs_as_a_script_for_spark_submit():
    result = subprocess.run(
        [sys.executable, str(ROOT / "spark_jobs" / "ingest.py"), "--raw-root", "file:///r", "--lake-root",
         "file:///l", "--ds", "yesterday"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2 and "ds must be a date" in result.stderr


def test_hadoop_paths_print_as_file_uris():
    assert ingest.file_uri("file:/tmp/a b/x.csv") == "file:///tmp/a b/x.csv"
    assert ingest.file_uri("file:///tmp/x.csv") == "file:///tmp/x.csv"
    assert ingest.file_uri("s3a://bucket/raw/x.csv") == "s3a://bucket/raw/x.csv"
