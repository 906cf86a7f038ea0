"""Personal-data masking to the raw-landing contract's typed placeholders.

The types, placeholders and ``DETECTION_PATTERNS`` are the contract's (llmops.contracts.personal_data,
common subset of RE2 and Java regex syntax): one text serves the vectorised masking here
(pyarrow.compute / RE2) and the Great Expectations gates in Spark (Java). For e-mails and IBANs the masker
runs wider patterns of its own (``EMAIL_PATTERN``, ``IBAN_PATTERN``: RFC 6531 addresses, IBANs grouped
any way); the gate does not rely on them, it has an independent detector (Presidio).

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
- EMAIL: RFC 5322 / RFC 6531 addresses: the local part may hold any letter, mark or digit of any script and
  RFC 5322's punctuation (``o'brien``, ``bounce+user=example.com``), or be quoted; the domain may be an
  internationalised one (U-labels, ``xn--`` A-labels, a non-ASCII TLD) or an address literal (``[192.0.2.1]``).
- CREDIT_CARD: 13-19 digits with a card network's prefix for that length (``card_number_valid``), plain or
  grouped by spaces/dashes, Luhn-valid only (a 15-digit IMEI passes Luhn but has no network prefix).
- IBAN: country code + check digits + the country's BBAN length (ISO 13616 registry), any letter case, plain
  or grouped by single spaces or dashes anywhere after the country code (ISO 13616's paper format groups in
  fours; people also write ``DE89-3704-...`` or ``DE89 370400440532013000``), mod-97-valid only.
- PHONE: North-American (``(415) 555-0132``, ``415.555.0132``, ``1-800-...``), international with
  ``+`` and separators or E.164, national with trunk ``0`` (``020 7946 0958``, ``06 12 34 56 78``),
  parenthesised area/country codes, extensions. Bare digit runs only as 10 North-American digits
  (``4155550132``) or 9-12 digits after a trunk ``0``; other bare runs (9- or 11-digit ids) are not.
- IP_ADDRESS: any valid dotted-quad IPv4 (so a version string ``1.2.3.4`` is masked too: the
  format is the same), IPv6 full and ``::``-compressed.
- SSN: ``AAA-GG-SSSS`` / spaces, with a valid area (not 000/666/9xx), group and serial; not when it is the
  tail of an international number (``+672 10 6609``) or runs on into another dash group (``011 15-2345-6789``):
  those are phones.

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

from llmops.contracts.personal_data import (
    ASSIGN_COLON_KEY,
    ASSIGN_COLON_VALUE,
    ASSIGN_EQ_KEY,
    ASSIGN_EQ_VALUE,
    DETECTION_PATTERNS,
    IBAN_LENGTHS,
    PLACEHOLDERS,
    SECRET_TOKENS,
    TYPES,
)
from llmops.masking import as_string_array, map_where
from llmops.masking.phones import PREFILTER as _PHONE_PREFILTER
from llmops.masking.phones import dialled_from_abroad, mask_phones

# Maestro issues 12-digit cards too (IIN 50, 56-58, 63, 67); the contract's pattern starts at 13 digits, so the
# masker looks for these on its own, Luhn-checked (the gates' regex does not: a 12-digit id is too common)
_MAESTRO_12 = ("50", "56", "57", "58", "63", "67")
_MAESTRO_12_PATTERN = r"\b(?:5[06-8]|6[37])[0-9]{2}(?:[0-9]{8}|[ -][0-9]{4}[ -][0-9]{4})\b"


# RFC 5322 atext in any script (RFC 6531), less the characters that delimit an address in running text or
# markup (` { } | /); a local part starts with a letter, digit or underscore so a leading quote or bracket stays
_EMAIL_WORD = r"\p{L}\p{M}\p{N}_"
_EMAIL_LOCAL = rf"(?:[{_EMAIL_WORD}][{_EMAIL_WORD}!#$%&'*+=?^~.-]*|\"[^\"\r\n]{{1,64}}\")"
_EMAIL_DOMAIN = (
    rf"(?:(?:[{_EMAIL_WORD}-]+\.)+(?:xn--[A-Za-z0-9-]+|\p{{L}}[\p{{L}}\p{{M}}]+)|\[(?:IPv6:)?[0-9A-Fa-f:.]+\])"
)
EMAIL_PATTERN = f"{_EMAIL_LOCAL}@{_EMAIL_DOMAIN}"
"""RE2 only (``\\p`` classes): the contract's ``DETECTION_PATTERNS["EMAIL"]`` is ASCII, this is RFC 6531."""

# country, check digits, then exactly the country's BBAN length of characters with at most one space or dash
# between any two (the contract's pattern takes single spaces between groups of four only)
IBAN_PATTERN = (
    r"\b(?i:"
    + "|".join(f"(?:{cc})[0-9]{{2}}(?:[ -]?[A-Z0-9]){{{length - 4}}}" for length, cc in IBAN_LENGTHS.items())
    + r")\b"
)
# an SSN shape with the digit groups around it, so the check can see an international number it is part of:
# "+672 10 6609", "00 992 372 12 3456", "011 44 7400 123456" (the shape is "011 44 7400")
_SSN_CORE = re.compile(DETECTION_PATTERNS["SSN"], re.ASCII)
_SSN_WITH_NEIGHBOURS = (
    rf"(?:\+[0-9]{{0,3}}[ .-]?|\b[0-9]{{2,4}}[ .-](?:[0-9]{{1,3}}[ .-])?)?(?:{DETECTION_PATTERNS['SSN']})"
    r"(?:[ .-][0-9]{1,8}){0,4}"
)


