"""Exact and near-duplicate detection: shingles, MinHash, banded LSH and the verified Spark join."""

from __future__ import annotations

import random
import re

import numpy as np
import pyarrow as pa
import pytest

from llmops.config import DataSettings
from spark_jobs.transforms.dedup import (
    band_hashes,
    drop_near_duplicates,
    exact_dedup,
    jaccard,
    minhash,
    shingle_hashes,
)


def _shingles(text: str, k: int = 3) -> set[tuple[str, ...]]:
    words = [w for w in re.split(r"\W+", text) if w]
    if len(words) < k:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}


def test_shingle_counts_match_reference_definition():
    texts = ["the quick brown fox jumps over the lazy dog", "", None, "two words", "a, b; c! d", "x"]
    hashes, offsets = shingle_hashes(pa.array(texts), 3)
    expected = [len(_shingles(t or "")) for t in texts]
    # repeated shingles inside one text are kept (sets are formed later), so compare with multiplicity
    words = [[w for w in re.split(r"\W+", t or "") if w] for t in texts]
    with_repeats = [max(len(w) - 2, 1) if w else 0 for w in words]
    assert list(np.diff(offsets)) == with_repeats
    assert len(hashes) == offsets[-1]
    assert expected[0] == 7


def test_shingle_hashes_are_stable_and_do_not_cross_documents():
    a, _ = shingle_hashes(pa.array(["alpha beta gamma delta"]), 3)
    b, off = shingle_hashes(pa.array(["zeta eta", "alpha beta gamma delta"]), 3)
    assert set(a) == set(b[off[1] : off[2]])


def test_minhash_agreement_estimates_jaccard():
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(3000)]
    base = [rng.choice(vocab) for _ in range(300)]
    edited = list(base)
    for i in rng.sample(range(300), 12):
        edited[i] = rng.choice(vocab)
    texts = [" ".join(base), " ".join(edited), " ".join(rng.choice(vocab) for _ in range(300))]
    sh, off = shingle_hashes(pa.array(texts), 3)
    sig = minhash(sh, off, 256)
    true_sim = jaccard(_shingles(texts[0]), _shingles(texts[1]))
    est = float((sig[0] == sig[1]).mean())
    assert abs(est - true_sim) < 0.08
    assert float((sig[0] == sig[2]).mean()) < 0.05
    bands = band_hashes(sig, 32)
    assert bands.shape == (3, 32) and (bands[0] == bands[1]).any() and not (bands[0] == bands[2]).any()


@pytest.fixture
def docs():
    rng = random.Random(7)
    vocab = [f"term{i}" for i in range(5000)]
    base = [" ".join(rng.choice(vocab) for _ in range(60)) for _ in range(200)]
    rows = [(f"k{i:04d}", t) for i, t in enumerate(base)]
    # near duplicates: one word changed near the end (Jaccard ~0.95) and a far edit (~0.5)
    near = base[3].split()
    near[-5] = "changed"
    rows.append(("k9000", " ".join(near)))
    far = base[4].split()
    for i in range(0, 60, 4):
        far[i] = "different"
    rows.append(("k9001", " ".join(far)))
    return rows


def test_near_duplicates_found_verified_and_earliest_kept(spark, docs):
    df = spark.createDataFrame(docs, "key string, text string")
    lsh = DataSettings(near_dup_threshold=0.8, minhash_permutations=64, minhash_bands=16, shingle_words=3)
    kept, removed = drop_near_duplicates(df, "text", "key", lsh)
    removed_rows = {r["key"]: (r["dup_of"], r["jaccard"]) for r in removed.collect()}
    assert set(removed_rows) == {"k9000"}
    assert removed_rows["k9000"][0] == "k0003"
    assert removed_rows["k9000"][1] >= 0.8
    assert kept.count() == len(docs) - 1


def test_exact_dedup_keeps_first_by_order(spark):
    df = spark.createDataFrame(
        [("h1", "2026-01-02|b"), ("h1", "2026-01-01|a"), ("h2", "2026-01-03|c")], "h string, o string"
    )
    assert sorted(r["o"] for r in exact_dedup(df, "h", "o").collect()) == ["2026-01-01|a", "2026-01-03|c"]
