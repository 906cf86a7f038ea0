"""The raw landing zone's contract in values: its sources, the allowed values of its fields, the orders
CSV header, and why a record is quarantined (docs: the raw-landing contract)."""

from __future__ import annotations

SOURCES = ("tickets", "faq", "reviews", "orders")

# Why a raw record was quarantined. Every rejected record carries one.
REASONS = {
    "invalid_utf8": "the record's bytes are not valid UTF-8",
    "malformed_record": "the line/row/element cannot be parsed (bad JSON, wrong column count, not an object)",
    "missing_field": "a required field is absent, null or empty",
    "wrong_type": "a field has the wrong JSON/CSV type",
    "invalid_value": "a value is out of range, not an allowed value, or not a valid timestamp/decimal",
    "bad_header": "a CSV file's header is not the contract's header",
    "too_long": "a free-text field is longer than data.max_text_chars (and data.oversized_text is quarantine)",
    "truncated_file": "a gzip file breaks off: the complete records before the break are kept, this is the break",
}

CHANNELS = ("email", "chat", "phone")
ROLES = ("customer", "agent")
ORDER_STATUSES = ("placed", "shipped", "delivered", "returned", "cancelled")
ORDERS_HEADER = ("order_id", "customer_id", "customer_email", "product", "status", "created_at", "total")
