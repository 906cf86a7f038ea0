"""Ingest job: raw landing zone -> bronze + quarantine partitions, per source, for one date.

    python -m spark_jobs.ingest --raw-root URI --lake-root URI --ds YYYY-MM-DD [--sources tickets,faq]
    spark-submit spark_jobs/ingest.py --raw-root URI --lake-root URI --ds YYYY-MM-DD

Spark's ``binaryFile`` source hands each raw file, whole, to :func:`spark_jobs.parsers.parse_file`
inside a ``mapInArrow`` task, so line numbers are exact and bad bytes are caught per line. The
parsed rows (one per record read, bronze or quarantine) are persisted once and split in two.
After publishing both partitions the job reads their row counts back and requires
``records read = bronze + quarantine`` per source; the counts go to
``<lake_root>/reports/ingest/ds=<ds>/summary.json``. Exit codes: 0 ok, 1 reconciliation failed,
2 bad arguments or nothing landed.

Nothing landed for the date (the raw root missing, a source without files or records) is an error
raised before anything is published: an empty partition must never silently replace a day's
data. ``--allow-empty`` publishes the empty partitions, logging any rows they replace.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructField, StructType

from llmops import lake, lakefs
from llmops.config import settings
from llmops.contracts.raw_landing import REASONS, SOURCES
from llmops.logs import setup_step_logging
from llmops.steps import ds_arg, uri_arg
from spark_jobs import parsers
from spark_jobs.schemas import BRONZE, QUARANTINE
from spark_jobs.session import get_spark, read_partition, write_partition

log = logging.getLogger("spark_jobs.ingest")

_OUTPUT_BATCH_ROWS = 10_000  # rows per Arrow batch handed back to Spark


class ReconciliationError(RuntimeError):
    """Records read != records published to bronze + quarantine for some source."""


class NothingLandedError(RuntimeError):
    """No raw records for the date (raw root missing, or a source without files or records)."""


def parsed_schema(source: str) -> StructType:
    """One parsed record: exactly one of the two structs is non-null."""
    return StructType([StructField("bronze", BRONZE[source], True), StructField("quarantine", QUARANTINE, True)])


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


def raw_root_exists(spark: SparkSession, raw_root: str) -> bool:
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(raw_root)
    return bool(path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(path))


def _parse_batches(
    source: str, limit: parsers.TextLimit | None
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The mapInArrow function: (path, content) batches in, parsed-record batches out."""
    schema = to_arrow_schema(parsed_schema(source), timezone="UTC")

    def parse(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows: list[dict[str, Any]] = []
        for batch in batches:
            paths, contents = batch.column("path"), batch.column("content")
            for i in range(batch.num_rows):
                uri = file_uri(paths[i].as_py())
                for record in parsers.parse_file(contents[i].as_py(), uri, source, limit):
                    rows.append({"bronze": record.bronze, "quarantine": record.quarantine})
                    if len(rows) >= _OUTPUT_BATCH_ROWS:
                        yield pa.RecordBatch.from_pylist(rows, schema=schema)
                        rows = []
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=schema)

    return parse


def parse_files(
    spark: SparkSession, files: list[str], source: str, limit: parsers.TextLimit | None = None
) -> DataFrame:
    """Parsed records of ``files`` (lazy): columns ``bronze`` and ``quarantine``, see parsed_schema."""
    if not files:
        return spark.createDataFrame([], parsed_schema(source))
    binary = spark.read.format("binaryFile").load(files).select("path", "content")
    return binary.mapInArrow(_parse_batches(source, limit), parsed_schema(source))


def text_limit() -> parsers.TextLimit:
    data = settings().data
    return parsers.TextLimit(data.max_text_chars, truncate=data.oversized_text == "truncate")


