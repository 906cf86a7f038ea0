"""Great Expectations gates: clean partitions pass; each kind of violation fails and is named."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql.types import StringType, StructField, StructType

from expectations import gate
from expectations.pii_scan import PiiScanError
from expectations.suites import RowCountBounds
from expectations.verdict import unexpected_ids
from llmops import lake
from llmops.config import load_settings
from llmops.contracts.raw_landing import SOURCES
from spark_jobs.schemas import BRONZE, GOLD_SFT, QUARANTINE, SILVER
from spark_jobs.session import write_partition

DS, PREV = "2026-11-22", "2026-11-21"
TS = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)
CFG = load_settings("local", environ={})
COMPLETE = "expect_column_proportion_of_non_null_values_to_be_between"
UNIQUE = "expect_column_values_to_be_unique"
IN_SET = "expect_column_values_to_be_in_set"
NO_PII = "expect_column_values_to_not_match_regex_list"
BETWEEN = "expect_column_values_to_be_between"


# ---------------------------------------------------------------- rows in the layer schemas


def _lineage(source: str, i: int) -> dict:
    return {"_source_file": f"file:///raw/{source}/ds={DS}/part.jsonl", "_line": i + 1}


def _silver_common(source: str, i: int) -> dict:
    return {
        "lang": "en",
        "content_hash": f"{source}-{i:04d}",
        "is_suspicious": False,
        "suspicious_rule": None,
    }


def _messages(i: int) -> list[dict]:
    return [
        {"role": "customer", "text": f"Where is my order number {i}? Please reply to [EMAIL].", "ts": TS},
        {"role": "agent", "text": "It left our warehouse today and arrives on Friday.", "ts": TS},
    ]


def bronze_rows(source: str, n: int) -> list[dict]:
    make = {
        "tickets": lambda i: {
            "ticket_id": f"T{i}",
            "created_at": TS,
            "channel": "email",
            "customer": {"id": f"C{i}", "email": f"user{i}@example.com", "name": "Ann Lee"},
            "subject": "Late order",
            "messages": _messages(i),
            "resolution": "shipped",
            "extra": {},
        },
        "faq": lambda i: {
            "faq_id": f"F{i}",
            "page_title": "Shipping",
            "question": f"How long does shipping take to zone {i}?",
            "answer_html": "<p>Three to five working days.</p>",
        },
        "reviews": lambda i: {
            "review_id": f"R{i}",
            "product_id": "P1",
            "rating": 4,
            "title": "Good",
            "body": "Works well.",
            "created_at": TS,
            "lang": "en",
            "extra": {},
        },
        "orders": lambda i: {
            "order_id": f"O{i}",
            "customer_id": f"C{i}",
            "customer_email": f"user{i}@example.com",
            "product": "USB-C cable",
            "status": "shipped",
            "created_at": TS,
            "total": Decimal("19.99"),
        },
    }[source]
    return [{**make(i), **_lineage(source, i)} for i in range(n)]  # fmt: skip


def silver_rows(source: str, n: int) -> list[dict]:
    make = {
        "tickets": lambda i: {
            "ticket_id": f"T{i}",
            "created_at": TS,
            "channel": "chat",
            "customer_id": f"C{i}",
            "subject": "Late order",
            "messages": _messages(i),
            "resolution": "Shipped on Friday.",
            **_silver_common("tickets", i),
        },
        "faq": lambda i: {
            "faq_id": f"F{i}",
            "page_title": "Shipping",
            "question": f"How long does shipping take to zone {i}?",
            "answer": "Three to five working days, tracked.",
            **_silver_common("faq", i),
        },
        "reviews": lambda i: {
            "review_id": f"R{i}",
            "product_id": "P1",
            "rating": 5,
            "title": "Great",
            "body": f"Fast delivery {i}.",
            "created_at": TS,
            **_silver_common("reviews", i),
        },
        "orders": lambda i: {
            "order_id": f"O{i}",
            "customer_id": f"C{i}",
            "customer_email_key": f"{i:064x}",
            "product": "USB-C cable",
            "status": "delivered",
            "created_at": TS,
            "total": Decimal("19.99"),
        },
    }[source]
    return [{**make(i), **_lineage(source, i)} for i in range(n)]  # fmt: skip


def gold_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        question, answer = f"How long does shipping take to zone {i}?", "Three to five working days, tracked."
        rows.append({
            "example_id": f"{i:064x}", "source": "faq", "source_ids": [f"F{i}"], "source_file": "file:///raw/faq/a.html",
            "system": "You are a support assistant.", "instruction": question, "input": "Topic: Shipping",
            "output": answer, "text": f"[Context] Topic: Shipping\n[Question] {question}\n[Answer] {answer}",
            "split": ("train", "validation", "test")[i % 3], "group_key": "Shipping", "created_at": TS,
        })  # fmt: skip
    return rows


def relaxed(schema: StructType) -> StructType:
    """The schema with nullable top-level columns, so a test can write the nulls a buggy job would."""
    return StructType([StructField(f.name, f.dataType, True) for f in schema.fields])


def write(
    spark, lake_root: str, layer: str, table: str, ds: str, rows: list[dict], schema: StructType
) -> None:
    write_partition(spark.createDataFrame(rows, relaxed(schema)), lake_root, layer, table, ds)


def quarantine_rows(source: str, n: int) -> list[dict]:
    return [
        {"source": source, **_lineage(source, 100 + i), "raw": "{bad json", "raw_bytes": None,
         "reason": "malformed_record", "message": "line is not JSON"}
        for i in range(n)
    ]  # fmt: skip


def write_bronze(
    spark, lake_root, ds, bronze: dict[str, list[dict]], quarantine: dict[str, list[dict]]
) -> None:
    sources = {}
    for source in SOURCES:
        write(spark, lake_root, "bronze", source, ds, bronze[source], BRONZE[source])
        write(spark, lake_root, "quarantine", source, ds, quarantine[source], QUARANTINE)
        read = len(bronze[source]) + len(quarantine[source])
        sources[source] = {
            "read": read, "bronze": len(bronze[source]), "quarantine": len(quarantine[source]),
            "by_reason": {"malformed_record": len(quarantine[source])},
            "quarantine_rate": len(quarantine[source]) / read,
        }  # fmt: skip
    summary = lake.local_path(lake.join(lake_root, "reports", "ingest", f"ds={ds}", "summary.json"))
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps({"sources": sources}))


def write_clean_summary(lake_root: str, ds: str, bronze: int = 8, removed_language: dict | None = None) -> None:
    """The clean step's summary as the silver gate reads it: bronze rows and what the language filter removed."""
    removed = removed_language or {}
    sources = {s: {"bronze": bronze, "removed_language": removed.get(s, 0)} for s in ("tickets", "faq", "reviews")}
    summary = lake.local_path(lake.join(lake_root, "reports", "clean", f"ds={ds}", "summary.json"))
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps({"sources": sources}))


