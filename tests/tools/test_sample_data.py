"""The sample-data generator: layout, determinism, and that the manifest tells the truth about the files.

The checks read the files back with a small, independent reading of the raw contract (stdlib json, csv
and html.parser), so a planted defect only counts if the contract really rejects it.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import html
import ipaddress
import itertools
import json
import random
import re
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest

from llmops.contracts.personal_data import TYPES as PII_TYPES
from llmops.contracts.raw_landing import CHANNELS, ORDER_STATUSES, ORDERS_HEADER, REASONS, ROLES
from llmops_demo import dedup_text, faq_id, generate, jaccard, manifest_uri
from llmops_demo.catalog import SLOT_NAMES, Slots, build_products
from llmops_demo.grammar import TEXTS, Template, texts

DS = "2026-11-22"
RECORDS = 3000
FILE_NAME = re.compile(r"part-\d{5}\.(jsonl|csv|html)(\.gz)?$")
JSON_SOURCES = {"tickets": "ticket_id", "reviews": "review_id"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = f"file://{tmp_path_factory.mktemp('raw')}"
    manifest = generate(out, DS, RECORDS, seed=7)
    return out, manifest


@pytest.fixture(scope="module")
def files(run):
    """source -> [(uri, raw bytes after gunzip)] in file order."""
    out, _ = run
    result = {}
    for source in ("tickets", "faq", "reviews", "orders"):
        part = Path(out.removeprefix("file://")) / source / f"ds={DS}"
        result[source] = [
            (f"file://{p}", gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes())
            for p in sorted(part.iterdir())
        ]
    return result


# -- an independent reading of the raw contract ------------------------------------------------------------


def _ts_ok(value) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _missing(value) -> bool:
    return value is None or value == ""


def ticket_reason(obj: dict) -> str | None:
    for name in ("ticket_id", "created_at", "customer", "messages"):
        if _missing(obj.get(name)):
            return "missing_field"
    types = {"ticket_id": str, "created_at": str, "customer": dict, "messages": list}
    if any(not isinstance(obj[k], t) for k, t in types.items()):
        return "wrong_type"
    if _missing(obj["customer"].get("id")):
        return "missing_field"
    if not _ts_ok(obj["created_at"]) or obj.get("channel") not in (None, *CHANNELS) or not obj["messages"]:
        return "invalid_value"
    if any(m.get("role") not in ROLES or not _ts_ok(m.get("ts")) for m in obj["messages"]):
        return "invalid_value"
    return None


def review_reason(obj: dict) -> str | None:
    for name in ("review_id", "product_id", "rating", "body", "created_at"):
        if _missing(obj.get(name)):
            return "missing_field"
    rating = obj["rating"]
    if (
        not isinstance(rating, int)
        or isinstance(rating, bool)
        or not all(isinstance(obj[k], str) for k in ("review_id", "product_id", "body", "created_at"))
    ):
        return "wrong_type"
    if not 1 <= rating <= 5 or not _ts_ok(obj["created_at"]):
        return "invalid_value"
    return None


def jsonl_records(source: str, data: bytes):
    """(line number, reason or None, object or None) for every line of a JSONL file."""
    check = ticket_reason if source == "tickets" else review_reason
    assert data.endswith(b"\n") and b"\n\n" not in data, "blank lines are not records: never write any"
    for number, raw in enumerate(data[:-1].split(b"\n"), start=1):
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield number, "invalid_utf8", None
            continue
        except ValueError:
            yield number, "malformed_record", None
            continue
        if not isinstance(obj, dict):
            yield number, "malformed_record", None
            continue
        yield number, check(obj), obj


def order_rows(data: bytes):
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and b"" not in lines[:-1]
    bad_header = tuple(lines[0].decode().split(",")) != ORDERS_HEADER
    for number, raw in enumerate(lines[1:-1], start=2):
        if bad_header:
            yield number, "bad_header", None
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, "invalid_utf8", None
            continue
        (row,) = list(csv.reader([text]))
        if len(row) != len(ORDERS_HEADER):
            yield number, "malformed_record", None
            continue
        rec = dict(zip(ORDERS_HEADER, row, strict=True))
        if any(rec[k] == "" for k in ("order_id", "customer_id", "status", "created_at", "total")):
            yield number, "missing_field", rec
        elif (
            rec["status"] not in ORDER_STATUSES
            or not _ts_ok(rec["created_at"])
            or not re.fullmatch(r"\d+(\.\d{1,2})?", rec["total"])
        ):
            yield number, "invalid_value", rec
        else:
            yield number, None, rec


class _FaqParser(HTMLParser):
    NOISE = {"script", "style", "nav", "footer", "header", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pairs: list[list[str]] = []  # [question, answer text]
        self.title, self._noise, self._in = "", 0, None

    def handle_starttag(self, tag, attrs):
        if tag in self.NOISE:
            self._noise += 1
        elif not self._noise and tag in ("h2", "h3", "dt"):
            self.pairs.append(["", ""])
            self._in = "q"
        elif tag == "title":
            self._in = "title"

    def handle_endtag(self, tag):
        if tag in self.NOISE:
            self._noise -= 1
        elif tag in ("h2", "h3", "dt", "title") and self._in in ("q", "title"):
            self._in = "a" if self._in == "q" else None
        elif tag == "main":
            self._in = None

    def handle_data(self, data):
        if self._noise:
            return
        if self._in == "title":
            self.title += data
        elif self._in == "q":
            self.pairs[-1][0] += data
        elif self._in == "a":
            self.pairs[-1][1] += " " + data


def faq_pairs(data: bytes):
    """(heading index, reason or None, {question, answer}) for every heading of a page."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        yield 1, "invalid_utf8", None
        return
    parser = _FaqParser()
    parser.feed(text)
    for index, (question, answer) in enumerate(parser.pairs, start=1):
        answer = " ".join(answer.split())
        yield index, (None if answer else "missing_field"), {"question": question.strip(), "answer": answer}


