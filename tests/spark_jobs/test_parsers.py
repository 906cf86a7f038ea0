"""Raw file bytes -> bronze rows / quarantine rows, against the raw landing-zone contract."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import zlib
from decimal import Decimal

import pyarrow as pa
import pytest
from pyspark.sql.pandas.types import to_arrow_schema

from llmops.contracts.raw_landing import ORDERS_HEADER, REASONS
from spark_jobs.ingest import parsed_schema
from spark_jobs.parsers import TextLimit, parse_faq_html, parse_file, parse_jsonl, parse_orders_csv
from spark_jobs.schemas import BRONZE, QUARANTINE

URI = "file:///raw/x/ds=2024-05-01/part-00000"
UTC = dt.UTC


def _jsonl(*records) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def _ticket(**changes) -> dict:
    record = {
        "ticket_id": "T-1",
        "created_at": "2024-05-01T10:00:00Z",
        "channel": "email",
        "customer": {"id": "C-1", "email": "ana@example.com", "name": "Ana Lima"},
        "subject": "Router will not boot",
        "messages": [
            {"role": "customer", "text": "It blinks red.", "ts": "2024-05-01T10:00:00Z"},
            {"role": "agent", "text": "Please hold reset for 10 s.", "ts": "2024-05-01T10:05:00+02:00"},
        ],
        "resolution": "reset fixed it",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def _review(**changes) -> dict:
    record = {
        "review_id": "R-1",
        "product_id": "P-9",
        "rating": 4,
        "title": "Good",
        "body": "Fast and quiet.",
        "created_at": "2024-05-01T08:30:00",
        "lang": "en",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def _only(records):
    (record,) = records
    return record


def _rejected(data: bytes, source: str, parse=parse_jsonl) -> dict:
    record = _only(list(parse(data, URI, source)))
    assert record.bronze is None, record.bronze
    return record.quarantine


# ------------------------------------------------------------------------------- tickets


def test_valid_ticket_is_typed_and_keeps_unknown_fields_in_extra():
    record = _ticket(
        priority="high",
        tags=["wifi", "router"],
        customer={"id": "C-1", "email": None, "tier": "gold"},
        messages=[{"role": "customer", "text": "Olá, não liga 🙁", "lang": "pt"}],
    )
    (parsed,) = parse_jsonl(_jsonl(record), URI, "tickets")
    assert parsed.quarantine is None
    row = parsed.bronze
    assert set(row) == set(BRONZE["tickets"].fieldNames())
    assert row["ticket_id"] == "T-1"
    assert row["created_at"] == dt.datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert row["customer"] == {"id": "C-1", "email": None, "name": None}
    assert row["messages"] == [{"role": "customer", "text": "Olá, não liga 🙁", "ts": None}]
    assert row["extra"] == {
        "priority": '"high"',
        "tags": '["wifi", "router"]',
        "customer.tier": '"gold"',
        "messages[0].lang": '"pt"',
    }
    assert (row["_source_file"], row["_line"]) == (URI, 1)


def test_timestamps_with_offsets_and_naive_ones_become_utc():
    row = _only(list(parse_jsonl(_jsonl(_ticket(created_at="2024-05-01 12:00:00")), URI, "tickets"))).bronze
    assert row["created_at"] == dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert row["messages"][1]["ts"] == dt.datetime(2024, 5, 1, 8, 5, tzinfo=UTC)
    assert row["messages"][1]["ts"].utcoffset() == dt.timedelta(0)
    assert row["extra"] is None


@pytest.mark.parametrize(
    ("record", "reason", "field"),
    [
        (_ticket(ticket_id=...), "missing_field", "ticket_id"),
        (_ticket(ticket_id=""), "missing_field", "ticket_id"),
        (_ticket(created_at=None), "missing_field", "created_at"),
        (_ticket(customer=...), "missing_field", "customer"),
        (_ticket(customer={"email": "a@b.c"}), "missing_field", "customer.id"),
        (_ticket(messages=...), "missing_field", "messages"),
        (_ticket(messages=[{"text": "hi"}]), "missing_field", "messages[0].role"),
        (_ticket(ticket_id=123), "wrong_type", "ticket_id"),
        (_ticket(ticket_id=True), "wrong_type", "ticket_id"),
        (_ticket(customer="C-1"), "wrong_type", "customer"),
        (_ticket(customer={"id": 7}), "wrong_type", "customer.id"),
        (_ticket(messages="hello"), "wrong_type", "messages"),
        (_ticket(messages=["hello"]), "wrong_type", "messages[0]"),
        (_ticket(subject=["a"]), "wrong_type", "subject"),
        (_ticket(created_at=1714557600), "wrong_type", "created_at"),
        (_ticket(channel="fax"), "invalid_value", "channel"),
        (_ticket(created_at="yesterday"), "invalid_value", "created_at"),
        (_ticket(created_at="2024-13-01T00:00:00Z"), "invalid_value", "created_at"),
        (_ticket(messages=[]), "invalid_value", "messages"),
        (_ticket(messages=[{"role": "bot", "text": "hi"}]), "invalid_value", "messages[0].role"),
        (_ticket(messages=[{"role": "agent", "ts": "soon"}]), "invalid_value", "messages[0].ts"),
    ],
)
def test_invalid_tickets_are_quarantined_with_reason_and_field(record, reason, field):
    row = _rejected(_jsonl(record), "tickets")
    assert row["reason"] == reason
    assert row["message"].startswith(field + " "), row["message"]
    assert row["raw"] == json.dumps(record)
    assert row["raw_bytes"] is None
    assert (row["source"], row["_source_file"], row["_line"]) == ("tickets", URI, 1)
    assert set(row) == set(QUARANTINE.fieldNames())


def test_message_quotes_the_offending_value():
    assert _rejected(_jsonl(_ticket(channel="fax")), "tickets")["message"] == (
        'channel must be one of email, chat, phone, got "fax"'
    )
    assert _rejected(_jsonl(_review(rating="five")), "reviews")["message"] == (
        'rating must be an integer, got string "five"'
    )


@pytest.mark.parametrize(
    "line",
    [b'{"ticket_id": "T-1", "created_at": ', b'["T-1", "2024-05-01"]', b"42", b'{"ticket_id": NaN}', b"   "],
)
def test_unparseable_lines_are_malformed(line):
    data = _jsonl(_ticket(), line, _ticket(ticket_id="T-3"))
    records = list(parse_jsonl(data, URI, "tickets"))
    assert [r.bronze is not None for r in records] == [True, False, True]
    assert records[1].quarantine["reason"] == "malformed_record"
    assert records[1].quarantine["_line"] == 2
    assert records[2].bronze["_line"] == 3


def test_invalid_utf8_quarantines_only_that_line_with_its_original_bytes():
    bad = json.dumps(_ticket(subject="caf_")).encode().replace(b"caf_", b"caf\xe9")
    records = list(parse_jsonl(_jsonl(_ticket(), bad, _ticket()), URI, "tickets"))
    assert [r.bronze is not None for r in records] == [True, False, True]
    row = records[1].quarantine
    assert (row["reason"], row["_line"]) == ("invalid_utf8", 2)
    assert base64.b64decode(row["raw_bytes"]) == bad
    assert "caf\ufffd" in row["raw"]
    assert "0xe9" in row["message"]


def test_crlf_unicode_bom_and_trailing_blank_lines():
    data = b"\xef\xbb\xbf" + _jsonl(_ticket(subject="Überweisung — 日本")).replace(b"\n", b"\r\n") * 2 + b"\r\n\n"
    records = list(parse_jsonl(data, URI, "tickets"))
    assert [r.bronze["_line"] for r in records] == [1, 2]
    assert records[0].bronze["subject"] == "Überweisung — 日本"


def test_a_blank_line_inside_the_file_is_a_malformed_record():
    records = list(parse_jsonl(_jsonl(_ticket()) + b"\n" + _jsonl(_ticket()), URI, "tickets"))
    assert [(r.quarantine or {}).get("reason") for r in records] == [None, "malformed_record", None]


def test_a_file_without_trailing_newline_keeps_its_last_record():
    assert len(list(parse_jsonl(_jsonl(_ticket(), _ticket()).rstrip(b"\n"), URI, "tickets"))) == 2
    assert list(parse_jsonl(b"", URI, "tickets")) == []


# ------------------------------------------------------------------------------- reviews


def test_valid_review():
    row = _only(list(parse_jsonl(_jsonl(_review(lang=..., verified=True)), URI, "reviews"))).bronze
    assert set(row) == set(BRONZE["reviews"].fieldNames())
    assert (row["rating"], row["lang"], row["extra"]) == (4, None, {"verified": "true"})
    assert row["created_at"] == dt.datetime(2024, 5, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("record", "reason", "field"),
    [
        (_review(review_id=...), "missing_field", "review_id"),
        (_review(product_id=None), "missing_field", "product_id"),
        (_review(rating=...), "missing_field", "rating"),
        (_review(body="  "), "missing_field", "body"),
        (_review(created_at=...), "missing_field", "created_at"),
        (_review(rating="five"), "wrong_type", "rating"),
        (_review(rating=True), "wrong_type", "rating"),
        (_review(rating=4.5), "wrong_type", "rating"),
        (_review(product_id=9), "wrong_type", "product_id"),
        (_review(title=5), "wrong_type", "title"),
        (_review(rating=0), "invalid_value", "rating"),
        (_review(rating=7), "invalid_value", "rating"),
        (_review(created_at="01/05/2024"), "invalid_value", "created_at"),
    ],
)
def test_invalid_reviews_are_quarantined_with_reason_and_field(record, reason, field):
    row = _rejected(_jsonl(record), "reviews")
    assert (row["reason"], row["source"]) == (reason, "reviews")
    assert row["message"].startswith(field + " "), row["message"]


def test_review_invalid_utf8_and_malformed():
    records = list(parse_jsonl(_jsonl(b'{"review_id": "\xff"}', b"[1, 2]"), URI, "reviews"))
    assert [(r.quarantine["reason"], r.quarantine["_line"]) for r in records] == [
        ("invalid_utf8", 1),
        ("malformed_record", 2),
    ]


# ------------------------------------------------------------------------------- orders

HEADER = ",".join(ORDERS_HEADER).encode()


def _csv(*rows: bytes, header: bytes = HEADER, eol: bytes = b"\n") -> bytes:
    return eol.join([header, *rows]) + eol


GOOD_ROW = b'O-1,C-1,ana@example.com,"Router, AX3000",shipped,2024-05-01T10:00:00+02:00,129.9'


def test_valid_orders_with_crlf_quoted_commas_and_header_as_line_one():
    records = list(parse_orders_csv(_csv(GOOD_ROW, b"O-2,C-2,,,placed,2024-05-01,-5", eol=b"\r\n"), URI))
    first, second = (r.bronze for r in records)
    assert set(first) == set(BRONZE["orders"].fieldNames())
    assert first["product"] == "Router, AX3000"
    assert first["total"] == Decimal("129.90") and first["total"].as_tuple().exponent == -2
    assert first["created_at"] == dt.datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert (first["_line"], second["_line"]) == (2, 3)
    assert (second["customer_email"], second["product"], second["total"]) == (None, None, Decimal("-5.00"))


@pytest.mark.parametrize(
    ("row", "reason", "field"),
    [
        (b",C-1,a@b.c,TV,placed,2024-05-01T00:00:00Z,10.00", "missing_field", "order_id"),
        (b"O-1, ,a@b.c,TV,placed,2024-05-01T00:00:00Z,10.00", "missing_field", "customer_id"),
        (b"O-1,C-1,a@b.c,TV,,2024-05-01T00:00:00Z,10.00", "missing_field", "status"),
        (b"O-1,C-1,a@b.c,TV,placed,,10.00", "missing_field", "created_at"),
        (b"O-1,C-1,a@b.c,TV,placed,2024-05-01T00:00:00Z,", "missing_field", "total"),
        (b"O-1,C-1,a@b.c,TV,lost,2024-05-01T00:00:00Z,10.00", "invalid_value", "status"),
        (b"O-1,C-1,a@b.c,TV,placed,last week,10.00", "invalid_value", "created_at"),
        (b'O-1,C-1,a@b.c,TV,placed,2024-05-01T00:00:00Z,"12,5x"', "invalid_value", "total"),
        (b"O-1,C-1,a@b.c,TV,placed,2024-05-01T00:00:00Z,12.505", "invalid_value", "total"),
        (b"O-1,C-1,a@b.c,TV,placed,2024-05-01T00:00:00Z,1e3", "invalid_value", "total"),
        (b"O-1,C-1,a@b.c,TV,placed,2024-05-01T00:00:00Z", "malformed_record", "expected 7 columns"),
        (b"O-1,C-1,a@b.c,TV,placed,2024-05-01T00:00:00Z,12,5x", "malformed_record", "expected 7 columns"),
        (b'O-1,C-1,a@b.c,"TV,placed,2024-05-01T00:00:00Z,10.00', "malformed_record", "not a valid CSV row"),
    ],
)
def test_invalid_orders_are_quarantined_with_reason_and_field(row, reason, field):
    records = list(parse_orders_csv(_csv(GOOD_ROW, row), URI))
    assert records[0].bronze is not None
    quarantined = records[1].quarantine
    assert (quarantined["reason"], quarantined["_line"], quarantined["raw"]) == (reason, 3, row.decode())
    assert quarantined["message"].startswith(field), quarantined["message"]


def test_orders_invalid_utf8_row_and_blank_row():
    records = list(parse_orders_csv(_csv(b"O-1,C-1,x\xff@b.c,TV,placed,2024-05-01,1", b"", GOOD_ROW), URI))
    assert [(r.quarantine or {}).get("reason") for r in records] == ["invalid_utf8", "malformed_record", None]
    assert base64.b64decode(records[0].quarantine["raw_bytes"]) == b"O-1,C-1,x\xff@b.c,TV,placed,2024-05-01,1"


@pytest.mark.parametrize(
    "header",
    [
        b"order_id,customer_id,customer_email,product,status,created_at",
        b"order_id,customer,customer_email,product,status,created_at,total",
        b"id,\xff",
    ],
)
def test_a_wrong_header_quarantines_every_row_of_the_file(header):
    records = list(parse_orders_csv(_csv(GOOD_ROW, b"garbage", GOOD_ROW, header=header), URI))
    assert [(r.quarantine["reason"], r.quarantine["_line"]) for r in records] == [
        ("bad_header", 2),
        ("bad_header", 3),
        ("bad_header", 4),
    ]
    assert "expected" in records[0].quarantine["message"]


def test_header_only_or_empty_csv_has_no_records():
    assert list(parse_orders_csv(HEADER + b"\n", URI)) == []
    assert list(parse_orders_csv(b"", URI)) == []


# ------------------------------------------------------------------------------- faq

FAQ_PAGE = """<!DOCTYPE html>
<html><head><title>Shipping &amp; Returns</title>
<style>h2 { color: red }</style>
<script>document.write("<h2>not a question</h2>");</script></head>
<body>
<header><h2>Site header</h2></header>
<nav><h3>Menu</h3><ul><li>Home</li></ul></nav>
<h1>Help centre</h1><p>Intro text is not an answer.</p>
<div class="faq">
  <h2>How long does shipping take?</h2>
  <p>Usually 2&ndash;3 days.</p><ul><li>Express: 1 day</li></ul>
  <h3>Can I return a <em>used</em> item?</h3>
  <div>Yes, within 30 days<br/>if undamaged.<script>track()</script></div>
  <h2>Where is my invoice?</h2>
  <!-- no answer here -->
  <dl>
    <dt>Do you ship abroad?
    <dd>Yes: EU &amp; UK.</dd>
  </dl>
