"""gold/sft -> features/llm_training_features (token ids) and features/record_stats.

Tokenization runs in ``mapInArrow`` with the fast (Rust) tokenizer's batch encode. The tokenizer's
files travel inside the task closure (a few hundred KB) and each Python worker loads them once, so
executors need no access to the lake's file system.

CLI: ``python -m spark_jobs.featurize --lake-root URI --ds DATE [--tokenizer DIR]``; exit 0 when the
partitions are published, 1 when the gold partition is empty, 2 when the job cannot run.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from llmops.config import settings
from llmops.logs import setup_step_logging
from llmops.steps import EXIT_FAILED, guarded, lake_step_parser
from llmops.tokenizer import chat_messages, load_tokenizer, resolve_tokenizer
from spark_jobs.schemas import LLM_TRAINING_FEATURES
from spark_jobs.session import get_spark, read_partition, write_partition

log = logging.getLogger(__name__)

FEATURES_TABLE, STATS_TABLE = "llm_training_features", "record_stats"

_TOKENIZERS: dict[str, object] = {}  # per Python worker: files digest -> loaded tokenizer


def _worker_tokenizer(files: dict[str, bytes]):
    """Load the shipped tokenizer files once per worker process (through from_pretrained, as everywhere)."""
    key = hashlib.sha256(b"".join(name.encode() + data for name, data in sorted(files.items()))).hexdigest()
    if key not in _TOKENIZERS:
        with tempfile.TemporaryDirectory(prefix="llmops-tokenizer-") as tmp:
            for name, data in files.items():
                (Path(tmp) / name).write_bytes(data)
            _TOKENIZERS[key] = load_tokenizer(tmp)
    return _TOKENIZERS[key]


def _list_array(lists: list[list[int]]) -> pa.ListArray:
    offsets = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum([len(x) for x in lists], out=offsets[1:])
    values = np.fromiter((v for x in lists for v in x), dtype=np.int64, count=int(offsets[-1]))
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))


def encode_batch(tokenizer, batch: pa.RecordBatch, max_seq_len: int) -> pa.RecordBatch:
    """Gold columns (example_id, event_timestamp, system, instruction, input, output, split) -> feature rows.

    Each example is rendered with the tokenizer's chat template (which already holds BOS/EOS), then
    encoded without further special tokens and truncated to ``max_seq_len`` ids.
    """
    columns = (batch.column(name).to_pylist() for name in ("system", "instruction", "input", "output"))
    conversations = [chat_messages(*fields) for fields in zip(*columns, strict=True)]
    texts = tokenizer.apply_chat_template(conversations, tokenize=False) if conversations else []
    ids = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=max_seq_len)["input_ids"]
    input_ids = _list_array(ids)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("example_id"),
            batch.column("event_timestamp"),
            input_ids,
            _list_array([[1] * len(x) for x in ids]),  # no padding is stored: every id is attended
            pa.array([len(x) for x in ids], pa.int64()),
            batch.column("split"),
        ],
        names=LLM_TRAINING_FEATURES.fieldNames(),
    )


def _tokenize_partitions(files: dict[str, bytes], max_seq_len: int) -> Callable:
    def tokenize(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        tokenizer = _worker_tokenizer(files)
        for batch in batches:
            yield encode_batch(tokenizer, batch, max_seq_len)

    return tokenize


def record_stats(gold_df: DataFrame) -> DataFrame:
    """Per-example size statistics (of the gold ``text``, question and answer) for the record_stats view."""
    text = F.trim("text")
    return gold_df.select(
        "example_id",
        F.col("created_at").alias("event_timestamp"),
        F.length("text").cast("long").alias("n_chars"),
        F.when(text == "", F.lit(0)).otherwise(F.size(F.split(text, r"\s+"))).cast("long").alias("n_words"),
        F.length("instruction").cast("long").alias("question_chars"),
        F.length("output").cast("long").alias("answer_chars"),
        (F.coalesce(F.length(F.trim("input")), F.lit(0)) > 0).alias("has_context"),
        "source",
        "split",
    )


def featurize(
    gold_df: DataFrame, tokenizer_path: str | Path, max_seq_len: int
) -> tuple[DataFrame, DataFrame]:
    """Gold SFT rows -> (llm_training_features rows, record_stats rows); pure, nothing is written."""
    files = {p.name: p.read_bytes() for p in Path(tokenizer_path).iterdir() if p.is_file()}
    features = gold_df.select(
        "example_id",
        F.col("created_at").alias("event_timestamp"),
        "system",
        "instruction",
        "input",
        "output",
        "split",
    ).mapInArrow(_tokenize_partitions(files, max_seq_len), LLM_TRAINING_FEATURES)
    return features, record_stats(gold_df)


def run(lake_root: str, ds: str, tokenizer_path: str | Path | None = None) -> dict:
    """Featurize the gold/sft ``ds`` partition and publish both features partitions."""
    spark = get_spark("featurize")
    gold = read_partition(spark, lake_root, "gold", "sft", ds)
    tokenizer = Path(tokenizer_path) if tokenizer_path else resolve_tokenizer(lake_root, ds)
    features, stats = featurize(gold, tokenizer, settings().feast.max_seq_len)
    features_uri = write_partition(features, lake_root, "features", FEATURES_TABLE, ds)
    stats_uri = write_partition(stats, lake_root, "features", STATS_TABLE, ds)
    rows = spark.read.parquet(features_uri).count()
    summary = {
        "ds": ds,
        "rows": rows,
        "tokenizer": str(tokenizer),
        "features": features_uri,
        "stats": stats_uri,
    }
    log.info("featurize: %s", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = lake_step_parser("spark_jobs.featurize", __doc__.splitlines()[0])
    parser.add_argument("--tokenizer", help="tokenizer directory (default: the lake's pinned one)")
    args = parser.parse_args(argv)
    setup_step_logging()

    def body() -> int:
        if run(args.lake_root, args.ds, args.tokenizer)["rows"] == 0:
            log.error("gold/sft ds=%s has no rows: nothing to featurize", args.ds)
            return EXIT_FAILED
        return 0

    return guarded("featurize", body)


if __name__ == "__main__":
    sys.exit(main())
