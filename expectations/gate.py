"""Run the Great Expectations gate of one lake layer for one logical date.

    python -m expectations.gate --layer bronze|silver|gold --lake-root URI --ds YYYY-MM-DD

Exit code 0: every expectation passed; 1: the gate failed (fail closed: nothing downstream may
run); 2: the gate could not run (bad arguments, missing partition, a GX error).

Each run publishes, atomically, ``<lake>/reports/gates/<layer>/ds=<ds>/`` holding
``verdict.json`` (machine-readable), ``data_docs/index.html`` (GX Data Docs) and ``gx/`` (the GX
file context: suites and raw validation results), so a rerun replaces the previous report whole.
Silver and gold reports never quote failing values (they could be the personal data the gate
caught); they name the failing rows' ids instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import great_expectations as gx
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

from expectations import suites
from expectations.pii_scan import PRESIDIO_TYPES, PresidioScanner
from expectations.verdict import ExpectationOutcome, GateVerdict, TableOutcome, format_table, outcomes
from llmops import lake, lakefs
from llmops.config import DataSettings, Settings, settings
from llmops.contracts.personal_data import DETECTION_PATTERNS
from llmops.contracts.raw_landing import SOURCES
from llmops.logs import setup_step_logging
from llmops.publish import publish_partition
from llmops.steps import ds_arg, uri_arg
from spark_jobs.session import get_spark

log = logging.getLogger("expectations.gate")

LAYERS = ("bronze", "silver", "gold")
_SITE = "gate"
_DATASOURCE = "lake"
_SAMPLE = 5  # failing values (bronze) or row ids (later layers) kept per expectation
# the ingest summary's per-source count of records read (the brief's name, then spark_jobs.ingest's)
_READ_KEYS = ("read", "records_read")

INGEST_STATS = StructType(
    [
        StructField("source", StringType(), False),
        StructField("read", LongType(), False),
        StructField("quarantine_rate", DoubleType(), False),
        StructField("rows_on_disk", LongType(), False),  # bronze + quarantine rows as written
    ]
)


class GateError(RuntimeError):
    """The gate cannot validate: an input is missing or unreadable."""


@dataclass(frozen=True)
class GateTable:
    """One DataFrame to validate against one suite.

    Reports name failing rows by ``id_columns``. They quote failing values only when
    ``quote_values``: past bronze a failing value may be the very personal data the gate caught,
    while bronze reports are bronze-restricted like bronze itself.
    """

    name: str
    df: DataFrame
    suite: gx.ExpectationSuite
    id_columns: tuple[str, ...] = ()
    quote_values: bool = False


# ---------------------------------------------------------------- inputs


def read_table(spark: SparkSession, lake_root: str, layer: str, table: str, ds: str) -> DataFrame:
    uri = lake.partition_uri(lake_root, layer, table, ds)
    try:
        return spark.read.parquet(uri)
    except AnalysisException as exc:
        raise GateError(f"cannot read partition {uri}: {str(exc).splitlines()[0]}") from exc


def row_bounds(
    spark: SparkSession, lake_root: str, layer: str, table: str, ds: str, data: DataSettings
) -> suites.RowCountBounds:
    """Row-count bounds for ``ds`` from the newest earlier partition of the same table."""
    previous = lakefs.previous_partition(lake.table_uri(lake_root, layer, table), ds)
    rows = read_table(spark, lake_root, layer, table, previous).count() if previous else None
    return suites.RowCountBounds.from_previous(rows, data.row_count_ratio)


def read_step_summary(lake_root: str, step: str, ds: str) -> dict:
    path = lake.join(lake_root, "reports", step, f"ds={ds}", "summary.json")
    try:
        return json.loads(lakefs.read_text(path))
    except (OSError, ValueError) as exc:
        raise GateError(f"cannot read the {step} summary {path}: {exc}") from exc


def read_ingest_summary(lake_root: str, ds: str) -> dict:
    return read_step_summary(lake_root, "ingest", ds)


def language_filter_frame(spark: SparkSession, summary: dict) -> DataFrame:
    """One row per source with a language filter: the clean summary's bronze rows and what the filter removed."""
    rows = []
    for source in suites.LANGUAGE_FILTERED:
        entry = summary.get("sources", {}).get(source, {})
        if "bronze" not in entry or "removed_language" not in entry:
            raise GateError(f"the clean summary has no bronze / removed_language figures for source {source!r}")
        bronze, removed = int(entry["bronze"]), int(entry["removed_language"])
        rows.append((source, bronze, removed, removed / bronze if bronze else 0.0))
    return spark.createDataFrame(rows, LANGUAGE_FILTER)


