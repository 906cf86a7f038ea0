"""Per-source cleaning of Arrow record batches (run inside ``mapInArrow`` by the clean job).

Every free-text field goes through the same chain: HTML to text, NFKC + whitespace collapse,
personal-data masking (with the record's own customer name and e-mail as extra literals). Each
record also gets its language (detected, with the declared ``lang`` as evidence where the source
has one), the text that dedup hashes and shingles, and a prompt-injection flag with the first rule
that matched.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from llmops.masking.pii import mask_pii
from llmops.screening.injection import flag_injection
from llmops.screening.langid import LanguagePolicy, detect_language
from spark_jobs.transforms.text import dedup_key_text, html_to_text, normalize

Counts = dict[str, int]


def clean_text(arr: pa.Array, person_values: pa.Array | None, counts: Counts) -> pa.Array:
    masked, found = mask_pii(normalize(html_to_text(arr)), person_values)
    for kind, n in found.items():
        counts[kind] = counts.get(kind, 0) + n
    return masked


def _clean_messages(messages: pa.ListArray, person_values: pa.Array | None, counts: Counts) -> pa.ListArray:
    """Clean ``text`` inside list<struct<role, text, ts>>, keeping roles, timestamps and offsets."""
    flat = messages.flatten()
    parents = pc.list_parent_indices(messages)
    pv = person_values.take(parents) if person_values is not None else None
    text = clean_text(flat.field("text"), pv, counts)
    items = pa.StructArray.from_arrays([flat.field("role"), text, flat.field("ts")], fields=list(flat.type))
    return _list_of(messages, items)


def _list_of(like: pa.ListArray, values: pa.Array) -> pa.ListArray:
    """A list array with the shape of ``like`` (a possibly sliced batch column) over ``values``."""
    offsets = pc.subtract(like.offsets, like.offsets[0])
    return pa.ListArray.from_arrays(offsets, values, mask=like.is_null())


def _person_values(customer: pa.StructArray) -> pa.Array:
    """Per row: [full name, first name, e-mail] of the ticket's customer (nulls dropped)."""
    name, email = customer.field("name"), customer.field("email")
    first = pc.list_element(pc.split_pattern(pc.fill_null(name, ""), " ", max_splits=1), 0)
    rows = [
        [v for v in (n, f, e) if v and len(v) > 1]
        for n, f, e in zip(name.to_pylist(), first.to_pylist(), email.to_pylist(), strict=True)
    ]
    return pa.array(rows, type=pa.list_(pa.string()))


def _join_lines(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*[pc.fill_null(p, "") for p in parts], "\n")


def _finish(
    columns: dict[str, pa.Array],
    main_text: pa.Array,
    flagged_texts: list[pa.Array],
    policy: LanguagePolicy,
    declared_lang: pa.Array | None = None,
) -> pa.RecordBatch:
    flag = pa.array([False] * len(main_text))
    rule = pa.nulls(len(main_text), pa.string())
    for text in flagged_texts:
        hit, which = flag_injection(text)
        rule = pc.if_else(pc.and_(hit, pc.invert(flag)), which, rule)
        flag = pc.or_(flag, hit)
    columns.update(
        lang=detect_language(main_text, declared_lang, policy),
        dedup_text=dedup_key_text(main_text),
        is_suspicious=flag,
        suspicious_rule=rule,
    )
    return pa.RecordBatch.from_pydict(columns)


def clean_tickets(batch: pa.RecordBatch, counts: Counts, policy: LanguagePolicy) -> pa.RecordBatch:
    customer = batch.column("customer")
    pv = _person_values(customer)
    subject = clean_text(batch.column("subject"), pv, counts)
    resolution = clean_text(batch.column("resolution"), pv, counts)
    messages = _clean_messages(batch.column("messages"), pv, counts)
    texts = pc.binary_join(_list_of(messages, pc.fill_null(messages.flatten().field("text"), "")), "\n")
    cols = {
        "ticket_id": batch.column("ticket_id"),
        "created_at": batch.column("created_at"),
        "channel": batch.column("channel"),
        "customer_id": customer.field("id"),
        "subject": subject,
        "messages": messages,
        "resolution": resolution,
        "_source_file": batch.column("_source_file"),
        "_line": batch.column("_line"),
    }
    return _finish(cols, texts, [subject, texts, resolution], policy)


def clean_faq(batch: pa.RecordBatch, counts: Counts, policy: LanguagePolicy) -> pa.RecordBatch:
    title = clean_text(batch.column("page_title"), None, counts)
    question = clean_text(batch.column("question"), None, counts)
    answer = clean_text(batch.column("answer_html"), None, counts)
    cols = {
        "faq_id": batch.column("faq_id"),
        "page_title": title,
        "question": question,
        "answer": answer,
        "_source_file": batch.column("_source_file"),
        "_line": batch.column("_line"),
    }
    return _finish(cols, _join_lines(question, answer), [question, answer], policy)


def clean_reviews(batch: pa.RecordBatch, counts: Counts, policy: LanguagePolicy) -> pa.RecordBatch:
    title = clean_text(batch.column("title"), None, counts)
    body = clean_text(batch.column("body"), None, counts)
    cols = {
        "review_id": batch.column("review_id"),
        "product_id": batch.column("product_id"),
        "rating": batch.column("rating"),
        "title": title,
        "body": body,
        "created_at": batch.column("created_at"),
        "_source_file": batch.column("_source_file"),
        "_line": batch.column("_line"),
    }
    return _finish(cols, _join_lines(title, body), [title, body], policy, batch.column("lang"))


CLEANERS: dict[str, Callable[[pa.RecordBatch, Counts, LanguagePolicy], pa.RecordBatch]] = {
    "tickets": clean_tickets,
    "faq": clean_faq,
    "reviews": clean_reviews,
}