def records_of(files, source):
    """(uri, line, reason, record) for every record of a source."""
    for uri, data in files[source]:
        rows = (
            jsonl_records(source, data)
            if source in JSON_SOURCES
            else order_rows(data)
            if source == "orders"
            else faq_pairs(data)
        )
        for line, reason, record in rows:
            yield uri, line, reason, record


@pytest.fixture(scope="module")
def valid(files):
    """source -> {record id -> record} of valid records (first occurrence; FAQ keyed by faq_id)."""
    by_source = {}
    for source in ("tickets", "reviews", "faq"):
        ids = {}
        for uri, line, reason, record in records_of(files, source):
            if reason is None:
                key = faq_id(uri, line) if source == "faq" else record[JSON_SOURCES[source]]
                ids.setdefault(key, record)
        by_source[source] = ids
    return by_source


def field_value(record: dict, field: str) -> str:
    m = re.fullmatch(r"messages\[(\d+)\]\.text", field)
    return record["messages"][int(m.group(1))]["text"] if m else record[field]


def visible_text(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


# -- layout, determinism, counts ---------------------------------------------------------------------------


def test_rerun_gives_identical_bytes_and_another_seed_does_not(run, files, tmp_path):
    out, manifest = run
    again = generate(out, DS, RECORDS, seed=7)  # into the same place: replaces the partitions
    assert again == manifest
    root = Path(out.removeprefix("file://"))
    for source, entries in files.items():
        reread = sorted((root / source / f"ds={DS}").iterdir())
        assert [f"file://{p}" for p in reread] == [uri for uri, _ in entries]
        for path, info in zip(reread, manifest["counts"][source]["files"], strict=True):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"]
    other = generate(f"file://{tmp_path}/other", DS, RECORDS, seed=8)
    assert [f["sha256"] for f in other["counts"]["tickets"]["files"]] != [
        f["sha256"] for f in manifest["counts"]["tickets"]["files"]
    ]


def test_layout_chunking_gzip_and_manifest_file(run, files):
    out, manifest = run
    assert json.loads(Path(manifest_uri(out, DS).removeprefix("file://")).read_text()) == manifest
    assert sorted(p.name for p in Path(out.removeprefix("file://")).iterdir()) == [
        "_manifests",
        "faq",
        "orders",
        "reviews",
        "tickets",
    ]  # no staging litter left behind
    for source, entries in files.items():
        listed = manifest["counts"][source]["files"]
        assert [f["uri"] for f in listed] == [uri for uri, _ in entries]
        assert len(listed) >= 4
        for index, info in enumerate(listed):
            assert FILE_NAME.search(info["uri"]), info["uri"]
            assert info["gzip"] == ((index + 1) % 3 == 0) == info["uri"].endswith(".gz")
            assert info["records"] <= 50_000
    assert all(f["records"] <= 338 for f in manifest["counts"]["tickets"]["files"])  # ceil(1350 / 4)


def test_counts_match_the_files(run, files):
    _, manifest = run
    counts = manifest["counts"]
    assert sum(c["records"] for c in counts.values()) == RECORDS
    assert {s: c["records"] for s, c in counts.items()} == {
        "tickets": 1350,
        "faq": 150,
        "reviews": 900,
        "orders": 600,
    }
    for source in counts:
        rows = list(records_of(files, source))
        per_file = Counter(uri for uri, *_ in rows)
        assert [per_file[f["uri"]] for f in counts[source]["files"]] == [f["records"] for f in counts[source]["files"]]
        bad = sum(1 for *_, reason, _ in rows if reason)
        assert (counts[source]["records"], counts[source]["malformed"]) == (len(rows), bad)
        assert counts[source]["valid"] == len(rows) - bad


def test_every_malformed_record_is_listed_with_its_reason_and_nothing_else_is(run, files):
    _, manifest = run
    for source in manifest["counts"]:
        found = {(uri, line): reason for uri, line, reason, _ in records_of(files, source) if reason}
        listed = {(m["file"], m["line"]): m["reason"] for m in manifest["malformed"] if m["source"] == source}
        assert listed == found, source
    reasons = defaultdict(set)
    for m in manifest["malformed"]:
        assert m["reason"] in REASONS
        reasons[m["source"]].add(m["reason"])
    json_reasons = {"invalid_utf8", "malformed_record", "missing_field", "wrong_type", "invalid_value"}
    assert reasons == {
        "tickets": json_reasons,
        "reviews": json_reasons,
        "faq": {"invalid_utf8", "missing_field"},
        "orders": {"invalid_utf8", "malformed_record", "missing_field", "invalid_value", "bad_header"},
    }
    assert 0.015 * RECORDS <= len(manifest["malformed"]) <= 0.03 * RECORDS
    details = Counter(m["source"] for m in {(m["source"], m["detail"]): m for m in manifest["malformed"]}.values())
    assert details["tickets"] >= 18 and details["reviews"] >= 15 and details["orders"] >= 8  # varied breakage


def test_bad_header_file_is_the_last_orders_file(run, files):
    _, manifest = run
    last_uri, data = files["orders"][-1]
    assert tuple(data.split(b"\r\n")[0].decode().split(",")) != ORDERS_HEADER
    bad = [m for m in manifest["malformed"] if m["reason"] == "bad_header"]
    assert bad and {m["file"] for m in bad} == {last_uri}
    assert sorted(m["line"] for m in bad) == list(range(2, len(bad) + 2))


# -- personal data -----------------------------------------------------------------------------------------


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _iban_ok(value: str) -> bool:
    compact = value.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _shape(value: str) -> str:
    return re.sub(r"[A-Za-z]", "a", re.sub(r"\d", "9", value))


def test_every_planted_value_is_verbatim_in_its_valid_record(run, valid):
    _, manifest = run
    assert manifest["pii"]
    for item in manifest["pii"]:
        record = valid[item["source"]].get(item["record_id"])
        assert record is not None, item  # only valid records carry personal data
        text = record["answer"] if item["source"] == "faq" else field_value(record, item["field"])
        assert item["value"] in text, item
        if item["type"] == "PERSON":
            assert item["value"] in (record["customer"]["name"], record["customer"]["name"].split()[0])


def test_every_type_in_several_formats_and_values_are_valid(run):
    _, manifest = run
    by_type = defaultdict(list)
    for item in manifest["pii"]:
        by_type[item["type"]].append(item["value"])
    assert set(by_type) == set(PII_TYPES)
    for pii_type, values in by_type.items():
        assert len({_shape(v) for v in values}) >= 2, pii_type
    assert len({_shape(v) for v in by_type["PHONE"]}) >= 5
    for card in by_type["CREDIT_CARD"]:
        digits = re.sub(r"[ -]", "", card)
        assert digits.isdigit() and 13 <= len(digits) <= 19 and _luhn(digits), card
    assert {len(re.sub(r"[ -]", "", c)) for c in by_type["CREDIT_CARD"]} >= {13, 15, 16, 19}
    assert any(" " in c for c in by_type["CREDIT_CARD"]) and any("-" in c for c in by_type["CREDIT_CARD"])
    for iban in by_type["IBAN"]:
        assert re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9 ]+", iban) and _iban_ok(iban), iban
    assert any(" " in v for v in by_type["IBAN"]) and any(" " not in v for v in by_type["IBAN"])
    for ssn in by_type["SSN"]:
        area, group, serial = re.split(r"[- ]", ssn)
        assert 1 <= int(area) <= 899 and area != "666" and group != "00" and serial != "0000", ssn
    versions = {ipaddress.ip_address(v).version for v in by_type["IP_ADDRESS"]}
    assert versions == {4, 6} and any("::" in v for v in by_type["IP_ADDRESS"])
    secrets = by_type["SECRET"]
    assert any(re.fullmatch(r"AKIA[0-9A-Z]{16}", s) for s in secrets)
    assert any(re.fullmatch(r"ghp_[A-Za-z0-9]{36}", s) for s in secrets)
    assert any(s.startswith("api_key=") for s in secrets) and any(s.startswith("password: ") for s in secrets)
    for email in by_type["EMAIL"]:
        assert re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", email), email


