"""featurize: gold rows -> token-id features and record stats, on a real local Spark session."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmops import lake
from llmops import tokenizer as tk
from spark_jobs import featurize as fz
from spark_jobs.schemas import GOLD_SFT, LLM_TRAINING_FEATURES, RECORD_STATS, SILVER
from spark_jobs.session import write_partition

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=UTC)
LONG_ANSWER = " ".join(f"Step {i}: open Settings, then Billing, then press Refund." for i in range(40))


def gold_row(n: int, instruction: str, context: str, answer: str, split: str = "train") -> dict:
    text = (f"[Context] {context}\n" if context else "") + f"[Question] {instruction}\n[Answer] {answer}"
    return {
        "example_id": f"ex-{n}",
        "source": "tickets" if context else "faq",
        "source_ids": [f"src-{n}"],
        "source_file": "file:///raw/x.jsonl",
        "system": "You are a helpful support assistant.",
        "instruction": instruction,
        "input": context,
        "output": answer,
        "text": text,
        "split": split,
        "group_key": f"g{n}",
        "created_at": T0 + dt.timedelta(minutes=n),
    }


GOLD = [
    gold_row(
        0, "Where is my order?", "", "It shipped yesterday, track it with the link we mailed to [EMAIL]."
    ),
    gold_row(
        1, "Can I get a refund?", "order 881 arrived broken", "Yes, a refund is on its way.", "validation"
    ),
    gold_row(2, "How do I claim a refund?", "", LONG_ANSWER, "test"),
]


@pytest.fixture(scope="module")
def tok_path(tmp_path_factory):
    corpus = [r[c] for r in GOLD for c in ("instruction", "input", "output")] * 20
    return tk.build_tokenizer(corpus, tmp_path_factory.mktemp("tok") / "t", vocab_size=300)


@pytest.fixture
def gold_df(spark):
    return spark.createDataFrame(GOLD, GOLD_SFT)


def expected_ids(tok_path, row: dict, max_len: int) -> list[int]:
    tok = tk.load_tokenizer(tok_path)
    messages = tk.chat_messages(row["system"], row["instruction"], row["input"], row["output"])
    return tok.encode(tok.apply_chat_template(messages, tokenize=False), add_special_tokens=False)[:max_len]


def test_features_hold_the_chat_templated_ids_truncated(gold_df, tok_path):
    full = {r["example_id"]: len(expected_ids(tok_path, r, 10_000)) for r in GOLD}
    max_len = full["ex-0"] + 1
    assert full["ex-2"] > max_len  # the long answer must be cut
    features, _ = fz.featurize(gold_df, tok_path, max_len)
    assert features.schema == LLM_TRAINING_FEATURES
    rows = {r.example_id: r for r in features.collect()}
    assert set(rows) == {"ex-0", "ex-1", "ex-2"}
    for src in GOLD:
        row = rows[src["example_id"]]
        assert row.input_ids == expected_ids(tok_path, src, max_len)
        assert row.attention_mask == [1] * len(row.input_ids)
        assert row.seq_len == len(row.input_ids)
        assert row.split == src["split"]
        assert row.event_timestamp.replace(tzinfo=UTC) == src["created_at"]  # session time zone is UTC
    assert rows["ex-2"].seq_len == max_len
    assert rows["ex-0"].seq_len == full["ex-0"]
    assert rows["ex-0"].input_ids[-1] == tk.load_tokenizer(tok_path).eos_token_id


def test_record_stats(gold_df, tok_path):
    _, stats = fz.featurize(gold_df, tok_path, 32)
    assert stats.schema == RECORD_STATS
    rows = {r.example_id: r for r in stats.collect()}
    one = rows["ex-1"]
    assert one.n_chars == len(GOLD[1]["text"])
    assert one.n_words == len(GOLD[1]["text"].split())
    assert (one.question_chars, one.answer_chars) == (
        len("Can I get a refund?"),
        len("Yes, a refund is on its way."),
    )
    assert one.has_context and not rows["ex-0"].has_context
    assert (one.source, one.split) == ("tickets", "validation")


def write_silver(spark, lake_root: str, ds: str) -> None:
    base = {"lang": "en", "content_hash": "h", "is_suspicious": False, "suspicious_rule": None, "_line": 1}
    faq = [
        {
            **base,
            "faq_id": f"f{i}",
            "page_title": "Billing",
            "question": r["instruction"],
            "answer": r["output"],
            "_source_file": "file:///raw/faq.html",
        }
        for i, r in enumerate(GOLD * 10)
    ]
    reviews = [
        {
            **base,
            "review_id": f"r{i}",
            "product_id": "p1",
            "rating": 4,
            "title": None,
            "body": f"Great kettle number {i}, shipped fast to [PERSON].",
            "created_at": T0,
            "_source_file": "file:///raw/reviews.jsonl",
        }
        for i in range(50)
    ]
    for table, rows in (("faq", faq), ("reviews", reviews)):  # no tickets that day: skipped, not an error
        write_partition(spark.createDataFrame(rows, SILVER[table]), lake_root, "silver", table, ds)


def test_run_builds_pins_and_reuses_the_tokenizer(spark, gold_df, lake_root):
    write_silver(spark, lake_root, "2026-11-21")
    for ds in ("2026-11-21", "2026-11-22"):
        write_partition(gold_df, lake_root, "gold", "sft", ds)

    first = fz.run(lake_root, "2026-11-21")
    assert first["rows"] == 3
    assert tk.pinned_tokenizer(lake_root) == tk.Path(first["tokenizer"])
    # the second day has no silver at all: it is encoded with the pinned tokenizer, not a new one
    second = fz.run(lake_root, "2026-11-22")
    assert second["tokenizer"] == first["tokenizer"]

    for table in (fz.FEATURES_TABLE, fz.STATS_TABLE):
        assert lake.list_partitions(lake.table_uri(lake_root, "features", table)) == [
            "2026-11-21",
            "2026-11-22",
        ]
    part = lake.local_path(second["features"])
    schema = pq.read_schema(next(part.glob("*.parquet")))
    assert str(schema.field("event_timestamp").type) == "timestamp[us, tz=UTC]"  # Feast/DuckDB-readable
    assert schema.field("input_ids").type.value_type == pa.int64()


def test_cli_exit_codes(spark, gold_df, lake_root, tmp_path):
    assert fz.main(["--lake-root", lake_root, "--ds", "2026-11-21"]) == 2  # no gold partition
    tok = tk.build_tokenizer([r["output"] for r in GOLD] * 5, tmp_path / "tok", vocab_size=280)
    write_partition(gold_df.limit(0), lake_root, "gold", "sft", "2026-11-21")
    assert fz.main(["--lake-root", lake_root, "--ds", "2026-11-21", "--tokenizer", str(tok)]) == 1
    write_partition(gold_df, lake_root, "gold", "sft", "2026-11-21")
    assert fz.main(["--lake-root", lake_root, "--ds", "2026-11-21", "--tokenizer", str(tok)]) == 0
