"""The manifest: everything the generator planted, so every later stage can be measured against it.

Written to ``<out>/_manifests/ds=<ds>/manifest.json``. Schema (version 1)::

    schema_version      1
    ds, seed, records, malformed_rate, gzip_every, out      the arguments of the run
    counts[source]      {records, valid, malformed, files: [{uri, records, gzip, sha256}]}
                        records = JSONL lines / CSV data rows / FAQ headings written (valid + malformed)
    malformed           [{source, file, line, reason, detail}]  file: URI as written (file:///...);
                        line: 1-based JSONL line, CSV line with the header as line 1, FAQ heading index
                        in its page (a page that is not valid UTF-8 holds one heading, line 1);
                        reason: a code of llmops.contracts.raw_landing.REASONS; detail: what was broken
    pii                 [{source, record_id, field, type, format, value}]  value: the exact substring
                        planted in that field; type: EMAIL PHONE CREDIT_CARD SSN IBAN IP_ADDRESS SECRET
                        PERSON; field: subject, resolution, messages[i].text, title, body or answer
    exact_duplicates    [{source, original_id, duplicate_id, kind}]  kind: redelivery (same id and bytes,
                        in a later file) or new_id (same content under a new id)
    near_duplicates     [{source, original_id, duplicate_id, jaccard}]  jaccard of the dedup texts
                        (llmops_demo.similarity), within [0.8, 0.97]
    non_english         [{source, record_id, lang}]  es, de or fr
    injections          [{source, record_id, field, pattern, text}]  pattern: the rule name
    html_noise          [{source, record_id}]  tickets whose messages are HTML

Record ids: ticket_id, review_id; for FAQ the bronze faq_id, sha256 hex of f"{file}#{line}".
Only valid records carry personal data, languages, injections or markup, and duplicates are made
of plain records only (English, nothing planted).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from llmops import lake
from llmops.contracts.raw_landing import SOURCES
from llmops_demo.model import Built, PiiItem

SCHEMA_VERSION = 1


def faq_id(file_uri: str, heading_index: int) -> str:
    return hashlib.sha256(f"{file_uri}#{heading_index}".encode()).hexdigest()


def manifest_uri(out_uri: str, ds: str) -> str:
    return lake.join(out_uri, "_manifests", f"ds={lake.check_ds(ds)}", "manifest.json")


class Manifest:
    def __init__(self, **run: object):
        self.run = run
        self.counts = {s: {"records": 0, "valid": 0, "malformed": 0, "files": []} for s in SOURCES}
        self.malformed: list[dict] = []
        self.pii: list[dict] = []
        self.exact_duplicates: list[dict] = []
        self.near_duplicates: list[dict] = []
        self.non_english: list[dict] = []
        self.injections: list[dict] = []
        self.html_noise: list[dict] = []

    def valid(self, source: str, n: int = 1) -> None:
        self.counts[source]["records"] += n
        self.counts[source]["valid"] += n

    def add_malformed(self, source: str, file: str, line: int, reason: str, detail: str) -> None:
        self.counts[source]["records"] += 1
        self.counts[source]["malformed"] += 1
        self.malformed.append({"source": source, "file": file, "line": line, "reason": reason, "detail": detail})

    def add_pii(self, source: str, record_id: str, item: PiiItem) -> None:
        self.pii.append({"source": source, "record_id": record_id, "field": item.field, "type": item.type,
                         "format": item.format, "value": item.value})

    def add_built(self, source: str, record_id: str, built: Built) -> None:
        """A fresh valid record and everything planted in it."""
        self.valid(source)
        for item in built.pii:
            self.add_pii(source, record_id, item)
        if built.lang != "en":
            self.non_english.append({"source": source, "record_id": record_id, "lang": built.lang})
        if built.injection is not None:
            rule, field, text = built.injection
            self.injections.append({"source": source, "record_id": record_id, "field": field, "pattern": rule,
                                    "text": text})
        if built.html:
            self.html_noise.append({"source": source, "record_id": record_id})

    def add_exact(self, source: str, original_id: str, duplicate_id: str, kind: str) -> None:
        self.valid(source)
        self.exact_duplicates.append({"source": source, "original_id": original_id, "duplicate_id": duplicate_id,
                                      "kind": kind})

    def add_near(self, source: str, original_id: str, duplicate_id: str, score: float) -> None:
        self.valid(source)
        self.near_duplicates.append({"source": source, "original_id": original_id, "duplicate_id": duplicate_id,
                                     "jaccard": round(score, 4)})

    def set_files(self, source: str, files: list[dict]) -> None:
        self.counts[source]["files"] = files

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            **self.run,
            "counts": self.counts,
            "malformed": self.malformed,
            "pii": self.pii,
            "exact_duplicates": self.exact_duplicates,
            "near_duplicates": self.near_duplicates,
            "non_english": self.non_english,
            "injections": self.injections,
            "html_noise": self.html_noise,
        }

    def write(self, out_uri: str, ds: str) -> dict:
        data = self.to_dict()
        path = lake.local_path(manifest_uri(out_uri, ds))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return data