def card_number_valid(digits: str) -> bool:
    """The network prefix/length table of the CREDIT_CARD pattern (llmops.contracts.personal_data), then Luhn."""
    n = len(digits)
    plausible = {
        13: digits[0] == "4",
        14: digits[:2] in ("30", "36", "38", "39"),
        15: digits[:2] in ("34", "37") or digits[:4] in ("1800", "2131"),
        12: digits[:2] in _MAESTRO_12,
    }.get(n, 16 <= n <= 19 and digits[0] in "23456")
    return plausible and luhn_valid(digits)


_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # digit -> digit sum of its double
_IBAN_LETTERS = {ord(ch): str(value) for value, ch in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", start=10)}


def luhn_valid(digits: str) -> bool:
    """Luhn check of a string of digits (string methods, no per-digit Python loop)."""
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(map(int, digits[-1::-2])) + sum(map(int, doubled))) % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 7064 mod-97: move the first four characters to the end, letters to 10..35, remainder 1."""
    compact = iban.replace(" ", "").replace("-", "").upper()
    return int((compact[4:] + compact[:4]).translate(_IBAN_LETTERS)) % 97 == 1


def _card_replacement(value: str) -> str | None:
    # a 19-digit grouped match may be a 16-digit card followed by another number: try shorter prefixes
    groups = re.split(r"([ -])", value)
    for end in range(len(groups), 0, -2):
        digits = "".join(groups[0:end:2])
        if len(digits) < 12:
            break
        if card_number_valid(digits):
            return PLACEHOLDERS["CREDIT_CARD"] + "".join(groups[end:])
    return None


def _iban_replacement(value: str) -> str | None:
    return PLACEHOLDERS["IBAN"] if iban_valid(value) else None


def _ssn_replacement(value: str) -> str | None:
    """The SSN shapes in ``value`` (``_SSN_WITH_NEIGHBOURS``) masked, the neighbours kept; none when the whole run is
    an international number (a + or an international call prefix before a valid number): the phone step takes it."""
    if value.startswith("+") or dialled_from_abroad(value):
        return None
    return _SSN_CORE.sub(PLACEHOLDERS["SSN"], value)


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
        return map_where(rows, pc.match_substring_regex(rows, self.pattern), lambda hits: replace(hits, counts))

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
        counts[self.kind] += replacement.count(PLACEHOLDERS[self.kind])  # an SSN run may hold two
        return replacement


class _PhoneStep:
    """Phones by libphonenumber and context (``llmops.masking.phones``), before the contract's shapes: rows with
    a six-digit run go to Python."""

    kind = "PHONE"

    def apply(self, rows: pa.StringArray, counts: dict[str, int]) -> pa.StringArray:
        return map_where(rows, pc.match_substring_regex(rows, _PHONE_PREFILTER), lambda hits: self._mask(hits, counts))

    @staticmethod
    def _mask(hits: pa.StringArray, counts: dict[str, int]) -> pa.StringArray:
        out = []
        for text in hits.to_pylist():
            masked, found = mask_phones(text, PLACEHOLDERS["PHONE"])
            counts["PHONE"] += found
            out.append(masked)
        return pa.array(out, pa.string())


# Steps in masking order, in two groups. Each group's scan runs once over every row and its
# steps only over the rows the scan picked. Two scans, not one: a union of all the patterns overflows
# RE2's DFA cache and runs ~3x slower than both scans together.
_STEP_GROUPS = (
    (
        # every address holds an "@": the literal keeps the scan's DFA small (EMAIL_PATTERN's Unicode classes in
        # the union make it ~5x slower)
        "|".join([DETECTION_PATTERNS["SECRET"], "@", IBAN_PATTERN]),
        [
            _Step("SECRET", "|".join(SECRET_TOKENS)),
            # key=value and key: value keep the key (group 1 or 2) and lose the value
            _Step(
                "SECRET",
                f"({ASSIGN_EQ_KEY}){ASSIGN_EQ_VALUE}|({ASSIGN_COLON_KEY}){ASSIGN_COLON_VALUE}",
                r"\1\2[SECRET]",
            ),
            _Step("EMAIL", EMAIL_PATTERN),
            _Step("IBAN", IBAN_PATTERN, verify=_iban_replacement),
        ],
    ),
    (
        # every pattern of the group needs a six-digit run, or a dotted quad / IPv6 group
        "|".join([_PHONE_PREFILTER, DETECTION_PATTERNS["IP_ADDRESS"]]),
        [
            _Step("CREDIT_CARD", DETECTION_PATTERNS["CREDIT_CARD"], verify=_card_replacement),
            _Step("CREDIT_CARD", _MAESTRO_12_PATTERN, verify=_card_replacement),
            _Step("SSN", _SSN_WITH_NEIGHBOURS, verify=_ssn_replacement),
            _Step("IP_ADDRESS", DETECTION_PATTERNS["IP_ADDRESS"]),
            # libphonenumber + context first: it takes a number's whole run of groups, where a contract shape
            # may take only its head ("011 994 40 123 45 67"); the shapes then mask what it turned down
            _PhoneStep(),
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