def test_rates_and_own_fields_of_personal_data(run, valid):
    _, manifest = run
    pii = [p for p in manifest["pii"] if p["source"] == "tickets"]
    tickets_with = {p["record_id"] for p in pii}
    assert 0.10 <= len(tickets_with) / manifest["counts"]["tickets"]["valid"] <= 0.15
    reviews_with = {p["record_id"] for p in manifest["pii"] if p["source"] == "reviews"}
    assert 0.03 <= len(reviews_with) / manifest["counts"]["reviews"]["valid"] <= 0.08
    assert any(p["source"] == "faq" for p in manifest["pii"])
    own_emails = [
        p for p in pii if p["type"] == "EMAIL" and p["value"] == valid["tickets"][p["record_id"]]["customer"]["email"]
    ]
    greetings = [p for p in pii if p["type"] == "PERSON" and " " not in p["value"]]
    assert own_emails and greetings
    for p in greetings:
        assert re.search(
            rf"\b(Hi|Hello|Dear|Good morning) {re.escape(p['value'])},",
            field_value(valid["tickets"][p["record_id"]], p["field"]),
        )


def test_records_without_planted_items_carry_no_personal_data(run, valid):
    _, manifest = run
    planted = {p["record_id"] for p in manifest["pii"]} | {i["record_id"] for i in manifest["injections"]}
    digit_runs = re.compile(r"\d[\d -]{10,22}\d")
    for source in ("tickets", "reviews"):
        for record_id, record in valid[source].items():
            if record_id in planted:
                continue
            if source == "tickets":
                texts = [m["text"] for m in record["messages"]] + [
                    record.get("subject") or "",
                    record.get("resolution") or "",
                ]
                name = record["customer"].get("name")
            else:
                texts, name = [record.get("title") or "", record["body"]], None
            for text in texts:
                assert "@" not in text and "AKIA" not in text and "ghp_" not in text, (record_id, text)
                if name:
                    assert not re.search(rf"\b({re.escape(name.split()[0])}|{re.escape(name.split()[-1])})\b", text)
                for run_ in digit_runs.findall(text):
                    digits = re.sub(r"\D", "", run_)
                    assert not (13 <= len(digits) <= 19 and _luhn(digits)), (record_id, run_)


