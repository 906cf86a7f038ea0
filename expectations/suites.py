"""What must be true of each lake layer, as Great Expectations suites built in code.

Pure: schemas and thresholds in, ``ExpectationSuite`` out; nothing here reads data. The gate
(:mod:`expectations.gate`) decides which DataFrame each suite validates and with which row-count
bounds (those depend on the previous partition).

Regex expectations run in Spark, so with Java regex semantics; ``DETECTION_PATTERNS`` are written
in the common subset of RE2 and Java for that reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import great_expectations as gx
import great_expectations.expectations as gxe
from pyspark.sql.types import StructType

from llmops.config import DataSettings
from llmops.contracts.personal_data import DETECTION_PATTERNS
from llmops.contracts.raw_landing import CHANNELS, ORDER_STATUSES, REASONS, ROLES, SOURCES
from spark_jobs.schemas import BRONZE, GOLD_SFT, QUARANTINE, SILVER, TEXT_COLUMNS

ID_COLUMNS = {"tickets": "ticket_id", "faq": "faq_id", "reviews": "review_id", "orders": "order_id"}
# sources whose silver rows carry a language, so the clean step filters them by it
LANGUAGE_FILTERED = tuple(s for s in SOURCES if "lang" in SILVER[s].fieldNames())
ALLOWED_VALUES = {"tickets": {"channel": CHANNELS}, "orders": {"status": ORDER_STATUSES}}
GOLD_SPLITS = ("train", "validation", "test")
GOLD_SOURCES = ("tickets", "faq")
GOLD_TEXT_COLUMNS = ("text", "instruction", "input", "output")
# build_sft's annotated format; the context may span lines (subject + order facts), hence DOTALL.
GOLD_TEXT_FORMAT = r"(?s)^\[Context\] .*\n\[Question\] .+\n\[Answer\] .+$"
# Silver tickets' messages exploded to one row per message (ticket_id, role, text), validated as a table.
MESSAGES_TABLE = "tickets.messages"


@dataclass(frozen=True)
class RowCountBounds:
    """Allowed row count of a new partition, derived from the previous partition's."""

    previous_rows: int | None
    min_value: int
    max_value: int | None

    @classmethod
    def from_previous(cls, previous_rows: int | None, ratio: tuple[float, float]) -> RowCountBounds:
        # No (or an empty) previous partition gives no baseline: then only "not empty" is asked.
        if not previous_rows:
            return cls(previous_rows, 1, None)
        low, high = ratio
        return cls(previous_rows, max(1, math.ceil(low * previous_rows)), math.floor(high * previous_rows))


def column_names(schema: StructType, prefix: str = "") -> list[str]:
    """Column names as GX lists them on Spark: struct fields expanded as ``parent.child``."""
    names = []
    for field in schema.fields:
        name = prefix + field.name
        names.append(name)
        if isinstance(field.dataType, StructType):
            names.extend(column_names(field.dataType, name + "."))
    return names


def required_columns(schema: StructType) -> list[str]:
    return [f.name for f in schema.fields if not f.nullable]


def _suite(name: str, expectations: list[gxe.Expectation]) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(name=name, expectations=expectations)


def _exact_columns(schema: StructType, why: str) -> gxe.Expectation:
    return gxe.ExpectTableColumnsToMatchSet(
        column_set=column_names(schema), exact_match=True, meta={"why": why}
    )


def _complete(columns: list[str]) -> list[gxe.Expectation]:
    """No nulls, as an aggregate check (observed: the share of non-null values).

    A table's aggregate checks share one Spark pass; a per-row check in SUMMARY format costs a
    few Spark jobs more each (its failing values/ids). An empty table fails this check, as it fails
    its row count.
    """
    return [gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(column=c, min_value=1.0) for c in columns]


def _row_count(bounds: RowCountBounds) -> gxe.Expectation:
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=bounds.min_value,
        max_value=bounds.max_value,
        meta={"previous_partition_rows": bounds.previous_rows},
    )


def no_raw_personal_data(column: str) -> gxe.Expectation:
    """No value matches any personal-data pattern: one expectation (one Spark pass) per column."""
    return gxe.ExpectColumnValuesToNotMatchRegexList(
        column=column, regex_list=list(DETECTION_PATTERNS.values()),
        meta={"pii_types": list(DETECTION_PATTERNS)},
    )  # fmt: skip


def pii_scan_suite(layer: str) -> gx.ExpectationSuite:
    """The independent personal-data scan's findings (expectations.pii_scan), one row per column and type: a
    second opinion that shares no pattern with the masker and the regex check above."""
    return _suite(
        f"{layer}.pii_scan",
        [
            gxe.ExpectColumnValuesToBeBetween(
                column="found",
                min_value=0,
                max_value=0,
                meta={"why": "Presidio's own recognizers + libphonenumber found raw personal data"},
            )
        ],
    )


def _text_length(column: str, required: bool, max_chars: int) -> gxe.Expectation:
    # nulls are skipped by GX; a required text column must not be blank after cleaning either
    return gxe.ExpectColumnValueLengthsToBeBetween(
        column=column, min_value=1 if required else None, max_value=max_chars
    )


def bronze_suite(source: str, rows: RowCountBounds) -> gx.ExpectationSuite:
    schema = BRONZE[source]
    expectations = [
        _exact_columns(schema, "bronze schema contract (spark_jobs.schemas.BRONZE)"),
        *_complete(required_columns(schema)),
        gxe.ExpectColumnMinToBeBetween(column="_line", min_value=1),
        _row_count(rows),
    ]
    if source == "tickets":
        expectations.extend(_complete(["customer.id"]))
    if source == "reviews":
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column="rating", min_value=1, max_value=5))
    for column, allowed in ALLOWED_VALUES.get(source, {}).items():
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(allowed)))
    return _suite(f"bronze.{source}", expectations)


