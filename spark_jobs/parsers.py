"""Raw landing-zone files -> typed bronze rows or quarantine rows (contracts/raw-landing.md).

Pure Python, no Spark: the ingest job calls :func:`parse_file` once per file inside a Spark task,
so line numbers are exact and every line is decoded on its own (one bad byte quarantines one
record, not the file). Every record read yields exactly one :class:`ParsedRecord`, which is what
lets the job check ``records read = bronze + quarantine``.

Record numbering (``_line``, 1-based): JSONL line; CSV line counting the header as line 1; FAQ
heading index in the page. A problem with a whole file (not UTF-8 for HTML, unreadable gzip,
unexpected file name) yields one quarantine row with ``_line`` 1.

Validation is strict and stops at the first problem, checked in the contract's field order:
absent/null/empty required value -> ``missing_field``; wrong JSON type (a number where a string
is required; a bool is not an int) -> ``wrong_type``; value not allowed, out of range, not an
ISO-8601 timestamp or not a 2-decimal number -> ``invalid_value``; an empty ``messages`` list is
an ``invalid_value``. Timestamps become tz-aware UTC datetimes (naive ones are read as UTC).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import gzip
import hashlib
import html
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from llmops.contracts.raw_landing import CHANNELS, ORDER_STATUSES, ORDERS_HEADER, ROLES

# The file name ending each source's files must have (optionally followed by ".gz").
EXTENSIONS = {"tickets": ".jsonl", "reviews": ".jsonl", "orders": ".csv", "faq": ".html"}

_SHOWN_CHARS = 80  # how much of an offending value a quarantine message quotes
_TOTAL = re.compile(r"-?\d{1,10}(\.\d{1,2})?")  # fits DecimalType(12, 2)
_CENT = Decimal("0.01")
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One record read: exactly one of ``bronze`` (a BRONZE[source] row) or ``quarantine`` is set."""

    bronze: dict[str, Any] | None = None
    quarantine: dict[str, Any] | None = None