# -- duplicates and similarity -----------------------------------------------------------------------------


def test_jaccard_definition():
    assert jaccard("a b c d", "a b c e") == pytest.approx(1 / 3)  # {abc, bcd} vs {abc, bce}
    assert jaccard("Ｈello,  WORLD foo!", "hello world foo") == 1.0  # NFKC, case and punctuation ignored
    assert jaccard("one two three", "four five six") == 0.0
    assert dedup_text("reviews", {"title": "T", "body": "B"}) == "T\nB"
    assert dedup_text("tickets", {"messages": [{"text": "x"}, {"text": "y"}]}) == "x\ny"


def test_exact_duplicates(run, files, valid):
    _, manifest = run
    dups = manifest["exact_duplicates"]
    kinds = Counter(d["kind"] for d in dups)
    assert kinds["redelivery"] and kinds["new_id"]
    assert {d["source"] for d in dups} == {"tickets", "reviews"}
    for source, id_field in JSON_SOURCES.items():
        share = sum(d["source"] == source for d in dups) / manifest["counts"][source]["records"]
        assert 0.01 <= share <= 0.03, source
        lines_by_id = defaultdict(list)
        for uri, data in files[source]:
            for _, reason, record in jsonl_records(source, data):
                if reason is None:
                    lines_by_id[record[id_field]].append((uri, json.dumps(record)))
        for d in (d for d in dups if d["source"] == source):
            original, duplicate = valid[source][d["original_id"]], valid[source][d["duplicate_id"]]
            assert {**original, id_field: None} == {**duplicate, id_field: None}
            if d["kind"] == "redelivery":
                (uri_a, line_a), (uri_b, line_b) = lines_by_id[d["original_id"]]
                assert line_a == line_b and uri_a != uri_b
            else:
                assert d["original_id"] != d["duplicate_id"] and len(lines_by_id[d["duplicate_id"]]) == 1