def ingest_stats_suite(max_quarantine_rate: float) -> gx.ExpectationSuite:
    """Ingest statistics, one row per source: summary.json's figures next to the partitions' row counts."""
    return _suite(
        "bronze.ingest",
        [
            gxe.ExpectColumnValuesToBeBetween(
                column="quarantine_rate", min_value=0, max_value=max_quarantine_rate
            ),
            # every record read is in bronze or quarantine, as written on disk: nothing lost, nothing doubled
            gxe.ExpectColumnPairValuesToBeEqual(column_A="read", column_B="rows_on_disk"),
        ],
    )


def quarantine_suite() -> gx.ExpectationSuite:
    """All sources' quarantine partitions together: every rejected record is traceable and explained."""
    return _suite(
        "bronze.quarantine",
        [
            _exact_columns(QUARANTINE, "quarantine schema contract (spark_jobs.schemas.QUARANTINE)"),
            # per-row: a day without quarantined records is an empty, valid table
            *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in required_columns(QUARANTINE)),
            gxe.ExpectColumnValuesToBeInSet(column="source", value_set=list(SOURCES)),
            gxe.ExpectColumnValuesToBeInSet(column="reason", value_set=sorted(REASONS)),
        ],
    )


def silver_suite(source: str, rows: RowCountBounds, data: DataSettings) -> gx.ExpectationSuite:
    schema = SILVER[source]
    id_column = ID_COLUMNS[source]
    required = required_columns(schema)
    expectations = [
        # exact: no structured personal column (customer.email/name, customer_email) survives bronze
        _exact_columns(schema, "silver schema contract: no structured personal columns past bronze"),
        *_complete(required),
        gxe.ExpectColumnValuesToBeUnique(column=id_column),
        _row_count(rows),
    ]
    if "content_hash" in schema.fieldNames():
        expectations.append(
            gxe.ExpectColumnValuesToBeUnique(column="content_hash", meta={"why": "exact dedup"})
        )
    if "lang" in schema.fieldNames():
        kept = [*data.languages, "unknown"] if data.keep_unknown_language else list(data.languages)
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column="lang", value_set=kept))
    if "is_suspicious" in schema.fieldNames():  # suspicious rows stay in silver, but flagged with their rule
        expectations.append(
            gxe.UnexpectedRowsExpectation(
                description="Every suspicious row names the rule that flagged it",
                unexpected_rows_query=(
                    f"SELECT {id_column} FROM {{batch}} WHERE is_suspicious AND suspicious_rule IS NULL"
                ),
                meta={"columns": ["is_suspicious", "suspicious_rule"]},
            )
        )
    for column, allowed in ALLOWED_VALUES.get(source, {}).items():
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(allowed)))
    for column in TEXT_COLUMNS[source]:
        if "." in column:  # nested text (messages.text) is validated in its exploded table
            continue
        expectations.append(_text_length(column, column in required, data.max_text_chars))
        expectations.append(no_raw_personal_data(column))
    return _suite(f"silver.{source}", expectations)


def language_filter_suite(data: DataSettings) -> gx.ExpectationSuite:
    """What the clean step's language filter removed, one row per source that has one (its summary)."""
    return _suite(
        "silver.language_filter",
        [
            gxe.ExpectColumnValuesToBeBetween(
                column="removed_language_share",
                min_value=0,
                max_value=data.max_language_drop_share,
                meta={"why": "a source losing this much to the language filter is a detector or feed problem"},
            )
        ],
    )


def silver_messages_suite(data: DataSettings) -> gx.ExpectationSuite:
    """Silver tickets' messages, one row per message: ticket_id, role, text."""
    return _suite(
        f"silver.{MESSAGES_TABLE}",
        [
            *_complete(["ticket_id", "role"]),
            gxe.ExpectColumnValuesToBeInSet(column="role", value_set=list(ROLES)),
            _text_length("text", False, data.max_text_chars),
            no_raw_personal_data("text"),
        ],
    )


def gold_suite(rows: RowCountBounds, data: DataSettings) -> gx.ExpectationSuite:
    expectations = [
        _exact_columns(GOLD_SFT, "gold schema contract (spark_jobs.schemas.GOLD_SFT)"),
        *_complete(required_columns(GOLD_SFT)),
        gxe.ExpectColumnValuesToBeUnique(column="example_id"),
        _row_count(rows),
        gxe.ExpectColumnValuesToBeInSet(column="split", value_set=list(GOLD_SPLITS)),
        gxe.ExpectColumnValuesToBeInSet(column="source", value_set=list(GOLD_SOURCES)),
        gxe.ExpectColumnValuesToMatchRegex(column="text", regex=GOLD_TEXT_FORMAT),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="instruction", min_value=data.min_question_chars, max_value=data.max_question_chars
        ),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="output", min_value=data.min_answer_chars, max_value=data.max_answer_chars
        ),
        gxe.UnexpectedRowsExpectation(
            description="The answer (output) must not copy the question (instruction)",
            unexpected_rows_query=(
                "SELECT example_id FROM {batch} WHERE lower(trim(output)) = lower(trim(instruction))"
            ),
            meta={"columns": ["output", "instruction"]},
        ),
    ]
    expectations.extend(no_raw_personal_data(c) for c in GOLD_TEXT_COLUMNS)
    return _suite("gold.sft", expectations)
