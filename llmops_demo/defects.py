"""Malformed records: each variant breaks exactly one rule of the raw contract, so its reason is certain.

A variant takes a valid record (a dict for JSON sources, the list of fields for orders) and returns
the bytes of the broken line (without the line terminator). Reason codes are
llmops.contracts.raw_landing.REASONS; the variants are listed in ``texts/defects.yaml``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import yaml

from llmops_demo.grammar import TEXTS, pick
from llmops_demo.orders import csv_line

# byte sequences that are not UTF-8: Latin-1 and cp1252 text, a lone continuation, a bad lead byte
INVALID_BYTES = (b"Jos\xe9 ", b"caf\xe9 ", b"f\xfcr ", b"\x93quoted\x94 ", b"\xff\xfe ", b"\xc3\x28 ", b"\x80 ")
FAQ_REASONS = ("invalid_utf8", "missing_field")

Variant = tuple[str, str, Callable[[random.Random, object], bytes]]  # (reason, detail, breaker)


def _dump(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def _row(fields: list[str]) -> bytes:
    return csv_line(fields).rstrip("\r\n").encode()


def _with(record: dict, path: str, value: object = None, drop: bool = False) -> dict:
    """A copy of ``record`` with ``path`` ("a", "a.b", "messages.0.role") set to ``value`` or removed."""
    copy = json.loads(json.dumps(record))
    *parents, last = path.split(".")
    node = copy
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if drop:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return copy


def _invalid_utf8(field: str) -> Callable[[random.Random, dict], bytes]:
    def breaker(rng: random.Random, record: dict) -> bytes:
        line = _dump(record)
        at = line.index(f'"{field}": "'.encode()) + len(field) + 5
        return line[:at] + pick(rng, INVALID_BYTES) + line[at:]

    return breaker


def _truncated(rng: random.Random, record: dict) -> bytes:
    text = json.dumps(record, ensure_ascii=False)
    return text[: int(len(text) * (0.2 + rng.random() * 0.7))].encode()


def _bad_product(rng: random.Random, fields: list[str]) -> bytes:
    return _row([*fields[:3], "\x00" + fields[3], *fields[4:]]).replace(b"\x00", pick(rng, INVALID_BYTES), 1)


def _as_number(field: str) -> Callable[[random.Random, dict], bytes]:
    return lambda rng, r: _dump(_with(r, field, int("".join(filter(str.isdigit, r[field]))[-7:])))


# breakers the YAML names: a field turned into another type, and what breaks a CSV row
_NAMED = {
    "ticket_id_as_number": _as_number("ticket_id"),
    "product_id_as_number": _as_number("product_id"),
    "messages_as_string": lambda rng, r: _dump(_with(r, "messages", " ".join(m["text"] for m in r["messages"]))),
    "customer_as_string": lambda rng, r: _dump(_with(r, "customer", r["customer"]["id"])),
    "rating_as_string": lambda rng, r: _dump(_with(r, "rating", str(r["rating"]))),
    "body_as_list": lambda rng, r: _dump(_with(r, "body", [r["body"]])),
    "bad_product": _bad_product,
    "column_missing": lambda rng, f: _row(f[:-1]),
    "extra_column": lambda rng, f: _row([*f, "gift wrap"]),
}


def _breaker(how: str | dict) -> Callable:
    if isinstance(how, str):
        return _NAMED[how]
    if "column" in how:
        i, value = how["column"], how["to"]
        return lambda rng, f: _row([*f[:i], value, *f[i + 1 :]])
    path, drop = how.get("set") or how["drop"], "drop" in how
    return lambda rng, record: _dump(_with(record, path, how.get("to"), drop))


def _variants(source: str, table: dict) -> list[Variant]:
    return [(reason, detail, _breaker(how)) for reason, detail, how in table[source]]


def _json_common(text_field: str) -> list[Variant]:
    return [
        ("invalid_utf8", f"bytes not UTF-8 in {text_field}", _invalid_utf8(text_field)),
        ("malformed_record", "truncated JSON", _truncated),
        ("malformed_record", "JSON array instead of an object", lambda rng, r: _dump([r])),
        ("malformed_record", "Python repr instead of JSON", lambda rng, r: repr(r).encode()),
    ]


_TABLE = yaml.safe_load((TEXTS / "defects.yaml").read_text(encoding="utf-8"))
TICKET_VARIANTS = _json_common("text") + _variants("tickets", _TABLE)
REVIEW_VARIANTS = _json_common("body") + _variants("reviews", _TABLE)
ORDER_VARIANTS = _variants("orders", _TABLE)
BAD_HEADERS = tuple(tuple(header) for header in _TABLE["bad_headers"])
