"""Language identification: lingua's detector (models ship inside its wheel, offline) and the record's
declared language, combined.

A detection counts only when the text has at least ``min_letters`` letters and lingua's confidence
in its best language reaches ``min_confidence``; otherwise the text says too little (short reviews
and chat lines often do) and the record's declared ``lang`` decides, or it is ``"unknown"``. A
confident detection overrides a declaration that disagrees with it: declarations are evidence, not
truth. The detector knows the configured languages plus a few common ones, so a text in one of those
is named correctly instead of being forced into a configured language.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from llmops.masking import as_string_array

UNKNOWN = "unknown"
# what the detector also knows besides the configured languages: the commonest Latin-script languages of
# support traffic, and common languages of other scripts (their models load only for text in their script,
# and without them such text would be "unknown", which silver keeps)
COMMON_LANGUAGES = (
    *("en", "de", "es", "fr", "it", "nl", "pt"),
    *("ru", "uk", "ja", "zh", "ko", "ar", "he", "el", "hi", "th"),
)
_PREFIX_CHARS = 400  # a few sentences decide; scanning whole documents costs time and buys nothing
_PLACEHOLDER = r"\[[A-Z_]+\]"  # masked personal data ([EMAIL], [PHONE]...) is no evidence of a language


@dataclass(frozen=True)
class LanguagePolicy:
    """How a record's language is decided (settings ``data.languages`` and ``data.language_*``)."""

    languages: tuple[str, ...] = ("en",)
    min_confidence: float = 0.5
    min_letters: int = 8

    @property
    def candidates(self) -> tuple[str, ...]:
        return tuple(sorted({*self.languages, *COMMON_LANGUAGES}))


@functools.cache
def detector(candidates: tuple[str, ...]) -> LanguageDetector:
    """One detector per Python worker and candidate set: lingua loads its models on first use."""
    return LanguageDetectorBuilder.from_iso_codes_639_1(*(IsoCode639_1.from_str(c) for c in candidates)).build()


def declared_codes(declared: pa.Array | pa.ChunkedArray, candidates: tuple[str, ...]) -> list[str | None]:
    """Declared tags as candidate codes: "en-US", "EN" and "en_gb" are "en"; anything else is None."""
    primary = pc.utf8_lower(pc.utf8_trim_whitespace(as_string_array(declared)))
    primary = pc.list_element(pc.split_pattern_regex(primary, "[-_]", max_splits=1), 0)
    known = set(candidates)
    return [code if code in known else None for code in primary.to_pylist()]


def detect_language(
    texts: pa.Array | pa.ChunkedArray,
    declared: pa.Array | pa.ChunkedArray | None = None,
    policy: LanguagePolicy | None = None,
) -> pa.StringArray:
    """ISO 639-1 code per row, or ``"unknown"``; null text is the declaration or ``"unknown"``."""
    policy = policy or LanguagePolicy()
    text = pc.utf8_slice_codeunits(as_string_array(texts), 0, _PREFIX_CHARS)
    text = pc.fill_null(pc.replace_substring_regex(text, _PLACEHOLDER, " "), "")
    letters = pc.count_substring_regex(text, r"\pL").to_numpy(zero_copy_only=False)
    fallback = declared_codes(declared, policy.candidates) if declared is not None else [None] * len(text)
    rows = [i for i in range(len(text)) if letters[i] >= policy.min_letters]
    found = detector(policy.candidates).compute_language_confidence_values_in_parallel(
        text.take(pa.array(rows, pa.int64())).to_pylist()
    )
    result = [code or UNKNOWN for code in fallback]
    for i, values in zip(rows, found, strict=True):
        if values and values[0].value >= policy.min_confidence:
            result[i] = values[0].language.iso_code_639_1.name.lower()
    return pa.array(result, pa.string())
