"""gold/sft -> features/llm_training_features: per-example features a training job selects on.

``llmops.example_features.compute`` (pyarrow) runs in ``mapInArrow`` on each batch of gold rows: source,
language, sizes, quality score and flags, injection flag, exact-duplicate cluster, event timestamp. No
tokenizer is involved: the trainer tokenizes with its base model's own tokenizer.

CLI: ``python -m spark_jobs.featurize --lake-root URI --ds DATE``; exit 0 when the partition is published,
1 when the gold partition is empty, 2 when the job cannot run.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator

import pyarrow as pa
from pyspark.sql import DataFrame

from llmops.config import settings
from llmops.example_features import GOLD_COLUMNS, compute
from llmops.logs import setup_step_logging
from llmops.screening.langid import LanguagePolicy
from llmops.steps import EXIT_FAILED, guarded, lake_step_parser
from spark_jobs.clean import language_policy
from spark_jobs.schemas import LLM_TRAINING_FEATURES
from spark_jobs.session import get_spark, read_partition, write_partition

log = logging.getLogger(__name__)

FEATURES_TABLE = "llm_training_features"


def _compute_partitions(policy: LanguagePolicy) -> Callable:
    def features(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from compute(batch, policy).to_batches()

    return features


def featurize(gold_df: DataFrame) -> DataFrame:
    """Gold SFT rows -> llm_training_features rows; pure, nothing is written."""
    data = settings().data
    policy = language_policy(data.languages, data)
    return gold_df.select(*GOLD_COLUMNS).mapInArrow(_compute_partitions(policy), LLM_TRAINING_FEATURES)


def run(lake_root: str, ds: str) -> dict:
    """Featurize the gold/sft ``ds`` partition and publish the features partition."""
    spark = get_spark("featurize")
    gold = read_partition(spark, lake_root, "gold", "sft", ds)
    features_uri = write_partition(featurize(gold), lake_root, "features", FEATURES_TABLE, ds)
    rows = spark.read.parquet(features_uri).count()
    summary = {"ds": ds, "rows": rows, "features": features_uri}
    log.info("featurize: %s", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    args = lake_step_parser("spark_jobs.featurize", __doc__.splitlines()[0]).parse_args(argv)
    setup_step_logging()

    def body() -> int:
        if run(args.lake_root, args.ds)["rows"] == 0:
            log.error("gold/sft ds=%s has no rows: nothing to featurize", args.ds)
            return EXIT_FAILED
        return 0

    return guarded("featurize", body)


if __name__ == "__main__":
    sys.exit(main())
