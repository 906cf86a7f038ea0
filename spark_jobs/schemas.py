"""Table schemas of every lake layer, as Spark types.

These are the project's internal contracts: the ingest job produces the bronze schemas, the
clean job the silver ones, build_sft the gold one, and the GE suites and Feast views read them.
The landing zone's value sets and quarantine reasons are in llmops.contracts.raw_landing.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

# Columns every bronze and silver row carries to trace it back to the landing zone.
LINEAGE = [
    StructField("_source_file", StringType(), False),
    StructField("_line", LongType(), False),  # 1-based line/row number; FAQ: 1-based heading index
]

_EXTRA = StructField("extra", MapType(StringType(), StringType()), True)  # unknown fields, JSON text

MESSAGE = StructType(
    [
        StructField("role", StringType(), False),
        StructField("text", StringType(), True),
        StructField("ts", TimestampType(), True),
    ]
)

# Columns a source keeps from bronze to silver, declared once; each layer adds its own around them.
_TICKET_HEAD = [
    StructField("ticket_id", StringType(), False),
    StructField("created_at", TimestampType(), False),
    StructField("channel", StringType(), True),
]
_TICKET_BODY = [
    StructField("subject", StringType(), True),
    StructField("messages", ArrayType(MESSAGE, False), False),
    StructField("resolution", StringType(), True),
]
_FAQ_HEAD = [
    StructField("faq_id", StringType(), False),  # sha256 of source file URI + heading index
    StructField("page_title", StringType(), True),
    StructField("question", StringType(), False),
]
_REVIEW = [
    StructField("review_id", StringType(), False),
    StructField("product_id", StringType(), False),
    StructField("rating", IntegerType(), False),
    StructField("title", StringType(), True),
    StructField("body", StringType(), False),
    StructField("created_at", TimestampType(), False),
]


def _order(customer_email: StructField) -> StructType:
    """Orders keep every column into silver but the customer's e-mail, which silver holds as a pseudonym."""
    return StructType(
        [
            StructField("order_id", StringType(), False),
            StructField("customer_id", StringType(), False),
            customer_email,
            StructField("product", StringType(), True),
            StructField("status", StringType(), False),
            StructField("created_at", TimestampType(), False),
            StructField("total", DecimalType(12, 2), False),
            *LINEAGE,
        ]
    )


BRONZE = {
    "tickets": StructType(
        [
            *_TICKET_HEAD,
            StructField(
                "customer",
                StructType(
                    [
                        StructField("id", StringType(), False),
                        StructField("email", StringType(), True),
                        StructField("name", StringType(), True),
                    ]
                ),
                False,
            ),
            *_TICKET_BODY,
            _EXTRA,
            *LINEAGE,
        ]
    ),
    "faq": StructType(
        [
            *_FAQ_HEAD,
            StructField("answer_html", StringType(), False),  # raw HTML of the answer elements
            *LINEAGE,
        ]
    ),
    "reviews": StructType([*_REVIEW, StructField("lang", StringType(), True), _EXTRA, *LINEAGE]),
    "orders": _order(StructField("customer_email", StringType(), True)),
}

QUARANTINE = StructType(
    [
        StructField("source", StringType(), False),
        StructField("_source_file", StringType(), False),
        StructField("_line", LongType(), False),
        StructField("raw", StringType(), True),  # the record as text (invalid bytes replaced)
        StructField("raw_bytes", StringType(), True),  # base64 of the original bytes when not UTF-8
        StructField("reason", StringType(), False),  # one of raw_landing.REASONS
        StructField("message", StringType(), False),  # human-readable detail: which field, what value
    ]
)

# Silver: cleaned text (HTML stripped, NFKC, whitespace collapsed, personal data masked to
# placeholders), personal structured columns dropped or pseudonymised with a keyed hash.
_SILVER_COMMON = [
    StructField("lang", StringType(), False),  # detected language (ISO 639-1) or "unknown"
    StructField("content_hash", StringType(), False),  # sha256 hex of the normalised dedup text
    StructField("is_suspicious", BooleanType(), False),  # prompt-injection / poisoning pattern hit
    StructField("suspicious_rule", StringType(), True),
    *LINEAGE,
]

SILVER = {
    "tickets": StructType(
        [*_TICKET_HEAD, StructField("customer_id", StringType(), False), *_TICKET_BODY, *_SILVER_COMMON]
    ),
    "faq": StructType([*_FAQ_HEAD, StructField("answer", StringType(), False), *_SILVER_COMMON]),
    "reviews": StructType([*_REVIEW, *_SILVER_COMMON]),
    "orders": _order(StructField("customer_email_key", StringType(), True)),  # HMAC-SHA256 pseudonym
}

# Free-text columns of each silver table: masked, and checked by the silver/gold gates.
TEXT_COLUMNS = {
    "tickets": ("subject", "messages.text", "resolution"),
    "faq": ("page_title", "question", "answer"),
    "reviews": ("title", "body"),
    "orders": ("product",),
}

GOLD_SFT = StructType(
    [
        StructField("example_id", StringType(), False),  # sha256 of source + source ids
        StructField("source", StringType(), False),  # tickets | faq
        StructField("source_ids", ArrayType(StringType(), False), False),
        StructField("source_file", StringType(), False),
        StructField("system", StringType(), False),
        StructField("instruction", StringType(), False),  # the question
        StructField("input", StringType(), True),  # the context ("" when none)
        StructField("output", StringType(), False),  # the answer
        StructField("text", StringType(), False),  # "[Context] ...\n[Question] ...\n[Answer] ..."
        StructField("split", StringType(), False),  # train | validation | test
        StructField("group_key", StringType(), False),
        StructField("created_at", TimestampType(), False),
    ]
)

# Features: one row per gold example, keyed by example_id and timed by the gold row's created_at (the
# Feast entity key and event timestamp); llmops.example_features computes them (its SCHEMA, the same columns).
LLM_TRAINING_FEATURES = StructType(
    [
        StructField("example_id", StringType(), False),
        StructField("event_timestamp", TimestampType(), False),
        StructField("source", StringType(), False),
        StructField("language", StringType(), False),
        StructField("n_chars", LongType(), False),
        StructField("question_chars", LongType(), False),
        StructField("answer_chars", LongType(), False),
        StructField("quality_score", DoubleType(), False),
        StructField("quality_flags", ArrayType(StringType(), False), False),
        StructField("injection_flag", BooleanType(), False),
        StructField("injection_rule", StringType(), True),
        StructField("dedup_cluster", StringType(), False),
        StructField("split", StringType(), False),
    ]
)
