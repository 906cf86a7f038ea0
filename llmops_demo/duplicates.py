"""Exact and near duplicates of earlier records, as re-deliveries and copy-paste in real feeds produce."""

from __future__ import annotations

import json
import random
import re

from llmops_demo.grammar import pick, world
from llmops_demo.similarity import dedup_text, jaccard, shingles

NEAR_MIN, NEAR_MAX = 0.8, 0.97
_TOKENS = re.compile(r"(\w+)")
_SYNONYMS, _FILLERS = world()["synonyms"], tuple(world()["fillers"])


def _edit_words(rng: random.Random, text: str, edits: int) -> str:
    tokens = _TOKENS.split(text)
    candidates = [i for i in range(1, len(tokens), 2) if tokens[i].isalpha() and len(tokens[i]) >= 3]
    for i in rng.sample(candidates, min(edits, len(candidates))):
        word = tokens[i]
        new = _SYNONYMS.get(word.lower()) or pick(rng, [f for f in _FILLERS if f != word.lower()])
        tokens[i] = new.capitalize() if word[0].isupper() else new
    edited = "".join(tokens)
    if rng.random() < 0.3:  # and a punctuation slip, which the word shingles do not see
        edited = edited.replace(".", "!", 1) if "." in edited else edited + "!"
    return edited


def near_duplicate(
    rng: random.Random, source: str, record: dict, new_id: str, id_field: str
) -> tuple[dict, float] | None:
    """A copy of ``record`` under ``new_id`` with a few words changed, whose dedup-text Jaccard with the
    original lies in [NEAR_MIN, NEAR_MAX]; None if no small edit lands there (very short texts)."""
    original = dedup_text(source, record)
    edits = max(1, round(len(shingles(original)) / 45))
    for _ in range(8):
        copy = json.loads(json.dumps(record))
        copy[id_field] = new_id
        if source == "tickets":
            message = pick(rng, copy["messages"])
            message["text"] = _edit_words(rng, message["text"], edits)
        elif copy.get("title") and rng.random() < 0.2:
            copy["title"] = _edit_words(rng, copy["title"], edits)
        else:
            copy["body"] = _edit_words(rng, copy["body"], edits)
        score = jaccard(original, dedup_text(source, copy))
        if NEAR_MIN <= score <= NEAR_MAX:
            return copy, score
        edits = edits + 1 if score > NEAR_MAX else max(1, edits - 1)
    return None


class OriginalsPool:
    """A bounded, seeded sample of plain records seen so far, to draw duplicates from."""

    def __init__(self, rng: random.Random, size: int = 2_000):
        self.rng, self.size = rng, size
        self.items: list[tuple[dict, bytes, int]] = []  # (record, line as written, file index)
        self._seen = 0

    def offer(self, record: dict, line: bytes, file_index: int) -> None:
        self._seen += 1
        if len(self.items) < self.size:
            self.items.append((record, line, file_index))
        else:
            slot = int(self.rng.random() * self._seen)
            if slot < self.size:
                self.items[slot] = (record, line, file_index)

    def draw(self) -> tuple[dict, bytes, int] | None:
        return pick(self.rng, self.items) if self.items else None