def ingest_stats_frame(spark: SparkSession, summary: dict, rows_on_disk: dict[str, int]) -> DataFrame:
    """One row per source: the ingest summary's figures next to what bronze + quarantine hold."""
    rows = []
    for source, on_disk in rows_on_disk.items():
        entry = summary.get("sources", {}).get(source, {})
        read = next((entry[k] for k in _READ_KEYS if k in entry), None)
        if read is None or "quarantine_rate" not in entry:
            raise GateError(f"the ingest summary has no records read / quarantine_rate for source {source!r}")
        rows.append((source, int(read), float(entry["quarantine_rate"]), on_disk))
    return spark.createDataFrame(rows, INGEST_STATS)


LANGUAGE_FILTER = StructType(
    [
        StructField("source", StringType(), False),
        StructField("bronze", LongType(), False),
        StructField("removed_language", LongType(), False),
        StructField("removed_language_share", DoubleType(), False),
    ]
)


def explode_messages(tickets: DataFrame) -> DataFrame:
    """One row per ticket message (ticket_id, role, text), so message text is a plain column."""
    return tickets.select("ticket_id", F.explode("messages").alias("m")).select(
        "ticket_id", "m.role", "m.text"
    )


def bronze_tables(spark: SparkSession, lake_root: str, ds: str, data: DataSettings) -> list[GateTable]:
    summary = read_ingest_summary(lake_root, ds)
    tables, quarantines, on_disk = [], [], {}
    for source in SOURCES:
        bronze = read_table(spark, lake_root, "bronze", source, ds)
        quarantine = read_table(spark, lake_root, "quarantine", source, ds)
        rows = row_bounds(spark, lake_root, "bronze", source, ds, data)
        tables.append(GateTable(source, bronze, suites.bronze_suite(source, rows), quote_values=True))
        quarantines.append(quarantine)
        on_disk[source] = bronze.count() + quarantine.count()
    stats = ingest_stats_frame(spark, summary, on_disk)
    tables.append(
        GateTable("ingest", stats, suites.ingest_stats_suite(data.max_quarantine_rate), ("source",), True)
    )
    union = functools.reduce(DataFrame.unionByName, quarantines)
    tables.append(GateTable("quarantine", union, suites.quarantine_suite(), quote_values=True))
    return tables


PII_SCAN = StructType(
    [
        StructField("column", StringType(), False),  # <table>.<column>
        StructField("pii_type", StringType(), False),
        StructField("found", LongType(), False),  # scanned values holding that type
        StructField("scanned", LongType(), False),
        StructField("non_null", LongType(), False),
        StructField("row_ids", StringType(), False),  # a few ids of rows with a finding (never the values)
    ]
)


def pii_scan_table(
    spark: SparkSession, layer: str, columns: list[tuple[str, DataFrame, str, str]], data: DataSettings
) -> GateTable:
    """Presidio's independent scan (expectations.pii_scan) of every (table, frame, id column, text column),
    on a seeded sample of ``data.pii_scan_max_rows`` values where a column holds more; one row per column and
    contract type. A scan error raises: the gate errors, it never passes unscanned data."""
    started = time.monotonic()
    scanner = PresidioScanner(data.pii_scan_phone_regions, data.pii_scan_min_score)
    rows = []
    for table, df, id_column, column in columns:
        values = df.select(F.col(id_column).cast("string").alias("id"), F.col(column).alias("text")).where(
            F.length("text") > 0
        )
        non_null = values.count()
        if non_null > data.pii_scan_max_rows:
            values = values.sample(fraction=min(1.0, 1.5 * data.pii_scan_max_rows / non_null), seed=7)
        sample = [(r["id"], r["text"]) for r in values.limit(data.pii_scan_max_rows).collect()]
        findings = scanner.scan(sample)
        for kind in PRESIDIO_TYPES.values():
            found = findings.get(kind)
            ids = ",".join(found.ids) if found else ""
            rows.append((f"{table}.{column}", kind, found.count if found else 0, len(sample), non_null, ids))
    found = {f"{column}:{kind}": n for column, kind, n, *_ in rows if n}
    log.info(
        "pii scan (Presidio): %d values of %d columns in %.1f s; found %s",
        sum(r[3] for r in rows) // len(PRESIDIO_TYPES),
        len(columns),
        time.monotonic() - started,
        found or "nothing",
    )
    frame = spark.createDataFrame(rows, PII_SCAN)
    return GateTable("pii_scan", frame, suites.pii_scan_suite(layer), ("column", "pii_type", "row_ids"), True)


