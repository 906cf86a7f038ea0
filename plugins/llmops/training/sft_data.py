"""Gold SFT rows -> token ids with answer-only labels, and the lineage of the rows a run trains on.

A run trains on every gold partition up to its date (each day's gold holds that day's new examples); an
example that appears in several partitions counts once, from its newest partition. Which of them it trains
on is decided by their Feast features (:func:`select_examples`: point-in-time correct as of the end of the
run's date, through the ``sft_training`` feature service); gold supplies their text. The prompt is rendered
with the model's own chat template (``llmops.tokenizer.chat_messages`` decides the layout), tokenized on its
own, and the answer's ids follow it, so training sees exactly the prompt ids that generation will see; the
answer ends with the end-of-turn marker and EOS (:func:`completion_text`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from llmops import lake, lakefs
from llmops.config import ExampleSelectionSettings, settings
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
    return [d for d in lakefs.list_partitions(_gold_table(lake_root)) if d <= lake.check_ds(ds)]


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


def as_of(ds: str) -> dt.datetime:
    """The entity timestamp of a run on ``ds``: the end of that day (UTC); later feature rows are invisible."""
    return dt.datetime.combine(dt.date.fromisoformat(lake.check_ds(ds)), dt.time(), dt.UTC) + dt.timedelta(days=1)


def exclusion_reasons(features: pa.Table, rules: ExampleSelectionSettings) -> pa.Array:
    """Per feature row (``example_id`` + the service's features, as Feast returns them): why the run leaves
    it out, or null. No feature row visible at the entity timestamp (not featurized yet, or arrived late)
    excludes an example too: nothing unvetted is trained on."""
    checks = [("no_features", pc.is_null(features["source"]))]
    if rules.exclude_injection:
        checks.append(("injection_flag", features["injection_flag"]))
    checks.append(("low_quality", pc.less(features["quality_score"], rules.min_quality_score)))
    if rules.languages:
        checks.append(("language", pc.invert(pc.is_in(features["language"], pa.array(rules.languages)))))
    if rules.sources:
        checks.append(("source", pc.invert(pc.is_in(features["source"], pa.array(rules.sources)))))
    reason = pa.nulls(features.num_rows, pa.string())
    for name, hit in reversed(checks):  # the first check that applies names the reason
        reason = pc.if_else(pc.fill_null(hit, False), name, reason)
    return reason


def select_examples(gold: GoldSnapshot, lake_root: str, ds: str, rules: ExampleSelectionSettings) -> GoldSnapshot:
    """``gold`` restricted to the examples the run trains on, chosen by their Feast features.

    The entity frame is every gold example id at :func:`as_of` ``ds``; ``get_historical_features`` with the
    feature service joins each one's newest feature row at or before that time. Raises when none is left.
    """
    import pandas as pd  # noqa: PLC0415 - Feast (and pandas) only when a run selects its examples

    from llmops import feature_store  # noqa: PLC0415

    cfg = feature_store.with_lake_root(settings(), lake_root)
    ids = gold.table["example_id"].to_pylist()
    entities = pd.DataFrame({"example_id": ids, "event_timestamp": pd.Timestamp(as_of(ds))})
    features = pa.Table.from_pandas(feature_store.training_frame(entities, cfg), preserve_index=False)
    reason = exclusion_reasons(features, rules)
    kept = set(features["example_id"].filter(pc.is_null(reason)).to_pylist())
    counts = pc.value_counts(reason.drop_null()).to_pylist()
    log.info("Feast selection as of %s: %d of %d gold examples kept; excluded %s", as_of(ds).isoformat(),
             len(kept), len(ids), {c["values"]: c["counts"] for c in counts} or "none")
    if not kept:
        raise ValueError(f"no gold example up to ds={ds} passes the Feast selection ({counts}); "
                         "are the features featurized and applied (llmops_data's featurize and feast_materialize)?")
    table = gold.table.filter(pc.is_in(gold.table["example_id"], pa.array(sorted(kept), pa.string())))
    return dataclasses.replace(gold, table=table)


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on prompt tokens

    @property
    def answer_tokens(self) -> int:
        return sum(label != IGNORE_INDEX for label in self.labels)


def completion_text(full: str, prompt: str, eos_token: str | None) -> str:
    """What the model is taught to generate after ``prompt``: the answer, its end-of-turn marker and EOS
    right after it, without the whitespace a chat template puts between turns.

    The whitespace is never generated (generation stops at the end-of-turn marker or EOS), and training on
    it is harmful: with ChatML the rendered turn ends ``<|im_end|>\n<|eos|>`` and the generation prompt
    ends ``assistant\n``, so the label "after a newline comes EOS" (one per example, always the same) is
    learned long before the answer itself and an early adapter answers every prompt with EOS: empty text.
    """
    completion = full[len(prompt):]
    ends_with_eos = bool(eos_token) and completion.endswith(eos_token)
    if ends_with_eos:
        completion = completion.removesuffix(eos_token)
    return completion.rstrip() + (eos_token if ends_with_eos else "")


def encode_example(tokenizer, system: str, instruction: str, context: str | None, answer: str,
                   max_seq_len: int) -> Encoded | None:
    """One example as ids; the loss sees only the completion (:func:`completion_text`), never the prompt.

    Over-long examples are cut at ``max_seq_len``; one whose answer would be cut away entirely is dropped.
    """
    prompt = tokenizer.apply_chat_template(
        chat_messages(system, instruction, context, None), tokenize=False, add_generation_prompt=True
    )
    full = tokenizer.apply_chat_template(chat_messages(system, instruction, context, answer), tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template renders the prompt differently with and without the answer")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion = completion_text(full, prompt, tokenizer.eos_token)
    answer_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
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