def failures(verdict) -> dict[tuple[str, str, str | None], object]:
    """(table, expectation name, column) -> observed, for every failed expectation."""
    return {(t, e.name, e.column): e.observed for t, e in verdict.failures()}


def report_dir(lake_root: str, layer: str, ds: str = DS) -> Path:
    return lake.local_path(lake.partition_uri(lake_root, "reports", f"gates/{layer}", ds))


# ---------------------------------------------------------------- pure helpers


def test_row_count_bounds_follow_the_previous_partition():
    assert RowCountBounds.from_previous(None, (0.2, 5.0)) == RowCountBounds(None, 1, None)
    assert RowCountBounds.from_previous(0, (0.2, 5.0)) == RowCountBounds(0, 1, None)
    assert RowCountBounds.from_previous(52, (0.2, 5.0)) == RowCountBounds(52, 11, 260)


def test_unexpected_ids_reads_both_gx_index_layouts():
    assert unexpected_ids([{"id": "a", "t": "x"}, {"id": "b", "t": "y"}], ["id"]) == ["a", "b"]
    assert unexpected_ids([{"id": ["a", "a"]}], ["id"]) == ["a", "a"]
    assert unexpected_ids([{"s": ["x"], "n": [3]}], ["s", "n"]) == [{"s": "x", "n": 3}]
    assert unexpected_ids(None, ["id"]) == []


