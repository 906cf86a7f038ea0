"""Raw landing-zone files -> typed bronze rows or quarantine rows (contracts/raw-landing.md).

Pure Python, no Spark: the ingest job calls :func:`parse_file` once per file inside a Spark task,
so line numbers are exact and every line is decoded on its own (one bad byte quarantines one
record, not the file). Every record read yields exactly one :class:`ParsedRecord`, which is what
lets the job check ``records read = bronze + quarantine``.

Record numbering (``_line``, 1-based): JSONL line; the line a CSV record starts on, counting the
header as line 1 (a quoted field may span lines); FAQ heading index in the page. A problem with a
whole file (not UTF-8 for HTML, unreadable gzip, unexpected file name) yields one quarantine row
with ``_line`` 1; a gzip stream that breaks off keeps the records before the break and yields one
``truncated_file`` row at the line it cut. A free-text field longer than the :class:`TextLimit`
is ``too_long`` (or cut, when the limit truncates).

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
# Text limit


@dataclass(frozen=True, slots=True)
class TextLimit:
    """The longest free-text value a record may hold; a longer one is cut (``truncate``) or quarantined."""

    max_chars: int
    truncate: bool = False


def _limited(value: str | None, name: str, limit: TextLimit | None, cut: list[str]) -> str | None:
    if limit is None or value is None or len(value) <= limit.max_chars:
        return value
    if not limit.truncate:
        raise Reject("too_long", f"{name} has {len(value)} characters, over the limit of {limit.max_chars}")
    cut.append(f"{name}: {len(value)} chars")
    return value[: limit.max_chars]


def _limit_row(row: dict[str, Any], source: str, limit: TextLimit | None) -> dict[str, Any]:
    """Apply ``limit`` to the row's free-text fields; truncations are noted in ``extra._truncated`` (tickets
    and reviews: faq and orders rows have no ``extra`` column, their cut fields go unmarked)."""
    if limit is None:
        return row
    cut: list[str] = []
    for name in _TEXT_FIELDS[source]:
        row[name] = _limited(row[name], name, limit, cut)
    for i, message in enumerate(row.get("messages") or ()):
        message["text"] = _limited(message["text"], f"messages[{i}].text", limit, cut)
    if cut and "extra" in row:
        row["extra"] = {**(row["extra"] or {}), "_truncated": json.dumps(cut)}
    return row


_TEXT_FIELDS = {
    "tickets": ("subject", "resolution"),  # and every message's text
    "reviews": ("title", "body"),
    "faq": ("question", "answer_html"),
    "orders": ("product",),
}


# ---------------------------------------------------------------------------------------------
# JSON Lines


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(1-based number, bytes without terminator) per line; blank lines ending the file are not lines."""
    lines = data.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    for number, line in enumerate(lines, 1):
        yield number, line.removesuffix(b"\r")


def _invalid_utf8(data: bytes, exc: UnicodeDecodeError) -> Reject:
    return Reject("invalid_utf8", f"invalid UTF-8 byte 0x{data[exc.start]:02x} at byte offset {exc.start}")


def _text_line(line: bytes) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid_utf8(line, exc) from None
    # a BOM starts the file, or a line when files were concatenated: never content
    text = text.removeprefix(_BOM)
    if not text.strip():
        raise Reject("malformed_record", "blank line")
    return text


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_lone_surrogates(text: str, value: dict) -> None:
    """Reject a JSON escape of an unpaired UTF-16 surrogate: it is not Unicode text and cannot be stored."""
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise Reject(
                "malformed_record", f"a string holds an unpaired surrogate escape (U+{ord(exc.object[exc.start]):04X})"
            ) from None


def parse_jsonl(data: bytes, uri: str, source: str, limit: TextLimit | None = None) -> Iterator[ParsedRecord]:
    """Records of a tickets or reviews JSONL file: one per line, each decoded and validated on its own."""
    to_row = _JSON_ROWS[source]
    for number, line in _lines(data):
        try:
            text = _text_line(line)
            obj = _json_object(text)
            _no_lone_surrogates(text, obj)
            row = _limit_row(to_row(obj), source, limit)
        except Reject as reject:
            raw_bytes = line if reject.reason == "invalid_utf8" else None
            yield quarantine_row(source, uri, number, reject, line.decode("utf-8", "replace"), raw_bytes)
        else:
            row["_source_file"] = uri
            row["_line"] = number
            yield ParsedRecord(bronze=row)


