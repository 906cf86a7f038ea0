"""Prompts from gold: what a caller sends for an SFT example (its instruction, then its input), so training
prompts (the drift reference) and held-out prompts (the traffic generator's) have the live traffic's shape."""

from __future__ import annotations

import pyarrow.compute as pc

from llmops import lake, lakefs


def prompt_text(instruction: str, input_text: str | None) -> str:
    return f"{instruction}\n\n{input_text}" if input_text else instruction


def gold_prompts(table_uri: str, partitions: list[str], split: str) -> list[str]:
    """Distinct prompts of one split (train, validation, test) of the given gold partitions."""
    prompts: dict[str, None] = {}
    for ds in partitions:
        part = lakefs.read_parquet(lake.join(table_uri, f"ds={lake.check_ds(ds)}"), ["instruction", "input", "split"])
        part = part.filter(pc.equal(part["split"], split))
        for instruction, input_text in zip(part["instruction"].to_pylist(), part["input"].to_pylist(), strict=True):
            prompts[prompt_text(instruction, input_text)] = None
    return list(prompts)