# ---------------------------------------------------------------- bronze


@pytest.fixture(scope="module")
def bronze_lake(spark, tmp_path_factory) -> str:
    """A clean partition on PREV, and on DS one with a violation of every kind."""
    root = f"file://{tmp_path_factory.mktemp('bronze')}/lake"
    write_bronze(
        spark,
        root,
        PREV,
        {s: bronze_rows(s, 10) for s in SOURCES},
        {s: quarantine_rows(s, 1) for s in SOURCES},
    )

    rows = {s: bronze_rows(s, 10) for s in SOURCES}
    rows["tickets"][0]["ticket_id"] = None
    rows["tickets"][1]["channel"] = "fax"
    rows["orders"][2]["status"] = "lost"
    rows["faq"][3]["_line"] = None
    rows["reviews"] = bronze_rows("reviews", 1)  # 10 rows the day before: a collapse
    rows["reviews"][0]["rating"] = 9
    quarantine = {s: quarantine_rows(s, 1) for s in SOURCES}
    quarantine["faq"] = quarantine_rows("faq", 5)  # 5 of 15 records read: rate 0.33 > 0.10
    quarantine["reviews"] = []
    quarantine["orders"][0]["reason"] = "looked_odd"
    write_bronze(spark, root, DS, rows, quarantine)
    summary = lake.local_path(lake.join(root, "reports", "ingest", f"ds={DS}", "summary.json"))
    figures = json.loads(summary.read_text())
    figures["sources"]["orders"]["read"] += 1  # a record read that neither bronze nor quarantine holds
    summary.write_text(json.dumps(figures))
    return root


def test_bronze_clean_partition_passes_and_publishes_reports(spark, bronze_lake):
    verdict = gate.run_gate(spark, "bronze", bronze_lake, PREV, CFG)
    assert verdict.passed and verdict.status == "passed", verdict.failures()
    assert [t.table for t in verdict.tables] == [*SOURCES, "ingest", "quarantine"]
    assert {t.table: t.rows for t in verdict.tables}["quarantine"] == 4
    out = report_dir(bronze_lake, "bronze", PREV)
    saved = json.loads((out / "verdict.json").read_text())
    assert saved["status"] == "passed" and saved["data_docs_url"].endswith(f"/ds={PREV}/data_docs/index.html")
    assert (out / "data_docs" / "index.html").is_file()
    assert not list((out.parent / "_staging").iterdir())
    row_count = next(
        e for t in verdict.tables if t.table == "tickets" for e in t.expectations
        if e.expectation == "expect_table_row_count_to_be_between"
    )  # fmt: skip
    assert row_count.observed == 10 and row_count.threshold == {
        "min_value": 1,
        "previous_partition_rows": None,
    }