# ---------------------------------------------------------------------------------------------
# Orders CSV (RFC 4180: quoted fields may hold commas, quotes and line breaks)


class _LineFeed:
    """The lines a csv.reader pulls one at a time; ``pos`` is the index of the next line to hand out."""

    def __init__(self, lines: list[str]):
        self.lines, self.pos = lines, 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _csv_error(exc: csv.Error) -> Reject:
    if "field larger than field limit" in str(exc):
        return Reject("too_long", f"a field is over the CSV reader's limit of {csv.field_size_limit()} characters")
    return Reject("malformed_record", f"not a valid CSV row: {exc}")


def _csv_records(lines: list[str], width: int) -> Iterator[tuple[int, int, list[str] | Reject]]:
    """(first line index, end line index, cells or Reject) per CSV record; a record may span lines.

    A record that spans lines and still does not parse into ``width`` cells is far more likely a
    stray quote than a field with line breaks: its first line alone is the broken record and reading
    resumes on the next line, so one stray quote never swallows the rows after it.
    """
    feed = _LineFeed(lines)
    reader = csv.reader(feed, strict=True)
    while feed.pos < len(lines):
        start = feed.pos
        try:
            cells: list[str] | Reject = next(reader)
        except csv.Error as exc:
            cells = _csv_error(exc)
        broken = isinstance(cells, Reject) or (cells and len(cells) != width)
        if broken and feed.pos - start > 1:
            feed.pos = start + 1
            try:
                cells = next(csv.reader([lines[start]], strict=True))
            except csv.Error as exc:
                cells = _csv_error(exc)
        if broken:
            reader = csv.reader(feed, strict=True)  # after an error or a rewind, start afresh
        yield start, feed.pos, cells


def _required_cell(cells: dict[str, str], name: str) -> str:
    if not cells[name].strip():
        raise Reject("missing_field", f"{name} is empty")
    return cells[name]


def _total(text: str) -> Decimal:
    if not _TOTAL.fullmatch(text):
        raise Reject("invalid_value", f"total must be a decimal number with at most 2 decimals, got {_show(text)}")
    return Decimal(text).quantize(_CENT)


def _order(fields: list[str]) -> dict[str, Any]:
    if not fields:
        raise Reject("malformed_record", "blank line")
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


def _decoded_lines(raw: list[bytes]) -> tuple[list[str], set[int]]:
    """Each line as text (invalid bytes kept as surrogate escapes) and the indexes of the lines that had some."""
    lines, bad = [], set()
    for i, line in enumerate(raw):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("utf-8", "surrogateescape"))
            bad.add(i)
    if lines:
        lines[0] = lines[0].removeprefix(_BOM)
    return lines, bad


def _strip_eol(data: bytes) -> bytes:
    return data.removesuffix(b"\n").removesuffix(b"\r")


def parse_orders_csv(
    data: bytes, uri: str, source: str = "orders", limit: TextLimit | None = None
) -> Iterator[ParsedRecord]:
    """Records (rows after the header) of an orders CSV file, read with the csv module (RFC 4180).

    ``_line`` is the physical line a record starts on (the header is line 1), so a record spanning
    lines is one record. A wrong header rejects every row.
    """
    raw = data.splitlines(keepends=True)  # LF, CRLF (and CR) endings
    while raw and not raw[-1].strip():
        raw.pop()
    lines, bad = _decoded_lines(raw)
    records = _csv_records(lines, len(ORDERS_HEADER))
    first = next(records, None)
    if first is None:
        return
    header = first[2]
    problem = None
    if isinstance(header, Reject) or tuple(header) != ORDERS_HEADER or bad & set(range(first[0], first[1])):
        found = _strip_eol(b"".join(raw[first[0] : first[1]])).decode("utf-8", "replace")
        problem = Reject("bad_header", f"file header is {_show(found)}, expected {_show(','.join(ORDERS_HEADER))}")
    for start, end, cells in records:
        record_bytes = _strip_eol(b"".join(raw[start:end]))
        try:
            if problem is not None:
                raise problem
            if bad & set(range(start, end)):
                try:
                    record_bytes.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise _invalid_utf8(record_bytes, exc) from None
            if isinstance(cells, Reject):
                raise cells
            row = _limit_row(_order(cells), source, limit)
        except Reject as reject:
            raw_bytes = record_bytes if reject.reason == "invalid_utf8" else None
            yield quarantine_row(source, uri, start + 1, reject, record_bytes.decode("utf-8", "replace"), raw_bytes)
        else:
            row["_source_file"] = uri
            row["_line"] = start + 1
            yield ParsedRecord(bronze=row)


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


