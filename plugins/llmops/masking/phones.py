"""Phone numbers the contract's regex shapes miss: libphonenumber (``phonenumbers``) plus context.

The regex in ``DETECTION_PATTERNS["PHONE"]`` masks the unambiguous shapes first (North-American, ``+`` and
``00`` international, trunk-0 national). What is left are national numbers of other shapes ("87 47 98",
"(73) 4746-3459", "439 4166"): a digit run like that is a phone only with evidence, because order ids, street
numbers and licence numbers look the same. The evidence, in order:

- a phone word next to it (call, phone, mobile, fax, text message...; ``_CONTEXT``) and 6-15 digits in
  phone-like groups (no date shape, at most 12 digits without a separator);
- else an international prefix (``+``/``00``) and libphonenumber says the number is valid;
- else the number must be valid in one of ``PRIMARY_REGIONS`` (the contract's examples are US and UK numbers)
  with 10 or more digits.

A ``/`` in the run rules it out (invoice 2026/000123 is a valid Washington number).

``PREFILTER`` (RE2) picks the rows that hold any run of six digits; only those rows reach Python.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException

PRIMARY_REGIONS = ("US", "GB")
PREFILTER = r"[0-9](?:[ .()/-]{0,2}[0-9]){5}"

# a run of digit groups (not inside a word, a path, a decimal or a price): optional +/00 prefix, optional
# (area) or (0), single separators, optional extension
_CANDIDATE = re.compile(
    r"(?<![\w+@/.:\\$€£-])(?:\+\s?|\b00)?(?:\(\+?\d{1,5}\)\s?)?\d{1,14}"
    r"(?:(?:[ .\-/]|\)\s?|\s?\()\d{1,14}|\s?\(0\)\s?\d{1,14}){0,6}"
    r"(?:,?\s?(?:x|ext\.?|extension)\s?\d{1,6})?(?![\w@]|[.:/-]\d)",
    re.IGNORECASE,
)
_EXTENSION = re.compile(r",?\s?(?:x|ext\.?|extension)\s?\d{1,6}$", re.IGNORECASE)
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})")
# words that say a nearby number is a phone: the telephone itself, calling, messaging, and contact-card labels
_CONTEXT = re.compile(
    r"\b(?:(?:tele|smart|cell|mobile\s)?phones?|tel|mobiles?|cell|fax|landline|hotline|switchboard|desk|office"
    r"|call(?:s|ed|ing)?|ring|dial(?:led)?|reach|contact|sms|texts?|messages?|whats\s?app|voicemail)\b",
    re.IGNORECASE,
)
_BEFORE, _AFTER = 40, 12  # context window, characters


_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def _has_context(text: str, start: int, end: int) -> bool:
    """A phone word within the window on either side, in the same sentence (line breaks do not end one: a
    contact block puts "Phone:" and the number on separate lines)."""
    before = text[max(0, start - _BEFORE) : start]
    before = before[max((m.end() for m in _SENTENCE_END.finditer(before)), default=0) :]
    after = text[end : end + _AFTER]
    after = after[: next((m.start() for m in _SENTENCE_END.finditer(after)), len(after))]
    return bool(_CONTEXT.search(before) or _CONTEXT.search(after))


def is_phone(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (a ``_CANDIDATE`` match) is a phone number, by the evidence above."""
    number = _EXTENSION.sub("", text[start:end])
    digits = re.sub(r"\D", "", number)
    if not 6 <= len(digits) <= 15 or _DATE.fullmatch(number):
        return False
    if "/" in number:  # invoice 2026/000123; the regex takes the slashed trunk-0 shape (0190/1234567)
        return False
    if _has_context(text, start, end):
        return len(digits) <= 12 or not number.isdigit()
    try:
        if number.startswith(("+", "00")):
            return phonenumbers.is_valid_number(
                phonenumbers.parse("+" + digits[2:] if number.startswith("00") else number, None)
            )
        return len(digits) >= 10 and any(
            phonenumbers.is_valid_number(phonenumbers.parse(number, region)) for region in PRIMARY_REGIONS
        )
    except NumberParseException:
        return False


def mask_phones(text: str, placeholder: str) -> tuple[str, int]:
    """``text`` with every phone number ``is_phone`` accepts replaced by ``placeholder``; and how many."""
    pieces, last, found = [], 0, 0
    for match in _CANDIDATE.finditer(text):
        if is_phone(text, match.start(), match.end()):
            pieces += [text[last : match.start()], placeholder]
            last, found = match.end(), found + 1
    return ("".join(pieces) + text[last:], found) if found else (text, 0)