def test_bronze_violations_fail_the_gate_and_are_named(spark, bronze_lake):
    verdict = gate.run_gate(spark, "bronze", bronze_lake, DS, CFG)
    assert verdict.status == "failed" and verdict.exit_code == 1
    failed = failures(verdict)
    assert failed[("tickets", COMPLETE, "ticket_id")] == 0.9  # share of non-null values
    assert failed[("tickets", IN_SET, "channel")]["sample"] == ["fax"]
    assert failed[("orders", IN_SET, "status")]["sample"] == ["lost"]
    assert failed[("faq", COMPLETE, "_line")] == 0.9
    assert failed[("reviews", "expect_column_values_to_be_between", "rating")]["sample"] == [9]
    assert failed[("reviews", "expect_table_row_count_to_be_between", None)] == 1
    row_count = next(
        e for t, e in verdict.failures() if e.expectation == "expect_table_row_count_to_be_between"
    )
    assert row_count.threshold == {"min_value": 2, "max_value": 50, "previous_partition_rows": 10}
    assert failed[("ingest", "expect_column_values_to_be_between", "quarantine_rate")] == {
        "unexpected": 1, "of": 4, "percent": 25.0, "sample": [pytest.approx(5 / 15)], "ids": ["faq"],
    }  # fmt: skip
    assert failed[("ingest", "expect_column_pair_values_to_be_equal", "read,rows_on_disk")] == {
        "unexpected": 1, "of": 4, "percent": 25.0, "sample": [(12, 11)], "ids": ["orders"],
    }  # fmt: skip
    assert failed[("quarantine", IN_SET, "reason")]["sample"] == ["looked_odd"]
    assert len(failed) == 9, failed
    saved = json.loads((report_dir(bronze_lake, "bronze") / "verdict.json").read_text())
    assert saved["status"] == "failed" and not saved["passed"]


# ---------------------------------------------------------------- silver


def test_silver_clean_partition_passes(spark, lake_root):
    for source in SOURCES:
        write(spark, lake_root, "silver", source, DS, silver_rows(source, 8), SILVER[source])
    write_clean_summary(lake_root, DS, removed_language={"reviews": 1})
    verdict = gate.run_gate(spark, "silver", lake_root, DS, CFG)
    assert verdict.passed, verdict.failures()
    assert {t.table: t.rows for t in verdict.tables}["tickets.messages"] == 16
    assert (report_dir(lake_root, "silver") / "data_docs" / "index.html").is_file()


def test_silver_violations_fail_without_quoting_personal_data(spark, lake_root):
    rows = {s: silver_rows(s, 8) for s in SOURCES}
    rows["tickets"][1]["ticket_id"] = "T0"  # duplicate id
    rows["tickets"][2]["messages"][1]["text"] = "Write to maria.lopez@example.org for a refund."
    rows["faq"][0]["faq_id"] = None
    rows["faq"][4]["answer"] = "We charged card 4111 1111 1111 1111 twice."
    rows["faq"][5]["content_hash"] = rows["faq"][6]["content_hash"]
    rows["reviews"][3]["body"] = "Call me on (415) 555-0132 about it."
    rows["reviews"][5]["lang"] = "de"
    rows["reviews"][6]["title"] = "Works on ::1 only"  # the regex check misses the IPv6 loopback, Presidio does not
    for source in ("tickets", "faq", "reviews"):
        write(spark, lake_root, "silver", source, DS, rows[source], SILVER[source])
    leaky_orders = StructType([*SILVER["orders"].fields, StructField("customer_email", StringType(), True)])
    orders = [{**r, "customer_email": "user@example.com"} for r in rows["orders"]]
    write(spark, lake_root, "silver", "orders", DS, orders, leaky_orders)
    write_clean_summary(lake_root, DS)

    verdict = gate.run_gate(spark, "silver", lake_root, DS, CFG)
    assert verdict.status == "failed"
    failed = failures(verdict)
    assert failed[("tickets", UNIQUE, "ticket_id")]["ids"] == ["T0", "T0"]
    assert failed[("tickets.messages", NO_PII, "text")] == {
        "unexpected": 1, "of": 16, "percent": 6.25, "ids": ["T2"], "types": {"EMAIL": 1},
    }  # fmt: skip
    assert failed[("faq", COMPLETE, "faq_id")] == 0.875
    assert failed[("faq", NO_PII, "answer")] == {
        "unexpected": 1, "of": 8, "percent": 12.5, "ids": ["F4"], "types": {"CREDIT_CARD": 1},
    }  # fmt: skip
    assert failed[("faq", UNIQUE, "content_hash")]["unexpected"] == 2
    assert failed[("reviews", NO_PII, "body")]["types"] == {"PHONE": 1}
    assert failed[("reviews", IN_SET, "lang")]["ids"] == ["R5"]
    assert failed[("orders", "expect_table_columns_to_match_set", None)]["unexpected"] == ["customer_email"]
    # the independent scan names type, column and rows (the review's number: Presidio skips "call", a stop word)
    assert failed[("pii_scan", BETWEEN, "found")]["ids"] == [
        {"column": "tickets.messages.text", "pii_type": "EMAIL", "row_ids": "T2"},
        {"column": "faq.answer", "pii_type": "CREDIT_CARD", "row_ids": "F4"},
        {"column": "reviews.title", "pii_type": "IP_ADDRESS", "row_ids": "R6"},
    ]
    assert len(failed) == 9, failed
    # the reports name rows, never the personal data that leaked
    out = report_dir(lake_root, "silver")
    written = [(out / "verdict.json").read_text()] + [p.read_text() for p in out.rglob("*.html")]
    written += [p.read_text() for p in (out / "gx").rglob("*.json")]
    for secret in ("maria.lopez@example.org", "4111 1111 1111 1111", "555-0132"):
        assert not any(secret in text for text in written), secret