class Reject(Exception):
    """Why one record cannot go to bronze: a REASONS code and a message naming field and value."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def quarantine_row(
    source: str, uri: str, line: int, reject: Reject, raw: str | None, raw_bytes: bytes | None = None
) -> ParsedRecord:
    return ParsedRecord(
        quarantine={
            "source": source,
            "_source_file": uri,
            "_line": line,
            "raw": raw,
            "raw_bytes": base64.b64encode(raw_bytes).decode("ascii") if raw_bytes is not None else None,
            "reason": reject.reason,
            "message": reject.message,
        }
    )


# ---------------------------------------------------------------------------------------------
# Values


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", dict: "object", list: "array", type(None): "null"}[type(value)]


def _got(value: Any) -> str:
    return f"got {_json_type(value)} {_show(value)}"


def _is_kind(value: Any, kind: type) -> bool:
    if kind is int:  # JSON has one number type; an integer field wants an int, and a bool is no int
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


_KIND_NAMES = {str: "a string", int: "an integer", dict: "an object", list: "an array"}


def _field(obj: dict, key: str, kind: type, *, required: bool, path: str = "") -> Any:
    """``obj[key]`` checked to hold a JSON value of ``kind``; None if optional and absent or null."""
    name = f"{path}{key}"
    value = obj.get(key)
    if value is None:
        if required:
            raise Reject("missing_field", f"{name} is {'null' if key in obj else 'absent'}")
        return None
    if not _is_kind(value, kind):
        raise Reject("wrong_type", f"{name} must be {_KIND_NAMES[kind]}, {_got(value)}")
    if required and kind is str and not value.strip():
        raise Reject("missing_field", f"{name} is empty")
    return value


def parse_timestamp(text: str, name: str) -> dt.datetime:
    """An ISO-8601 timestamp ('Z' or an offset; naive means UTC) as an aware UTC datetime."""
    try:
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise Reject("invalid_value", f"{name} is not an ISO-8601 timestamp: {_show(text)}") from None


def _timestamp(obj: dict, key: str, *, required: bool, path: str = "") -> dt.datetime | None:
    text = _field(obj, key, str, required=required, path=path)
    return None if text is None else parse_timestamp(text, f"{path}{key}")


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value is not None and value not in allowed:
        raise Reject("invalid_value", f"{name} must be one of {', '.join(allowed)}, got {_show(value)}")
    return value


def _extra(obj: dict, known: tuple[str, ...], path: str = "") -> dict[str, str]:
    """Unknown fields as ``{path+field: JSON text}`` (the contract keeps them, it does not reject them)."""
    return {f"{path}{k}": json.dumps(v, ensure_ascii=False) for k, v in obj.items() if k not in known}


# ---------------------------------------------------------------------------------------------
# JSON records

_TICKET_FIELDS = ("ticket_id", "created_at", "channel", "customer", "subject", "messages", "resolution")
_CUSTOMER_FIELDS = ("id", "email", "name")
_MESSAGE_FIELDS = ("role", "text", "ts")
_REVIEW_FIELDS = ("review_id", "product_id", "rating", "title", "body", "created_at", "lang")


def _customer(obj: dict, extra: dict[str, str]) -> dict[str, Any]:
    customer = _field(obj, "customer", dict, required=True)
    extra.update(_extra(customer, _CUSTOMER_FIELDS, "customer."))
    return {
        "id": _field(customer, "id", str, required=True, path="customer."),
        "email": _field(customer, "email", str, required=False, path="customer."),
        "name": _field(customer, "name", str, required=False, path="customer."),
    }


def _messages(obj: dict, extra: dict[str, str]) -> list[dict[str, Any]]:
    messages = _field(obj, "messages", list, required=True)
    if not messages:
        raise Reject("invalid_value", "messages must hold at least one message, got []")
    rows = []
    for i, message in enumerate(messages):
        path = f"messages[{i}]."
        if not isinstance(message, dict):
            raise Reject("wrong_type", f"messages[{i}] must be an object, {_got(message)}")
        extra.update(_extra(message, _MESSAGE_FIELDS, path))
        rows.append(
            {
                "role": _choice(_field(message, "role", str, required=True, path=path), ROLES, f"{path}role"),
                "text": _field(message, "text", str, required=False, path=path),
                "ts": _timestamp(message, "ts", required=False, path=path),
            }
        )
    return rows


def _ticket(obj: dict) -> dict[str, Any]:
    extra = _extra(obj, _TICKET_FIELDS)
    row = {
        "ticket_id": _field(obj, "ticket_id", str, required=True),
        "created_at": _timestamp(obj, "created_at", required=True),
        "channel": _choice(_field(obj, "channel", str, required=False), CHANNELS, "channel"),
        "customer": _customer(obj, extra),
        "subject": _field(obj, "subject", str, required=False),
        "messages": _messages(obj, extra),
        "resolution": _field(obj, "resolution", str, required=False),
    }
    row["extra"] = extra or None
    return row


def _rating(obj: dict) -> int:
    rating = _field(obj, "rating", int, required=True)
    if not 1 <= rating <= 5:
        raise Reject("invalid_value", f"rating must be between 1 and 5, got {rating}")
    return rating


def _review(obj: dict) -> dict[str, Any]:
    return {
        "review_id": _field(obj, "review_id", str, required=True),
        "product_id": _field(obj, "product_id", str, required=True),
        "rating": _rating(obj),
        "title": _field(obj, "title", str, required=False),
        "body": _field(obj, "body", str, required=True),
        "created_at": _timestamp(obj, "created_at", required=True),
        "lang": _field(obj, "lang", str, required=False),
        "extra": _extra(obj, _REVIEW_FIELDS) or None,
    }


_JSON_ROWS: dict[str, Callable[[dict], dict[str, Any]]] = {"tickets": _ticket, "reviews": _review}


def _reject_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text, parse_constant=_reject_json_constant)
    except (ValueError, RecursionError) as exc:
        raise Reject("malformed_record", f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Reject("malformed_record", f"expected a JSON object, {_got(value)}")
    return value


# ---------------------------------------------------------------------------------------------
# Lines


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(1-based number, bytes without terminator) per line; blank lines ending the file are not lines."""
    lines = data.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    for number, line in enumerate(lines, 1):
        yield number, line.removesuffix(b"\r")


def _decode(line: bytes, number: int) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Reject(
            "invalid_utf8", f"invalid UTF-8 byte 0x{line[exc.start]:02x} at byte offset {exc.start}"
        ) from None
    return text.removeprefix(_BOM) if number == 1 else text


def _text_line(line: bytes, number: int) -> str:
    text = _decode(line, number)
    if not text.strip():
        raise Reject("malformed_record", "blank line")
    return text


def _line_records(
    uri: str, source: str, rows: Iterator[tuple[int, bytes]], to_row: Callable[[str], dict]
) -> Iterator[ParsedRecord]:
    """One ParsedRecord per line: ``to_row(text)`` builds the bronze row or raises Reject."""
    for number, line in rows:
        try:
            row = to_row(_text_line(line, number))
        except Reject as reject:
            raw_bytes = line if reject.reason == "invalid_utf8" else None
            yield quarantine_row(source, uri, number, reject, line.decode("utf-8", "replace"), raw_bytes)
        else:
            row["_source_file"] = uri
            row["_line"] = number
            yield ParsedRecord(bronze=row)


