"""Fake but well-formed personal data from Faker: every type and several formats the raw contract lists.

Values are valid where validity is checkable (Luhn for cards, mod-97 for IBANs, allowed SSN area
numbers, parseable IP addresses) so a masker that verifies checksums must still catch them. Phone
numbers use ranges reserved for fiction (US 555-01xx, UK 020 7946 0xxx / 07700 900xxx).
"""

from __future__ import annotations

import functools
import ipaddress
import random
import re
import string
from collections.abc import Callable

from faker import Faker

from llmops.contracts.personal_data import TYPES as PII_TYPES  # noqa: F401 - the types the manifest uses

_IBAN_LOCALES = {"DE": "de_DE", "GB": "en_GB", "FR": "fr_FR", "ES": "es_ES", "NL": "nl_NL", "IT": "it_IT"}
# card formats: (Faker card type, grouping or None for plain, separator)
_CARDS = {
    "visa16_plain": ("visa16", None, ""),
    "visa16_spaces": ("visa16", (4, 4, 4, 4), " "),
    "mastercard16_dashes": ("mastercard", (4, 4, 4, 4), "-"),
    "amex15_spaces": ("amex", (4, 6, 5), " "),
    "visa13_plain": ("visa13", None, ""),
    "discover16_spaces": ("discover", (4, 4, 4, 4), " "),
    "visa19_dashes": ("visa19", (4, 4, 4, 4, 3), "-"),
    "diners14_plain": ("diners", None, ""),
}
# phone formats for Faker's numerify (# any digit); {area} is a US area code
_PHONES = {
    "us_parens": "({area}) 555-01##",
    "us_dashes": "{area}-555-01##",
    "us_dots": "{area}.555.01##",
    "us_intl": "+1 {area} 555 01##",
    "uk_london": "+44 20 7946 0###",
    "uk_mobile_national": "07700 900###",
    "de_intl": "+49 30 ######{more}",
    "fr_intl": "+33 % ## ## ## ##",
}
_US_AREAS = ("212", "206", "303", "312", "404", "415", "512", "617", "702", "773", "818", "917")
_UPPER_DIGITS = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


@functools.cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def fake(rng: random.Random, locale: str = "en_US") -> Faker:
    """Faker for ``locale`` drawing from ``rng``: the generator's seeded streams stay the only source."""
    faker = _faker(locale)
    faker.random = rng
    return faker


def card_number(rng: random.Random, fmt: str) -> str:
    card_type, groups, sep = _CARDS[fmt]
    number = fake(rng).credit_card_number(card_type)
    if not groups:
        return number
    starts = [sum(groups[:i]) for i in range(len(groups))]
    return sep.join(number[s : s + n] for s, n in zip(starts, groups, strict=True))


def iban(rng: random.Random, country: str, grouped: bool) -> str:
    value = fake(rng, _IBAN_LOCALES[country]).iban()
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4)) if grouped else value


def phone(rng: random.Random, fmt: str) -> str:
    f = fake(rng)
    return f.numerify(_PHONES[fmt].format(area=f.random_element(_US_AREAS), more="#" * f.random_int(0, 2)))


def email(rng: random.Random, fmt: str) -> str:
    f = fake(rng)
    if fmt == "dotted":
        local = re.sub(r"[^a-z.]", "", f"{f.first_name()}.{f.last_name()}".lower())
        return f"{local}{f.numerify('##')}@{f.free_email_domain()}"
    if fmt == "plus_tag":
        return f"{f.user_name()}+{f.word()}@{f.free_email_domain()}"
    return f"{f.user_name()}@mail.{f.domain_name()}"  # subdomain


def secret(rng: random.Random, fmt: str) -> str:
    """A secret as it is pasted into text; for assignments the value is the whole ``key=value``."""
    f = fake(rng)
    if fmt == "aws_access_key":
        return f.lexify("AKIA" + "?" * 16, letters=_UPPER_DIGITS)
    if fmt == "github_token":
        return f.lexify("ghp_" + "?" * 36, letters=_ALNUM)
    if fmt == "api_key_assignment":
        return f.lexify("api_key=" + "?" * 32, letters=_ALNUM)
    return f.lexify("password: " + "?" * f.random_int(10, 15), letters=_ALNUM + "!#$%*_-")


# (type, format) -> value factory, for every type whose value does not depend on the record.
# PERSON (the customer's name) and the customer's own e-mail come from the record itself.
FACTORIES: dict[tuple[str, str], Callable[[random.Random], str]] = {
    **{("EMAIL", f): (lambda rng, f=f: email(rng, f)) for f in ("dotted", "plus_tag", "subdomain")},
    **{("PHONE", f): (lambda rng, f=f: phone(rng, f)) for f in _PHONES},
    **{("CREDIT_CARD", f): (lambda rng, f=f: card_number(rng, f)) for f in _CARDS},
    ("SSN", "dashes"): lambda rng: fake(rng).ssn(),
    ("SSN", "spaces"): lambda rng: fake(rng).ssn().replace("-", " "),
    **{
        ("IBAN", f"{c}_{'grouped' if g else 'plain'}"): (lambda rng, c=c, g=g: iban(rng, c, g))
        for c in _IBAN_LOCALES
        for g in (False, True)
    },
    ("IP_ADDRESS", "ipv4"): lambda rng: fake(rng).ipv4_public(),
    ("IP_ADDRESS", "ipv6_full"): lambda rng: ipaddress.IPv6Address(fake(rng).ipv6()).exploded,
    ("IP_ADDRESS", "ipv6_compressed"): lambda rng: fake(rng).hexify("2001:db8::^^^:^^^^"),
    **{
        ("SECRET", f): (lambda rng, f=f: secret(rng, f))
        for f in ("aws_access_key", "github_token", "api_key_assignment", "password_assignment")
    },
}