def test_silver_fails_when_the_language_filter_takes_too_much_of_a_source(spark, lake_root):
    for source in SOURCES:
        write(spark, lake_root, "silver", source, DS, silver_rows(source, 8), SILVER[source])
    write_clean_summary(lake_root, DS, bronze=10, removed_language={"reviews": 3, "faq": 1})
    verdict = gate.run_gate(spark, "silver", lake_root, DS, CFG)  # CFG: max_language_drop_share 0.2
    assert verdict.status == "failed"
    (failed,) = failures(verdict).items()
    assert failed[0] == ("language_filter", "expect_column_values_to_be_between", "removed_language_share")
    assert (failed[1]["unexpected"], failed[1]["of"], failed[1]["sample"]) == (1, 3, [0.3])
    assert failed[1]["ids"] == ["reviews"]


def test_silver_errors_without_the_clean_summary(spark, lake_root):
    for source in SOURCES:
        write(spark, lake_root, "silver", source, DS, silver_rows(source, 8), SILVER[source])
    with pytest.raises(gate.GateError, match="cannot read the clean summary"):
        gate.run_gate(spark, "silver", lake_root, DS, CFG)
    write_clean_summary(lake_root, DS)
    summary = lake.local_path(lake.join(lake_root, "reports", "clean", f"ds={DS}", "summary.json"))
    summary.write_text(json.dumps({"sources": {"tickets": {"bronze": 8}}}))
    with pytest.raises(gate.GateError, match="no bronze / removed_language figures"):
        gate.run_gate(spark, "silver", lake_root, DS, CFG)


# ---------------------------------------------------------------- gold and the command line


def _main(spark, monkeypatch, lake_root: str, layer: str) -> int:
    monkeypatch.setattr(gate, "get_spark", lambda *_: spark)  # reuse the test session
    return gate.main(["--layer", layer, "--lake-root", lake_root, "--ds", DS])


def test_gold_clean_partition_exits_0(spark, lake_root, monkeypatch):
    write(spark, lake_root, "gold", "sft", DS, gold_rows(9), GOLD_SFT)
    assert _main(spark, monkeypatch, lake_root, "gold") == 0
    saved = json.loads((report_dir(lake_root, "gold") / "verdict.json").read_text())
    assert saved["status"] == "passed" and [t["table"] for t in saved["tables"]] == ["sft", "pii_scan"]
    assert (report_dir(lake_root, "gold") / "data_docs" / "index.html").is_file()


