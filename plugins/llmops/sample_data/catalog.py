"""The fictional shop's world: products, customers and the small facts text refers to.

Everything here is deterministic for a given seed. Customer names avoid first and last names that are
also everyday English words (Will, Grace, Price, Brown...), so masking a customer's name in text
cannot hit an ordinary word and skew precision measurements.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass

from llmops.sample_data.grammar import pick

SHOP = "Voltcart"

BRANDS = (
    "Aurion",
    "Brightline",
    "Corvex",
    "Dynamo",
    "Elara",
    "Fennix",
    "Gravitas",
    "Halcyon",
    "Ionix",
    "Kairo",
    "Lumera",
    "Monarch",
    "Nimbus",
    "Orbitra",
    "Pulsar",
    "Quanta",
    "Rivetto",
    "Solace",
    "Tetra",
    "Umbra",
    "Vantage",
    "Wavelink",
    "Zephyr",
    "Nordika",
)

# (type as written in text, short noun, battery-powered, wireless, accessories in the box)
PRODUCT_TYPES = (
    ("wireless earbuds", "earbuds", True, True, ("charging case", "ear tips", "USB-C cable")),
    (
        "noise-cancelling headphones",
        "headphones",
        True,
        True,
        ("carrying case", "audio cable", "USB-C cable"),
    ),
    ("Bluetooth speaker", "speaker", True, True, ("charging cable", "carry strap")),
    ("soundbar", "soundbar", False, True, ("remote control", "HDMI cable", "wall mount")),
    ("laptop", "laptop", True, True, ("power adapter", "laptop sleeve")),
    ("tablet", "tablet", True, True, ("stylus", "keyboard cover", "charger")),
    ("smartphone", "phone", True, True, ("charger", "SIM tool", "silicone case")),
    ("smartwatch", "watch", True, True, ("charging puck", "spare strap")),
    ("4K monitor", "monitor", False, False, ("stand", "DisplayPort cable", "power cable")),
    ("mechanical keyboard", "keyboard", True, True, ("keycap puller", "USB-C cable")),
    ("wireless mouse", "mouse", True, True, ("USB receiver", "charging cable")),
    ("Wi-Fi router", "router", False, True, ("power adapter", "Ethernet cable")),
    ("webcam", "webcam", False, False, ("clip mount", "privacy cover")),
    ("power bank", "power bank", True, False, ("USB-C cable", "travel pouch")),
    ("portable SSD", "drive", False, False, ("USB-C cable", "travel pouch")),
    ("smart TV", "TV", False, True, ("remote control", "stand feet", "wall bracket")),
    ("e-reader", "e-reader", True, True, ("cover", "USB cable")),
    ("action camera", "camera", True, True, ("helmet mount", "spare battery", "waterproof case")),
    ("camera drone", "drone", True, True, ("spare propellers", "controller", "spare battery")),
    ("robot vacuum", "vacuum", True, True, ("charging dock", "side brushes", "spare filter")),
    ("game controller", "controller", True, True, ("charging cable", "thumb grips")),
    ("smart thermostat", "thermostat", False, True, ("wall plate", "wiring labels")),
    ("photo printer", "printer", False, True, ("ink cartridges", "USB cable", "paper tray")),
    ("graphics card", "graphics card", False, False, ("power adapter cable", "support bracket")),
)

COLORS = (
    "black",
    "white",
    "silver",
    "midnight blue",
    "graphite",
    "sand",
    "forest green",
    "coral",
    "slate grey",
    "champagne",
    "matte black",
    "arctic white",
)
CARRIERS = ("UPS", "DHL", "FedEx", "DPD", "Royal Mail", "Hermes", "GLS", "USPS", "La Poste", "Correos")
DEVICES = (
    "iPhone 15",
    "Pixel 8",
    "Galaxy S24",
    "MacBook Air",
    "Windows 11 laptop",
    "iPad",
    "Android tablet",
    "Chromebook",
    "Xbox",
    "PS5",
    "OnePlus 12",
    "Surface Pro",
    "Linux desktop",
    "smart TV",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
COUNTRIES = (
    "Germany",
    "France",
    "Spain",
    "Italy",
    "the Netherlands",
    "Austria",
    "Ireland",
    "the UK",
    "Belgium",
    "Portugal",
    "Denmark",
    "Poland",
)

FIRST_NAMES = (
    "Maria",
    "Jonas",
    "Aisha",
    "Mateo",
    "Priya",
    "Lukas",
    "Sofia",
    "Hiroshi",
    "Elena",
    "Tomasz",
    "Amara",
    "Diego",
    "Ingrid",
    "Rahul",
    "Chloe",
    "Emeka",
    "Yuki",
    "Olivia",
    "Kwame",
    "Leila",
    "Mikhail",
    "Isabella",
    "Anders",
    "Fatima",
    "Liam",
    "Noor",
    "Carlos",
    "Hannah",
    "Ravi",
    "Zofia",
    "Marco",
    "Ayumi",
    "Ethan",
    "Leonie",
    "Tariq",
    "Camille",
    "Jakob",
    "Nadia",
    "Oscar",
    "Sven",
    "Beatriz",
    "Dmitri",
    "Esther",
    "Farid",
    "Greta",
    "Ibrahim",
    "Jasmin",
    "Kenji",
    "Lucia",
    "Malik",
    "Nina",
    "Pablo",
    "Samir",
    "Thea",
    "Ulrich",
    "Valentina",
    "Wei",
    "Xavier",
    "Yasmin",
    "Zara",
    "José",
    "Zoë",
    "Søren",
    "Björn",
    "Chiara",
    "Dario",
    "Emil",
    "Freya",
    "Gabriel",
    "Helga",
    "Inês",
    "Jorge",
    "Klara",
    "Lars",
    "Mei",
    "Nikolai",
    "Olga",
    "Pieter",
    "Renata",
    "Stefan",
    "Łukasz",
    "Agnieszka",
)
LAST_NAMES = (
    "Lopez",
    "Schneider",
    "Okafor",
    "Nakamura",
    "Kowalski",
    "Fernandez",
    "Johansson",
    "Haddad",
    "Patel",
    "Novak",
    "Dubois",
    "Rossi",
    "Andersson",
    "Mensah",
    "Ivanova",
    "Garcia",
    "Müller",
    "Nguyen",
    "Tanaka",
    "Silva",
    "O'Brien",
    "Kaur",
    "Lindqvist",
    "Moreau",
    "Bianchi",
    "Kovacs",
    "Yilmaz",
    "Osei",
    "Petrov",
    "Castillo",
    "Fischer",
    "Hoffmann",
    "Jansen",
    "Laurent",
    "Marino",
    "Nowak",
    "Ortega",
    "Pereira",
    "Quintero",
    "Ramirez",
    "Sato",
    "Takahashi",
    "Varga",
    "Weber",
    "Zimmermann",
    "Abebe",
    "Bergström",
    "Chowdhury",
    "Delgado",
    "Eriksen",
    "Fontaine",
    "Gallagher",
    "Horvath",
    "Iglesias",
    "Jovanović",
    "Kaminski",
    "Lindgren",
    "Mahmoud",
    "Nieminen",
    "Olsen",
    "Popescu",
    "Rahman",
    "Santos",
    "Tremblay",
    "Ueda",
    "Vasquez",
    "Wójcik",
    "Yamamoto",
    "Zeller",
    "Ahmadi",
    "Brennan",
    "Costa",
    "Dimitrov",
    "Esposito",
    "Achterberg",
    "Sørensen",
)
_MAIL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "web.de",
    "gmx.de",
    "orange.fr",
    "icloud.com",
    "proton.me",
    "hotmail.com",
    "libero.it",
    "telefonica.es",
    "ziggo.nl",
)
_ASCII_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "'": ""})


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
    number = pick(
        rng,
        (str(1 + int(rng.random() * 9)), str(10 + int(rng.random() * 90)), f"{1 + int(rng.random() * 9)}00"),
    )
    suffix = pick(rng, ("", "", "", " Pro", " Max", " Lite", " Air", " Plus", "s", " Mini"))
    return f"{letter}{number}{suffix}"


def build_products(count: int = 2000) -> tuple[Product, ...]:
    """The catalogue: fixed across days and seeds, like a real shop's (product ids must stay stable)."""
    rng = random.Random("llmops-sample-catalog")
    products, names = [], set()
    while len(products) < count:
        label, noun, battery, wireless, accessories = pick(rng, PRODUCT_TYPES)
        brand = pick(rng, BRANDS)
        name = f"{brand} {_model(rng)} {label}"
        if name in names:
            continue
        names.add(name)
        price = round(19 + rng.random() * 1200, 0) - 0.01
        products.append(
            Product(f"P-{len(products) + 10001:05d}", name, noun, brand, battery, wireless, accessories, price)
        )
    return tuple(products)


def build_customers(rng: random.Random, count: int) -> tuple[Customer, ...]:
    customers = []
    for i in range(count):
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        f, l_ = _ascii(first), _ascii(last)
        year = 1950 + int(rng.random() * 56)
        local = pick(rng, (f"{f}.{l_}", f"{f[0]}{l_}{year % 100:02d}", f"{l_}.{f}", f"{f}_{l_[0]}{year}", f"{f}{l_}"))
        customers.append(Customer(f"CUST-{i + 1:07d}", first, last, f"{local}@{pick(rng, _MAIL_DOMAINS)}"))
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
    "device": lambda s: pick(s.rng, DEVICES),
    "carrier": lambda s: pick(s.rng, CARRIERS),
    "tracking": lambda s: tracking_number(s.rng),
    "credit": lambda s: price_text(pick(s.rng, (10, 15, 20, 25, 30, 50))),
    "country": lambda s: pick(s.rng, COUNTRIES),
    "other_product": lambda s: pick(s.rng, s.products).name,
}
SLOT_NAMES = frozenset(["product", "noun", "brand", "shop", *_SLOT_MAKERS])