def test_near_duplicates_within_bounds(run, valid):
    _, manifest = run
    near = manifest["near_duplicates"]
    for source in JSON_SOURCES:
        share = sum(d["source"] == source for d in near) / manifest["counts"][source]["records"]
        assert 0.01 <= share <= 0.03, source
    for d in near:
        original, duplicate = valid[d["source"]][d["original_id"]], valid[d["source"]][d["duplicate_id"]]
        score = jaccard(dedup_text(d["source"], original), dedup_text(d["source"], duplicate))
        assert 0.8 <= score <= 0.97 and score == pytest.approx(d["jaccard"], abs=1e-4), d


def test_no_duplicate_carries_planted_items(run):
    _, manifest = run
    duplicated = {
        d[k]
        for d in manifest["exact_duplicates"] + manifest["near_duplicates"]
        for k in ("original_id", "duplicate_id")
    }
    planted = (
        {p["record_id"] for p in manifest["pii"]}
        | {i["record_id"] for i in manifest["injections"]}
        | {n["record_id"] for n in manifest["non_english"]}
        | {h["record_id"] for h in manifest["html_noise"]}
    )
    assert not duplicated & planted


def test_distinct_records_are_far_from_near_duplicates(run, valid):
    _, manifest = run
    duplicated = {
        d[k]
        for d in manifest["exact_duplicates"] + manifest["near_duplicates"]
        for k in ("original_id", "duplicate_id")
    }
    rng = random.Random(0)
    for source in ("tickets", "reviews", "faq"):
        ids = sorted(set(valid[source]) - duplicated)
        texts = [dedup_text(source, valid[source][i]) for i in rng.sample(ids, min(150, len(ids)))]
        worst = max(jaccard(a, b) for a, b in itertools.combinations(texts, 2))
        assert worst < 0.6, (source, worst)


# -- languages, injections, markup, text shape -------------------------------------------------------------

STOP_WORDS = {
    "es": {"el", "la", "y", "que", "de", "mi", "con", "por", "no", "lo"},
    "de": {"der", "die", "und", "ich", "ist", "mit", "nicht", "das", "sie", "es"},
    "fr": {"le", "la", "et", "je", "de", "il", "pas", "mon", "est", "vous"},
}


def test_non_english_records(run, valid):
    _, manifest = run
    entries = manifest["non_english"]
    for source in JSON_SOURCES:
        share = sum(e["source"] == source for e in entries) / manifest["counts"][source]["valid"]
        assert 0.03 <= share <= 0.08, source
    assert {e["lang"] for e in entries} == {"es", "de", "fr"}
    for e in entries:
        record = valid[e["source"]][e["record_id"]]
        text = record["messages"][0]["text"] if e["source"] == "tickets" else record["body"]
        words = re.findall(r"\w+", text.lower())
        assert sum(w in STOP_WORDS[e["lang"]] for w in words) >= 3, (e, text)
    declared = Counter(
        valid["reviews"][e["record_id"]].get("lang") == e["lang"] for e in entries if e["source"] == "reviews"
    )
    assert declared[True] and declared[False]  # the lang field is sometimes absent or wrong