def test_gold_violations_exit_1(spark, lake_root, monkeypatch, caplog):
    rows = gold_rows(6)
    rows[0]["text"] = rows[0]["text"].replace("[Question] ", "Question: ")
    rows[1]["output"] = rows[1]["instruction"] = "How long does shipping take to zone 1?"
    rows[2]["split"] = "holdout"
    rows[3]["example_id"] = rows[4]["example_id"]
    rows[5]["output"] = "Short."
    rows[5]["input"] = "Order placed from 192.168.10.24 yesterday"
    write(spark, lake_root, "gold", "sft", DS, rows, GOLD_SFT)
    caplog.set_level("INFO", logger="expectations.gate")
    assert _main(spark, monkeypatch, lake_root, "gold") == 1
    saved = json.loads((report_dir(lake_root, "gold") / "verdict.json").read_text())
    failed = {
        (e["expectation"], e["column"]): e
        for t in saved["tables"]
        for e in t["expectations"]
        if not e["success"]
    }
    assert failed[("expect_column_values_to_match_regex", "text")]["observed"]["ids"] == [f"{0:064x}"]
    assert failed[("unexpected_rows_expectation", "output,instruction")]["observed"] == 1
    assert failed[("expect_column_values_to_be_in_set", "split")]["observed"]["unexpected"] == 1
    assert failed[("expect_column_values_to_be_unique", "example_id")]["observed"]["unexpected"] == 2
    assert failed[("expect_column_value_lengths_to_be_between", "output")]["threshold"]["min_value"] == 20
    assert failed[(NO_PII, "input")]["observed"]["types"] == {"IP_ADDRESS": 1}
    assert failed[(BETWEEN, "found")]["observed"]["ids"] == [
        {"column": "sft.input", "pii_type": "IP_ADDRESS", "row_ids": rows[5]["example_id"]}
    ]
    assert len(failed) == 7, failed
    table = [r.getMessage() for r in caplog.records if r.name == "expectations.gate"]
    assert any(line.startswith("table") and line.rstrip().endswith("result") for line in table)
    assert table[-1].startswith("gate gold ds=2026-11-22 FAILED; 7 failed: ")
    assert "sft: expect_column_values_to_be_in_set(split) observed 1/6 unexpected" in table[-1]
    assert "The answer (output) must not copy the question (instruction)" in table[-1]


def test_gold_errors_when_the_independent_pii_scan_fails(spark, lake_root, monkeypatch):
    """Fail closed: a Presidio error is an error verdict (exit 2), never a pass."""

    def broken(self, texts):
        raise PiiScanError("Presidio failed while scanning: RuntimeError: boom")

    monkeypatch.setattr(gate.PresidioScanner, "types_found", broken)
    write(spark, lake_root, "gold", "sft", DS, gold_rows(9), GOLD_SFT)
    assert _main(spark, monkeypatch, lake_root, "gold") == 2
    saved = json.loads((report_dir(lake_root, "gold") / "verdict.json").read_text())
    assert saved["status"] == "error" and "Presidio failed while scanning" in saved["error"]


def test_missing_partition_exits_2_with_an_error_verdict(spark, lake_root, monkeypatch):
    assert _main(spark, monkeypatch, lake_root, "silver") == 2
    saved = json.loads((report_dir(lake_root, "silver") / "verdict.json").read_text())
    assert saved["status"] == "error" and "cannot read partition" in saved["error"]
    assert saved["data_docs_url"] is None
    with pytest.raises(gate.GateError, match="summary"):
        gate.run_gate(spark, "bronze", lake_root, DS, CFG)


def test_bad_arguments_exit_2(capsys):
    argv = ["--layer", "platinum", "--lake-root", "file:///nowhere", "--ds", DS]
    done = subprocess.run([sys.executable, "-m", "expectations.gate", *argv], capture_output=True, text=True)
    assert done.returncode == 2 and "invalid choice: 'platinum'" in done.stderr, done.stderr
    with pytest.raises(SystemExit) as exited:
        gate.main(["--layer", "gold", "--lake-root", "file:///nowhere", "--ds", "2026-13-45"])
    assert exited.value.code == 2 and "YYYY-MM-DD" in capsys.readouterr().err
