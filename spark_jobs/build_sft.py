"""Build job: silver -> gold supervised fine-tuning examples.

Tickets give (first customer message, first agent reply after it) with the subject and the
customer's latest order as context; FAQ pages give (question, answer) with the page topic.
Suspicious (prompt-injection) rows never reach gold. Quality filters drop short/long pairs and
answers that copy the question. Splits come from a stable hash of a grouping key (a customer's
tickets, an FAQ page), and any validation/test example that near-duplicates a train example is
moved to train, so evaluation never scores memorised items.

    python -m spark_jobs.build_sft --lake-root URI --ds YYYY-MM-DD
"""

from __future__ import annotations

import logging
import sys

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from llmops.config import DataSettings, settings
from llmops.logs import setup_step_logging
from llmops.step_summary import write_summary
from llmops.steps import guarded, lake_step_parser
from spark_jobs.schemas import GOLD_SFT
from spark_jobs.session import get_spark, read_partition, write_partition
from spark_jobs.transforms.dedup import near_duplicates

log = logging.getLogger("spark_jobs.build_sft")

SYSTEM_PROMPT = (
    "You are the customer-support assistant of an online electronics shop. Answer the customer's question "
    "helpfully and concisely, using the context when it is relevant. Never reveal personal data."
)
_SPLITS = ("train", "validation", "test")


def ticket_pairs(tickets: DataFrame, orders: DataFrame) -> DataFrame:
    """(question, answer, context) from each ticket's first customer message and first reply to it."""
    msgs = tickets.where(~F.col("is_suspicious")).select(
        "ticket_id", "customer_id", "created_at", "subject", "_source_file",
        F.posexplode("messages").alias("pos", "m"),
    )
    first_q = msgs.where("m.role = 'customer'").groupBy("ticket_id").agg(
        F.min_by(F.struct(F.col("pos"), F.col("m.text").alias("text")), F.col("pos")).alias("q")
    )
    pairs = (
        msgs.join(first_q, "ticket_id")
        .where((F.col("m.role") == "agent") & (F.col("pos") > F.col("q.pos")))
        .groupBy("ticket_id", "customer_id", "created_at", "subject", "_source_file")
        .agg(F.first("q.text").alias("question"), F.min_by(F.col("m.text"), F.col("pos")).alias("answer"))
    )
    return with_order_context(pairs, orders)


def with_order_context(pairs: DataFrame, orders: DataFrame) -> DataFrame:
    """Context: the subject line and the customer's latest order placed before the ticket."""
    fact = F.format_string(
        "Latest order %s: %s, status %s, placed %s, total %s",
        "o.order_id", "o.product", "o.status", F.date_format("o.created_at", "yyyy-MM-dd"), "o.total",
    )
    o = orders.select("customer_id", "order_id", "product", "status", "created_at", "total").alias("o")
    joined = pairs.alias("t").join(
        o, (F.col("t.customer_id") == F.col("o.customer_id")) & (F.col("o.created_at") <= F.col("t.created_at")),
        "left",
    )
    latest = Window.partitionBy("t.ticket_id").orderBy(F.col("o.created_at").desc_nulls_last(), "o.order_id")
    return (
        joined.withColumn("_rn", F.row_number().over(latest))
        .where("_rn = 1")
        .select(
            F.lit("tickets").alias("source"),
            F.array("t.ticket_id").alias("source_ids"),
            F.col("t._source_file").alias("source_file"),
            F.col("t.question").alias("instruction"),
            F.concat_ws("\n", F.concat(F.lit("Subject: "), "t.subject"), F.when(F.col("o.order_id").isNotNull(), fact))
            .alias("input"),
            F.col("t.answer").alias("output"),
            F.col("t.customer_id").alias("group_key"),
            F.col("t.created_at").alias("created_at"),
        )
    )


def faq_pairs(faq: DataFrame, ds: str) -> DataFrame:
    return faq.where(~F.col("is_suspicious")).select(
        F.lit("faq").alias("source"),
        F.array("faq_id").alias("source_ids"),
        F.col("_source_file").alias("source_file"),
        F.col("question").alias("instruction"),
        F.when(F.col("page_title").isNotNull(), F.concat(F.lit("Topic: "), "page_title")).otherwise("").alias("input"),
        F.col("answer").alias("output"),
        F.coalesce("page_title", "_source_file").alias("group_key"),
        F.to_timestamp(F.lit(ds)).alias("created_at"),
    )


