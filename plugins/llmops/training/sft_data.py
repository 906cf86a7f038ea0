"""Gold SFT rows -> token ids with answer-only labels, and the lineage of the rows a run trains on.

A run trains on every gold partition up to its date (each day's gold holds that day's new examples); an
example that appears in several partitions counts once, from its newest partition. The prompt is rendered
with the model's own chat template (``llmops.tokenizer.chat_messages`` decides the layout), tokenized on its
own, and the answer's ids follow it, so training sees exactly the prompt ids that generation will see.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from llmops import lake, lakefs
from llmops.tokenizer import chat_messages

log = logging.getLogger(__name__)

IGNORE_INDEX = -100  # label value the loss skips (prompt and padding tokens)
_COLUMNS = ["example_id", "system", "instruction", "input", "output", "split"]


@dataclass(frozen=True)
class GoldSnapshot:
    """The gold rows a run reads and where they came from."""

    table: pa.Table  # one row per example_id
    partitions: tuple[str, ...]  # ds values read, oldest first
    content_hash: str  # sha256 over the partitions' Parquet files

    def split(self, name: str) -> pa.Table:
        return self.table.filter(pc.equal(self.table["split"], name))


def _gold_table(lake_root: str) -> str:
    return lake.table_uri(lake_root, "gold", "sft")


def gold_partitions(lake_root: str, ds: str) -> list[str]:
    """Gold partitions at or before ``ds``, oldest first."""
    return [d for d in lake.list_partitions(_gold_table(lake_root)) if d <= lake.check_ds(ds)]


def content_hash(lake_root: str, partitions: list[str]) -> str:
    """sha256 over every Parquet file of the partitions (names and bytes, in a fixed order)."""
    digest = hashlib.sha256()
    for ds in partitions:
        partition = lake.join(_gold_table(lake_root), f"ds={ds}")
        for name in lakefs.files(partition, ".parquet"):
            digest.update(f"ds={ds}/{name}\0".encode())
            digest.update(lakefs.read_bytes(lake.join(partition, name)))
    return digest.hexdigest()


def load_gold(lake_root: str, ds: str) -> GoldSnapshot:
    """Every gold example up to ``ds``, newest version of each; raises when there is none."""
    partitions = gold_partitions(lake_root, ds)
    if not partitions:
        raise FileNotFoundError(f"no gold/sft partition at or before ds={ds} in {lake_root}")
    tables = []
    for i, part in enumerate(partitions):
        t = lakefs.read_parquet(lake.join(_gold_table(lake_root), f"ds={part}"), _COLUMNS)
        tables.append(t.append_column("_order", pa.array([i] * t.num_rows, pa.int32())))
    table = pa.concat_tables(tables)
    # newest partition wins: sort by (example_id, -order) and keep the first row of each id
    table = table.sort_by([("example_id", "ascending"), ("_order", "descending")])
    ids = table["example_id"].to_pylist()
    keep = [i for i in range(len(ids)) if i == 0 or ids[i] != ids[i - 1]]
    table = table.take(pa.array(keep, pa.int64())).drop_columns(["_order"])
    return GoldSnapshot(table, tuple(partitions), content_hash(lake_root, partitions))


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on prompt tokens

    @property
    def answer_tokens(self) -> int:
        return sum(label != IGNORE_INDEX for label in self.labels)


def encode_example(tokenizer, system: str, instruction: str, context: str | None, answer: str,
                   max_seq_len: int) -> Encoded | None:
    """One example as ids; the loss sees only the answer (and the end-of-turn tokens after it).

    Over-long examples are cut at ``max_seq_len``; one whose answer would be cut away entirely is dropped.
    """
    prompt = tokenizer.apply_chat_template(
        chat_messages(system, instruction, context, None), tokenize=False, add_generation_prompt=True
    )
    full = tokenizer.apply_chat_template(chat_messages(system, instruction, context, answer), tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template renders the prompt differently with and without the answer")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"]
    ids = (prompt_ids + answer_ids)[:max_seq_len]
    labels = ([IGNORE_INDEX] * len(prompt_ids) + answer_ids)[:max_seq_len]
    encoded = Encoded(ids, labels)
    return encoded if encoded.answer_tokens else None


def encode_table(tokenizer, table: pa.Table, max_seq_len: int) -> list[Encoded]:
    """Encode every row of a gold table; logs how many were dropped for having no answer left."""
    rows = table.select(["system", "instruction", "input", "output"]).to_pylist()
    encoded = [encode_example(tokenizer, r["system"], r["instruction"], r["input"], r["output"], max_seq_len)
               for r in rows]
    kept = [e for e in encoded if e is not None]
    if len(kept) < len(encoded):
        log.warning("dropped %d of %d examples whose answer starts beyond max_seq_len=%d",
                    len(encoded) - len(kept), len(encoded), max_seq_len)
    return kept