def test_injections_are_verbatim_and_varied(run, valid):
    _, manifest = run
    injections = manifest["injections"]
    for source in JSON_SOURCES:
        share = sum(i["source"] == source for i in injections) / manifest["counts"][source]["valid"]
        assert 0.004 <= share <= 0.02, source
    assert len({i["pattern"] for i in injections}) >= 5
    for i in injections:
        assert i["text"] in field_value(valid[i["source"]][i["record_id"]], i["field"])


def test_markup_noise(run, files, valid):
    _, manifest = run
    noisy = manifest["html_noise"]
    email = [t for t in valid["tickets"].values() if t["channel"] == "email"]
    assert 0.05 <= len(noisy) / len(email) <= 0.15
    for n in noisy:
        record = valid["tickets"][n["record_id"]]
        assert record["channel"] == "email" and all("<p>" in m["text"] for m in record["messages"])
    pages = b"".join(data for _, data in files["faq"])
    for noise in (
        b"<script",
        b"<style",
        b"<nav",
        b"<footer",
        b"&amp;",
        b"<dt>",
        b"<h2",
        b"<h3",
        b"<ol>",
        b"<ul>",
    ):
        assert noise in pages


def test_ticket_messages_are_sized_and_replies_are_real(valid):
    for ticket in valid["tickets"].values():
        messages = ticket["messages"]
        for m in messages:
            assert 15 <= len(re.findall(r"\w+", visible_text(m["text"]))) <= 120, m["text"]
        for question, answer in zip(messages[::2], messages[1::2], strict=False):
            assert answer["role"] == "agent" and len(answer["text"]) >= 20 and answer["text"] != question["text"]


def _templates(obj):
    if isinstance(obj, Template):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _templates(value)
    elif isinstance(obj, (tuple, list)):
        for value in obj:
            yield from _templates(value)


def test_template_language():
    t = Template("a [b|c [d|e {x}]|] \\[INST\\] {y}.")
    rng = random.Random(3)
    outputs = {t.render(rng, {"x": "X", "y": "Y"}) for _ in range(200)}
    assert outputs == {"a b [INST] Y.", "a c d [INST] Y.", "a c e X [INST] Y.", "a  [INST] Y."}
    assert t.slots() == {"x", "y"}
    with pytest.raises(ValueError, match="unclosed"):
        Template("a [b|c")


def test_every_template_uses_known_slots_and_renders_clean_text():
    names = sorted(p.stem for p in TEXTS.glob("*.yaml") if p.stem not in ("world", "defects"))
    assert names == ["faq", "i18n", "planted", "reviews", "tickets"]
    found = [t for name in names for t in _templates(texts(name))]
    assert len(found) > 300
    products, rng = build_products(), random.Random(1)
    sloppy = re.compile(r"  | [,.!;:]|\.\.|[\[\]{}]")  # French " ?" is correct typography
    for template in found:
        assert template.slots() <= SLOT_NAMES | {"v"}, template
        for _ in range(20):
            slots = Slots(rng, dt.date(2026, 11, 22), products[int(rng.random() * len(products))], products)
            slots["v"] = "VALUE"
            text = template.render(rng, slots)
            assert "INST" in template.source or not sloppy.search(text), text


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="records"):
        generate(f"file://{tmp_path}", DS, 10)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        generate(f"file://{tmp_path}", "22.11.2026", 1000)
    with pytest.raises(ValueError, match="not a local"):
        generate("s3a://bucket/raw", DS, 1000)
    assert not any(tmp_path.iterdir())


def test_command_line_writes_the_sample_and_rejects_a_bad_date(tmp_path, capsys):
    from llmops_demo.__main__ import main

    assert main(["--out", f"file://{tmp_path}", "--ds", DS, "--records", "500", "--seed", "3"]) == 0
    assert "wrote 500 records" in capsys.readouterr().out
    assert json.loads(Path(manifest_uri(f"file://{tmp_path}", DS).removeprefix("file://")).read_text())["seed"] == 3
    with pytest.raises(SystemExit) as exc:
        main(["--out", f"file://{tmp_path}/other", "--ds", "22.11.2026", "--records", "500"])
    assert exc.value.code == 2 and not (tmp_path / "other").exists()
