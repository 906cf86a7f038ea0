"""A tiny template language that makes generated text varied without pages of hand-written prose.

``[a|b|c]`` picks one alternative at random (``[|very ]`` makes a word optional) and ``{slot}``
inserts a named value. Templates are split into parts once, at import: the generator renders
millions of them, so rendering is a plain loop with no parsing.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence

_TOKEN = re.compile(r"\[([^\[\]]*)\]|\{(\w+)\}")
_LITERAL, _CHOICE, _SLOT = 0, 1, 2


class Template:
    __slots__ = ("parts", "source")

    def __init__(self, source: str):
        self.source = source
        parts: list[tuple[int, object]] = []
        pos = 0
        for m in _TOKEN.finditer(source):
            if m.start() > pos:
                parts.append((_LITERAL, source[pos : m.start()]))
            if m.group(1) is not None:
                parts.append((_CHOICE, tuple(m.group(1).split("|"))))
            else:
                parts.append((_SLOT, m.group(2)))
            pos = m.end()
        if pos < len(source):
            parts.append((_LITERAL, source[pos:]))
        self.parts = tuple(parts)

    def render(self, rng: random.Random, slots: Mapping[str, str] | None = None) -> str:
        out = []
        for kind, value in self.parts:
            if kind == _LITERAL:
                out.append(value)
            elif kind == _CHOICE:
                out.append(value[int(rng.random() * len(value))])
            else:
                out.append(slots[value])
        return "".join(out)

    def slots(self) -> set[str]:
        return {value for kind, value in self.parts if kind == _SLOT}

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def templates(*sources: str) -> tuple[Template, ...]:
    return tuple(Template(s) for s in sources)


def pick(rng: random.Random, items: Sequence):
    return items[int(rng.random() * len(items))]


def render_one(rng: random.Random, options: Sequence[Template], slots: Mapping[str, str] | None = None) -> str:
    return pick(rng, options).render(rng, slots)