def silver_tables(spark: SparkSession, lake_root: str, ds: str, data: DataSettings) -> list[GateTable]:
    tables, text_columns = [], []
    for source in SOURCES:
        df = read_table(spark, lake_root, "silver", source, ds)
        rows = row_bounds(spark, lake_root, "silver", source, ds, data)
        tables.append(
            GateTable(source, df, suites.silver_suite(source, rows, data), (suites.ID_COLUMNS[source],))
        )
        flat = [c for c in suites.TEXT_COLUMNS[source] if "." not in c]  # messages.text: exploded below
        text_columns += [(source, df, suites.ID_COLUMNS[source], c) for c in flat]
        if source == "tickets":
            messages = explode_messages(df)
            tables.append(
                GateTable(suites.MESSAGES_TABLE, messages, suites.silver_messages_suite(data), ("ticket_id",))
            )
            text_columns.append((suites.MESSAGES_TABLE, messages, "ticket_id", "text"))
    language = language_filter_frame(spark, read_step_summary(lake_root, "clean", ds))
    tables.append(GateTable("language_filter", language, suites.language_filter_suite(data), ("source",), True))
    tables.append(pii_scan_table(spark, "silver", text_columns, data))
    return tables


def gold_tables(spark: SparkSession, lake_root: str, ds: str, data: DataSettings) -> list[GateTable]:
    df = read_table(spark, lake_root, "gold", "sft", ds)
    rows = row_bounds(spark, lake_root, "gold", "sft", ds, data)
    text_columns = [("sft", df, "example_id", c) for c in suites.GOLD_TEXT_COLUMNS]
    return [
        GateTable("sft", df, suites.gold_suite(rows, data), ("example_id",)),
        pii_scan_table(spark, "gold", text_columns, data),
    ]


TABLES: dict[str, Callable[[SparkSession, str, str, DataSettings], list[GateTable]]] = {
    "bronze": bronze_tables,
    "silver": silver_tables,
    "gold": gold_tables,
}


# ---------------------------------------------------------------- Great Expectations


def _context(root: Path) -> AbstractDataContext:
    """A fresh file context under ``root``: one Spark datasource, one Data Docs site (``root/data_docs``)."""
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    context.data_sources.add_spark(_DATASOURCE)
    for site in list(context.get_config().data_docs_sites or {}):
        context.delete_data_docs_site(site)
    context.add_data_docs_site(
        _SITE,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(root / "data_docs"),
            },
        },
    )
    return context


def _result_format(table: GateTable) -> dict:
    # SUMMARY: observed values, unexpected counts, and a sample of failing values and/or row ids
    result_format = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": _SAMPLE,
        "exclude_unexpected_values": not table.quote_values,
    }
    if table.id_columns:
        result_format |= {
            "unexpected_index_column_names": list(table.id_columns),
            "return_unexpected_index_query": False,
        }
    return result_format


def validate_table(context: AbstractDataContext, layer: str, table: GateTable) -> TableOutcome:
    """One checkpoint per table: validate, store the result, update the Data Docs."""
    name = f"{layer}.{table.name}"  # GX store keys may not contain "/"
    batch = (
        context.data_sources.get(_DATASOURCE)
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("partition")
    )
    suite = context.suites.add(table.suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="data_docs", site_names=[_SITE])],
            result_format=_result_format(table),
        )
    )
    started = time.monotonic()
    try:
        result = checkpoint.run(batch_parameters={"dataframe": table.df})  # GX caches the frame
        rows = table.df.count()
        (validation,) = result.run_results.values()
        found = [_with_pii_types(table.df, e) for e in outcomes(validation)]
    finally:
        table.df.unpersist()
    log.info("validated %s (%d rows) in %.1f s", name, rows, time.monotonic() - started)
    return TableOutcome(table.name, rows, bool(validation.success), found)


