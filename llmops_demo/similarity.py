"""The near-duplicate measure the clean job uses, so planted near duplicates can be checked.

Jaccard similarity of word 3-gram shingle sets, over NFKC-normalised, lower-cased text where a word
is a run of ``\\w``. The dedup text of a record is defined per source (see :func:`dedup_text`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

SHINGLE_WORDS = 3
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, n: int = SHINGLE_WORDS) -> set[str]:
    """Word n-gram shingles; a text shorter than n words is one shingle (so it still compares)."""
    w = words(text)
    if len(w) < n:
        return {" ".join(w)} if w else set()
    return {" ".join(w[i : i + n]) for i in range(len(w) - n + 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def dedup_text(source: str, record: Mapping) -> str:
    """The text a record is de-duplicated on: tickets = message texts joined by newlines; reviews =
    title + newline + body; faq = question + newline + answer text (HTML already stripped)."""
    if source == "tickets":
        return "\n".join(m.get("text") or "" for m in record["messages"])
    if source == "reviews":
        return f"{record.get('title') or ''}\n{record['body']}"
    if source == "faq":
        return f"{record['question']}\n{record['answer']}"
    raise ValueError(f"no dedup text defined for source {source!r}")
