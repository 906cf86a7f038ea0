"""Exact and near-duplicate removal.

Exact: a stable content hash (sha256 in the JVM, never Python's salted ``hash()``); the first row
of each hash by a deterministic order key survives.

Near: MinHash over word-shingle hashes, computed with numpy inside ``mapInArrow``; banded LSH
(``groupBy`` on band hashes) finds candidates; exact Jaccard on the shingle sets, in the JVM,
verifies them. Spark ML's ``MinHashLSH`` only ORs its hash tables and its similarity join grows
super-linearly (NOTES.md), hence the banding. Each bucket is joined as a star (every member
against the bucket's earliest member), so a hot bucket costs O(n), not O(n^2).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

if TYPE_CHECKING:
    from llmops.config import DataSettings

_MIX = np.uint64(0x9E3779B97F4A7C15)
_SEED = 0x5EED


def content_hash(col: F.Column) -> F.Column:
    """sha256 hex of a text column (stable across runs, processes and machines)."""
    return F.sha2(col, 256)


def exact_dedup(df: DataFrame, hash_col: str, order_col: str) -> DataFrame:
    """Keep the first row (by ``order_col``) of every ``hash_col`` value."""
    w = Window.partitionBy(hash_col).orderBy(order_col)
    return df.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").drop("_rn")


def _word_hashes(words: pa.Array) -> np.ndarray:
    """A stable uint64 per word: each distinct word of the batch is hashed once (crc32 + adler32)."""
    encoded = pc.dictionary_encode(words)
    vocab = [w.encode() for w in encoded.dictionary.to_pylist()]
    table = np.fromiter(
        ((zlib.crc32(w) << 32) | zlib.adler32(w) for w in vocab), dtype=np.uint64, count=len(vocab)
    )
    return table[encoded.indices.to_numpy(zero_copy_only=False)]


def shingle_hashes(texts: pa.Array, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of each text's word ``k``-shingles (words = runs of ``\\w``), flat, with offsets.

    A text of fewer than ``k`` words gives one shingle of all its words; an empty text none.
    """
    words = pc.split_pattern_regex(pc.fill_null(texts, ""), r"\W+")
    flat = pc.list_flatten(words)
    nonempty = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(words).to_numpy(zero_copy_only=False)[nonempty]
    hashes = _word_hashes(pc.filter(flat, pa.array(nonempty))) if nonempty.any() else np.empty(0, np.uint64)
    counts = np.bincount(parents, minlength=len(texts)).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.arange(len(hashes)) - np.repeat(starts, counts)
    remaining = np.repeat(counts, counts) - pos  # words from here to the end of this text
    combined = hashes.copy()
    for j in range(1, k):
        nxt = np.zeros_like(hashes)
        nxt[: len(hashes) - j] = hashes[j:]
        with np.errstate(over="ignore"):
            combined = combined * _MIX + np.where(remaining > j, nxt, np.uint64(0))
    n_shingles = np.where(counts >= k, counts - k + 1, np.minimum(counts, 1))
    valid = pos < np.repeat(n_shingles, counts)
    offsets = np.concatenate(([0], np.cumsum(n_shingles))).astype(np.int64)
    return combined[valid], offsets