def quality_filter(pairs: DataFrame, d: DataSettings) -> tuple[DataFrame, DataFrame]:
    """(kept, dropped with a ``drop_reason``)."""
    q, a = F.length("instruction"), F.length("output")
    reason = (
        F.when(F.col("instruction").isNull() | F.col("output").isNull(), "missing_text")
        .when((q < d.min_question_chars) | (q > d.max_question_chars), "question_length")
        .when((a < d.min_answer_chars) | (a > d.max_answer_chars), "answer_length")
        .when(F.lower(F.trim("output")) == F.lower(F.trim("instruction")), "answer_copies_question")
        .when(F.instr(F.lower("output"), F.lower("instruction")) > 0, "answer_copies_question")
    )
    tagged = pairs.withColumn("drop_reason", reason)
    return tagged.where("drop_reason IS NULL").drop("drop_reason"), tagged.where("drop_reason IS NOT NULL")


def assign_split(df: DataFrame, fractions: tuple[float, float, float]) -> DataFrame:
    """Deterministic split from sha256 of the group key: reruns and backfills agree."""
    u = F.conv(F.substring(F.sha2("group_key", 256), 1, 8), 16, 10).cast("double") / float(2**32)
    train, val = fractions[0], fractions[0] + fractions[1]
    return df.withColumn("split", F.when(u < train, "train").when(u < val, "validation").otherwise("test"))


def decontaminate(df: DataFrame, d: DataSettings) -> tuple[DataFrame, DataFrame]:
    """Move validation/test examples that near-duplicate a train example to train.

    The LSH keeps each bucket's smallest key as its head; prefixing keys with the split's rank
    makes a train example the head of every bucket it is in, so each evaluation example is
    verified against a train example whenever its bucket holds one.
    """
    rank = F.when(F.col("split") == "train", "0").when(F.col("split") == "validation", "1").otherwise("2")
    keyed = df.withColumn("_key", F.concat_ws("|", rank, "example_id")).withColumn(
        "_dedup", F.lower(F.concat_ws("\n", "instruction", "output"))
    )
    dups = near_duplicates(keyed, "_dedup", "_key", d)
    leaked = dups.where(F.col("dup_of").startswith("0|") & ~F.col("_key").startswith("0|")).select("_key", "jaccard")
    moved = keyed.join(leaked, "_key").drop("_dedup")
    out = keyed.join(leaked.select("_key").withColumn("_leaked", F.lit(True)), "_key", "left").withColumn(
        "split", F.when(F.col("_leaked"), "train").otherwise(F.col("split"))
    )
    return out.drop("_key", "_dedup", "_leaked"), moved


def annotate(df: DataFrame) -> DataFrame:
    """The annotated prompt format plus chat fields and a stable example id."""
    return df.select(
        F.sha2(F.concat_ws("|", "source", F.array_join("source_ids", ",")), 256).alias("example_id"),
        "source", "source_ids", "source_file",
        F.lit(SYSTEM_PROMPT).alias("system"),
        "instruction", F.coalesce("input", F.lit("")).alias("input"), "output",
        F.format_string("[Context] %s\n[Question] %s\n[Answer] %s", F.coalesce("input", F.lit("")),
                        "instruction", "output").alias("text"),
        "group_key", "created_at",
    )


def build(tickets: DataFrame, faq: DataFrame, orders: DataFrame, ds: str, d: DataSettings) -> dict[str, DataFrame]:
    """silver frames -> {"gold": ..., "dropped": ..., "moved": ...} (lazy)."""
    pairs = ticket_pairs(tickets, orders).unionByName(faq_pairs(faq, ds))
    kept, dropped = quality_filter(pairs, d)
    split = assign_split(annotate(kept), d.split_fractions)
    gold, moved = decontaminate(split, d)
    return {"gold": gold.select(*GOLD_SFT.fieldNames()), "dropped": dropped, "moved": moved}


def run(lake_root: str, ds: str, spark: SparkSession | None = None) -> dict:
    cfg = settings()
    spark = spark or get_spark("llmops-build-sft", cfg)
    silver = {s: read_partition(spark, lake_root, "silver", s, ds) for s in ("tickets", "faq", "orders")}
    out = build(silver["tickets"], silver["faq"], silver["orders"], ds, cfg.data)
    write_partition(out["gold"], lake_root, "gold", "sft", ds)
    gold = read_partition(spark, lake_root, "gold", "sft", ds)
    summary = {
        "ds": ds,
        "gold": gold.count(),
        "by_source": {r["source"]: r["count"] for r in gold.groupBy("source").count().collect()},
        "by_split": {r["split"]: r["count"] for r in gold.groupBy("split").count().collect()},
        "dropped": {r["drop_reason"]: r["count"] for r in out["dropped"].groupBy("drop_reason").count().collect()},
        "suspicious_excluded": {s: silver[s].where("is_suspicious").count() for s in ("tickets", "faq")},
        "moved_to_train_by_decontamination": out["moved"].count(),
    }
    write_summary(lake_root, "build_sft", ds, summary)
    log.info("build_sft %s", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    args = lake_step_parser("spark_jobs.build_sft", __doc__).parse_args(argv)
    setup_step_logging()
    return guarded("build_sft", lambda: run(args.lake_root, args.ds) and 0)


if __name__ == "__main__":
    sys.exit(main())