</div>
<footer><h3>Contact</h3><p>(415) 555-0132</p></footer>
</body></html>"""


def test_faq_pairs_skip_noise_and_keep_answer_html():
    records = list(parse_faq_html(FAQ_PAGE.encode(), URI))
    assert [r.quarantine is None for r in records] == [True, True, False, True]
    rows = [r.bronze for r in records if r.bronze]
    assert [r["question"] for r in rows] == [
        "How long does shipping take?",
        "Can I return a used item?",
        "Do you ship abroad?",
    ]
    assert [r["_line"] for r in rows] == [1, 2, 4]
    assert {r["page_title"] for r in rows} == {"Shipping & Returns"}
    assert rows[0]["answer_html"] == "<p>Usually 2&ndash;3 days.</p><ul><li>Express: 1 day</li></ul>"
    assert rows[1]["answer_html"] == "<div>Yes, within 30 days<br/>if undamaged.</div>"
    assert rows[2]["answer_html"] == "<dd>Yes: EU &amp; UK.</dd>"
    assert rows[0]["faq_id"] == hashlib.sha256(f"{URI}#1".encode()).hexdigest()
    assert set(rows[0]) == set(BRONZE["faq"].fieldNames())
    assert all("555" not in r["answer_html"] and "Contact" not in r["question"] for r in rows)


def test_faq_heading_without_answer_is_missing_field_at_its_index():
    row = [r.quarantine for r in parse_faq_html(FAQ_PAGE.encode(), URI) if r.quarantine][0]
    assert (row["reason"], row["_line"], row["source"]) == ("missing_field", 3, "faq")
    assert "Where is my invoice?" in row["message"] and row["raw"].startswith("<h2>Where is my invoice?</h2>")


def test_faq_heading_without_text_is_missing_field():
    records = list(parse_faq_html(b"<h2> </h2><p>An answer.</p><h2>Q?</h2><p>A.</p>", URI))
    assert records[0].quarantine["reason"] == "missing_field" and records[1].bronze["_line"] == 2


def test_faq_page_that_is_not_utf8_is_one_quarantine_row():
    page = FAQ_PAGE.encode().replace(b"Usually", b"Usu\xe4lly")
    row = _rejected(page, "faq", parse_faq_html)
    assert (row["reason"], row["_line"]) == ("invalid_utf8", 1)
    assert base64.b64decode(row["raw_bytes"]) == page


def test_faq_page_without_title_or_questions():
    assert list(parse_faq_html(b"<html><body><p>nothing</p></body></html>", URI)) == []
    (record,) = parse_faq_html(b"<h3>Q?</h3><ol><li>a</li></ol>", URI)
    assert record.bronze["page_title"] is None and record.bronze["answer_html"] == "<ol><li>a</li></ol>"


# ------------------------------------------------------------------------------- files


def test_parse_file_reads_gzip_files_like_plain_ones():
    data = _jsonl(_review(), _review(rating=9))
    plain = list(parse_file(data, "file:///r/reviews/ds=2024-05-01/a.jsonl", "reviews"))
    zipped = list(parse_file(gzip.compress(data), "file:///r/reviews/ds=2024-05-01/a.jsonl.gz", "reviews"))
    assert [(r.bronze or r.quarantine)["_line"] for r in zipped] == [1, 2]
    assert [r.bronze is None for r in zipped] == [r.bronze is None for r in plain] == [False, True]
    orders = list(parse_file(gzip.compress(_csv(GOOD_ROW)), "s3a://b/orders/ds=2024-05-01/o.csv.gz", "orders"))
    assert orders[0].bronze["_source_file"] == "s3a://b/orders/ds=2024-05-01/o.csv.gz"


@pytest.mark.parametrize(
    ("uri", "data", "text"),
    [
        ("file:///r/a.jsonl.gz", b"not gzip at all", "unreadable gzip"),
        ("file:///r/a.jsonl.gz", gzip.compress(b'{"a": 1}\n')[:8], "unreadable gzip"),
        ("file:///r/a.csv", b"x\n", "name must end with .jsonl"),
    ],
)
def test_unreadable_files_are_one_malformed_record(uri, data, text):
    row = _only(list(parse_file(data, uri, "tickets"))).quarantine
    assert (row["reason"], row["_line"], row["_source_file"]) == ("malformed_record", 1, uri)
    assert text in row["message"]


def test_every_reason_code_is_produced_by_some_parser():
    produced = {
        _rejected(_jsonl(b"\xff"), "tickets")["reason"],
        _rejected(_jsonl(b"["), "tickets")["reason"],
        _rejected(_jsonl(_review(rating=...)), "reviews")["reason"],
        _rejected(_jsonl(_review(rating="5")), "reviews")["reason"],
        _rejected(_jsonl(_review(rating=6)), "reviews")["reason"],
        _rejected(_csv(GOOD_ROW, header=b"a,b"), "orders", parse_orders_csv)["reason"],
        _only(list(parse_jsonl(_jsonl(_review(body="x" * 11)), URI, "reviews", TextLimit(10)))).quarantine["reason"],
        list(parse_file(gzip.compress(_jsonl(_review()))[:-10], "file:///r/a.jsonl.gz", "reviews"))[-1].quarantine[
            "reason"
        ],
    }
    assert produced == set(REASONS)


# ------------------------------------------------------------------------------- RFC 4180, written from the contract
# (quoted fields may hold commas, quotes and line breaks; CRLF or LF; a UTF-8 BOM; one record, one row number)

RFC_4180_ORDERS = (
    b"\xef\xbb\xbforder_id,customer_id,customer_email,product,status,created_at,total\r\n"
    b'A-100,U-7,,"Desk lamp, brass",delivered,2025-02-03T09:15:00Z,45.00\r\n'
    b'A-101,U-8,u8@example.org,"Poster ""Night sky"" 50x70",shipped,2025-02-03T10:00:00Z,19.99\r\n'
    b'A-102,U-9,,"Gift set:\r\n- mug\n- ""tea"" tin",placed,2025-02-03T11:30:00+01:00,30\r\n'
    b"A-103,U-9,,Plain product,returned,2025-02-03T12:00:00Z,-30.00\n"
)


def test_rfc4180_quoted_commas_quotes_and_line_breaks_are_one_record_each():
    records = list(parse_orders_csv(RFC_4180_ORDERS, URI))
    assert [r.quarantine for r in records] == [None] * 4
    rows = [r.bronze for r in records]
    assert [r["order_id"] for r in rows] == ["A-100", "A-101", "A-102", "A-103"]
    assert [r["product"] for r in rows] == [
        "Desk lamp, brass",
        'Poster "Night sky" 50x70',
        'Gift set:\r\n- mug\n- "tea" tin',
        "Plain product",
    ]
    assert [r["_line"] for r in rows] == [2, 3, 4, 7]  # the physical line each record starts on
    assert rows[2]["total"] == Decimal("30.00")


def test_rfc4180_lf_file_without_bom_reads_the_same():
    lf = RFC_4180_ORDERS.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    assert [r.bronze["order_id"] for r in parse_orders_csv(lf, URI)] == ["A-100", "A-101", "A-102", "A-103"]


def test_a_stray_quote_breaks_its_own_row_only():
    data = _csv(b'A-1,U-1,,"Cable 2m,placed,2025-02-03T09:00:00Z,5.00', GOOD_ROW, GOOD_ROW)
    records = list(parse_orders_csv(data, URI))
    assert [(r.quarantine or {}).get("reason") for r in records] == ["malformed_record", None, None]
    assert [(r.bronze or r.quarantine)["_line"] for r in records] == [2, 3, 4]


def test_invalid_utf8_inside_a_multiline_record_quarantines_that_record_with_its_bytes():
    bad = b'A-1,U-1,,"caf\xe9\nlatte",placed,2025-02-03T09:00:00Z,5.00'
    records = list(parse_orders_csv(_csv(bad, GOOD_ROW), URI))
    assert [(r.quarantine or {}).get("reason") for r in records] == ["invalid_utf8", None]
    assert base64.b64decode(records[0].quarantine["raw_bytes"]) == bad
    assert records[1].bronze["_line"] == 4


# ------------------------------------------------------------------------------- JSONL neighbours


def test_a_bom_at_the_start_of_a_concatenated_jsonl_file_is_not_content():
    part = b"\xef\xbb\xbf" + _jsonl(_review()).replace(b"\n", b"\r\n")
    records = list(parse_jsonl(part + part, URI, "reviews"))
    assert [r.quarantine for r in records] == [None, None]


def test_an_unpaired_surrogate_escape_quarantines_only_its_record_and_every_row_fits_arrow():
    lone = json.dumps(_review(review_id="R-2", body="broken \ud800 text"))  # json.dumps escapes it: \\ud800
    paired = _review(review_id="R-3", body="emoji \U0001f600 fine")
    records = list(parse_jsonl(_jsonl(_review(), lone.encode(), paired), URI, "reviews"))
    assert [(r.quarantine or {}).get("reason") for r in records] == [None, "malformed_record", None]
    assert "U+D800" in records[1].quarantine["message"]
    schema = to_arrow_schema(parsed_schema("reviews"), timezone="UTC")
    batch = pa.RecordBatch.from_pylist([{"bronze": r.bronze, "quarantine": r.quarantine} for r in records], schema)
    assert batch.num_rows == 3


# ------------------------------------------------------------------------------- gzip that breaks off


def test_a_truncated_gzip_keeps_the_complete_records_and_quarantines_the_break_once():
    data = _jsonl(*[_review(review_id=f"R-{i}", body="Solid build, quiet fan. " * 40) for i in range(1, 41)])
    packed = gzip.compress(data)
    cut = packed[: len(packed) // 2]
    uri = "file:///r/reviews/ds=2025-02-03/batch.jsonl.gz"
    records = list(parse_file(cut, uri, "reviews"))
    kept = [r.bronze for r in records if r.bronze]
    (broken,) = [r.quarantine for r in records if r.quarantine]
    readable = zlib.decompressobj(31).decompress(cut)  # all zlib can give back from the cut stream
    assert len(kept) == readable.count(b"\n") > 0
    assert [r["_line"] for r in kept] == list(range(1, len(kept) + 1))
    assert broken["reason"] == "truncated_file" and broken["_source_file"] == uri
    assert broken["_line"] == len(kept) + 1
    assert f"compressed byte offset {len(cut)}" in broken["message"]
    assert data.startswith(b"".join(_jsonl(_review(review_id=r["review_id"], body=r["body"])) for r in kept))


def test_a_truncated_gzip_csv_keeps_its_complete_rows():
    data = _csv(*[GOOD_ROW.replace(b"O-1", f"O-{i}".encode()) for i in range(500)])
    records = list(parse_file(gzip.compress(data)[:-100], "file:///r/o.csv.gz", "orders"))
    assert [r.quarantine["reason"] for r in records if r.quarantine] == ["truncated_file"]
    assert len(records) > 400


def test_concatenated_gzip_members_are_one_file():
    data = gzip.compress(_jsonl(_review(review_id="R-1"))) + gzip.compress(_jsonl(_review(review_id="R-2")))
    records = list(parse_file(data, "file:///r/a.jsonl.gz", "reviews"))
    assert [r.bronze["review_id"] for r in records] == ["R-1", "R-2"]


# ------------------------------------------------------------------------------- oversized text


def test_an_oversized_field_quarantines_its_record_and_the_batch_proceeds():
    long_body = "This blender is loud. " * 100
    data = _jsonl(_review(review_id="R-1"), _review(review_id="R-2", body=long_body), _review(review_id="R-3"))
    records = list(parse_jsonl(data, URI, "reviews", TextLimit(1000)))
    assert [r.bronze["review_id"] for r in records if r.bronze] == ["R-1", "R-3"]
    row = records[1].quarantine
    assert (row["reason"], row["_line"]) == ("too_long", 2)
    assert row["message"] == f"body has {len(long_body)} characters, over the limit of 1000"


@pytest.mark.parametrize(
    ("source", "data", "parse", "field"),
    [
        (
            "tickets",
            _jsonl(_ticket(messages=[{"role": "customer", "text": "a" * 51}])),
            parse_jsonl,
            "messages[0].text",
        ),
        ("tickets", _jsonl(_ticket(subject="s" * 51)), parse_jsonl, "subject"),
        ("faq", b"<h2>Q?</h2><p>" + b"a" * 51 + b"</p>", parse_faq_html, "answer_html"),
        ("orders", _csv(GOOD_ROW.replace(b"Router, AX3000", b"p" * 51)), parse_orders_csv, "product"),
    ],
)
def test_every_source_applies_the_text_limit(source, data, parse, field):
    (record,) = parse(data, URI, source, TextLimit(50))
    assert record.quarantine["reason"] == "too_long" and record.quarantine["message"].startswith(field + " ")


def test_truncate_mode_cuts_the_field_and_says_so_in_extra():
    (record,) = parse_jsonl(_jsonl(_review(body="b" * 30)), URI, "reviews", TextLimit(20, truncate=True))
    assert record.bronze["body"] == "b" * 20
    assert json.loads(record.bronze["extra"]["_truncated"]) == ["body: 30 chars"]