def parse_jsonl(data: bytes, uri: str, source: str) -> Iterator[ParsedRecord]:
    """Records of a tickets or reviews JSONL file."""
    to_row = _JSON_ROWS[source]
    yield from _line_records(uri, source, _lines(data), lambda text: to_row(_json_object(text)))


# ---------------------------------------------------------------------------------------------
# Orders CSV


def _csv_fields(text: str) -> list[str]:
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise Reject("malformed_record", f"not a valid CSV row: {exc}") from None


def _required_cell(cells: dict[str, str], name: str) -> str:
    if not cells[name].strip():
        raise Reject("missing_field", f"{name} is empty")
    return cells[name]


def _total(text: str) -> Decimal:
    if not _TOTAL.fullmatch(text):
        raise Reject(
            "invalid_value", f"total must be a decimal number with at most 2 decimals, got {_show(text)}"
        )
    return Decimal(text).quantize(_CENT)


def _order(text: str) -> dict[str, Any]:
    fields = _csv_fields(text)
    if len(fields) != len(ORDERS_HEADER):
        raise Reject("malformed_record", f"expected {len(ORDERS_HEADER)} columns, got {len(fields)}")
    cells = dict(zip(ORDERS_HEADER, fields, strict=True))
    return {
        "order_id": _required_cell(cells, "order_id"),
        "customer_id": _required_cell(cells, "customer_id"),
        "customer_email": cells["customer_email"] or None,
        "product": cells["product"] or None,
        "status": _choice(_required_cell(cells, "status"), ORDER_STATUSES, "status"),
        "created_at": parse_timestamp(_required_cell(cells, "created_at"), "created_at"),
        "total": _total(_required_cell(cells, "total")),
    }


def _header_problem(line: bytes) -> Reject | None:
    """None if the header line is the contract's, else the bad_header Reject for every row of the file."""
    try:
        header = tuple(_csv_fields(_decode(line, 1)))
    except Reject:
        header = None
    if header == ORDERS_HEADER:
        return None
    found = line.decode("utf-8", "replace")
    return Reject("bad_header", f"file header is {_show(found)}, expected {_show(','.join(ORDERS_HEADER))}")


def parse_orders_csv(data: bytes, uri: str, source: str = "orders") -> Iterator[ParsedRecord]:
    """Records (rows after the header) of an orders CSV file; a wrong header rejects every row."""
    lines = _lines(data)
    first = next(lines, None)
    if first is None:
        return
    problem = _header_problem(first[1])
    if problem is None:
        yield from _line_records(uri, source, lines, _order)
        return
    for number, line in lines:
        yield quarantine_row(source, uri, number, problem, line.decode("utf-8", "replace"))


# ---------------------------------------------------------------------------------------------
# FAQ HTML

_QUESTION_TAGS = frozenset({"h2", "h3", "dt"})
_NOISE_TAGS = frozenset({"script", "style", "nav", "footer", "header"})
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


@dataclass
class _Pair:
    heading: str  # the heading's tag name
    heading_html: list[str]
    question: list[str]
    answer_html: list[str]
    answer_text: list[str]
    open_tags: list[str]  # elements opened inside the answer and not closed yet


