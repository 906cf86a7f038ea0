"""Personal data as the raw-landing contract names it: its types, their placeholders, and the shape of each.

Silver text carries ``PLACEHOLDERS`` where personal data was; the tokenizer keeps each placeholder one
token. ``DETECTION_PATTERNS`` say what a RAW value of each type looks like: the masker
(llmops.masking.pii) rewrites their matches, the data gates and the leakage scan look for them. They
are written in the common subset of RE2 and Java regex syntax (no lookaround, no backreferences, scoped
``(?i:...)`` flags) so one text serves pyarrow.compute (RE2), Spark (Java) and Presidio (Python ``re``).
Checksums (Luhn, mod-97) cannot be written as a regex: the masker applies them.
"""

from __future__ import annotations

TYPES = ("EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS", "SECRET", "PERSON")
PLACEHOLDERS = {t: f"[{t}]" for t in TYPES}

# IBAN total length per country (ISO 13616 registry), grouped by length to keep the regex short.
IBAN_LENGTHS = {
    15: "NO", 16: "BE", 18: "DK|FI|FO|GL|NL", 19: "MK|SI", 20: "AT|BA|EE|KZ|LT|LU|XK", 21: "CH|HR|LI|LV",
    22: "BG|BH|CR|DE|GB|GE|IE|ME|RS", 23: "AE|GI|IL", 24: "AD|CZ|ES|MD|PK|RO|SA|SE|SK|TN|VG", 25: "PT",
    26: "IS|TR", 27: "FR|GR|IT|MC|MR|SM", 28: "AL|AZ|CY|DO|GT|HU|LB|PL", 29: "BR|EG|PS|QA|UA",
    30: "JO|KW|MU", 31: "MT",
}  # fmt: skip


def _iban_pattern() -> str:
    # country, check digits, then the BBAN in 4-character groups with an optional space between groups
    alternatives = []
    for length, countries in IBAN_LENGTHS.items():
        full, rest = divmod(length - 4, 4)
        tail = f"(?: ?[A-Z0-9]{{{rest}}})" if rest else ""
        alternatives.append(f"(?:{countries})[0-9]{{2}}(?: ?[A-Z0-9]{{4}}){{{full}}}{tail}")
    return r"\b(?i:" + "|".join(alternatives) + r")\b"  # any letter case: de89 3704 ... is an IBAN too


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
ASSIGN_EQ_KEY, ASSIGN_EQ_VALUE = (
    _SECRET_KEY + r"=\s*",
    r"(?:\"[^\"\s\[][^\"\n]*\"?|'[^'\s\[][^'\n]*'?|[^\s\"',;\[][^\s\"',;]*)",
)
ASSIGN_COLON_KEY = _SECRET_KEY + r":\s*"
ASSIGN_COLON_VALUE = rf"(?:\"[^\"\s\[][^\"\n]*\"?|'[^'\s\[][^'\n]*'?|[^\s\"',;\[]*(?:{_SYMBOL})[^\s\"',;]*)"
SECRET_TOKENS = [
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
        [*SECRET_TOKENS, ASSIGN_EQ_KEY + ASSIGN_EQ_VALUE, ASSIGN_COLON_KEY + ASSIGN_COLON_VALUE]
    ),
}
"""Placeholder type -> regex that finds a RAW value of that type (valid in RE2 and Java). PERSON has
none: names are only known per record (``mask_pii``'s ``person_values``)."""
