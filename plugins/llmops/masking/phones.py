"""Phone numbers beyond the contract's regex shapes: libphonenumber (``phonenumbers``) plus context.

This step runs before the regex in ``DETECTION_PATTERNS["PHONE"]`` and takes a number's whole run of digit
groups: a shape may match only its head ("011 994 40 123 45" of "011 994 40 123 45 67") and leave the tail.
A run that matches a shape whole is a phone here at once (the shapes would mask it anyway: North-American,
``+`` international, trunk-0 national). Other runs ("87 47 98", "(73) 4746-3459", "439 4166") are phones only
with evidence, because order ids, street numbers and licence numbers look the same; a 6-9 digit national number
is valid in dozens of regions at once, so libphonenumber alone cannot tell. The evidence, in order:

- a phone word next to it (call, phone, mobile, fax, text message, not answering...; ``_CONTEXT``) and 6-15 digits in
  phone-like groups (no date shape, at most 12 digits without a separator);
- else an international prefix and libphonenumber says the number is valid: ``+``, or a region's international
  call prefix written as the first group (ITU-T E.164/E.123: ``00 44 20 7946 0958``, ``0044...``, ``011 44 ...``
  from North America, ``010 ...`` from Japan; ``_IDDS``, from libphonenumber's metadata);
- else the number must be valid in one of ``PRIMARY_REGIONS`` (the contract's examples are US and UK numbers)
  with 10 or more digits.

A ``/`` in the run rules it out (invoice 2026/000123 is a valid Washington number).

``PREFILTER`` (RE2) picks the rows that hold any run of six digits; only those rows reach Python.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata

from llmops.contracts.personal_data import DETECTION_PATTERNS

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
_NON_DIGIT = re.compile(r"\D")
_SHAPES = re.compile(DETECTION_PATTERNS["PHONE"], re.ASCII)
_EXTENSION = re.compile(r",?\s?(?:x|ext\.?|extension)\s?\d{1,6}$", re.IGNORECASE)
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})")
# words that say a nearby number is a phone: the telephone itself, calling and what goes wrong with a call (not
# answered, nobody picked up, hung up, got through), messaging, and contact-card labels; a bare "answer" is not
# one ("the answer to ticket 4471 2209")
_CONTEXT = re.compile(
    r"\b(?:(?:tele|smart|cell|mobile\s)?phones?|tel|mobiles?|cell|fax|landline|hotline|switchboard|desk|office"
    r"|call(?:s|ed|ing)?|ring(?:s|ing)?|dial(?:led|ing)?|reach|contact|sms|texts?|messages?|whats\s?app|voicemail"
    r"|(?:not|never|nobody|no\s+one|\w+n't)\s+(?:answer(?:s|ed|ing)?|pick(?:s|ed|ing)?\s+up)|no\s+answer"
    r"|hung\s+up|hang(?:s|ing)?\s+up|get(?:ting)?\s+through)\b",
    re.IGNORECASE,
)
_BEFORE, _AFTER = 40, 12  # context window, characters


def _international_prefixes() -> tuple[str, ...]:
    """Every region's international call prefix as written (its preferred one, or the only one when that is a
    plain digit string; "8~10" is dialled 8, tone, 10), longest first; one-digit prefixes are left out: a
    leading "0 " is not evidence of anything."""
    prefixes = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        meta = PhoneMetadata.metadata_for_region(region)
        prefix = (meta.preferred_international_prefix or meta.international_prefix or "").replace("~", "")
        if prefix.isdigit() and len(prefix) > 1:
            prefixes.add(prefix)
    return tuple(sorted(prefixes, key=len, reverse=True))


_IDDS = _international_prefixes()


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
    digits = _NON_DIGIT.sub("", number)
    # 6-15 digits (E.164's maximum), up to four more for an international call prefix
    if not 6 <= len(digits) <= 19 or _DATE.fullmatch(number) or "/" in number:  # invoice 2026/000123
        return False
    if _SHAPES.fullmatch(number):  # the contract's shapes mask it anyway; spares libphonenumber the common case
        return True
    try:
        if dialled_from_abroad(number):
            return True
        if len(digits) > 15:
            return False
        if _has_context(text, start, end):
            return len(digits) <= 12 or not number.isdigit()
        if number.startswith("+"):
            return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
        return len(digits) >= 10 and any(
            phonenumbers.is_valid_number(phonenumbers.parse(number, region)) for region in PRIMARY_REGIONS
        )
    except NumberParseException:
        return False


def dialled_from_abroad(number: str) -> bool:
    """A valid international number written after a region's international call prefix (``_IDDS``)."""
    return any(_international_valid(number, idd) for idd in _IDDS if number.startswith(idd))


def _international_valid(number: str, idd: str) -> bool:
    """``number`` dialled from abroad through the international prefix ``idd``: the prefix stands as its own group
    ("011 44 20 7946 0958"), or is "00" run into the country code ("0044 20 7946 0958"), and the rest is a valid
    international number."""
    rest = number[len(idd) :]
    if not (rest[:1] in (" ", ".", "-") or (idd == "00" and rest[:1].isdigit())):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + _NON_DIGIT.sub("", rest), None))
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
