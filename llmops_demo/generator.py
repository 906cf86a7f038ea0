"""Deterministic sample data for the raw landing zone, with planted defects listed in a manifest.

``generate`` writes ``<out>/<source>/ds=<ds>/part-NNNNN.<ext>[.gz]`` for tickets (JSONL), faq (HTML),
reviews (JSONL) and orders (CSV), streaming records into files of at most 50,000 records, then swaps
each partition in atomically and writes the manifest (schema: llmops_demo.manifest). The same
arguments always produce the same bytes: every random choice comes from a seeded ``random.Random``
(one per source, so sources do not shift each other), nothing reads the clock and nothing uses
``hash()``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import Counter

from llmops import lake
from llmops_demo import defects
from llmops_demo.catalog import build_customers, build_products
from llmops_demo.duplicates import OriginalsPool, near_duplicate
from llmops_demo.faq import POISON, FaqFactory
from llmops_demo.grammar import pick
from llmops_demo.manifest import Manifest, faq_id
from llmops_demo.model import RecordFactory
from llmops_demo.orders import HEADER_LINE, OrderFactory, csv_line
from llmops_demo.reviews import ReviewFactory
from llmops_demo.tickets import TicketFactory
from llmops_demo.writer import PartWriter

MAX_PER_FILE = 50_000
MIN_RECORDS = 500
SHARES = {"tickets": 0.45, "faq": 0.05, "reviews": 0.30}  # orders: the rest (~20%)
P_EXACT, P_NEAR = 0.02, 0.02  # of tickets and reviews
EXTENSIONS = {"tickets": "jsonl", "faq": "html", "reviews": "jsonl", "orders": "csv"}
CSV_LINES = {"header": HEADER_LINE, "newline": b"\r\n"}


def split_records(records: int) -> dict[str, int]:
    counts = {source: round(records * share) for source, share in SHARES.items()}
    counts["orders"] = records - sum(counts.values())
    return counts


def _per_file(n: int) -> int:
    """At least four files per source even for small runs, so multi-file behaviour (gzip, re-delivery
    into a later file) is always exercised; never more than MAX_PER_FILE records in one."""
    return max(1, min(MAX_PER_FILE, math.ceil(n / 4)))


def _malformed_plan(rng: random.Random, n: int, k: int, variants: list[defects.Variant]) -> dict[int, defects.Variant]:
    """``k`` positions out of ``n``, each with a variant: every reason at least once, then every
    variant before any repeats."""
    by_reason: dict[str, list[defects.Variant]] = {}
    for v in variants:
        by_reason.setdefault(v[0], []).append(v)
    chosen = [pick(rng, group) for group in by_reason.values()]
    rest = [v for v in variants if v not in chosen]
    rng.shuffle(rest)
    order = chosen + rest
    while len(chosen) < k:
        chosen.append(order[len(chosen) % len(order)])
    positions = rng.sample(range(n), len(chosen))
    return dict(zip(positions, chosen, strict=True))


def _dump(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def _write_duplicate(r: float, rng: random.Random, pool: OriginalsPool, factory: RecordFactory, writer: PartWriter,
                     manifest: Manifest) -> bool:
    """An exact (``r < P_EXACT``) or near duplicate of a pooled record; False when none could be made."""
    drawn = pool.draw()
    if drawn is None:
        return False
    source, id_field = factory.source, factory.id_field
    original, original_line, original_file = drawn
    original_id = original[id_field]
    if r < P_EXACT and original_file < writer.file_index and rng.random() < 0.5:
        writer.write(original_line)  # re-delivered: same id, same bytes, a later file
        manifest.add_exact(source, original_id, original_id, "redelivery")
        return True
    new_id = factory.new_id()
    if r < P_EXACT:
        writer.write(_dump({**original, id_field: new_id}))
        manifest.add_exact(source, original_id, new_id, "new_id")
        return True
    near = near_duplicate(rng, source, original, new_id, id_field)
    if near is None:
        return False
    writer.write(_dump(near[0]))
    manifest.add_near(source, original_id, new_id, near[1])
    return True


def _json_source(factory: RecordFactory, n: int, writer: PartWriter, manifest: Manifest, rng: random.Random,
                 rate: float, variants: list[defects.Variant]) -> None:
    """Tickets or reviews: valid records with planted items, duplicates, and malformed lines."""
    source, id_field = factory.source, factory.id_field
    k = max(len({v[0] for v in variants}), round(rate * n))
    plan = _malformed_plan(rng, n, k, variants) if rate else {}
    pool = OriginalsPool(rng)
    for i in range(n):
        variant = plan.get(i)
        if variant is not None:
            reason, detail, breaker = variant
            record = factory.build(factory.new_id(), plain=True).record
            uri, line = writer.write(breaker(rng, record))
            manifest.add_malformed(source, uri, line, reason, detail)
            continue
        r = rng.random()
        if r < P_EXACT + P_NEAR and _write_duplicate(r, rng, pool, factory, writer, manifest):
            continue
        built = factory.build(factory.new_id())
        line = _dump(built.record)
        file_index = writer.file_index
        writer.write(line)
        manifest.add_built(source, built.record[id_field], built)
        if built.plain:
            pool.offer(built.record, line, file_index)


def _faq(factory: FaqFactory, n: int, writer: PartWriter, manifest: Manifest, rng: random.Random, rate: float) -> None:
    """FAQ pages of 8-15 pairs; some headings have no answer, some pages are not valid UTF-8."""
    k = max(len(defects.FAQ_REASONS), round(rate * n)) if rate else 0
    n_broken = max(1, k // 5) if k else 0
    remaining = n - n_broken
    missing = set(rng.sample(range(remaining), k - n_broken))
    broken_before = Counter(int(rng.random() * max(1, remaining // 11)) for _ in range(n_broken))

    def broken_page() -> None:
        html, _ = factory.page(1, poison=True)
        uri = writer.write_file(html.encode().replace(POISON.encode(), pick(rng, defects.INVALID_BYTES), 1), 1)
        manifest.add_malformed("faq", uri, 1, "invalid_utf8", "page is not valid UTF-8")

    done = page_no = 0
    while done < remaining:
        for _ in range(broken_before.pop(page_no, 0)):
            broken_page()
        size = min(remaining - done, 8 + int(rng.random() * 8))
        empty = frozenset(j - done + 1 for j in range(done, done + size) if j in missing)
        html, planted = factory.page(size, empty)
        uri = writer.write_file(html.encode(), size)
        manifest.valid("faq", size - len(empty))
        for index in sorted(empty):
            manifest.add_malformed("faq", uri, index, "missing_field", "heading without answer")
        for index, item in planted:
            manifest.add_pii("faq", faq_id(uri, index), item)
        done += size
        page_no += 1
    for _ in range(sum(broken_before.values())):
        broken_page()


def _orders(factory: OrderFactory, n: int, writer: PartWriter, manifest: Manifest, rng: random.Random,
            rate: float) -> None:
    """Order rows, some malformed, plus one extra file whose header is wrong (all its rows bad_header)."""
    n_bad_header = max(2, min(25, round(rate * n * 0.1))) if rate else 0
    n_rows = n - n_bad_header
    k = max(len({v[0] for v in defects.ORDER_VARIANTS}), round(rate * n) - n_bad_header) if rate else 0
    plan = _malformed_plan(rng, n_rows, k, defects.ORDER_VARIANTS) if k else {}
    for i in range(n_rows):
        fields = factory.row(factory.new_id())
        variant = plan.get(i)
        if variant is None:
            writer.write(csv_line(fields).rstrip("\r\n").encode())
            manifest.valid("orders")
            continue
        reason, detail, breaker = variant
        uri, line = writer.write(breaker(rng, fields))
        manifest.add_malformed("orders", uri, line, reason, detail)
    if n_bad_header:
        header = pick(rng, defects.BAD_HEADERS)
        rows = [csv_line(factory.row(factory.new_id())) for _ in range(n_bad_header)]
        uri = writer.write_file((csv_line(header) + "".join(rows)).encode(), n_bad_header)
        for line in range(2, n_bad_header + 2):
            manifest.add_malformed("orders", uri, line, "bad_header", f"header is {','.join(header)}")


def generate(out_uri: str, ds: str, records: int, seed: int = 7, malformed_rate: float = 0.02,
             gzip_every: int = 3) -> dict:
    """Write ``records`` raw records (all sources together) for ``ds`` under ``out_uri`` (file:///...)
    and return the manifest, also written to ``<out>/_manifests/ds=<ds>/manifest.json``."""
    lake.check_ds(ds)
    lake.local_path(out_uri)  # only local landing zones: fail before writing anything
    if records < MIN_RECORDS:
        raise ValueError(f"records must be >= {MIN_RECORDS} so every planted defect fits, got {records}")
    if not 0 <= malformed_rate <= 0.2:
        raise ValueError(f"malformed_rate must lie in [0, 0.2], got {malformed_rate}")
    if gzip_every < 0:
        raise ValueError(f"gzip_every must be >= 0 (0: never compress), got {gzip_every}")
    out_uri = out_uri.rstrip("/")
    day = dt.date.fromisoformat(ds)
    counts = split_records(records)
    products = build_products()
    customers = build_customers(random.Random(f"{seed}/customers"), max(500, records // 8))
    manifest = Manifest(ds=ds, seed=seed, records=records, malformed_rate=malformed_rate, gzip_every=gzip_every,
                        out=out_uri)

    def rng(source: str) -> random.Random:
        return random.Random(f"{seed}/{ds}/{source}")

    writers = {  # an FAQ page is one file
        source: PartWriter(out_uri, source, ds, ext, 1 if source == "faq" else _per_file(counts[source]), gzip_every,
                           **(CSV_LINES if source == "orders" else {}))
        for source, ext in EXTENSIONS.items()
    }
    try:  # one seeded stream per source, so sources do not shift each other
        r = rng("tickets")
        _json_source(TicketFactory(r, day, products, customers), counts["tickets"], writers["tickets"], manifest, r,
                     malformed_rate, defects.TICKET_VARIANTS)
        r = rng("faq")
        _faq(FaqFactory(r, day, products), counts["faq"], writers["faq"], manifest, r, malformed_rate)
        r = rng("reviews")
        _json_source(ReviewFactory(r, day, products), counts["reviews"], writers["reviews"], manifest, r,
                     malformed_rate, defects.REVIEW_VARIANTS)
        r = rng("orders")
        _orders(OrderFactory(r, day, products, customers), counts["orders"], writers["orders"], manifest, r,
                malformed_rate)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    for source, writer in writers.items():
        manifest.set_files(source, writer.publish())
    return manifest.write(out_uri, ds)
