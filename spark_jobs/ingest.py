"""Ingest job: raw landing zone -> bronze + quarantine partitions, per source, for one date.

    python -m spark_jobs.ingest --raw-root URI --lake-root URI --ds YYYY-MM-DD [--sources tickets,faq]
    spark-submit spark_jobs/ingest.py --raw-root URI --lake-root URI --ds YYYY-MM-DD

Spark's ``binaryFile`` source hands each raw file, whole, to :func:`spark_jobs.parsers.parse_file`
inside a ``mapInArrow`` task, so line numbers are exact and bad bytes are caught per line. The
parsed rows (one per record read, bronze or quarantine) are persisted once and split in two.
After publishing both partitions the job reads their row counts back and requires
``records read = bronze + quarantine`` per source; the counts go to
``<lake_root>/reports/ingest/ds=<ds>/summary.json``. Exit codes: 0 ok, 1 reconciliation failed,
2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructField, StructType

from llmops import lake
from llmops.contracts.raw_landing import REASONS, SOURCES
from llmops.logs import setup_step_logging
from llmops.steps import uri_arg
from spark_jobs import parsers
from spark_jobs.schemas import BRONZE, QUARANTINE
from spark_jobs.session import get_spark, read_partition, write_partition

log = logging.getLogger("spark_jobs.ingest")

_OUTPUT_BATCH_ROWS = 10_000  # rows per Arrow batch handed back to Spark


class ReconciliationError(RuntimeError):
    """Records read != records published to bronze + quarantine for some source."""


def parsed_schema(source: str) -> StructType:
    """One parsed record: exactly one of the two structs is non-null."""
    return StructType(
        [StructField("bronze", BRONZE[source], True), StructField("quarantine", QUARANTINE, True)]
    )


def file_uri(hadoop_path: str) -> str:
    """Hadoop prints local paths as ``file:/a/b``; lineage uses the ``file:///a/b`` form the lake writes."""
    if hadoop_path.startswith("file:/") and not hadoop_path.startswith("file:///"):
        return "file:///" + hadoop_path[len("file:/") :].lstrip("/")
    return hadoop_path


def raw_files(spark: SparkSession, raw_root: str, source: str, ds: str) -> list[str]:
    """The data files of one raw partition (any file system Hadoop reaches), sorted; [] if none."""
    uri = lake.raw_partition_uri(raw_root, source, ds)
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(path):
        return []
    files = []
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        if status.isFile() and not name.startswith(("_", ".")):
            files.append(status.getPath().toString())
        else:  # Hadoop's convention: _SUCCESS, .crc and folders are not data
            log.info("%s: skipping %s (hidden file or folder)", source, status.getPath().toString())
    return sorted(files)


def _parse_batches(source: str) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The mapInArrow function: (path, content) batches in, parsed-record batches out."""
    schema = to_arrow_schema(parsed_schema(source), timezone="UTC")

    def parse(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows: list[dict[str, Any]] = []
        for batch in batches:
            paths, contents = batch.column("path"), batch.column("content")
            for i in range(batch.num_rows):
                uri = file_uri(paths[i].as_py())
                for record in parsers.parse_file(contents[i].as_py(), uri, source):
                    rows.append({"bronze": record.bronze, "quarantine": record.quarantine})
                    if len(rows) >= _OUTPUT_BATCH_ROWS:
                        yield pa.RecordBatch.from_pylist(rows, schema=schema)
                        rows = []
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=schema)

    return parse


def parse_files(spark: SparkSession, files: list[str], source: str) -> DataFrame:
    """Parsed records of ``files`` (lazy): columns ``bronze`` and ``quarantine``, see parsed_schema."""
    if not files:
        return spark.createDataFrame([], parsed_schema(source))
    binary = spark.read.format("binaryFile").load(files).select("path", "content")
    return binary.mapInArrow(_parse_batches(source), parsed_schema(source))


def split_parsed(parsed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(bronze rows, quarantine rows) of a parsed-records DataFrame."""
    bronze = parsed.where(F.col("bronze").isNotNull()).select("bronze.*")
    quarantine = parsed.where(F.col("quarantine").isNotNull()).select("quarantine.*")
    return bronze, quarantine


def ingest_source(spark: SparkSession, raw_root: str, source: str, ds: str) -> tuple[DataFrame, DataFrame]:
    """(bronze, quarantine) DataFrames of one source and date; reads raw files, writes nothing.

    The parsed records are persisted, so both outputs come from one parse of the files.
    """
    return split_parsed(parse_files(spark, raw_files(spark, raw_root, source, ds), source).persist())


def reconciliation_problem(source: str, counts: dict[str, Any]) -> str | None:
    """Why ``counts`` (one source's summary entry) break ``read = bronze + quarantine``, or None."""
    stored = counts["bronze"] + counts["quarantine"]
    if counts["read"] == stored:
        return None
    return (
        f"{source}: {counts['read']} records read but {counts['bronze']} in bronze + "
        f"{counts['quarantine']} in quarantine = {stored}"
    )


