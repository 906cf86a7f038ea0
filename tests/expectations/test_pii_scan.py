"""The gates' independent personal-data scan (Presidio + libphonenumber), without Spark."""

from __future__ import annotations

import pyarrow as pa
import pytest

from expectations import pii_scan
from expectations.pii_scan import PiiScanError, PresidioScanner
from llmops.config import DataSettings
from llmops.masking.pii import mask_pii

DATA = DataSettings()


@pytest.fixture(scope="module")
def scanner(tmp_path_factory) -> PresidioScanner:
    return PresidioScanner(DATA.pii_scan_phone_regions, DATA.pii_scan_min_score, tmp_path_factory.mktemp("presidio"))


def test_raw_values_are_found_by_type_with_row_ids_never_values(scanner):
    rows = [
        ("R1", "Write to maria.lopez@example.org please."),
        ("R2", "Card 4111 1111 1111 1111 was charged twice; my mobile is (415) 555-0132."),
        ("R3", "Refund to DE89 3704 0044 0532 0130 00."),
        ("R4", "All fine, thanks!"),
    ]
    findings = scanner.scan(rows)
    assert {kind: (f.count, f.ids) for kind, f in findings.items()} == {
        "EMAIL": (1, ["R1"]),
        "CREDIT_CARD": (1, ["R2"]),
        "PHONE": (1, ["R2"]),
        "IBAN": (1, ["R3"]),
    }


def test_it_catches_what_the_masker_misses(scanner):
    """Not the masker's patterns: the IPv6 loopback ``::1`` passes the masker and is still caught here."""
    text = "The app on my laptop talks to ::1 and to 10.0.0.1 only."
    masked = mask_pii(pa.array([text]))[0][0].as_py()
    assert "::1" in masked and "[IP_ADDRESS]" in masked
    assert scanner.types_found([masked]) == [{"IP_ADDRESS"}]


def test_masked_text_and_order_ids_pass(scanner):
    texts = [
        "Call me on [PHONE] or write to [EMAIL]; card [CREDIT_CARD], IBAN [IBAN].",
        "Order ORD-COS-0212838 arrived damaged, the invoice is 2026/000123.",
    ]
    assert scanner.types_found(texts) == [set(), set()]


def test_an_analyzer_error_fails_closed(scanner, monkeypatch):
    def broken(**_):
        raise RuntimeError("recognizer crashed")

    monkeypatch.setattr(scanner._analyzer, "analyze", broken)
    with pytest.raises(PiiScanError, match="recognizer crashed"):
        scanner.scan([("R1", "hello")])


def test_an_analyzer_that_cannot_be_built_fails_closed(tmp_path, monkeypatch):
    def no_spacy(*_):
        raise OSError("spaCy pipeline unreadable")

    monkeypatch.setattr(pii_scan, "_analyzer", no_spacy)
    with pytest.raises(PiiScanError, match="cannot build the Presidio analyzer.*unreadable"):
        PresidioScanner(["US"], 0.5, tmp_path)
