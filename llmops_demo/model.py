"""What a record builder hands the generator: the record, and what was planted in it."""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from typing import Protocol

_WORD = re.compile(r"\w+")


@dataclass(slots=True)
class PiiItem:
    field: str  # "subject", "messages[0].text", "body", "answer", ...
    type: str  # one of pii.PII_TYPES
    format: str  # e.g. "us_parens", "DE_grouped", "full_name"
    value: str  # the exact substring planted


@dataclass(slots=True)
class Built:
    record: dict
    pii: list[PiiItem] = field(default_factory=list)
    lang: str = "en"
    injection: tuple[str, str, str] | None = None  # (rule, field, exact text)
    html: bool = False

    @property
    def plain(self) -> bool:
        """Eligible as the original of a duplicate: English, no planted items, no markup."""
        return not self.pii and self.lang == "en" and self.injection is None and not self.html


class RecordFactory(Protocol):
    """Builds the valid records of one JSON source (tickets, reviews)."""

    source: str
    id_field: str

    def new_id(self) -> str: ...

    def build(self, record_id: str, plain: bool = False) -> Built:
        """A valid record; ``plain`` ones carry nothing planted (the base of a malformed line)."""
        ...


class NumberedFactory:
    """The start of every numbered source's builder: the catalogue, the day, its clock and ids
    ``<id_prefix>-YYYYMMDD-0000001`` in the order they are asked for."""

    id_prefix = ""

    def __init__(self, rng: random.Random, day: dt.date, products: tuple, customers: tuple = ()):
        self.rng, self.day, self.products, self.customers = rng, day, products, customers
        self.clock = Clock(day)
        self._prefix = f"{self.id_prefix}-{day:%Y%m%d}-"
        self._seq = 0

    def new_id(self) -> str:
        self._seq += 1
        return f"{self._prefix}{self._seq:07d}"


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


class Clock:
    """ISO-8601 timestamps given as seconds since midnight UTC of ``day`` (later days allowed).

    Formats with integer arithmetic and cached dates: datetime.strftime was a tenth of the
    generator's time.
    """

    def __init__(self, day: dt.date):
        self.day = day
        self._dates: dict[int, str] = {}

    def _local(self, seconds: int) -> str:
        """``YYYY-MM-DDTHH:MM:SS`` of ``seconds`` after midnight of ``day``."""
        days, s = divmod(seconds, 86_400)
        date = self._dates.get(days)
        if date is None:
            date = self._dates[days] = (self.day + dt.timedelta(days=days)).isoformat()
        hours, s = divmod(s, 3600)
        minutes, s = divmod(s, 60)
        return f"{date}T{hours:02d}:{minutes:02d}:{s:02d}"

    def iso(self, seconds: int, rng: random.Random | None = None) -> str:
        """Mostly ``...Z``; with ``rng``, sometimes milliseconds or a local time with its UTC offset."""
        r = rng.random() if rng else 0.0
        if r < 0.8:
            return self._local(seconds) + "Z"
        if r < 0.9:
            return f"{self._local(seconds)}.{int(rng.random() * 1000):03d}Z"
        offset = 1 + int(rng.random() * 2)
        return f"{self._local(seconds + offset * 3600)}+{offset:02d}:00"
