"""Training-data leakage scan: Presidio, offline, with the project's own detectors as extra recognizers.

Presidio's default ``AnalyzerEngine`` downloads a spaCy model. Here a blank English pipeline (built once
and cached in the work directory) carries Presidio's predefined pattern recognizers, and every regex of
``llmops.contracts.personal_data.DETECTION_PATTERNS`` becomes a ``PatternRecognizer`` too: the scan then finds
at least what silver's masking and the data gates look for (secrets included, which Presidio has no
recognizer for) plus what Presidio finds on its own. Without NER there is no PERSON detection: names are
only known per record, in bronze.

Findings name the contract's type (EMAIL, PHONE...), the example id, the field, and a snippet in which
Presidio's anonymizer has replaced every detected value with ``<TYPE>``: raw values never leave this
module. The contract's placeholders (``[EMAIL]``...) are masked data and match no recognizer.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops import lake, lakefs
from llmops.contracts.personal_data import DETECTION_PATTERNS

# Presidio's predefined entity -> the raw-landing contract's type
PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "EMAIL",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "SSN",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP_ADDRESS",
}
OWN_RECOGNIZER_PREFIX = "llmops_"
# fields that identify or describe a record rather than hold its text
NON_TEXT_FIELDS = frozenset({"example_id", "id", "source", "source_ids", "source_file", "split", "group_key"})
_OWN_SCORE = 0.8
_MAX_IDS, _MAX_SAMPLES = 20, 5  # kept per type in a scan's summary
_SNIPPET_CHARS = 40  # context kept on each side of a finding


@dataclass(frozen=True)
class Detection:
    """One detected value in one text (overlapping hits of one type merged); offsets into that text."""

    kind: str
    start: int
    end: int
    score: float
    recognizers: tuple[str, ...]


class LeakageScanner:
    """Presidio analyzer + anonymizer set up to run offline.

    ``work_dir`` holds the blank spaCy pipeline and the tldextract cache. Presidio's e-mail check calls
    ``tldextract.extract``, whose default extractor would fetch the public suffix list from the network and
    cache it under ~/.cache. tldextract reads its settings from the environment when it is imported, which
    may have happened before this scanner exists: so the environment is set (for later imports) and the
    default extractor is replaced by one that uses the bundled suffix list snapshot and ``work_dir``.
    """

    def __init__(self, work_dir: Path, score_threshold: float = 0.4, batch_size: int = 256):
        work_dir = Path(work_dir)
        os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
        os.environ.setdefault("TLDEXTRACT_CACHE", str(work_dir / "tldextract"))
        import tldextract.tldextract  # noqa: PLC0415 - after the environment above

        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
            cache_dir=str(work_dir / "tldextract"), suffix_list_urls=()
        )
        from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine  # noqa: PLC0415
        from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: PLC0415
        from presidio_anonymizer import AnonymizerEngine  # noqa: PLC0415

        nlp_engine = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": str(_blank_pipeline(work_dir / "spacy_blank_en"))}],
            }
        ).create_engine()
        presidio_log = logging.getLogger("presidio-analyzer")
        level = presidio_log.level
        presidio_log.setLevel(logging.ERROR)  # a line per recognizer loaded, skipped or removed otherwise
        try:
            registry = _registry(nlp_engine)
        finally:
            presidio_log.setLevel(level)
        analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
        self._batch = BatchAnalyzerEngine(analyzer)
        self._anonymizer = AnonymizerEngine()
        self.entities = sorted({*PRESIDIO_TYPES, *DETECTION_PATTERNS})
        self.score_threshold = score_threshold
        self.batch_size = batch_size

    def detect(self, texts: Sequence[str]) -> list[list[Detection]]:
        """Detections per text, in text order."""
        results = self._batch.analyze_iterator(
            list(texts),
            language="en",
            batch_size=self.batch_size,
            entities=self.entities,
            score_threshold=self.score_threshold,
        )
        return [_merge(found) for found in results]

    def redact(self, text: str, detections: Sequence[Detection] | None = None) -> str:
        """``text`` with every detected value replaced by ``<TYPE>``."""
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult  # noqa: PLC0415

        detections = self.detect([text])[0] if detections is None else detections
        if not detections:
            return text
        results = [RecognizerResult(d.kind, d.start, d.end, d.score) for d in detections]
        return self._anonymizer.anonymize(
            text=text, analyzer_results=results, operators={"DEFAULT": OperatorConfig("replace", {})}
        ).text

    def snippet(self, text: str, detections: Sequence[Detection], target: Detection) -> str:
        """A redacted window around ``target``; widened so no detected value is cut in half."""
        start, end = max(0, target.start - _SNIPPET_CHARS), min(len(text), target.end + _SNIPPET_CHARS)
        widened = True
        while widened:
            widened = False
            for d in detections:
                if d.start < end and d.end > start and (d.start < start or d.end > end):
                    start, end, widened = min(start, d.start), max(end, d.end), True
        inside = [
            Detection(d.kind, d.start - start, d.end - start, d.score, d.recognizers)
            for d in detections
            if d.start >= start and d.end <= end
        ]
        window = self.redact(text[start:end], inside).replace("\n", " ")
        return ("…" if start > 0 else "") + window + ("…" if end < len(text) else "")


def _registry(nlp_engine: Any) -> Any:
    """Presidio's predefined English recognizers (less one, below) plus one per project detection pattern."""
    from presidio_analyzer import Pattern, PatternRecognizer, RecognizerRegistry  # noqa: PLC0415

    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=nlp_engine, languages=["en"])
    # not a pattern recognizer: libphonenumber over 8 regions took ~60% of the scan time and matched order ids
    # in gold; PHONE comes from the project's pattern (bench/bench_pii.py: recall 0.998 and precision 1.0 there,
    # against 0.957 and 0.519 for this recognizer)
    registry.remove_recognizer("PhoneRecognizer")
    for kind, pattern in DETECTION_PATTERNS.items():
        # no IGNORECASE (Presidio's default): the patterns carry their own scoped (?i:...) flags
        registry.add_recognizer(
            PatternRecognizer(
                supported_entity=kind,
                name=OWN_RECOGNIZER_PREFIX + kind,
                patterns=[Pattern(kind, pattern, _OWN_SCORE)],
                global_regex_flags=re.DOTALL | re.MULTILINE,
            )
        )
    return registry


