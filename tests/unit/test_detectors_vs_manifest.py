"""The cleaning transforms against everything the generator plants, without Spark: every planted
injection is flagged, every planted personal-data value is masked, the planted languages are found."""

from __future__ import annotations

import collections
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pytest

from llmops.masking.pii import mask_pii
from llmops.screening.injection import flag_injection
from llmops.screening.langid import detect_language
from llmops_demo import generate
from spark_jobs.transforms.text import html_to_text, normalize


@pytest.fixture(scope="module")
def manifests(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw")
    return [generate(f"file://{out}/s{seed}", "2026-11-20", 4000, seed=seed) for seed in (1, 2, 3)]


def _clean(texts: list[str]) -> pa.Array:
    return normalize(html_to_text(pa.array(texts, pa.string())))


def test_every_planted_injection_is_flagged(manifests):
    items = [i for m in manifests for i in m["injections"]]
    flags, _ = flag_injection(_clean([i["text"] for i in items]))
    missed = [i["text"] for i, f in zip(items, flags.to_pylist(), strict=True) if not f]
    assert len(items) > 20 and missed == []


def test_planted_personal_data_recall_per_type(manifests):
    items = [i for m in manifests for i in m["pii"] if i["type"] != "PERSON"]  # PERSON needs the record
    masked, _ = mask_pii(_clean([i["value"] for i in items]))
    found = collections.Counter()
    total = collections.Counter(i["type"] for i in items)
    for item, out in zip(items, masked.to_pylist(), strict=True):
        found[item["type"]] += item["value"] not in out
    recall = {t: found[t] / total[t] for t in total}
    assert set(total) == {"EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS", "SECRET"}
    assert all(r >= 0.99 for r in recall.values()), recall


def test_planted_languages_detected(manifests):
    items = [(i["lang"], _planted_text(m, i)) for m in manifests for i in m["non_english"]]
    assert len(items) > 20 and {lang for lang, _ in items} == {"es", "de", "fr"}
    got = detect_language(pa.array([text for _, text in items])).to_pylist()
    wrong = [(lang, text) for (lang, text), g in zip(items, got, strict=True) if g != lang]
    assert len(wrong) <= len(items) * 0.02, wrong[:5]


def _planted_text(manifest: dict, item: dict) -> str:
    """The text of the record a manifest entry names: a ticket's first message or a review's body."""
    source, key = item["source"], {"tickets": "ticket_id", "reviews": "review_id"}[item["source"]]
    for f in manifest["counts"][source]["files"]:
        data = Path(f["uri"].removeprefix("file://")).read_bytes()
        for line in (gzip.decompress(data) if f["gzip"] else data).splitlines():
            if f'"{key}": "{item["record_id"]}"'.encode() in line:
                record = json.loads(line)
                return record["messages"][0]["text"] if source == "tickets" else record["body"]
    raise AssertionError(f"planted record {item} not found")
