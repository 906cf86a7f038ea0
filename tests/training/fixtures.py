"""A tiny model and a tiny gold table the training tests train on for real, in seconds."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from llmops.example_features import compute

SYSTEM = "You are a helpful support assistant."
ITEMS = ("order", "parcel", "invoice", "refund", "ticket", "account")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def qa_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """Memorisable question/answer pairs: the answer follows from the question by a simple rule."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        item, number = rng.choice(ITEMS), rng.randint(1, 99)
        day = DAYS[number % len(DAYS)]
        pairs.append((f"When will my {item} {number} be handled?", f"Your {item} {number} is handled on {day}."))
    return pairs


def build_tiny_model(out: Path, hidden: int = 64, layers: int = 2) -> Path:
    """A random-init Llama on a BPE tokenizer trained on the fixture text, saved like a hub model.

    initializer_range 0.2 (not 0.02): logits of a tiny model at the default init are too flat for LoRA to fit
    in a few steps.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    from llmops.tokenizer import build_tokenizer, load_tokenizer

    texts = [f"{q} {a}" for q, a in qa_pairs(400)] + [SYSTEM] * 5
    build_tokenizer(texts, out, vocab_size=600)
    tok = load_tokenizer(out)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=256, tie_word_embeddings=True, initializer_range=0.2,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    import torch

    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    return out


def write_gold(lake: Path, ds: str, n: int, seed: int = 0, splits: tuple[int, int] = (8, 1)) -> Path:
    """A gold/sft partition with the columns training and the eval gate read, and its features partition (as
    featurize writes it; :func:`register_features` makes Feast serve them); about 1 in 10 rows is validation,
    1 in 10 test."""
    rows = {k: [] for k in ("example_id", "source", "system", "instruction", "input", "output", "split")}
    train_every, _ = splits
    for i, (question, answer) in enumerate(qa_pairs(n, seed)):
        rows["example_id"].append(hashlib.sha256(f"{ds}-{seed}-{i}".encode()).hexdigest())
        rows["source"].append("tickets")
        rows["system"].append(SYSTEM)
        rows["instruction"].append(question)
        rows["input"].append("")
        rows["output"].append(answer)
        rows["split"].append("train" if i % 10 < train_every else ("validation" if i % 10 == 8 else "test"))
    rows["created_at"] = [dt.datetime.fromisoformat(ds)] * n
    gold = pa.table(rows)
    part = lake / "gold" / "sft" / f"ds={ds}"
    part.mkdir(parents=True, exist_ok=True)
    pq.write_table(gold, part / "part-00000.parquet")
    write_features(lake, ds, compute(gold))
    return part


def write_features(lake: Path, ds: str, features: pa.Table) -> None:
    """A features/llm_training_features partition (``llmops.example_features.SCHEMA`` rows)."""
    part = lake / "features" / "llm_training_features" / f"ds={ds}"
    part.mkdir(parents=True, exist_ok=True)
    pq.write_table(features, part / "part-00000.parquet")


def register_features() -> None:
    """Apply the Feast definitions for the current settings' lake (the data DAG's feast_materialize does)."""
    from llmops import feature_store
    from llmops.config import settings

    feature_store.apply(settings())
