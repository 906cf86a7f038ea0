"""Feast definitions: the `example` entity, the two features tables as sources, their views, one service.

The sources read every ``ds=`` partition that featurize published under ``$LLMOPS_FEAST_FEATURES_PATH``
(the lake's ``features`` layer, as a path DuckDB can read). The glob names ``ds=*/`` directories
explicitly: a bare directory path makes DuckDB read recursively, and would pick up half-written
``_staging/`` directories too.
"""

from __future__ import annotations

import os
from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.data_format import ParquetFormat
from feast.types import Array, Bool, Int64, String

FEATURES_PATH = os.environ["LLMOPS_FEAST_FEATURES_PATH"].rstrip("/")
# Training examples do not go stale; the TTL only has to reach back past the oldest example, because
# the first incremental materialization starts at now - ttl.
TTL = timedelta(days=3650)


def partitions(table: str) -> FileSource:
    return FileSource(
        name=f"{table}_source",
        path=f"{FEATURES_PATH}/{table}/ds=*/*.parquet",
        file_format=ParquetFormat(),
        timestamp_field="event_timestamp",
    )


example = Entity(
    name="example",
    join_keys=["example_id"],
    value_type=ValueType.STRING,
    description="One gold SFT example (example_id: sha256 of its source and source ids).",
)


def view(table: str, schema: list[Field], description: str) -> FeatureView:
    """A view of one features table (its own name), keyed by example and served online."""
    return FeatureView(
        name=table,
        entities=[example],
        ttl=TTL,
        schema=schema,
        source=partitions(table),
        online=True,
        description=description,
    )


llm_training_features = view(
    "llm_training_features",
    [
        Field(name="example_id", dtype=String),
        Field(name="input_ids", dtype=Array(Int64)),
        Field(name="attention_mask", dtype=Array(Int64)),
        Field(name="seq_len", dtype=Int64),
        Field(name="split", dtype=String),
    ],
    "Chat-templated token ids of each example, truncated to max_seq_len.",
)

# `split` is in the table too but served by llm_training_features only: two views of one service may
# not both offer a feature of the same name.
record_stats = view(
    "record_stats",
    [
        Field(name="example_id", dtype=String),
        Field(name="n_chars", dtype=Int64),
        Field(name="n_words", dtype=Int64),
        Field(name="question_chars", dtype=Int64),
        Field(name="answer_chars", dtype=Int64),
        Field(name="has_context", dtype=Bool),
        Field(name="source", dtype=String),
    ],
    "Size statistics of each example (of its gold text, question and answer).",
)

sft_training = FeatureService(
    name="sft_training",
    features=[llm_training_features, record_stats],
    description="Everything a fine-tuning run reads for its examples.",
)