def minhash(shingles: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int = _SEED) -> np.ndarray:
    """(n_texts, num_perm) MinHash signatures by multiply-shift hashing; empty texts get max rows."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, num_perm, dtype=np.uint64)
    sig = np.full((len(offsets) - 1, num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    nonempty = offsets[1:] > offsets[:-1]
    if not nonempty.any():
        return sig
    starts = offsets[:-1][nonempty]
    with np.errstate(over="ignore"):
        for p in range(num_perm):
            sig[nonempty, p] = np.minimum.reduceat((shingles * a[p] + b[p]) >> np.uint64(11), starts)
    return sig


def band_hashes(sig: np.ndarray, bands: int) -> np.ndarray:
    """(n_texts, bands) int64: one hash per band of ``num_perm / bands`` consecutive values."""
    rows = sig.shape[1] // bands
    grouped = sig[:, : rows * bands].reshape(sig.shape[0], bands, rows)
    out = np.zeros((sig.shape[0], bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            out = out * _MIX + grouped[:, :, r]
    return out.view(np.int64)


def jaccard(a: set, b: set) -> float:
    """Reference Jaccard similarity (tests and the generator's manifest use the same definition)."""
    return len(a & b) / len(a | b) if a or b else 0.0


_SIG_FIELDS = [
    ("_key", pa.string(), StringType()),
    ("_bands", pa.list_(pa.int64()), ArrayType(LongType(), False)),
    ("_shingles", pa.list_(pa.int64()), ArrayType(LongType(), False)),
]
_SIG_ARROW = pa.schema([pa.field(n, t, False) for n, t, _ in _SIG_FIELDS])
_SIG_SPARK = StructType([StructField(n, t, False) for n, _, t in _SIG_FIELDS])


def _signatures(text_col: str, k: int, num_perm: int, bands: int):
    def per_batch(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            sh, offsets = shingle_hashes(batch.column(text_col), k)
            bh = band_hashes(minhash(sh, offsets, num_perm), bands)
            band_offsets = pa.array(np.arange(0, bh.size + 1, bands, dtype=np.int32))
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column("_key"),
                    pa.ListArray.from_arrays(band_offsets, pa.array(bh.ravel())),
                    pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(sh.view(np.int64))),
                ],
                schema=_SIG_ARROW,
            )

    return per_batch


def near_duplicates(df: DataFrame, text_col: str, key_col: str, d: DataSettings) -> DataFrame:
    """``(key, dup_of, jaccard)`` for every row that near-duplicates an earlier row, at ``d.near_dup_threshold``
    with ``d``'s MinHash/LSH parameters (the settings hold them once for silver and gold).

    ``key_col`` must be unique and sort in the order that decides which copy is kept (e.g.
    created_at + id); each removed row names the earliest candidate it was verified against.
    """
    threshold, num_perm, bands, shingle_words = (
        d.near_dup_threshold, d.minhash_permutations, d.minhash_bands, d.shingle_words
    )  # fmt: skip
    sigs = (
        df.select(F.col(key_col).alias("_key"), text_col)
        .mapInArrow(_signatures(text_col, shingle_words, num_perm, bands), _SIG_SPARK)
        .persist()
    )
    buckets = sigs.select("_key", F.posexplode("_bands").alias("_band", "_bh"))
    heads = (
        buckets.groupBy("_band", "_bh")
        .agg(F.min("_key").alias("_head"), F.count("*").alias("_n"))
        .where("_n > 1")
    )
    pairs = (
        buckets.join(heads.hint("merge"), ["_band", "_bh"]).where("_key != _head").select("_key", "_head").distinct()
    )
    inter = F.size(F.array_intersect("_a", "_b"))
    union = F.size(F.array_union("_a", "_b"))
    # Sort-merge, never broadcast: Spark under-estimates the Arrow-produced signature table (it
    # OOM-ed the driver broadcasting ~800k shingle arrays at 1M records).
    left = sigs.select("_key", F.col("_shingles").alias("_a")).hint("merge")
    right = sigs.select(F.col("_key").alias("_head"), F.col("_shingles").alias("_b")).hint("merge")
    return (
        pairs.join(left, "_key")
        .join(right, "_head")
        .withColumn("jaccard", F.when(union > 0, inter / union).otherwise(F.lit(0.0)))
        .where(F.col("jaccard") >= threshold)
        .groupBy("_key")
        .agg(F.min("_head").alias("dup_of"), F.max("jaccard").alias("jaccard"))
        .withColumnRenamed("_key", key_col)
    )


def drop_near_duplicates(df: DataFrame, text_col: str, key_col: str, d: DataSettings) -> tuple[DataFrame, DataFrame]:
    """(kept rows, removed rows with ``dup_of`` and ``jaccard``)."""
    dups = near_duplicates(df, text_col, key_col, d)
    return df.join(dups.select(key_col), key_col, "left_anti"), df.join(dups, key_col)
