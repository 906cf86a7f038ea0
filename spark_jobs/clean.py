"""Clean job: bronze -> silver.

Per source: text cleaning and personal-data masking (Arrow, vectorised, in ``mapInArrow``),
structured identifiers pseudonymised with a keyed hash (HMAC-SHA256 in the JVM), a language
filter, exact dedup on a sha256 content hash, near-duplicate removal (MinHash + banded LSH,
Jaccard >= threshold), prompt-injection rows flagged (kept in silver, kept out of gold).

    python -m spark_jobs.clean --lake-root URI --ds YYYY-MM-DD [--languages en,de]
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Iterator

import pyarrow as pa
from pyspark import Accumulator, AccumulatorParam
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from llmops import lake
from llmops.config import DataSettings, settings
from llmops.contracts.raw_landing import SOURCES
from llmops.logs import setup_step_logging
from llmops.screening.langid import UNKNOWN, LanguagePolicy
from llmops.secrets import pseudonym_key
from llmops.step_summary import write_summary
from llmops.steps import guarded, lake_step_parser
from spark_jobs.schemas import SILVER
from spark_jobs.session import get_spark, read_partition, write_partition
from spark_jobs.transforms.dedup import content_hash, drop_near_duplicates, exact_dedup
from spark_jobs.transforms.records import CLEANERS

log = logging.getLogger("spark_jobs.clean")

_ORDER_KEY = {"tickets": ("created_at", "ticket_id"), "reviews": ("created_at", "review_id"), "faq": (None, "faq_id")}


class _DictSum(AccumulatorParam):
    def zero(self, value: dict) -> dict:
        return {}

    def addInPlace(self, a: dict, b: dict) -> dict:  # noqa: N802 - PySpark's name
        for k, v in b.items():
            a[k] = a.get(k, 0) + v
        return a


def keyed_hash(col: F.Column, key: bytes) -> F.Column:
    """HMAC-SHA256 (RFC 2104) of a string column, hex, computed in the JVM.

    A pseudonym that still joins across tables, and that nobody without the key can recompute
    from a known e-mail address (a plain sha256 could be reversed by hashing candidate e-mails).
    """
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    ipad = F.unhex(F.lit(bytes(b ^ 0x36 for b in block).hex()))
    opad = F.unhex(F.lit(bytes(b ^ 0x5C for b in block).hex()))
    inner = F.unhex(F.sha2(F.concat(ipad, F.encode(col, "UTF-8")), 256))
    return F.when(col.isNotNull(), F.sha2(F.concat(opad, inner), 256))


def _cleaned_schema(source: str) -> StructType:
    """Silver's columns but content_hash (the JVM adds it), plus the dedup text."""
    fields = [f for f in SILVER[source].fields if f.name != "content_hash"]
    return StructType([*fields, StructField("dedup_text", StringType(), False)])


def language_policy(languages: list[str], data: DataSettings) -> LanguagePolicy:
    return LanguagePolicy(tuple(languages), data.language_min_confidence, data.language_min_letters)


