"""The evaluation items: the gold test split as JSONL, and its prompts rendered for one model.

Gold is partitioned by logical date and an example can reappear in a later partition, so the items
are every test example of every partition up to ``ds``, each at its newest ``ds``. Prompts are
rendered with the model's own chat template through :func:`llmops.tokenizer.chat_messages`, the
layout training uses, and written into the JSONL: lm-eval then sends them to the model verbatim.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from llmops import lake, lakefs
from llmops.tokenizer import chat_messages

FIELDS = ("example_id", "source", "system", "instruction", "input", "output")


def read_test_split(lake_root: str, ds: str, table: str = "sft") -> pa.Table:
    """Test examples of every gold partition up to ``ds``, deduplicated by example_id (newest ds wins)."""
    table_uri = lake.table_uri(lake_root, "gold", table)
    partitions = [d for d in lakefs.list_partitions(table_uri) if d <= lake.check_ds(ds)]
    if not partitions:
        raise FileNotFoundError(f"no gold partition of {table_uri} at or before ds={ds}")
    parts = []
    for part_ds in partitions:
        part = lakefs.read_parquet(lake.join(table_uri, f"ds={part_ds}"), [*FIELDS, "split"])
        part = part.filter(pc.equal(part["split"], "test")).drop_columns("split")
        parts.append(part.append_column("ds", pa.array([part_ds] * part.num_rows, pa.string())))
    both = pa.concat_tables(parts).sort_by([("example_id", "ascending"), ("ds", "descending")])
    ids = both["example_id"].to_pylist()
    newest = [i for i, example_id in enumerate(ids) if i == 0 or ids[i - 1] != example_id]
    return both.take(pa.array(newest, pa.int64())).drop_columns("ds")  # typed: an empty split is no error here


def write_items(rows: Iterable[dict], path: Path) -> int:
    """One JSON object per line; returns the number written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_items(path: Path, limit: int | None = None) -> list[dict]:
    with Path(path).open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return rows[:limit] if limit else rows


def export_test_items(lake_root: str, ds: str, path: Path) -> int:
    """Write the gold test split up to ``ds`` as the gate's items JSONL; returns the item count."""
    table = read_test_split(lake_root, ds)
    return write_items(({k: row[k] or "" for k in FIELDS} for row in table.to_pylist()), path)


def answer_token_count(tokenizer, prompt: str, answer: str) -> int:
    """Tokens lm-eval scores as the continuation: it moves the prompt's trailing whitespace onto the
    answer, encodes prompt + answer whole and takes what follows the encoded (stripped) prompt."""
    context = prompt.rstrip()
    whole = tokenizer.encode(prompt + answer, add_special_tokens=False)
    return len(whole) - len(tokenizer.encode(context, add_special_tokens=False))


def render_items(items: list[dict], tokenizer) -> list[dict]:
    """Each item with ``prompt`` (chat template, generation prompt appended) and ``answer_tokens``."""
    rendered = []
    for item in items:
        messages = chat_messages(item["system"], item["instruction"], item["input"], None)
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        rendered.append(
            {**item, "prompt": prompt, "answer_tokens": answer_token_count(tokenizer, prompt, item["output"])}
        )
    return rendered
