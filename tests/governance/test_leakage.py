"""Leakage scan: Presidio offline plus the project's recognizers, over gold-like Parquet and a JSONL split."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmops.governance.leakage import LeakageScanner, gold_records, scan_records, training_split_records

DS = "2026-01-15"
SYSTEM = (
    "You are the customer-support assistant of an online electronics shop. Answer the customer's question "
    "helpfully and concisely, using the context when it is relevant. Never reveal personal data."
)
CLEAN = [
    ("How do I return my headphones?", "Topic: Returns", "Items can be returned within 30 days from the order page."),
    (
        "Where is my order?",
        "Subject: late\nLatest order 100234: XPS 13, status shipped, placed 2026-01-02, total 1299.00",
        "Your order shipped on 2026-01-03; we will e-mail [EMAIL] when it is out for delivery.",
    ),
    (
        "Can you call me back?",
        "Subject: callback",
        "Sure, we will call [PHONE] tomorrow. Card [CREDIT_CARD] was "
        "refunded, password: [SECRET], IBAN [IBAN], SSN [SSN], from [IP_ADDRESS]. Thanks [PERSON]!",
    ),
]
# field -> a raw value that must be found there, and its contract type
PLANTED = {
    "output": ("Reach Maria at maria.lopez@example.com anytime.", "EMAIL"),
    "input": ("Subject: call me on (415) 555-0132 please", "PHONE"),
    "instruction": ("my card 4111 1111 1111 1111 was charged twice", "CREDIT_CARD"),
    "text": ("[Context] config\n[Question] api_key=AKIAIOSFODNN7EXAMPLE\n[Answer] ok", "SECRET"),
}
RAW_VALUES = ("maria.lopez@example.com", "(415) 555-0132", "4111 1111 1111 1111", "AKIAIOSFODNN7EXAMPLE")


def write_gold(lake_dir: Path, rows: list[tuple[str, str, str]], ds: str = DS) -> str:
    """A gold/sft partition with the gold columns; returns the lake URI."""
    n = len(rows)
    table = pa.table(
        {
            "example_id": [f"ex-{i}" for i in range(n)],
            "source": ["tickets"] * n,
            "source_ids": [[f"t-{i}"] for i in range(n)],
            "source_file": ["file:///raw/tickets/ds=2026-01-15/a.jsonl"] * n,
            "system": [SYSTEM] * n,
            "instruction": [q for q, _, _ in rows],
            "input": [c for _, c, _ in rows],
            "output": [a for _, _, a in rows],
            "text": [f"[Context] {c}\n[Question] {q}\n[Answer] {a}" for q, c, a in rows],
            "split": ["train"] * n,
            "group_key": [f"g-{i}" for i in range(n)],
            "created_at": pa.array([dt.datetime(2026, 1, 15, tzinfo=dt.UTC)] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    partition = lake_dir / "gold" / "sft" / f"ds={ds}"
    partition.mkdir(parents=True)
    pq.write_table(table, partition / "part-00000.parquet")
    (lake_dir / "gold" / "sft" / "_staging").mkdir()  # leftovers of other writes are not data
    return f"file://{lake_dir}"


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("governance") / "not-yet-created"


@pytest.fixture(scope="module")
def scanner(work_dir) -> LeakageScanner:
    return LeakageScanner(work_dir)


def test_scanner_runs_offline_from_its_work_dir(scanner, work_dir):
    import tldextract.tldextract

    assert [d.kind for d in scanner.detect(["write to maria.lopez@example.com"])[0]] == ["EMAIL"]
    # the e-mail check's public suffix list: the bundled snapshot, cached in the work dir, no URL to fetch
    assert tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls == ()
    assert (work_dir / "tldextract").is_dir() and (work_dir / "spacy_blank_en" / "meta.json").is_file()


def test_clean_gold_with_placeholders_has_no_findings(tmp_path, scanner):
    lake_root = write_gold(tmp_path / "lake", CLEAN)
    uri, records = gold_records(lake_root, DS)
    scan = scan_records("gold", uri, records, scanner)
    assert scan.error is None
    assert (scan.records, scan.total, scan.findings) == (3, 0, {})
    assert scan.texts == 3 * 5  # system, instruction, input, output, text: ids and metadata are not text


def test_planted_personal_data_is_found_by_type_with_ids_and_redacted_snippets(tmp_path, scanner):
    rows = [list(r) for r in CLEAN]
    rows[1][2] = PLANTED["output"][0]
    rows[2][1] = PLANTED["input"][0]
    rows[0][0] = PLANTED["instruction"][0]
    lake_root = write_gold(tmp_path / "lake", [tuple(r) for r in rows])
    uri, records = gold_records(lake_root, DS)
    records[2][1]["text"] = PLANTED["text"][0]
    scan = scan_records("gold", uri, records, scanner)

    by_type = {kind: found for kind, found in scan.findings.items()}
    assert {"EMAIL", "PHONE", "CREDIT_CARD", "SECRET"} <= set(by_type)
    assert by_type["EMAIL"].example_ids == ["ex-1"]
    assert {s["field"] for s in by_type["EMAIL"].samples} == {"output", "text"}  # text repeats the answer
    assert by_type["PHONE"].example_ids == ["ex-2"]
    assert by_type["CREDIT_CARD"].example_ids == ["ex-0"]
    # Presidio has no secret recognizer: the project's own pattern finds it
    assert by_type["SECRET"].samples[0]["recognizers"] == ["llmops_SECRET"]
    dumped = json.dumps({k: v.samples for k, v in by_type.items()})
    assert not any(raw in dumped for raw in RAW_VALUES)
    assert "<EMAIL>" in by_type["EMAIL"].samples[0]["snippet"]
    assert scan.total == sum(f.count for f in by_type.values())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 for the refund", "IBAN"),
        ("my ssn is 123-45-6789", "SSN"),
        ("logged in from 203.0.113.7 yesterday", "IP_ADDRESS"),
        ("or from 2001:db8::8a2e:370:7334", "IP_ADDRESS"),
        ("call +44 20 7946 0958", "PHONE"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "SECRET"),
        ("password: Hunter2!x", "SECRET"),
    ],
)
def test_each_contract_type_is_detected(scanner, text, kind):
    assert kind in {d.kind for d in scanner.detect([text])[0]}


def test_redaction_never_keeps_the_raw_value(scanner):
    text = "Mail maria.lopez@example.com or call (415) 555-0132."
    assert scanner.redact(text) == "Mail <EMAIL> or call <PHONE>."


def test_training_split_jsonl_nested_messages(tmp_path, scanner):
    split = tmp_path / "train.jsonl"
    rows = [
        {
            "example_id": "a",
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "Write to maria.lopez@example.com"},
            ],
        },
        {"example_id": "b", "messages": [{"role": "user", "content": "Thanks [PERSON], see [EMAIL]"}]},
    ]
    split.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    uri, records = training_split_records(str(split))
    scan = scan_records("training split", uri, records, scanner)
    assert scan.total == 1
    assert scan.findings["EMAIL"].samples[0]["example_id"] == "a"
    assert scan.findings["EMAIL"].samples[0]["field"] == "messages[2].content"


def test_training_split_parquet(tmp_path, scanner):
    path = tmp_path / "train.parquet"
    pq.write_table(pa.table({"example_id": ["x"], "output": ["ssn 123-45-6789"]}), path)
    scan = scan_records("training split", *training_split_records(str(path)), scanner)
    assert scan.findings["SSN"].example_ids == ["x"]


def test_missing_gold_partition_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        gold_records(f"file://{tmp_path}/lake", DS)
