"""Fake but well-formed personal data: every type and several formats the raw contract lists.

Values are valid where validity is checkable (Luhn for cards, mod-97 for IBANs, allowed SSN area
numbers, parseable IP addresses) so a masker that verifies checksums must still catch them. Phone
numbers use ranges reserved for fiction (US 555-01xx, UK 020 7946 0xxx / 07700 900xxx).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from llmops.sample_data.grammar import pick

PII_TYPES = ("EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS", "SECRET", "PERSON")

_UPPER_DIGITS = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits
_PASSWORD_CHARS = _ALNUM + "!#$%*_-"
_MAIL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "web.de",
    "gmx.net",
    "orange.fr",
    "icloud.com",
    "proton.me",
    "mailbox.org",
    "hotmail.es",
    "fastmail.com",
    "t-online.de",
)
_MAIL_NAMES = ("alex", "sam", "jordan", "casey", "robin", "kim", "nico", "toni", "lou", "dana", "kai", "noa")
_MAIL_WORDS = ("billing", "orders", "home", "family", "office", "shop", "gadgets", "music")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(int(rng.random() * 10)) for _ in range(n))


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(pick(rng, alphabet) for _ in range(n))


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _luhn_complete(payload: str) -> str:
    """Append the check digit that makes ``payload`` Luhn-valid."""
    for check in "0123456789":
        if luhn_valid(payload + check):
            return payload + check
    raise AssertionError("unreachable: one check digit always fits")


def _group(number: str, sizes: tuple[int, ...], sep: str) -> str:
    out, pos = [], 0
    for size in sizes:
        out.append(number[pos : pos + size])
        pos += size
    if pos < len(number):
        out.append(number[pos:])
    return sep.join(p for p in out if p)


# card formats: (issuer prefix, length, grouping or None for plain, separator)
_CARDS = {
    "visa16_plain": ("4", 16, None, ""),
    "visa16_spaces": ("4", 16, (4, 4, 4, 4), " "),
    "mastercard16_dashes": ("5", 16, (4, 4, 4, 4), "-"),
    "amex15_spaces": ("37", 15, (4, 6, 5), " "),
    "visa13_plain": ("4", 13, None, ""),
    "discover16_spaces": ("6011", 16, (4, 4, 4, 4), " "),
    "maestro19_dashes": ("6759", 19, (4, 4, 4, 4, 3), "-"),
    "diners14_plain": ("36", 14, None, ""),
}


def card_number(rng: random.Random, fmt: str) -> str:
    prefix, length, groups, sep = _CARDS[fmt]
    if prefix == "5":
        prefix = str(51 + int(rng.random() * 5))
    number = _luhn_complete(prefix + _digits(rng, length - len(prefix) - 1))
    return _group(number, groups, sep) if groups else number


# IBAN basic bank account number layouts: "n" digit, "a" upper-case letter, "c" letter or digit
_IBAN_BBAN = {
    "DE": "n" * 18,
    "GB": "aaaa" + "n" * 14,
    "FR": "n" * 10 + "c" * 11 + "nn",
    "ES": "n" * 20,
    "NL": "aaaa" + "n" * 10,
    "IT": "a" + "n" * 10 + "c" * 12,
}


def iban(rng: random.Random, country: str, grouped: bool) -> str:
    alphabets = {"n": string.digits, "a": string.ascii_uppercase, "c": _UPPER_DIGITS}
    bban = "".join(pick(rng, alphabets[k]) for k in _IBAN_BBAN[country])
    numeric = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    value = f"{country}{98 - numeric % 97:02d}{bban}"
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4)) if grouped else value


def ssn(rng: random.Random, sep: str) -> str:
    area = 1 + int(rng.random() * 899)
    if area == 666:
        area = 667
    group, serial = 1 + int(rng.random() * 99), 1 + int(rng.random() * 9999)
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


_US_AREAS = ("212", "206", "303", "312", "404", "415", "512", "617", "702", "773", "818", "917")


def phone(rng: random.Random, fmt: str) -> str:
    area, line = pick(rng, _US_AREAS), f"01{_digits(rng, 2)}"
    if fmt == "us_parens":
        return f"({area}) 555-{line}"
    if fmt == "us_dashes":
        return f"{area}-555-{line}"
    if fmt == "us_dots":
        return f"{area}.555.{line}"
    if fmt == "us_intl":
        return f"+1 {area} 555 {line}"
    if fmt == "uk_london":
        return f"+44 20 7946 0{_digits(rng, 3)}"
    if fmt == "uk_mobile_national":
        return f"07700 900{_digits(rng, 3)}"
    if fmt == "de_intl":
        return f"+49 30 {_digits(rng, 6 + int(rng.random() * 3))}"
    if fmt == "fr_intl":
        return "+33 " + str(1 + int(rng.random() * 5)) + "".join(f" {_digits(rng, 2)}" for _ in range(4))
    raise ValueError(f"unknown phone format {fmt!r}")


def ipv4(rng: random.Random) -> str:
    first = pick(rng, (23, 45, 62, 81, 93, 104, 151, 176, 185, 203, 212, 217))
    return f"{first}.{1 + int(rng.random() * 254)}.{int(rng.random() * 256)}.{1 + int(rng.random() * 254)}"


def ipv6(rng: random.Random, compressed: bool) -> str:
    groups = ["2001", "0db8"] + [f"{int(rng.random() * 65536):04x}" for _ in range(6)]
    if not compressed:
        return ":".join(groups)
    head = ":".join(g.lstrip("0") or "0" for g in groups[:3])
    tail = ":".join(g.lstrip("0") or "0" for g in groups[6:])
    return f"{head}::{tail}"


def email(rng: random.Random, fmt: str) -> str:
    name, other, domain = pick(rng, _MAIL_NAMES), pick(rng, _MAIL_NAMES), pick(rng, _MAIL_DOMAINS)
    if fmt == "dotted":
        return f"{name}.{other}{_digits(rng, 2)}@{domain}"
    if fmt == "plus_tag":
        return f"{name}{_digits(rng, 3)}+{pick(rng, _MAIL_WORDS)}@{domain}"
    if fmt == "subdomain":
        return f"{name}_{pick(rng, _MAIL_WORDS)}@mail.{pick(rng, ('example.org', 'home-lab.net', 'kappa.io'))}"
    raise ValueError(f"unknown e-mail format {fmt!r}")


def secret(rng: random.Random, fmt: str) -> str:
    """A secret as it is pasted into text; for assignments the value is the whole ``key=value``."""
    if fmt == "aws_access_key":
        return "AKIA" + _chars(rng, _UPPER_DIGITS, 16)
    if fmt == "github_token":
        return "ghp_" + _chars(rng, _ALNUM, 36)
    if fmt == "api_key_assignment":
        return "api_key=" + _chars(rng, _ALNUM, 32)
    if fmt == "password_assignment":
        return "password: " + _chars(rng, _PASSWORD_CHARS, 10 + int(rng.random() * 6))
    raise ValueError(f"unknown secret format {fmt!r}")


# (type, format) -> value factory, for every type whose value does not depend on the record.
# PERSON (the customer's name) and the customer's own e-mail come from the record itself.
FACTORIES: dict[tuple[str, str], Callable[[random.Random], str]] = {
    **{("EMAIL", f): (lambda rng, f=f: email(rng, f)) for f in ("dotted", "plus_tag", "subdomain")},
    **{
        ("PHONE", f): (lambda rng, f=f: phone(rng, f))
        for f in (
            "us_parens",
            "us_dashes",
            "us_dots",
            "us_intl",
            "uk_london",
            "uk_mobile_national",
            "de_intl",
            "fr_intl",
        )
    },
    **{("CREDIT_CARD", f): (lambda rng, f=f: card_number(rng, f)) for f in _CARDS},
    ("SSN", "dashes"): lambda rng: ssn(rng, "-"),
    ("SSN", "spaces"): lambda rng: ssn(rng, " "),
    **{
        ("IBAN", f"{c}_{'grouped' if g else 'plain'}"): (lambda rng, c=c, g=g: iban(rng, c, g))
        for c in _IBAN_BBAN
        for g in (False, True)
    },
    ("IP_ADDRESS", "ipv4"): ipv4,
    ("IP_ADDRESS", "ipv6_full"): lambda rng: ipv6(rng, False),
    ("IP_ADDRESS", "ipv6_compressed"): lambda rng: ipv6(rng, True),
    **{
        ("SECRET", f): (lambda rng, f=f: secret(rng, f))
        for f in ("aws_access_key", "github_token", "api_key_assignment", "password_assignment")
    },
}
