"""The fictional shop's world: products, customers and the small facts text refers to.

Everything here is deterministic for a given seed. Customer names come from Faker's European locales,
minus every name that is also a word of the generator's own texts (Will, Grace, Price...), so masking
a customer's name in text cannot hit an ordinary word and skew precision measurements.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import unicodedata
from dataclasses import dataclass

from faker import Faker

from llmops_demo.grammar import TEXTS, pick, world

SHOP = "Voltcart"
WORLD = world()
COLORS = tuple(WORLD["colors"])
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NAME_LOCALES = ("de_DE", "es_ES", "fr_FR", "it_IT", "nl_NL", "pl_PL", "sv_SE", "pt_PT", "da_DK", "cs_CZ")
_ASCII_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae"})


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str  # "Halcyon Q7 wireless earbuds"
    noun: str  # "earbuds"
    brand: str
    battery: bool
    wireless: bool
    accessories: tuple[str, ...]
    price: float


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    first: str
    last: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


def _model(rng: random.Random) -> str:
    letter = pick(rng, "ACEFGHKMNPQRSTVXZ")
    number = pick(rng, (str(1 + int(rng.random() * 9)), str(10 + int(rng.random() * 90)),
                        f"{1 + int(rng.random() * 9)}00"))
    suffix = pick(rng, ("", "", "", " Pro", " Max", " Lite", " Air", " Plus", "s", " Mini"))
    return f"{letter}{number}{suffix}"


@functools.cache
def build_products(count: int = 2000) -> tuple[Product, ...]:
    """The catalogue: fixed across days and seeds, like a real shop's (product ids must stay stable)."""
    rng = random.Random("llmops-sample-catalog")
    products, names = [], set()
    while len(products) < count:
        kind, brand = pick(rng, WORLD["product_types"]), pick(rng, WORLD["brands"])
        name = f"{brand} {_model(rng)} {kind['label']}"
        if name in names:
            continue
        names.add(name)
        price = round(19 + rng.random() * 1200, 0) - 0.01
        products.append(Product(f"P-{len(products) + 10001:05d}", name, kind["noun"], brand, kind["battery"],
                                kind["wireless"], tuple(kind["accessories"]), price))
    return tuple(products)


@functools.cache
def _text_words() -> frozenset[str]:
    """Every word of the texts and the world, lower-cased: no customer may be called one of them."""
    return frozenset(w.lower() for p in TEXTS.glob("*.yaml") for w in re.findall(r"\w+", p.read_text("utf-8")))


@functools.cache
def _name_fakers() -> tuple[Faker, ...]:
    return tuple(Faker(locale) for locale in NAME_LOCALES)


def _name(fake: Faker, part: str) -> str:
    """A one-word first or last name that is no word of the texts."""
    while True:
        name = getattr(fake, part)()
        if name.isalpha() and _ascii(name).isascii() and name.lower() not in _text_words():
            return name


def build_customers(rng: random.Random, count: int) -> tuple[Customer, ...]:
    customers = []
    for fake in _name_fakers():
        fake.random = rng
    for i in range(count):
        fake = pick(rng, _name_fakers())
        first, last = _name(fake, "first_name"), _name(fake, "last_name")
        f, l_ = _ascii(first), _ascii(last)
        year = 1950 + int(rng.random() * 56)
        local = pick(rng, (f"{f}.{l_}", f"{f[0]}{l_}{year % 100:02d}", f"{l_}.{f}", f"{f}_{l_[0]}{year}", f"{f}{l_}"))
        customers.append(Customer(f"CUST-{i + 1:07d}", first, last, f"{local}@{pick(rng, WORLD['mail_domains'])}"))
    return tuple(customers)


def day_code(day: dt.date) -> str:
    """Three letters that name a date in order ids (ORD-KQB-0012345): no long digit runs in text."""
    n = day.toordinal() % 17576
    return "".join(chr(65 + (n // 26**k) % 26) for k in (2, 1, 0))


def order_id(day: dt.date, seq: int) -> str:
    return f"ORD-{day_code(day)}-{seq:07d}"


def tracking_number(rng: random.Random) -> str:
    return "TRK" + "".join(pick(rng, "ABCDEFGHJKLMNPRSTUVWXYZ23456789") for _ in range(10))


def price_text(value: float) -> str:
    return f"${value:,.2f}"


def past_day(rng: random.Random, day: dt.date, max_days: int = 40) -> dt.date:
    return day - dt.timedelta(days=1 + int(rng.random() * max_days))


class Slots(dict):
    """Template slot values for one record, each drawn on first use: a record renders only a few
    templates, and drawing every value up front cost more than rendering them."""

    __slots__ = ("rng", "day", "product", "products", "_earlier_day")

    def __init__(self, rng: random.Random, day: dt.date, product: Product, products: tuple[Product, ...]):
        super().__init__(product=product.name, noun=product.noun, brand=product.brand, shop=SHOP)
        self.rng, self.day, self.product, self.products = rng, day, product, products
        self._earlier_day: dt.date | None = None

    def __missing__(self, key: str) -> str:
        value = _SLOT_MAKERS[key](self)
        self[key] = value
        return value

    def _earlier(self) -> dt.date:
        """The one earlier day a record talks about (order date, delivery date...)."""
        if self._earlier_day is None:
            self._earlier_day = past_day(self.rng, self.day)
        return self._earlier_day

    def _color2(self) -> str:
        i = COLORS.index(self["color"])
        return COLORS[(i + 1 + int(self.rng.random() * (len(COLORS) - 1))) % len(COLORS)]

    def _date_num(self) -> str:
        d = self._earlier()
        sep = "." if self.rng.random() < 0.5 else "/"
        return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}"


_SLOT_MAKERS = {
    "accessory": lambda s: pick(s.rng, s.product.accessories),
    "price": lambda s: price_text(s.product.price),
    "price2": lambda s: price_text(round(s.product.price * (0.6 + s.rng.random() * 0.3), 0) - 0.01),
    "order": lambda s: order_id(s._earlier(), 1 + int(s.rng.random() * 250_000)),
    "date": lambda s: f"{MONTHS[s._earlier().month - 1]} {s._earlier().day}",
    "date_num": lambda s: s._date_num(),
    "weekday": lambda s: pick(s.rng, WEEKDAYS),
    "days": lambda s: str(2 + int(s.rng.random() * 19)),
    "hours": lambda s: str(pick(s.rng, (2, 4, 6, 8, 12, 24, 36, 48, 72))),
    "n": lambda s: str(2 + int(s.rng.random() * 8)),
    "version": lambda s: f"{1 + int(s.rng.random() * 6)}.{int(s.rng.random() * 20)}.{int(s.rng.random() * 10)}",
    "color": lambda s: pick(s.rng, COLORS),
    "color2": lambda s: s._color2(),
    "device": lambda s: pick(s.rng, WORLD["devices"]),
    "carrier": lambda s: pick(s.rng, WORLD["carriers"]),
    "tracking": lambda s: tracking_number(s.rng),
    "credit": lambda s: price_text(pick(s.rng, (10, 15, 20, 25, 30, 50))),
    "country": lambda s: pick(s.rng, WORLD["countries"]),
    "other_product": lambda s: pick(s.rng, s.products).name,
}
SLOT_NAMES = frozenset(["product", "noun", "brand", "shop", *_SLOT_MAKERS])