def split_parsed(parsed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(bronze rows, quarantine rows) of a parsed-records DataFrame."""
    bronze = parsed.where(F.col("bronze").isNotNull()).select("bronze.*")
    quarantine = parsed.where(F.col("quarantine").isNotNull()).select("quarantine.*")
    return bronze, quarantine


def ingest_source(spark: SparkSession, raw_root: str, source: str, ds: str) -> tuple[DataFrame, DataFrame]:
    """(bronze, quarantine) DataFrames of one source and date; reads raw files, writes nothing.

    The parsed records are persisted, so both outputs come from one parse of the files.
    """
    files = raw_files(spark, raw_root, source, ds)
    return split_parsed(parse_files(spark, files, source, text_limit()).persist())


def reconciliation_problem(source: str, counts: dict[str, Any]) -> str | None:
    """Why ``counts`` (one source's summary entry) break ``read = bronze + quarantine``, or None."""
    stored = counts["bronze"] + counts["quarantine"]
    if counts["read"] == stored:
        return None
    return (
        f"{source}: {counts['read']} records read but {counts['bronze']} in bronze + "
        f"{counts['quarantine']} in quarantine = {stored}"
    )


def _existing_rows(spark: SparkSession, lake_root: str, source: str, ds: str) -> int:
    """Rows the date's published bronze partition holds now (0 if there is none)."""
    uri = lake.partition_uri(lake_root, "bronze", source, ds)
    if lake.is_local(uri) and not lake.local_path(uri).exists():
        return 0
    try:
        return read_partition(spark, lake_root, "bronze", source, ds).count()
    except AnalysisException:  # no such partition on a remote lake
        return 0


def check_landed(
    spark: SparkSession, raw_root: str, lake_root: str, ds: str, read: dict[str, int], allow_empty: bool
) -> dict[str, int]:
    """Refuse (NothingLandedError) a source without records unless ``allow_empty``; with it, return the
    bronze rows each empty source's new partition replaces, logged as a warning."""
    empty = [source for source, n in read.items() if n == 0]
    if empty and not allow_empty:
        raise NothingLandedError(
            f"no raw records for ds={ds} under {raw_root} for {', '.join(empty)}; nothing published "
            "(pass --allow-empty to publish an empty day)"
        )
    replaced = {source: _existing_rows(spark, lake_root, source, ds) for source in empty}
    for source, rows in replaced.items():
        if rows:
            log.warning("%s: --allow-empty replaces %d bronze rows of ds=%s with an empty partition", source, rows, ds)
    return replaced


def _publish_one(
    spark: SparkSession, lake_root: str, source: str, ds: str, parsed: DataFrame, read: int
) -> dict[str, Any]:
    """Write one source's bronze and quarantine partitions; return its counts."""
    bronze, quarantine = split_parsed(parsed)
    write_partition(bronze, lake_root, "bronze", source, ds)
    write_partition(quarantine, lake_root, "quarantine", source, ds)
    reasons = dict(quarantine.groupBy("reason").count().collect())
    # Count what was published, not what was computed: this also catches a lossy write.
    bronze_rows = read_partition(spark, lake_root, "bronze", source, ds).count()
    quarantine_rows = read_partition(spark, lake_root, "quarantine", source, ds).count()
    return {
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


def summary_uri(lake_root: str, ds: str) -> str:
    return lake.join(lake.partition_uri(lake_root, "reports", "ingest", ds), "summary.json")


def run(
    raw_root: str, lake_root: str, ds: str, sources: Sequence[str] = SOURCES, allow_empty: bool = False
) -> dict[str, Any]:
    """Ingest every source for ``ds``, write the summary report, and return it.

    Every source is parsed and counted before anything is published, so NothingLandedError leaves
    the lake as it was. Raises ReconciliationError (after writing the summary) if any source's
    counts do not add up.
    """
    lake.check_ds(ds)
    spark = get_spark("llmops-ingest")
    if not raw_root_exists(spark, raw_root) and not allow_empty:
        raise NothingLandedError(f"raw root {raw_root} does not exist; nothing published")
    limit = text_limit()
    files = {source: raw_files(spark, raw_root, source, ds) for source in sources}
    parsed = {source: parse_files(spark, files[source], source, limit).persist() for source in sources}
    try:
        read = {source: parsed[source].count() for source in sources}
        replaced = check_landed(spark, raw_root, lake_root, ds, read, allow_empty)
        counts = {
            source: {
                "files": len(files[source]),
                **_publish_one(spark, lake_root, source, ds, parsed[source], read[source]),
                **({"replaced_bronze_rows": replaced[source]} if replaced.get(source) else {}),
            }
            for source in sources
        }
    finally:
        for df in parsed.values():
            df.unpersist()
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
    # a small report written on the driver: llmops.lakefs reaches the same store as Spark's s3a (one endpoint setting)
    lakefs.write_text(summary_uri(lake_root, ds), json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if problems:
        raise ReconciliationError("; ".join(problems))
    return summary


def _sources(value: str) -> tuple[str, ...]:
    chosen = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = sorted(set(chosen) - set(SOURCES))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown source(s) {unknown or value!r}; choose from {', '.join(SOURCES)}")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark_jobs.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--raw-root", required=True, type=uri_arg, help="raw landing zone URI")
    parser.add_argument("--lake-root", required=True, type=uri_arg, help="lake URI (bronze/quarantine/reports)")
    parser.add_argument("--ds", required=True, type=ds_arg, help="logical date, YYYY-MM-DD")
    parser.add_argument("--sources", type=_sources, default=SOURCES, help="comma-separated subset of sources")
    parser.add_argument(
        "--allow-empty", action="store_true", help="publish empty partitions when nothing landed for the date"
    )
    args = parser.parse_args(argv)  # bad arguments: one-line error on stderr, exit code 2
    setup_step_logging()
    try:
        summary = run(args.raw_root, args.lake_root, args.ds, args.sources, args.allow_empty)
    except NothingLandedError as exc:
        print(f"spark_jobs.ingest: error: {exc}", file=sys.stderr)
        return 2
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
