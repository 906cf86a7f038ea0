"""Personal-data masking to the raw-landing contract's typed placeholders.

``DETECTION_PATTERNS`` are written in the common subset of RE2 and Java regex syntax (no
lookaround, no backreferences, scoped ``(?i:...)`` flags) so one text serves the vectorised
masking here (pyarrow.compute / RE2) and the Great Expectations gates in Spark (Java).

Masking order (``MASK_ORDER``), and why: secrets first (tokens and assignment values hold digit
runs and ``@``), then e-mails (local parts hold digits and names), IBANs (their digit groups look
like cards and phones), cards, SSNs, IP addresses, phones last (the loosest digit patterns), and
finally the record's own name/e-mail literals (after e-mails, so ``maria.lopez@x.com`` is masked
whole rather than as ``[PERSON].lopez@x.com``).

What is masked, per type:
- SECRET: known token formats (AWS ``AKIA...``, GitHub ``ghp_...``/``github_pat_``, GitLab, Slack,
  Stripe, OpenAI ``sk-``, Google ``AIza``, npm, JWTs, Bearer tokens, private-key blocks) whole;
  ``key=value`` / ``key: value`` assignments (api_key, apikey, secret, password, token, ...) keep
  the key and replace the VALUE: ``password: [SECRET]``. A ``key: value`` with a colon counts only
  when the value holds a digit or symbol or is quoted (``password: please reset it`` is prose).
- CREDIT_CARD: 13-19 digits starting 2-6, plain or grouped by spaces/dashes, Luhn-valid only.
- IBAN: country code + check digits + the country's BBAN length, plain or grouped in fours,
  mod-97-valid only.
- PHONE: North-American (``(415) 555-0132``, ``415.555.0132``, ``1-800-...``), international with
  ``+`` and separators or E.164, national with trunk ``0`` (``020 7946 0958``, ``06 12 34 56 78``).
  A bare 10-digit run is NOT masked (indistinguishable from ids).
- IP_ADDRESS: any valid dotted-quad IPv4 (so a version string ``1.2.3.4`` is masked too: the
  format is the same), IPv6 full and ``::``-compressed.
- SSN: ``AAA-GG-SSSS`` / spaces, with a valid area (not 000/666/9xx), group and serial.

Checksums cannot be expressed in a regex, so a card- or IBAN-shaped value that fails Luhn/mod-97
stays unmasked here and is still flagged by ``DETECTION_PATTERNS`` at the gate: fail closed.
"""

from __future__ import annotations

# IBAN total length per country (ISO 13616 registry), grouped by length to keep the regex short.
_IBAN_LENGTHS = {
    15: "NO", 16: "BE", 18: "DK|FI|FO|GL|NL", 19: "MK|SI", 20: "AT|BA|EE|KZ|LT|LU|XK",
    21: "CH|HR|LI|LV", 22: "BG|BH|CR|DE|GB|GE|IE|ME|RS", 23: "AE|GI|IL", 24: "AD|CZ|ES|MD|PK|RO|SA|SE|SK|TN|VG",
    25: "PT", 26: "IS|TR", 27: "FR|GR|IT|MC|MR|SM", 28: "AL|AZ|CY|DO|GT|HU|LB|PL", 29: "BR|EG|PS|QA|UA",
    30: "JO|KW|MU", 31: "MT",
}


def _iban_pattern() -> str:
    # plain or grouped in fours: country, check digits, then BBAN in 4-char groups, optional space between
    alternatives = []
    for length, countries in _IBAN_LENGTHS.items():
        full, rest = divmod(length - 4, 4)
        tail = f"(?: ?[A-Z0-9]{{{rest}}})" if rest else ""
        alternatives.append(f"(?:{countries})[0-9]{{2}}(?: ?[A-Z0-9]{{4}}){{{full}}}{tail}")
    return r"\b(?:" + "|".join(alternatives) + r")\b"


_H = "[0-9A-Fa-f]{1,4}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_SECRET_KEYS = (
    r"api[_-]?key|apikey|api[_-]?secret|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|secret(?:[_-]?key)?"
    r"|client[_-]?secret|auth[_-]?token|access[_-]?token|token|password|passwd|pwd"
)

DETECTION_PATTERNS: dict[str, str] = {
    "EMAIL": r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b",
    "PHONE": "|".join(
        [
            # North American: (415) 555-0132, 415-555-0132, 415.555.0132, 1-800-555-0199, +1 415 555 0132
            r"\B\+1[ .-]?\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}\b",
            r"\B\([0-9]{3}\)[ .-]?[0-9]{3}[ .-][0-9]{4}\b",
            r"\b(?:1[ .-])?[0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4}\b",
            # international with separators: +44 20 7946 0958, +49 30 901820, +33 6 12 34 56 78, +44 (0)20 ...
            r"\B\+[1-9][0-9]{0,2}(?:[ .-]|[ .-]?\(0?[0-9]{0,4}\)[ .-]?)[0-9]{1,4}(?:[ .-][0-9]{2,8}){1,4}\b",
            # international without separators (E.164): +4420794609580
            r"\B\+[1-9][0-9]{7,14}\b",
            # national with trunk prefix 0: 020 7946 0958, 030 901820, 0151 1234 5678, 06 12 34 56 78
            r"\b0[0-9]{2,4}[ .-][0-9]{3,4}[ .-]?[0-9]{3,4}\b",
            r"\b0[1-9](?:[ .-][0-9]{2}){4}\b",
        ]
    ),
    # 13-19 digits with a card-network first digit, plain or grouped 4-4-4-4(-3) / Amex 4-6-5 / Diners 4-6-4;
    # masking also checks Luhn, which a regex cannot.
    "CREDIT_CARD": r"\b[2-6][0-9]{12,18}\b|\b[2-6][0-9]{3}(?:[ -][0-9]{4}){2}[ -][0-9]{1,4}(?:[ -][0-9]{1,3})?\b"
    r"|\b3[0-9]{3}[ -][0-9]{6}[ -][0-9]{4,5}\b",
    # valid area (not 000, 666, 9xx), group (not 00) and serial (not 0000)
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
        [
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",
            r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",
            r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
            r"\bglpat-[A-Za-z0-9_-]{20,}",
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
            r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}",
            r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}",
            r"\bAIza[0-9A-Za-z_-]{35}",
            r"\bnpm_[A-Za-z0-9]{36}\b",
            r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
            # key=value / key: value assignments; the value (not the key) is the secret.
            rf"\b(?i:{_SECRET_KEYS})[\"']?\s*=\s*[\"']?[^\s\"',;\[]",
            rf"\b(?i:{_SECRET_KEYS})[\"']?\s*:\s*(?:[\"'][^\s\"'\[]|[^\s\"',;\[]*[0-9!@#$%^&*_+=~-])",
        ]
    ),
}
