"""Personal-data masking to the raw-landing contract's typed placeholders.

``DETECTION_PATTERNS`` are written in the common subset of RE2 and Java regex syntax (no
lookaround, no backreferences, scoped ``(?i:...)`` flags) so one text serves the vectorised
masking here (pyarrow.compute / RE2) and the Great Expectations gates in Spark (Java).

Masking order (``_STEP_GROUPS``), and why: secrets first (tokens and assignment values hold digit
runs and ``@``), then e-mails (local parts hold digits and names), IBANs (their digit groups look
like cards and phones), cards, SSNs, IP addresses, phones last (the loosest digit patterns), and
finally the record's own name/e-mail literals (after e-mails, so ``maria.lopez@x.com`` is masked
whole rather than as ``[PERSON].lopez@x.com``).

What is masked, per type:
- SECRET: known token formats (AWS ``AKIA...``, GitHub ``ghp_...``/``github_pat_``, GitLab, Slack,
  Stripe, OpenAI ``sk-``, Google ``AIza``, npm, JWTs, Bearer tokens, private-key blocks) whole;
  ``key=value`` / ``key: value`` assignments (api_key, apikey, secret, password, token, ...) keep
  the key and replace the VALUE: ``password: [SECRET]``. A ``key: value`` with a colon counts only
  when the value is quoted or holds a digit, a symbol or a case change (``password: please reset
  it`` is prose).
- CREDIT_CARD: 13-19 digits with a card network's prefix for that length (``card_number_valid``), plain or
  grouped by spaces/dashes, Luhn-valid only (a 15-digit IMEI passes Luhn but has no network prefix).
- IBAN: country code + check digits + the country's BBAN length, plain or grouped in fours,
  mod-97-valid only.
- PHONE: North-American (``(415) 555-0132``, ``415.555.0132``, ``1-800-...``), international with
  ``+`` and separators or E.164, national with trunk ``0`` (``020 7946 0958``, ``06 12 34 56 78``),
  parenthesised area/country codes, extensions. Bare digit runs only as 10 North-American digits
  (``4155550132``) or 9-12 digits after a trunk ``0``; other bare runs (9- or 11-digit ids) are not.
- IP_ADDRESS: any valid dotted-quad IPv4 (so a version string ``1.2.3.4`` is masked too: the
  format is the same), IPv6 full and ``::``-compressed.
- SSN: ``AAA-GG-SSSS`` / spaces, with a valid area (not 000/666/9xx), group and serial.

Checksums cannot be expressed in a regex, so a card- or IBAN-shaped value that fails Luhn/mod-97
stays unmasked here and is still flagged by ``DETECTION_PATTERNS`` at the gate: fail closed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spark_jobs.transforms import as_string_array, map_where

TYPES = ("EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS", "SECRET", "PERSON")
PLACEHOLDERS = {t: f"[{t}]" for t in TYPES}

# IBAN total length per country (ISO 13616 registry), grouped by length to keep the regex short.
_IBAN_LENGTHS = {
    15: "NO", 16: "BE", 18: "DK|FI|FO|GL|NL", 19: "MK|SI", 20: "AT|BA|EE|KZ|LT|LU|XK", 21: "CH|HR|LI|LV",
    22: "BG|BH|CR|DE|GB|GE|IE|ME|RS", 23: "AE|GI|IL", 24: "AD|CZ|ES|MD|PK|RO|SA|SE|SK|TN|VG", 25: "PT",
    26: "IS|TR", 27: "FR|GR|IT|MC|MR|SM", 28: "AL|AZ|CY|DO|GT|HU|LB|PL", 29: "BR|EG|PS|QA|UA",
    30: "JO|KW|MU", 31: "MT",
}  # fmt: skip


def _iban_pattern() -> str:
    # country, check digits, then the BBAN in 4-character groups with an optional space between groups
    alternatives = []
    for length, countries in _IBAN_LENGTHS.items():
        full, rest = divmod(length - 4, 4)
        tail = f"(?: ?[A-Z0-9]{{{rest}}})" if rest else ""
        alternatives.append(f"(?:{countries})[0-9]{{2}}(?: ?[A-Z0-9]{{4}}){{{full}}}{tail}")
    return r"\b(?:" + "|".join(alternatives) + r")\b"


def _card_pattern() -> str:
    """Card numbers by network prefix and length, plain or grouped by spaces/dashes: Visa 13, Diners 14
    (4-6-4), Amex/JCB 15 (4-6-5, 4-4-4-3), and 16-19 digits starting 2-6 (4-4-4-4 plus 1-3). A 15-digit
    IMEI (35...) is none of these, though it passes Luhn."""
    sep = "[ -]"
    plain = ["4[0-9]{12}", "3[0689][0-9]{12}", "(?:3[47][0-9]{2}|1800|2131)[0-9]{11}", "[2-6][0-9]{15,18}"]
    grouped = [
        f"4[0-9]{{3}}(?:{sep}[0-9]{{4}}){{2}}{sep}[0-9]",
        f"(?:3[47][0-9]{{2}}|1800|2131)(?:{sep}[0-9]{{4}}){{2}}{sep}[0-9]{{3}}",
        f"[2-6][0-9]{{3}}(?:{sep}[0-9]{{4}}){{3}}(?:{sep}[0-9]{{1,3}})?",
        f"3[47][0-9]{{2}}{sep}[0-9]{{6}}{sep}[0-9]{{5}}",
        f"3[0689][0-9]{{2}}{sep}[0-9]{{6}}{sep}[0-9]{{4}}",
    ]
    return r"\b(?:" + "|".join(plain + grouped) + r")\b"


def card_number_valid(digits: str) -> bool:
    """The network prefix/length table of ``_card_pattern``, then Luhn."""
    n = len(digits)
    plausible = {
        13: digits[0] == "4",
        14: digits[:2] in ("30", "36", "38", "39"),
        15: digits[:2] in ("34", "37") or digits[:4] in ("1800", "2131"),
    }.get(n, 16 <= n <= 19 and digits[0] in "23456")
    return plausible and luhn_valid(digits)


_H = "[0-9A-Fa-f]{1,4}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# key names of secret assignments, optionally prefixed (db_password, aws_secret_access_key)
_SECRET_KEY = (
    r"\b(?i:(?:[a-z0-9]+[_-])*(?:api[_-]?key|apikey|api[_-]?secret|access[_-]?key(?:[_-]?id)?|secret(?:[_-]?key)?"
    r"|client[_-]?secret|auth[_-]?token|access[_-]?token|token|password|passwd|pwd))[\"']?\s*"
)
_SYMBOL = "[0-9!@#$%^&*_+=~-]|[a-z][A-Z]|[A-Z]{2}[a-z]"
# `key = value`: any value; `key: value`: a quoted value, or one holding a digit, a symbol or a lower-to-upper
# case change (random strings have them, prose does not).
# The first value character may not be `[`, so an already masked `password: [SECRET]` is not a value.
_ASSIGN_EQ_KEY, _ASSIGN_EQ_VALUE = (
    _SECRET_KEY + r"=\s*",
    r"(?:\"[^\"\s\[][^\"\n]*\"?|'[^'\s\[][^'\n]*'?|[^\s\"',;\[][^\s\"',;]*)",
)
_ASSIGN_COLON_KEY = _SECRET_KEY + r":\s*"
_ASSIGN_COLON_VALUE = rf"(?:\"[^\"\s\[][^\"\n]*\"?|'[^'\s\[][^'\n]*'?|[^\s\"',;\[]*(?:{_SYMBOL})[^\s\"',;]*)"
_SECRET_TOKENS = [
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",
    r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
    r"\bglpat-[A-Za-z0-9_-]{20,}",
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}",
    r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}",
    r"\bAIza[0-9A-Za-z_-]{35}",
    r"\bnpm_[A-Za-z0-9]{36}\b",
    r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
    r"\b(?i:bearer) [A-Za-z0-9._~+/-]{20,}=*",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]*-----END [A-Z ]*PRIVATE KEY-----)?",
]

# Phone shapes; each may end in an extension (x638, ext. 12). Bare digit runs count only in two shapes
# that ids rarely take: 10 digits with a North-American area and exchange (first digits 2-9), and 9-12
# digits with a national trunk 0 (0130177548, 010889957).
_PHONE_GROUPS_SPACED = r"(?:[0-9]{1,5}(?:[ .-][0-9]{2,8}){2,5}|[0-9]{1,5}[ .-][0-9]{4,10})"
_PHONE_GROUPS = rf"(?:[0-9]{{6,14}}|{_PHONE_GROUPS_SPACED})"
_PHONES = [
    # North American: +1 415 555 0132, 001-415-555-0132, (415) 555-0132, 415-555-0132, 415.555.0132,
    # 4155550132
    r"\B\+1[ .-]?\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}",
    r"\b(?:001|1)[ .-]\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}",
    r"\B\([0-9]{3}\)[ .-]?[0-9]{3}[ .-]?[0-9]{4}",
    r"\b[0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4}",
    r"\b[2-9][0-9]{2}[2-9][0-9]{6}",
    # international: +44 20 7946 0958, +49 30 901820, +33 (0)1 23 45 67 89, +39 0123661016; with the 00
    # prefix only when spaced (0044 20 7946 0958), as ids like 112-0035520-0035520 hold 00-runs
    rf"\B\+[1-9][0-9]{{0,2}}[ .-]?(?:\(0?[0-9]{{0,5}}\)[ .-]?)?{_PHONE_GROUPS}",
    rf"\b00[1-9][0-9]{{0,2}}[ .-](?:\(0?[0-9]{{0,5}}\)[ .-]?)?{_PHONE_GROUPS_SPACED}",
    # country or area code in parentheses: (351) 200 085 509, (11) 3314-7084
    rf"\B\(\+?[1-9][0-9]{{1,2}}\)[ .-]?{_PHONE_GROUPS}",
    # national with trunk prefix 0: (0113) 496 0360, 020 7946 0958, 0190/1234567, 06 12 34 56 78, 0130177548
    r"\B\(0[0-9]{1,5}\)[ .-]?(?:[0-9]{5,10}|[0-9]{2,4}(?:[ .-]?[0-9]{2,8}){1,3})",
    r"\b0[1-9][0-9]{1,4}[ ./-](?:[0-9]{5,10}|[0-9]{2,4}(?:[ .-][0-9]{2,8}){1,3})",
    r"\b0[1-9](?:[ .-][0-9]{2}){4}",
    r"\b0[1-9][0-9]{7,10}",
]
_PHONE_EXTENSION = r"(?:,? ?(?i:x|ext\.?|extension) ?[0-9]{1,6})?"

DETECTION_PATTERNS: dict[str, str] = {
    "EMAIL": r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b",
    "PHONE": "|".join(f"(?:{p}){_PHONE_EXTENSION}\\b" for p in _PHONES),
    "CREDIT_CARD": _card_pattern(),
    # a valid area (not 000, 666, 9xx), group (not 00) and serial (not 0000)
    "SSN": r"\b(?:00[1-9]|0[1-9][0-9]|[1-578][0-9]{2}|6[0-57-9][0-9]|66[0-57-9])[- ](?:0[1-9]|[1-9][0-9])[- ]"
    r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})\b",
    "IBAN": _iban_pattern(),
    "IP_ADDRESS": "|".join(
        [
            rf"\b{_OCTET}(?:\.{_OCTET}){{3}}\b",
            rf"\b(?:{_H}:){{7}}{_H}\b",
            rf"\b(?:{_H}:){{1,6}}(?::{_H}){{1,6}}\b",  # compressed: 2001:db8::8a2e:370:7334, fe80::1
            rf"\b(?:{_H}:){{2,7}}:\B",  # trailing ::  (2001:db8::)
            rf"\B::(?:{_H}:){{1,5}}{_H}\b",  # leading ::  (::ffff:c000:280)
        ]
    ),
    "SECRET": "|".join(
        [*_SECRET_TOKENS, _ASSIGN_EQ_KEY + _ASSIGN_EQ_VALUE, _ASSIGN_COLON_KEY + _ASSIGN_COLON_VALUE]
    ),
}
"""Placeholder type -> regex that finds a RAW value of that type (valid in RE2 and Java). PERSON has
none: names are only known per record (``mask_pii``'s ``person_values``)."""


_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # digit -> digit sum of its double
_IBAN_LETTERS = {ord(ch): str(value) for value, ch in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", start=10)}


def luhn_valid(digits: str) -> bool:
    """Luhn check of a string of digits (string methods, no per-digit Python loop)."""
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(map(int, digits[-1::-2])) + sum(map(int, doubled))) % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 7064 mod-97: move the first four characters to the end, letters to 10..35, remainder 1."""
    compact = iban.replace(" ", "")
    return int((compact[4:] + compact[:4]).translate(_IBAN_LETTERS)) % 97 == 1


def _card_replacement(value: str) -> str | None:
    # a 19-digit grouped match may be a 16-digit card followed by another number: try shorter prefixes
    groups = re.split(r"([ -])", value)
    for end in range(len(groups), 0, -2):
        digits = "".join(groups[0:end:2])
        if len(digits) < 13:
            break
        if card_number_valid(digits):
            return PLACEHOLDERS["CREDIT_CARD"] + "".join(groups[end:])
    return None


def _iban_replacement(value: str) -> str | None:
    return PLACEHOLDERS["IBAN"] if iban_valid(value) else None


_MARK = "\x00"  # brackets each RE2 match for Python's checksum pass (rows already holding it take re)


class _Step:
    """One masking step over candidate rows: an RE2 scan picks the rows with a match; on those RE2 replaces
    every match, or, for checksummed types, brackets every match with ``_MARK`` so Python only has to
    checksum the bracketed spans (``verify`` returns the replacement, or None to keep the value)."""

    def __init__(
        self,
        kind: str,
        pattern: str,
        rewrite: str | None = None,
        verify: Callable[[str], str | None] | None = None,
    ):
        self.kind, self.pattern, self.verify = kind, pattern, verify
        self.rewrite = rewrite or PLACEHOLDERS[kind]
        self._python = re.compile(pattern, re.ASCII) if verify else None  # ASCII: \b and \d as in RE2

    def apply(self, rows: pa.StringArray, counts: dict[str, int]) -> pa.StringArray:
        replace = self._replace_verified if self.verify else self._replace
        return map_where(
            rows, pc.match_substring_regex(rows, self.pattern), lambda hits: replace(hits, counts)
        )

    def _replace(self, hits: pa.StringArray, counts: dict[str, int]) -> pa.StringArray:
        masked = pc.replace_substring_regex(hits, self.pattern, self.rewrite)
        # placeholders after minus before: a literal count is ~10x cheaper than counting regex matches
        placeholder = PLACEHOLDERS[self.kind]
        counts[self.kind] += (
            pc.sum(pc.count_substring(masked, placeholder)).as_py()
            - pc.sum(pc.count_substring(hits, placeholder)).as_py()
        )
        return masked

    def _replace_verified(self, hits: pa.StringArray, counts: dict[str, int]) -> pa.StringArray:
        marked = pc.replace_substring_regex(hits, self.pattern, rf"{_MARK}\0{_MARK}")
        out = []
        for original, text in zip(hits.to_pylist(), marked.to_pylist(), strict=True):
            if _MARK in original:  # the marker is in the text itself: Python's re does the whole row
                out.append(self._python.sub(lambda m: self._check(m.group(0), counts), original))
                continue
            parts = text.split(_MARK)
            parts[1::2] = [self._check(value, counts) for value in parts[1::2]]
            out.append("".join(parts))
        return pa.array(out, pa.string())

    def _check(self, value: str, counts: dict[str, int]) -> str:
        if (replacement := self.verify(value)) is None:
            return value
        counts[self.kind] += 1
        return replacement


# Steps in masking order, in two groups. Each group's scan runs once over every row and its
# steps only over the rows the scan picked. Two scans, not one: a union of all the patterns overflows
# RE2's DFA cache and runs ~3x slower than both scans together.
_STEP_GROUPS = (
    (
        "|".join(DETECTION_PATTERNS[k] for k in ("SECRET", "EMAIL", "IBAN")),
        [
            _Step("SECRET", "|".join(_SECRET_TOKENS)),
            # key=value and key: value keep the key (group 1 or 2) and lose the value
            _Step(
                "SECRET",
                f"({_ASSIGN_EQ_KEY}){_ASSIGN_EQ_VALUE}|({_ASSIGN_COLON_KEY}){_ASSIGN_COLON_VALUE}",
                r"\1\2[SECRET]",
            ),
            _Step("EMAIL", DETECTION_PATTERNS["EMAIL"]),
            _Step("IBAN", DETECTION_PATTERNS["IBAN"], verify=_iban_replacement),
        ],
    ),
    (
        "|".join(DETECTION_PATTERNS[k] for k in ("CREDIT_CARD", "SSN", "IP_ADDRESS", "PHONE")),
        [
            _Step("CREDIT_CARD", DETECTION_PATTERNS["CREDIT_CARD"], verify=_card_replacement),
            _Step("SSN", DETECTION_PATTERNS["SSN"]),
            _Step("IP_ADDRESS", DETECTION_PATTERNS["IP_ADDRESS"]),
            _Step("PHONE", DETECTION_PATTERNS["PHONE"]),
        ],
    ),
)


def mask_pii(
    arr: pa.Array | pa.ChunkedArray, person_values: pa.ListArray | None = None
) -> tuple[pa.StringArray, dict[str, int]]:
    """Replace personal data in every row by typed placeholders; return the masked array and the number
    of replacements per type.

    ``person_values`` holds, per row, literal strings known to identify the record's customer (full
    name, first name, e-mail): each occurrence in that row, case-insensitive and as a whole word, becomes
    ``[EMAIL]`` when the literal contains ``@``, else ``[PERSON]``. Nulls stay null.
    """
    arr = as_string_array(arr)
    counts = dict.fromkeys(TYPES, 0)

    def run(steps: list[_Step]) -> Callable[[pa.StringArray], pa.StringArray]:
        def masked_rows(rows: pa.StringArray) -> pa.StringArray:
            for step in steps:
                rows = step.apply(rows, counts)
            return rows

        return masked_rows

    masked = arr
    for scan, steps in _STEP_GROUPS:
        # the scan reads the original text: a later group never needs rows an earlier one made
        masked = map_where(masked, pc.match_substring_regex(arr, scan), run(steps))
    if person_values is not None:
        masked = _mask_literals(masked, person_values, counts)
    return masked, counts


def _mask_literals(arr: pa.StringArray, values: pa.ListArray, counts: dict[str, int]) -> pa.StringArray:
    """Per-row literals. No Arrow kernel takes a different pattern per row, so the containment test runs
    ``str.__contains__`` over (row text, literal) pairs through ``map`` (C-level iteration, ~0.1 us a
    pair) on lower-cased text; only rows with a hit go on to whole-word replacement in Python."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) != len(arr):
        raise ValueError(f"person_values has {len(values)} rows, the text {len(arr)}")
    literals = pc.utf8_lower(pc.utf8_trim_whitespace(values.flatten()))
    parents = pc.list_parent_indices(values)
    usable = pc.fill_null(pc.greater(pc.utf8_length(literals), 0), False)
    literals, parents = literals.filter(usable).to_pylist(), parents.filter(usable).to_pylist()
    lowered = pc.fill_null(pc.utf8_lower(arr), "").to_pylist()  # one code point to one: offsets stay valid
    found = np.fromiter(
        map(operator.contains, map(lowered.__getitem__, parents), literals), dtype=bool, count=len(literals)
    )
    present: dict[int, set[str]] = {}
    for i in np.flatnonzero(found).tolist():
        present.setdefault(parents[i], set()).add(literals[i])
    rows = sorted(present)
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True

    def replace(hits: pa.StringArray) -> pa.StringArray:
        texts = hits.to_pylist()
        return pa.array(
            [_replace_literals(t, lowered[r], present[r], counts) for r, t in zip(rows, texts, strict=True)],
            pa.string(),
        )

    return map_where(arr, pa.array(mask), replace)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _replace_literals(text: str, lowered: str, literals: set[str], counts: dict[str, int]) -> str:
    """Whole-word occurrences only ("Mariano" keeps "Maria"); longest literal first ("Maria Lopez" is one
    [PERSON], not "[PERSON] Lopez")."""
    spans: list[tuple[int, int]] = []
    for lit in sorted(literals, key=len, reverse=True):
        start = lowered.find(lit)
        while start != -1:
            end = start + len(lit)
            whole_word = (start == 0 or not _is_word_char(lowered[start - 1])) and (
                end == len(lowered) or not _is_word_char(lowered[end])
            )
            if whole_word and all(end <= s or start >= e for s, e in spans):
                spans.append((start, end))
            start = lowered.find(lit, start + 1)
    pieces, last = [], 0
    for start, end in sorted(spans):
        kind = "EMAIL" if "@" in lowered[start:end] else "PERSON"
        counts[kind] += 1
        pieces += [text[last:start], PLACEHOLDERS[kind]]
        last = end
    return "".join(pieces) + text[last:]
