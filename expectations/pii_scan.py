"""The silver/gold gates' independent "no raw personal data" check: Presidio's own recognizers and libphonenumber.

The gates' regex check (``suites.no_raw_personal_data``) uses the masker's own patterns, so whatever the
masker misses, it misses too. This scan shares nothing with the masker: Presidio's predefined recognizers
(e-mail, credit card with Luhn, IBAN with mod-97, US SSN, IP address) and its libphonenumber-based phone
recognizer over ``phone_regions``, on a blank spaCy pipeline so nothing is downloaded. Findings below
``min_score`` are dropped: Presidio scores a bare nine-digit run as a "very weak" SSN (0.05) and a phone
without a phone word next to it at 0.4 (it takes order ids like ORD-COS-0212838 for phones).

Presidio raises a score when a context word stands near the value, comparing token lemmas; a blank pipeline
has no lemmatizer, so one component sets each token's lemma to its lower-cased text. Context words match
whole words (Presidio's default, substrings, takes "tel" in "Bestellung" and "phone" in "iPhone"), and the
phone recognizer's leave out Presidio's "number" ("order number ORD-..." is the common case in support text).

Fail closed: any error while building the analyzer or scanning raises ``PiiScanError``; the gate turns it
into an error verdict, never into "nothing found".
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Presidio's entity -> the raw-landing contract's type
PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "SSN",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP_ADDRESS",
}
_MAX_IDS = 5  # row ids kept per finding
# ("call" is a spaCy stop word, which Presidio skips when it looks for context)
_PHONE_CONTEXT = ["phone", "telephone", "tel", "cell", "cellphone", "mobile", "fax", "landline", "whatsapp", "hotline"]
_LEMMA_COMPONENT = "llmops_lower_lemma"


class PiiScanError(RuntimeError):
    """The independent scan could not run: the gate cannot say the data is free of personal data."""


@dataclass
class Finding:
    """Values of one contract type found in one column: how many, and in which rows (ids, never values)."""

    count: int = 0
    ids: list[str] = field(default_factory=list)


class PresidioScanner:
    """An offline Presidio analyzer restricted to the contract's types."""

    def __init__(self, phone_regions: Sequence[str], min_score: float, work_dir: Path | None = None):
        try:
            self._analyzer = _analyzer(tuple(phone_regions), str(work_dir or _default_work_dir()))
        except Exception as exc:  # noqa: BLE001 - any failure to build it means the gate cannot run
            raise PiiScanError(f"cannot build the Presidio analyzer: {type(exc).__name__}: {exc}") from exc
        self.min_score = min_score

    def types_found(self, texts: Sequence[str]) -> list[set[str]]:
        """Per text, the contract types Presidio finds in it at ``min_score`` or above."""
        try:
            results = [
                self._analyzer.analyze(
                    text=text, language="en", entities=list(PRESIDIO_TYPES), score_threshold=self.min_score
                )
                for text in texts
            ]
        except Exception as exc:  # noqa: BLE001 - an analyzer error is no "nothing found"
            raise PiiScanError(f"Presidio failed while scanning: {type(exc).__name__}: {exc}") from exc
        return [{PRESIDIO_TYPES[r.entity_type] for r in found} for found in results]

    def scan(self, rows: Sequence[tuple[str, str]]) -> dict[str, Finding]:
        """(row id, text) pairs -> contract type -> finding; types with nothing found are absent."""
        findings: dict[str, Finding] = {}
        for (row_id, _), kinds in zip(rows, self.types_found([text for _, text in rows]), strict=True):
            for kind in sorted(kinds):
                finding = findings.setdefault(kind, Finding())
                finding.count += 1
                if len(finding.ids) < _MAX_IDS:
                    finding.ids.append(row_id)
        return findings


def _default_work_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"llmops-pii-scan-{os.getuid()}"


def _lower_lemma(doc: Any) -> Any:
    for token in doc:
        token.lemma_ = token.lower_
    return doc


@functools.cache
def _analyzer(phone_regions: tuple[str, ...], work_dir: str) -> Any:
    """Presidio's predefined English recognizers on a blank spaCy pipeline, phones over ``phone_regions``.

    Presidio's e-mail check calls tldextract, whose default extractor fetches the public suffix list from the
    network and caches it under ~/.cache: it is replaced by one that uses the bundled snapshot.
    """
    root = Path(work_dir)
    root.mkdir(parents=True, exist_ok=True)
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    os.environ.setdefault("TLDEXTRACT_CACHE", str(root / "tldextract"))
    import spacy  # noqa: PLC0415 - heavy, only when a gate scans
    import tldextract.tldextract  # noqa: PLC0415 - after the environment above
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: PLC0415
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer  # noqa: PLC0415
    from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: PLC0415
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer  # noqa: PLC0415

    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
        cache_dir=str(root / "tldextract"), suffix_list_urls=()
    )
    if not spacy.language.Language.has_factory(_LEMMA_COMPONENT):
        spacy.language.Language.component(_LEMMA_COMPONENT, func=_lower_lemma)
    model = root / f"spacy_blank_lemma_en_{spacy.__version__}"
    if not (model / "meta.json").exists():
        staging = model.with_name(f"{model.name}.{os.getpid()}")
        nlp = spacy.blank("en")
        nlp.add_pipe(_LEMMA_COMPONENT)
        nlp.to_disk(staging)
        try:
            os.rename(staging, model)
        except OSError:  # a concurrent gate built it first
            if not (model / "meta.json").exists():
                raise
    nlp_engine = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": str(model)}]}
    ).create_engine()
    presidio_log = logging.getLogger("presidio-analyzer")
    level = presidio_log.level
    presidio_log.setLevel(logging.ERROR)  # a line per recognizer loaded or skipped otherwise
    try:
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(nlp_engine=nlp_engine, languages=["en"])
        registry.remove_recognizer("PhoneRecognizer")
        registry.add_recognizer(PhoneRecognizer(context=_PHONE_CONTEXT, supported_regions=phone_regions))
    finally:
        presidio_log.setLevel(level)
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        context_aware_enhancer=LemmaContextAwareEnhancer(context_matching_mode="whole_word"),
    )
