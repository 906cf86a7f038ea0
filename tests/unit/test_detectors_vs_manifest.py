"""The cleaning transforms against everything the generator plants, without Spark: every planted
injection is flagged, every planted personal-data value is masked, the planted languages are found."""

from __future__ import annotations

import collections

import pyarrow as pa
import pytest

from llmops.sample_data import generate
from spark_jobs.transforms.injection import flag_injection
from spark_jobs.transforms.langid import detect_language
from spark_jobs.transforms.pii import mask_pii
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
    items = [i for m in manifests for i in m["non_english"]]
    assert len(items) > 20
    # the manifest names the record, not its text: check the detector on the generator's own phrases
    langs = {i["lang"] for i in items}
    assert langs <= {"es", "de", "fr"}
    from llmops.sample_data import texts_i18n

    phrases = [(lang, text) for lang in langs for text in _sample_phrases(texts_i18n, lang)]
    got = detect_language(pa.array([t for _, t in phrases])).to_pylist()
    wrong = [(lang, t) for (lang, t), g in zip(phrases, got, strict=True) if g != lang]
    assert len(wrong) <= len(phrases) * 0.02, wrong[:5]


def _sample_phrases(module, lang: str) -> list[str]:
    """Texts in ``lang`` from the generator's catalogue (every string constant in that language)."""
    found = []
    for name in dir(module):
        value = getattr(module, name)
        if isinstance(value, dict) and lang in value:
            entries = value[lang]
            found += [e for e in (entries if isinstance(entries, list | tuple) else [entries]) if isinstance(e, str)]
    return found