class _FaqParser(HTMLParser):
    """Collects the page title and the question/answer pairs, skipping noise elements entirely."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # keep entities verbatim in the answer HTML
        self.title: list[str] | None = None
        self.pairs: list[_Pair] = []
        self._noise: list[str] = []  # open noise elements, innermost last
        self._in_title = False
        self._in_heading = False

    @property
    def _pair(self) -> _Pair | None:
        return self.pairs[-1] if self.pairs else None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self._noise or tag in _NOISE_TAGS:
            if tag in _NOISE_TAGS:
                self._noise.append(tag)
            return
        raw = self.get_starttag_text() or f"<{tag}>"
        if tag == "title" and self.title is None:
            self._in_title, self.title = True, []
        elif tag in _QUESTION_TAGS:
            self._end_heading()
            self._close_answer()
            self.pairs.append(_Pair(tag, [raw], [], [], [], []))
            self._in_heading = True
        elif self._in_heading and not (tag == "dd" and self._pair.heading == "dt"):
            self._pair.heading_html.append(raw)
        elif self._pair is not None:
            self._end_heading()  # a <dd> ends a <dt> whose end tag was omitted
            self._pair.answer_html.append(raw)
            if tag not in _VOID_TAGS:
                self._pair.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._noise:
            if tag == self._noise[-1]:
                self._noise.pop()
            return
        if tag == "title":
            self._in_title = False
        elif self._in_heading:
            self._pair.heading_html.append(f"</{tag}>")
            self._in_heading = tag != self._pair.heading
        elif self._pair is not None and tag in self._pair.open_tags:
            while self._pair.open_tags:  # close what the answer opened, up to this element
                opened = self._pair.open_tags.pop()
                self._pair.answer_html.append(f"</{opened}>")
                if opened == tag:
                    break

    def handle_data(self, data: str) -> None:
        self._text(data, data)

    def handle_entityref(self, name: str) -> None:
        self._text(f"&{name};", html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._text(f"&#{name};", html.unescape(f"&#{name};"))

    def _text(self, raw: str, text: str) -> None:
        if self._noise:
            return
        if self._in_title:
            self.title.append(text)
        elif self._in_heading:
            self._pair.heading_html.append(raw)
            self._pair.question.append(text)
        elif self._pair is not None:
            self._pair.answer_html.append(raw)
            self._pair.answer_text.append(text)

    def _end_heading(self) -> None:
        if self._in_heading:
            self._pair.heading_html.append(f"</{self._pair.heading}>")
            self._in_heading = False

    def _close_answer(self) -> None:
        """An answer ends at the next heading: close the elements it opened, so its HTML is balanced."""
        if self._pair is not None:
            self._pair.answer_html.extend(f"</{tag}>" for tag in reversed(self._pair.open_tags))
            self._pair.open_tags.clear()

    def close(self) -> None:
        super().close()
        self._end_heading()
        self._close_answer()


def _collapse(parts: list[str]) -> str:
    return " ".join("".join(parts).split())


def _faq_record(pair: _Pair, index: int, uri: str, title: str | None, source: str) -> ParsedRecord:
    question, answer_html = _collapse(pair.question), "".join(pair.answer_html).strip()
    if not question:
        reject = Reject("missing_field", f"question {index} (<{pair.heading}>) has no text")
    elif not "".join(pair.answer_text).strip():
        reject = Reject("missing_field", f"question {index} {_show(question)} has no answer content")
    else:
        return ParsedRecord(
            bronze={
                "faq_id": hashlib.sha256(f"{uri}#{index}".encode()).hexdigest(),
                "page_title": title,
                "question": question,
                "answer_html": answer_html,
                "_source_file": uri,
                "_line": index,
            }
        )
    return quarantine_row(source, uri, index, reject, "".join(pair.heading_html) + answer_html)


def parse_faq_html(data: bytes, uri: str, source: str = "faq") -> Iterator[ParsedRecord]:
    """Question/answer pairs of an FAQ page: one record per h2/h3/dt heading outside the noise."""
    try:
        page = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        reject = Reject(
            "invalid_utf8", f"page is not UTF-8: invalid byte 0x{data[exc.start]:02x} at offset {exc.start}"
        )
        yield quarantine_row(source, uri, 1, reject, data.decode("utf-8", "replace"), data)
        return
    parser = _FaqParser()
    parser.feed(page.removeprefix(_BOM))
    parser.close()
    title = _collapse(parser.title) if parser.title is not None else None
    for index, pair in enumerate(parser.pairs, 1):
        yield _faq_record(pair, index, uri, title, source)


# ---------------------------------------------------------------------------------------------
# Files

PARSERS: dict[str, Callable[[bytes, str, str], Iterator[ParsedRecord]]] = {
    "tickets": parse_jsonl,
    "reviews": parse_jsonl,
    "orders": parse_orders_csv,
    "faq": parse_faq_html,
}


def parse_file(data: bytes, uri: str, source: str) -> Iterator[ParsedRecord]:
    """Records of one raw file of ``source``: picks the parser, un-gzips ``*.gz`` files."""
    extension = EXTENSIONS[source]
    if uri.endswith(extension + ".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            yield quarantine_row(
                source, uri, 1, Reject("malformed_record", f"unreadable gzip file: {exc}"), None
            )
            return
    elif not uri.endswith(extension):
        reject = Reject(
            "malformed_record", f"not a {source} file: name must end with {extension} or {extension}.gz"
        )
        yield quarantine_row(source, uri, 1, reject, None)
        return
    yield from PARSERS[source](data, uri, source)
