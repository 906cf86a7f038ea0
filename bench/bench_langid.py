"""Benchmark: the language filter on a labelled set nobody here generated.

The set: short English reviews written from the raw-landing contract's wording
(tests/fixtures/langid/short_reviews_en.txt), and Faker's localized word lists (a fixed seed) for
German, French, Spanish, Italian, Dutch (languages the detector knows) and Polish, Russian, Japanese
(languages it does not). The filter keeps ``en`` (the default ``data.languages``) and ``unknown``.

Reported per language group, without and with a declared ``lang``: accuracy (the exact label),
English texts the filter removes (the bug this replaces: short English reviews dropped as "not
English"), other-language texts it keeps as English, and texts per second. ``--baseline REV`` also
runs the stop-word profile from git revision REV, side by side.

    .venv/bin/python bench/bench_langid.py [--baseline ff4147d] [--per-language 200]

Writes bench/results/langid.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
import types
from pathlib import Path

import pyarrow as pa
from faker import Faker

from llmops.screening.langid import UNKNOWN, LanguagePolicy, detect_language

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results") / "langid.json"
ENGLISH = ROOT / "tests" / "fixtures" / "langid" / "short_reviews_en.txt"
FAKER_LOCALES = {
    "de": "de_DE", "fr": "fr_FR", "es": "es_ES", "it": "it_IT", "nl": "nl_NL",
    "pl": "pl_PL", "ru": "ru_RU", "ja": "ja_JP",
}  # fmt: skip
KEEP = ("en", UNKNOWN)  # what the filter keeps now; the stop-word filter kept only "en"


def labelled_set(per_language: int, seed: int) -> list[tuple[str, str]]:
    """(label, text): every English review, and ``per_language`` Faker sentences of 3-12 words per locale."""
    rows = [("en", line) for line in ENGLISH.read_text().splitlines() if line.strip()]
    for lang, locale in FAKER_LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        rows += [(lang, fake.sentence(nb_words=3 + i % 10)) for i in range(per_language)]
    return rows


def baseline_detector(rev: str):
    """The stop-word ``detect_language`` as it was at git revision ``rev``."""
    source = subprocess.run(
        ["git", "show", f"{rev}:spark_jobs/transforms/langid.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("langid_baseline")
    exec(compile(source, f"{rev}:langid.py", "exec"), module.__dict__)  # noqa: S102 - our own code at a past revision
    return lambda texts, declared: module.detect_language(texts)


def score(rows: list[tuple[str, str]], got: list[str], keep: tuple[str, ...]) -> dict:
    english = [g for (label, _), g in zip(rows, got, strict=True) if label == "en"]
    other = [(label, g) for (label, _), g in zip(rows, got, strict=True) if label != "en"]
    known = [(label, g) for label, g in other if label in LanguagePolicy().candidates]
    return {
        "accuracy_en": sum(g == "en" for g in english) / len(english),
        "english_removed": sum(g not in keep for g in english) / len(english),
        "english_unknown": sum(g == UNKNOWN for g in english) / len(english),
        "accuracy_de_fr_es_it_nl": sum(label == g for label, g in known) / len(known),
        "other_kept_as_english": sum(g == "en" for _, g in other) / len(other),
        "other_kept": sum(g in keep for _, g in other) / len(other),
    }


def run(detect, rows: list[tuple[str, str]], keep: tuple[str, ...]) -> dict:
    texts = pa.array([t for _, t in rows])
    declared = pa.array([label for label, _ in rows])
    result = {}
    for name, decl in (("undeclared", None), ("declared", declared)):
        started = time.perf_counter()
        got = detect(texts, decl).to_pylist()
        seconds = time.perf_counter() - started
        result[name] = {**score(rows, got, keep), "texts_per_s": round(len(rows) / seconds)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--baseline", default=None, help="git revision of the stop-word detector to compare")
    args = parser.parse_args()
    rows = labelled_set(args.per_language, args.seed)
    policy = LanguagePolicy()
    detect_language(pa.array([t for _, t in rows]), None, policy)  # warm-up: models load on first use
    results = {"lingua": run(lambda t, d: detect_language(t, d, policy), rows, KEEP)}
    if args.baseline:
        results[f"stop_words@{args.baseline}"] = run(baseline_detector(args.baseline), rows, ("en",))
    payload = {
        "set": {"english_reviews": sum(label == "en" for label, _ in rows), "per_other_language": args.per_language,
                "faker_locales": FAKER_LOCALES, "seed": args.seed},
        "policy": {"min_confidence": policy.min_confidence, "min_letters": policy.min_letters,
                   "candidates": list(policy.candidates), "kept": list(KEEP)},
        "results": results,
    }  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    metrics = list(next(iter(results.values()))["undeclared"])
    print(f"{'detector':<20} {'lang':<11} " + " ".join(f"{m[:16]:>16}" for m in metrics))
    for name, by_mode in results.items():
        for mode, figures in by_mode.items():
            print(f"{name:<20} {mode:<11} " + " ".join(f"{figures[m]:>16.3f}" for m in metrics))


if __name__ == "__main__":
    main()