def clean_text_fields(
    df: DataFrame, source: str, counts: Accumulator | None = None, policy: LanguagePolicy | None = None
) -> DataFrame:
    """Run the source's Arrow cleaner over ``df``; adds lang, dedup_text and suspicious flags."""
    cleaner = CLEANERS[source]
    if policy is None:
        data = settings().data
        policy = language_policy(list(data.languages), data)
    schema = _cleaned_schema(source)
    names = schema.fieldNames()

    def per_batch(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            found: dict[str, int] = {}
            out = cleaner(batch, found, policy)
            yield pa.RecordBatch.from_arrays([out.column(n) for n in names], names=names)
            if counts is not None:
                counts.add(found)

    return df.mapInArrow(per_batch, schema)


def _order_key(source: str) -> F.Column:
    ts, ident = _ORDER_KEY[source]
    parts = [F.date_format(ts, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")] if ts else []
    # lineage last: a record re-delivered under the same id and content still gets a key of its own (the
    # earliest file and line wins); without it exact_dedup's survivor is arbitrary and the removed copy is
    # missing from the exact_duplicate rows, whose anti-join matches it to the survivor's key
    lineage = [F.col("_source_file"), F.lpad(F.col("_line").cast("string"), 12, "0")]
    return F.concat_ws("|", *parts, F.col(ident), F.col("content_hash"), *lineage)


def clean_source(
    df: DataFrame, source: str, languages: list[str], cfg=None, counts=None
) -> tuple[DataFrame, dict[str, DataFrame]]:
    """bronze ``df`` of ``source`` -> (silver, {reason: removed rows}); nothing is written.

    The cleaned rows are persisted: the silver write and every removed-row count read them, and the
    Arrow cleaner is the expensive part (without this it ran once per action). The caller releases
    them (``spark.catalog.clearCache()``) when it is done with the source.
    """
    cfg = cfg or settings()
    d = cfg.data
    cleaned = (
        clean_text_fields(df, source, counts, language_policy(languages, d))
        .withColumn("content_hash", content_hash(F.col("dedup_text")))
        .withColumn("_order", _order_key(source))
        .persist()
    )
    kept_languages = [*languages, UNKNOWN] if d.keep_unknown_language else list(languages)
    in_lang = F.col("lang").isin(kept_languages)
    kept_lang = cleaned.where(in_lang)
    unique = exact_dedup(kept_lang, "content_hash", "_order")
    kept, near = drop_near_duplicates(unique, "dedup_text", "_order", d)
    silver = kept.select(*SILVER[source].fieldNames())
    removed = {
        "language": cleaned.where(~in_lang),
        "exact_duplicate": kept_lang.join(unique.select("_order"), "_order", "left_anti"),
        "near_duplicate": near,
    }
    return silver, removed


def pseudonymise_orders(df: DataFrame, key: bytes) -> DataFrame:
    """Orders carry no free text worth masking; the customer's e-mail becomes a keyed hash."""
    return df.withColumn("customer_email_key", keyed_hash(F.lower(F.trim("customer_email")), key)).select(
        *SILVER["orders"].fieldNames()
    )


def run(lake_root: str, ds: str, languages: list[str] | None = None, spark: SparkSession | None = None) -> dict:
    cfg = settings()
    languages = languages or list(cfg.data.languages)
    spark = spark or get_spark("llmops-clean", cfg)
    summary: dict = {"ds": ds, "languages": languages, "sources": {}}
    for source in SOURCES:
        started = time.monotonic()
        bronze = read_partition(spark, lake_root, "bronze", source, ds)
        if source == "orders":
            silver = pseudonymise_orders(bronze, pseudonym_key(cfg))
            write_partition(silver, lake_root, "silver", source, ds)
            stats = {"bronze": bronze.count(), "silver": spark.read.parquet(
                lake.partition_uri(lake_root, "silver", source, ds)).count()}
        else:
            counts = spark.sparkContext.accumulator({}, _DictSum())
            silver, removed = clean_source(bronze, source, languages, cfg, counts)
            write_partition(silver, lake_root, "silver", source, ds)
            written = spark.read.parquet(lake.partition_uri(lake_root, "silver", source, ds))
            near = removed["near_duplicate"]
            bronze_rows, removed_language = bronze.count(), removed["language"].count()
            stats = {
                "bronze": bronze_rows,
                "removed_language": removed_language,
                "removed_language_share": removed_language / bronze_rows if bronze_rows else 0.0,
                "removed_exact_duplicate": removed["exact_duplicate"].count(),
                "removed_near_duplicate": near.count(),
                "silver": written.count(),
                "suspicious": written.where("is_suspicious").count(),
                "unknown_language": written.where(F.col("lang") == UNKNOWN).count(),
                "removed_by_language": {r["lang"]: r["count"] for r in
                                   removed["language"].groupBy("lang").count().collect()},
                "masked": dict(sorted(counts.value.items())),
            }
            stats["near_duplicate_examples"] = [
                r.asDict() for r in near.select("_order", "dup_of", "jaccard").limit(20).collect()
            ]
            spark.catalog.clearCache()
        stats["seconds"] = round(time.monotonic() - started, 2)
        summary["sources"][source] = stats
        log.info("clean %-8s %s", source, {k: v for k, v in stats.items() if k != "near_duplicate_examples"})
    write_summary(lake_root, "clean", ds, summary)
    _log_table(summary)
    return summary


def _log_table(summary: dict) -> None:
    cols = ("bronze", "removed_language", "removed_exact_duplicate", "removed_near_duplicate", "suspicious", "silver")
    log.info("%-8s %s", "source", " ".join(f"{c[:18]:>18}" for c in cols))
    for source, stats in summary["sources"].items():
        log.info("%-8s %s", source, " ".join(f"{stats.get(c, '-')!s:>18}" for c in cols))


def main(argv: list[str] | None = None) -> int:
    parser = lake_step_parser("spark_jobs.clean", __doc__)
    parser.add_argument("--languages", default=None, help="comma-separated ISO 639-1 codes to keep")
    args = parser.parse_args(argv)
    setup_step_logging()
    languages = [x.strip() for x in args.languages.split(",") if x.strip()] if args.languages else None
    return guarded("clean", lambda: run(args.lake_root, args.ds, languages) and 0)


if __name__ == "__main__":
    sys.exit(main())