def _blank_pipeline(path: Path) -> Path:
    """A blank English spaCy pipeline on disk (built once): tokenisation only, nothing to download."""
    if not (path / "meta.json").exists():
        import spacy  # noqa: PLC0415 - only when the cache is cold

        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f"{path.name}.{os.getpid()}")
        spacy.blank("en").to_disk(staging)
        try:
            os.rename(staging, path)
        except OSError:  # a concurrent scan built it first
            if not (path / "meta.json").exists():
                raise
    return path


def _merge(results: Iterable[Any]) -> list[Detection]:
    """Presidio results as contract types, overlapping spans of one type merged (Presidio and the project's
    recognizers often find the same value with slightly different bounds)."""
    spans = sorted(
        (
            PRESIDIO_TYPES.get(r.entity_type, r.entity_type),
            r.start,
            r.end,
            r.score,
            r.recognition_metadata.get("recognizer_name", "?"),
        )
        for r in results
    )
    merged: list[Detection] = []
    for kind, start, end, score, recognizer in spans:
        last = merged[-1] if merged else None
        if last and last.kind == kind and start < last.end:
            names = tuple(sorted({*last.recognizers, recognizer}))
            merged[-1] = Detection(kind, last.start, max(last.end, end), max(last.score, score), names)
        else:
            merged.append(Detection(kind, start, end, score, (recognizer,)))
    return sorted(merged, key=lambda d: (d.start, d.kind))


@dataclass
class TypeFindings:
    """Findings of one type in one scan: how many, in which examples, and a few redacted samples."""

    count: int = 0
    example_ids: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LeakageScan:
    dataset: str
    uri: str
    records: int = 0
    texts: int = 0  # non-empty text values scanned (before de-duplication)
    findings: dict[str, TypeFindings] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(f.count for f in self.findings.values())

    def add(self, kind: str, example_id: str, column: str, detection: Detection, snippet: str) -> None:
        found = self.findings.setdefault(kind, TypeFindings())
        found.count += 1
        if example_id not in found.example_ids and len(found.example_ids) < _MAX_IDS:
            found.example_ids.append(example_id)
        if len(found.samples) < _MAX_SAMPLES:
            found.samples.append(
                {
                    "example_id": example_id,
                    "field": column,
                    "recognizers": list(detection.recognizers),
                    "score": round(detection.score, 2),
                    "snippet": snippet,
                }
            )


Record = tuple[str, dict[str, str]]  # (example id, field path -> text)


def scan_records(dataset: str, uri: str, records: Iterable[Record], scanner: LeakageScanner) -> LeakageScan:
    """Scan every text of every record. Identical texts (a shared system prompt) are analysed once."""
    started = time.monotonic()
    scan = LeakageScan(dataset, uri)
    where: dict[str, list[tuple[str, str]]] = {}
    for example_id, texts in records:
        scan.records += 1
        for column, text in texts.items():
            scan.texts += 1
            where.setdefault(text, []).append((example_id, column))
    unique = list(where)
    for text, detections in zip(unique, scanner.detect(unique), strict=True):
        for detection in detections:
            snippet = scanner.snippet(text, detections, detection)
            for example_id, column in where[text]:
                scan.add(detection.kind, example_id, column, detection, snippet)
    scan.seconds = round(time.monotonic() - started, 2)
    return scan


def _flatten_texts(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) for every non-empty string inside a record (nested lists and dicts too)."""
    if isinstance(value, str):
        if value.strip():
            yield prefix, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if not prefix and key in NON_TEXT_FIELDS:
                continue
            yield from _flatten_texts(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _flatten_texts(item, f"{prefix}[{i}]")


def _records(rows: Iterable[dict[str, Any]]) -> Iterator[Record]:
    for n, row in enumerate(rows):
        example_id = str(row.get("example_id") or row.get("id") or f"#{n}")
        yield example_id, dict(_flatten_texts(row))


def _read_parquet(uri: str) -> list[dict[str, Any]]:
    return lakefs.read_parquet(uri).to_pylist()  # skips _staging/ and other paths starting with "_" or "."


def gold_records(lake_root: str, ds: str) -> tuple[str, list[Record]]:
    """The gold SFT partition of ``ds`` as records: every text column of every example."""
    uri = lake.partition_uri(lake_root, "gold", "sft", ds)
    return uri, list(_records(_read_parquet(uri)))


def training_split_records(path: str) -> tuple[str, list[Record]]:
    """Training examples as handed to the trainer: Parquet (file or directory) or JSON Lines (``.gz`` too)."""
    name = path.removesuffix(".gz")
    if not name.endswith((".jsonl", ".json")):
        return path, list(_records(_read_parquet(path)))
    import gzip  # noqa: PLC0415

    data = lakefs.read_bytes(path)
    text = (gzip.decompress(data) if path.endswith(".gz") else data).decode("utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return path, list(_records(rows))