def _faq_record(
    pair: _Pair, index: int, uri: str, title: str | None, source: str, limit: TextLimit | None
) -> ParsedRecord:
    question, answer_html = _collapse(pair.question), "".join(pair.answer_html).strip()
    try:
        if not question:
            raise Reject("missing_field", f"question {index} (<{pair.heading}>) has no text")
        if not "".join(pair.answer_text).strip():
            raise Reject("missing_field", f"question {index} {_show(question)} has no answer content")
        row = {
            "faq_id": hashlib.sha256(f"{uri}#{index}".encode()).hexdigest(),
            "page_title": title,
            "question": question,
            "answer_html": answer_html,
            "_source_file": uri,
            "_line": index,
        }
        return ParsedRecord(bronze=_limit_row(row, source, limit))
    except Reject as reject:
        return quarantine_row(source, uri, index, reject, "".join(pair.heading_html) + answer_html)


def parse_faq_html(
    data: bytes, uri: str, source: str = "faq", limit: TextLimit | None = None
) -> Iterator[ParsedRecord]:
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
        yield _faq_record(pair, index, uri, title, source, limit)


# ---------------------------------------------------------------------------------------------
# Files

PARSERS: dict[str, Callable[[bytes, str, str, TextLimit | None], Iterator[ParsedRecord]]] = {
    "tickets": parse_jsonl,
    "reviews": parse_jsonl,
    "orders": parse_orders_csv,
    "faq": parse_faq_html,
}

_GZIP_CHUNK = 1 << 16  # compressed bytes fed at a time, so a corrupt block loses at most this much


def gunzip(data: bytes) -> tuple[bytes, str | None]:
    """(decompressed bytes, None) or, for a truncated or corrupt stream, (what came before the break, why).

    Concatenated gzip members (what ``cat a.gz b.gz`` makes) are one stream, as gzip(1) reads them.
    """
    out: list[bytes] = []
    rest = data
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        fed = 0
        try:
            while fed < len(rest) and not inflater.eof:
                out.append(inflater.decompress(rest[fed : fed + _GZIP_CHUNK]))
                fed += _GZIP_CHUNK
        except zlib.error as exc:
            offset = len(data) - len(rest) + min(fed, len(rest))
            return b"".join(out), f"corrupt gzip data near compressed byte offset {offset}: {exc}"
        if not inflater.eof:
            return b"".join(out), f"gzip stream truncated at compressed byte offset {len(data)}"
        rest = inflater.unused_data
        if not rest.strip(b"\0"):  # zero padding after the last member is not data
            break
    return b"".join(out), None


def _break_record(data: bytes, why: str, uri: str, source: str) -> tuple[bytes, ParsedRecord]:
    """Split the complete records of a broken stream from its cut-off tail, the break's one quarantine row."""
    complete = data[: data.rfind(b"\n") + 1]
    tail = data[len(complete) :]
    line = complete.count(b"\n") + 1
    message = f"{why}; the records before decompressed byte offset {len(complete)} are kept"
    raw = tail.decode("utf-8", "replace") if tail else None
    return complete, quarantine_row(source, uri, line, Reject("truncated_file", message), raw)


def parse_file(data: bytes, uri: str, source: str, limit: TextLimit | None = None) -> Iterator[ParsedRecord]:
    """Records of one raw file of ``source``: picks the parser, un-gzips ``*.gz`` files.

    A gzip file that breaks off (truncated upload, corrupt block) keeps the complete records before
    the break; the break itself is one ``truncated_file`` quarantine row at the line it cut.
    """
    extension = EXTENSIONS[source]
    broken = None
    if uri.endswith(extension + ".gz"):
        data, why = gunzip(data)
        if why is not None:
            if not data:  # not gzip at all, or broken before its first byte of content
                yield quarantine_row(source, uri, 1, Reject("malformed_record", f"unreadable gzip file: {why}"), None)
                return
            if source == "faq":  # a page cut off mid-way is not a page
                yield quarantine_row(source, uri, 1, Reject("truncated_file", why), None)
                return
            data, broken = _break_record(data, why, uri, source)
    elif not uri.endswith(extension):
        reject = Reject("malformed_record", f"not a {source} file: name must end with {extension} or {extension}.gz")
        yield quarantine_row(source, uri, 1, reject, None)
        return
    yield from PARSERS[source](data, uri, source, limit)
    if broken is not None:
        yield broken
