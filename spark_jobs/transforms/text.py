"""HTML to text, Unicode/whitespace normalisation and the dedup text, over whole Arrow arrays.

Each transform first finds the rows that can need it with one cheap RE2 scan or ASCII test and runs
the expensive part on those rows only (most support text is plain ASCII with single spaces).
"""

from __future__ import annotations

import html
import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

from spark_jobs.transforms import as_string_array, map_where

# Elements whose content is never text for the model: dropped with everything inside them.
_NOISE = re.compile(
    r"<!--.*?-->|<(script|style|nav|footer|head|noscript|template)\b[^>]*>.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
# Block-level tags end a line; other tags vanish without a trace.
_BLOCK = re.compile(
    r"</?(?:p|br|li|div|h[1-6]|dd|dt|tr|ul|ol|dl|table|section|article|blockquote)\b[^>]*>", re.I
)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_BLANK_LINES = re.compile(r"[ \t]*\n[\s]*")

# Whitespace as Python's str.split sees it, in RE2 syntax (RE2's \s lacks \v, NBSP and the Unicode spaces).
_OTHER_WS = r"\t-\r\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
_WS = f"[ {_OTHER_WS}]"
# A row needs collapsing when it holds any whitespace but a lone ASCII space, or starts/ends with space.
_WS_TO_FIX = f"[{_OTHER_WS}]|  |^ | $"
# What collapsing rewrites: runs of 2+ and lone non-space characters. Not `_WS+`, which also "replaces" every
# lone space between words, one RE2 match each: the whole tickets cleaner took 1.9x as long with it.
_WS_RUN = f"{_WS}{{2,}}|[{_OTHER_WS}]"


def html_to_text(arr: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """Strip HTML: drop script/style/nav/footer/head elements with their content, turn block tags into
    line breaks, drop other tags, unescape entities. Rows without ``<`` or ``&`` pass through untouched."""
    arr = as_string_array(arr)
    return map_where(arr, pc.match_substring_regex(arr, "[<&]"), _strip_html)


def _strip_html(rows: pa.StringArray) -> pa.StringArray:
    out = []
    for doc in rows.to_pylist():
        text = _TAG.sub("", _BLOCK.sub("\n", _NOISE.sub("", doc)))
        out.append(_BLANK_LINES.sub("\n", html.unescape(text)).strip())
    return pa.array(out, pa.string())


def normalize(arr: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """Unicode NFKC, then every run of whitespace to one space, trimmed. Null stays null."""
    arr = as_string_array(arr)
    # ASCII text is already NFKC: normalise only the rows that hold other characters.
    arr = map_where(arr, pc.invert(pc.string_is_ascii(arr)), _nfkc)
    return map_where(arr, pc.match_substring_regex(arr, _WS_TO_FIX), _collapse_whitespace)


def _nfkc(rows: pa.StringArray) -> pa.StringArray:
    # Not pc.utf8_normalize: in pyarrow 25 it skips the composition step, so its "NFKC" is NFKD
    # (apache/arrow#51225, fixed upstream by apache/arrow#51237).
    return pa.array([unicodedata.normalize("NFKC", text) for text in rows.to_pylist()], pa.string())


def _collapse_whitespace(rows: pa.StringArray) -> pa.StringArray:
    return pc.utf8_trim(pc.replace_substring_regex(rows, _WS_RUN, " "), " ")


def dedup_key_text(arr: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """The text that exact dedup hashes and near-dup shingles: normalised and lower-cased."""
    return pc.utf8_lower(normalize(arr))
