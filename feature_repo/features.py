"""Feast definitions: the `example` entity, the features table as source, its view, one service.

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
from feast.types import Array, Bool, Float64, Int64, String

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
        Field(name="source", dtype=String),
        Field(name="language", dtype=String),
        Field(name="n_chars", dtype=Int64),
        Field(name="question_chars", dtype=Int64),
        Field(name="answer_chars", dtype=Int64),
        Field(name="quality_score", dtype=Float64),
        Field(name="quality_flags", dtype=Array(String)),
        Field(name="injection_flag", dtype=Bool),
        Field(name="injection_rule", dtype=String),
        Field(name="dedup_cluster", dtype=String),
        Field(name="split", dtype=String),
    ],
    "Per-example features a training job selects on (llmops.example_features): source, language, sizes, "
    "quality score and flags, injection flag, exact-duplicate cluster; event_timestamp is the gold row's arrival.",
)

sft_training = FeatureService(
    name="sft_training",
    features=[llm_training_features],
    description="The features the trainer selects its examples on (llmops.training.sft_data.select_examples).",
)
