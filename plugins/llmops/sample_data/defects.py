"""Malformed records: each variant breaks exactly one rule of the raw contract, so its reason is certain.

A variant takes a valid record (a dict for JSON sources, the list of fields for orders) and returns
the bytes of the broken line (without the line terminator). Reason codes are spark_jobs.schemas.REASONS.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from llmops.sample_data.grammar import pick
from llmops.sample_data.orders import csv_line

# byte sequences that are not UTF-8: Latin-1 and cp1252 text, a lone continuation, a bad lead byte
INVALID_BYTES = (
    b"Jos\xe9 ",
    b"caf\xe9 ",
    b"f\xfcr ",
    b"\x93quoted\x94 ",
    b"\xff\xfe ",
    b"\xc3\x28 ",
    b"\x80 ",
)

Variant = tuple[str, str, Callable[[random.Random, object], bytes]]  # (reason, detail, breaker)


def _dump(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def _with(record: dict, path: str, value: object) -> dict:
    """A copy of ``record`` with ``path`` ("a", "a.b", "messages.0.role") set, or removed for _DROP."""
    copy = json.loads(json.dumps(record))
    *parents, last = path.split(".")
    node = copy
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DROP:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return copy


_DROP = object()


def _invalid_utf8(field: str) -> Callable[[random.Random, dict], bytes]:
    def breaker(rng: random.Random, record: dict) -> bytes:
        line = _dump(record)
        marker = f'"{field}": "'.encode()
        at = line.index(marker) + len(marker)
        return line[:at] + pick(rng, INVALID_BYTES) + line[at:]

    return breaker


def _truncated(rng: random.Random, record: dict) -> bytes:
    text = json.dumps(record, ensure_ascii=False)
    return text[: int(len(text) * (0.2 + rng.random() * 0.7))].encode()


def _json_common(text_field: str) -> list[Variant]:
    return [
        ("invalid_utf8", f"bytes not UTF-8 in {text_field}", _invalid_utf8(text_field)),
        ("malformed_record", "truncated JSON", _truncated),
        ("malformed_record", "JSON array instead of an object", lambda rng, r: _dump([r])),
        ("malformed_record", "Python repr instead of JSON", lambda rng, r: repr(r).encode()),
    ]


def _set(path: str, value: object) -> Callable[[random.Random, dict], bytes]:
    return lambda rng, record: _dump(_with(record, path, value))


TICKET_VARIANTS: list[Variant] = [
    *_json_common("text"),
    ("missing_field", "ticket_id absent", _set("ticket_id", _DROP)),
    ("missing_field", "ticket_id empty", _set("ticket_id", "")),
    ("missing_field", "created_at null", _set("created_at", None)),
    ("missing_field", "messages absent", _set("messages", _DROP)),
    ("missing_field", "customer absent", _set("customer", _DROP)),
    ("missing_field", "customer.id absent", _set("customer.id", _DROP)),
    (
        "wrong_type",
        "ticket_id is a number",
        lambda rng, r: _dump(_with(r, "ticket_id", int(r["ticket_id"][-7:]))),
    ),
    (
        "wrong_type",
        "messages is a string",
        lambda rng, r: _dump(_with(r, "messages", " ".join(m["text"] for m in r["messages"]))),
    ),
    ("wrong_type", "customer is a string", lambda rng, r: _dump(_with(r, "customer", r["customer"]["id"]))),
    ("wrong_type", "created_at is a number", _set("created_at", 1763822591)),
    ("invalid_value", "channel fax", _set("channel", "fax")),
    ("invalid_value", "channel carrier pigeon", _set("channel", "carrier pigeon")),
    ("invalid_value", "created_at unparseable", _set("created_at", "yesterday afternoon")),
    ("invalid_value", "created_at impossible date", _set("created_at", "2026-13-45T25:61:00Z")),
    ("invalid_value", "messages empty list", _set("messages", [])),
    ("invalid_value", "message role bot", _set("messages.0.role", "bot")),
]

REVIEW_VARIANTS: list[Variant] = [
    *_json_common("body"),
    ("missing_field", "review_id absent", _set("review_id", _DROP)),
    ("missing_field", "product_id absent", _set("product_id", _DROP)),
    ("missing_field", "rating null", _set("rating", None)),
    ("missing_field", "body absent", _set("body", _DROP)),
    ("missing_field", "body empty", _set("body", "")),
    ("missing_field", "created_at absent", _set("created_at", _DROP)),
    ("wrong_type", "rating five as a word", _set("rating", "five")),
    ("wrong_type", "rating as a string", lambda rng, r: _dump(_with(r, "rating", str(r["rating"])))),
    ("wrong_type", "rating is a boolean", _set("rating", True)),
    (
        "wrong_type",
        "product_id is a number",
        lambda rng, r: _dump(_with(r, "product_id", int(r["product_id"][2:]))),
    ),
    ("wrong_type", "body is a list", lambda rng, r: _dump(_with(r, "body", [r["body"]]))),
    ("invalid_value", "rating 0", _set("rating", 0)),
    ("invalid_value", "rating 7", _set("rating", 7)),
    ("invalid_value", "rating -1", _set("rating", -1)),
    ("invalid_value", "created_at unparseable", _set("created_at", "last week")),
    ("invalid_value", "created_at impossible date", _set("created_at", "2026-02-30T10:00:00Z")),
]


def _row(fields: list[str]) -> bytes:
    return csv_line(fields).rstrip("\r\n").encode()


def _replace(index: int, value: str) -> Callable[[random.Random, list[str]], bytes]:
    return lambda rng, f: _row([*f[:index], value, *f[index + 1 :]])


def _bad_product(rng: random.Random, fields: list[str]) -> bytes:
    marked = _row([*fields[:3], "\x00" + fields[3], *fields[4:]])
    return marked.replace(b"\x00", pick(rng, INVALID_BYTES), 1)


# orders.csv columns: order_id, customer_id, customer_email, product, status, created_at, total
ORDER_VARIANTS: list[Variant] = [
    ("invalid_utf8", "bytes not UTF-8 in product", _bad_product),
    ("malformed_record", "a column missing", lambda rng, f: _row(f[:-1])),
    ("malformed_record", "an extra column", lambda rng, f: _row([*f, "gift wrap"])),
    ("missing_field", "order_id empty", _replace(0, "")),
    ("missing_field", "customer_id empty", _replace(1, "")),
    ("missing_field", "status empty", _replace(4, "")),
    ("missing_field", "created_at empty", _replace(5, "")),
    ("missing_field", "total empty", _replace(6, "")),
    ("invalid_value", "status lost", _replace(4, "lost")),
    ("invalid_value", "status on hold", _replace(4, "on hold")),
    ("invalid_value", "total 12,5x", _replace(6, "12,5x")),
    ("invalid_value", "total three decimals", _replace(6, "19.999")),
    ("invalid_value", "total with currency sign", _replace(6, "€49.00")),
    ("invalid_value", "created_at unparseable", _replace(5, "yesterday")),
    ("invalid_value", "created_at impossible date", _replace(5, "2026-02-30T10:00:00Z")),
]

# A header that is not the contract's: every data row of such a file is quarantined as bad_header.
BAD_HEADERS = (
    ("order_id", "customer", "email", "product", "status", "created", "total"),
    ("order_id", "customer_id", "product", "customer_email", "status", "created_at", "total"),
    ("id", "customer_id", "customer_email", "product", "status", "created_at", "amount"),
)

FAQ_REASONS = ("invalid_utf8", "missing_field")