def pii_types_found(df: DataFrame, column: str) -> dict[str, int]:
    """How many values of ``column`` match each personal-data pattern, for the types that match."""
    hits = [
        F.sum(F.col(column).rlike(pattern).cast("int")).alias(kind)
        for kind, pattern in DETECTION_PATTERNS.items()
    ]
    return {kind: n for kind, n in df.select(*hits).first().asDict().items() if n}


def _with_pii_types(df: DataFrame, outcome: ExpectationOutcome) -> ExpectationOutcome:
    # one regex-list expectation per column keeps the gate fast; name the leaked types only on failure
    if outcome.success or outcome.error or "pii_types" not in outcome.threshold:
        return outcome
    return dataclasses.replace(
        outcome, observed={**outcome.observed, "types": pii_types_found(df, outcome.column)}
    )


# ---------------------------------------------------------------- the gate


def run_gate(
    spark: SparkSession, layer: str, lake_root: str, ds: str, cfg: Settings | None = None
) -> GateVerdict:
    """Validate ``layer`` for ``ds``, publish the report folder, log the table, return the verdict.

    Raises GateError (after publishing an error verdict) when the gate cannot run.
    """
    if layer not in TABLES:
        raise ValueError(f"unknown layer {layer!r}; expected one of {LAYERS}")
    cfg = cfg or settings()
    lake.check_ds(ds)
    reports = f"gates/{layer}"
    target = lake.partition_uri(lake_root, "reports", reports, ds)
    verdict = GateVerdict(layer, ds, passed=False, data_docs_url=lake.join(target, "data_docs", "index.html"))
    failure: Exception | None = None
    # the report is built in a staging folder (beside the target, or local on an object-store lake) and published
    with lakefs.build_folder(target, cfg.paths.scratch_dir, stage_local=True) as staging_dir:
        try:
            tables = TABLES[layer](spark, lake_root, ds, cfg.data)
            context = _context(staging_dir)
            for table in tables:
                verdict.tables.append(validate_table(context, layer, table))
            errors = [f"{t}: {e.name}({e.column}): {e.error}" for t, e in verdict.failures() if e.error]
            verdict.error = "; ".join(errors) or None
            verdict.passed = not errors and all(t.success for t in verdict.tables)
        except Exception as exc:  # noqa: BLE001 - any failure to validate must still leave an error verdict
            failure = exc
            verdict.error = str(exc) if isinstance(exc, GateError) else f"{type(exc).__name__}: {exc}"
        if not (staging_dir / "data_docs" / "index.html").exists():
            verdict.data_docs_url = None
        (staging_dir / "verdict.json").write_text(verdict.to_json())
        publish_partition(str(staging_dir), target)
    *table_lines, summary = format_table(verdict)
    for line in table_lines:
        log.info(line)
    (log.info if verdict.passed else log.error)(summary)
    if failure is not None:
        raise GateError(verdict.error) from failure
    return verdict


def main(argv: list[str] | None = None) -> int:
    setup_step_logging()
    parser = argparse.ArgumentParser(prog="python -m expectations.gate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer", required=True, choices=LAYERS)
    parser.add_argument("--lake-root", required=True, type=uri_arg, help="lake URI, e.g. file:///abs/path/lake")
    parser.add_argument("--ds", required=True, type=ds_arg, help="logical date, YYYY-MM-DD")
    args = parser.parse_args(argv)  # bad arguments exit 2 here
    try:
        spark = get_spark(f"llmops-gate-{args.layer}")
        verdict = run_gate(spark, args.layer, args.lake_root, args.ds)
    except Exception as exc:  # noqa: BLE001 - fail closed with one clear line
        print(f"gate: error: {exc}", file=sys.stderr)
        return 2
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