def _ingest_one(spark: SparkSession, raw_root: str, lake_root: str, source: str, ds: str) -> dict[str, Any]:
    """Write one source's bronze and quarantine partitions; return its counts."""
    files = raw_files(spark, raw_root, source, ds)
    if not files:
        log.warning(
            "%s: no raw files under %s; writing empty partitions",
            source,
            lake.raw_partition_uri(raw_root, source, ds),
        )
    parsed = parse_files(spark, files, source).persist()
    try:
        bronze, quarantine = split_parsed(parsed)
        write_partition(bronze, lake_root, "bronze", source, ds)
        write_partition(quarantine, lake_root, "quarantine", source, ds)
        read = parsed.count()
        reasons = dict(quarantine.groupBy("reason").count().collect())
    finally:
        parsed.unpersist()
    # Count what was published, not what was computed: this also catches a lossy write.
    bronze_rows = read_partition(spark, lake_root, "bronze", source, ds).count()
    quarantine_rows = read_partition(spark, lake_root, "quarantine", source, ds).count()
    return {
        "files": len(files),
        "read": read,
        "bronze": bronze_rows,
        "quarantine": quarantine_rows,
        "quarantine_rate": quarantine_rows / read if read else 0.0,
        "reasons": {reason: reasons.get(reason, 0) for reason in REASONS},
    }


def _log_table(ds: str, counts: dict[str, dict[str, Any]]) -> None:
    head = f"{'source':<8} {'files':>5} {'read':>9} {'bronze':>9} {'quarantine':>10} {'rate':>7}"
    lines = [f"ingest ds={ds}", " ".join([head, *REASONS])]
    for source, c in counts.items():
        row = (
            f"{source:<8} {c['files']:>5} {c['read']:>9} {c['bronze']:>9} {c['quarantine']:>10} "
            f"{c['quarantine_rate']:>7.2%}"
        )
        lines.append(" ".join([row, *(f"{c['reasons'][r]:>{len(r)}}" for r in REASONS)]))
    log.info("\n".join(lines))


def write_json(spark: SparkSession, uri: str, payload: dict) -> None:
    """Write a small JSON report: atomically (rename) on a local lake, one object PUT on a store."""
    text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
    if not lake.is_local(uri):
        hadoop_write(spark, uri, text)
        return
    path = lake.local_path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def hadoop_write(spark: SparkSession, uri: str, text: str) -> None:
    """Write ``text`` to ``uri`` through Hadoop's FileSystem API (s3a and friends)."""
    target = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    stream = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).create(target, True)
    try:
        stream.write(bytearray(text.encode()))
    finally:
        stream.close()


def summary_uri(lake_root: str, ds: str) -> str:
    return lake.join(lake.partition_uri(lake_root, "reports", "ingest", ds), "summary.json")


def run(raw_root: str, lake_root: str, ds: str, sources: Sequence[str] = SOURCES) -> dict[str, Any]:
    """Ingest every source for ``ds``, write the summary report, and return it.

    Raises ReconciliationError (after writing the summary) if any source's counts do not add up.
    """
    lake.check_ds(ds)
    spark = get_spark("llmops-ingest")
    counts = {source: _ingest_one(spark, raw_root, lake_root, source, ds) for source in sources}
    _log_table(ds, counts)
    read = sum(c["read"] for c in counts.values())
    quarantine = sum(c["quarantine"] for c in counts.values())
    problems = [problem for source, c in counts.items() if (problem := reconciliation_problem(source, c))]
    summary = {
        "ds": ds,
        "raw_root": raw_root,
        "lake_root": lake_root,
        "sources": counts,
        "read": read,
        "bronze": sum(c["bronze"] for c in counts.values()),
        "quarantine": quarantine,
        "quarantine_rate": quarantine / read if read else 0.0,
        "reconciled": not problems,
        "problems": problems,
    }
    write_json(spark, summary_uri(lake_root, ds), summary)
    if problems:
        raise ReconciliationError("; ".join(problems))
    return summary


def _ds(value: str) -> str:
    try:
        return lake.check_ds(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _sources(value: str) -> tuple[str, ...]:
    chosen = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = sorted(set(chosen) - set(SOURCES))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown source(s) {unknown or value!r}; choose from {', '.join(SOURCES)}"
        )
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark_jobs.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--raw-root", required=True, type=uri_arg, help="raw landing zone URI")
    parser.add_argument("--lake-root", required=True, type=uri_arg, help="lake URI (bronze/quarantine/reports)")
    parser.add_argument("--ds", required=True, type=_ds, help="logical date, YYYY-MM-DD")
    parser.add_argument("--sources", type=_sources, default=SOURCES, help="comma-separated subset of sources")
    args = parser.parse_args(argv)  # bad arguments: one-line error on stderr, exit code 2
    setup_step_logging()
    try:
        summary = run(args.raw_root, args.lake_root, args.ds, args.sources)
    except ReconciliationError as exc:
        log.error("ingest ds=%s failed reconciliation: %s", args.ds, exc)
        return 1
    log.info(
        "ingest ds=%s ok: %d records, %d quarantined",
        args.ds,
        summary["read"],
        summary["quarantine"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
