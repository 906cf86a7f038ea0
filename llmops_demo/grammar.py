"""A tiny template language that makes generated text varied without pages of hand-written prose.

``[a|b|c]`` picks one alternative at random (``[|very ]`` makes a word optional; alternatives nest),
``{slot}`` inserts a named value and ``\\[`` / ``\\]`` are literal brackets. The texts live in
``texts/*.yaml``, parsed once on first use: the generator renders millions of templates, so rendering
is a loop over pre-split parts.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

TEXTS = Path(__file__).with_name("texts")

_LITERAL, _CHOICE, _SLOT = 0, 1, 2
Parts = tuple[tuple[int, object], ...]


def _parse(src: str, i: int, stops: str) -> tuple[Parts, int]:
    parts: list[tuple[int, object]] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            parts.append((_LITERAL, "".join(buf)))
            buf.clear()

    while i < len(src) and src[i] not in stops:
        c = src[i]
        if c == "\\" and i + 1 < len(src):
            buf.append(src[i + 1])
            i += 2
        elif c == "[":
            options = []
            i += 1
            while True:
                option, i = _parse(src, i, "|]")
                if i >= len(src):
                    raise ValueError(f"unclosed '[' in template {src!r}")
                # a plain-text option is stored as the string itself: the common case renders fastest
                options.append(
                    option[0][1] if len(option) == 1 and option[0][0] == _LITERAL else ("" if not option else option)
                )
                i += 1
                if src[i - 1] == "]":
                    break
            flush()
            parts.append((_CHOICE, tuple(options)))
        elif c == "{":
            end = src.index("}", i)
            flush()
            parts.append((_SLOT, src[i + 1 : end]))
            i = end + 1
        else:
            buf.append(c)
            i += 1
    flush()
    return tuple(parts), i


def _render(parts: Parts, rng: random.Random, slots: Mapping[str, str] | None, out: list[str]) -> None:
    append, rand = out.append, rng.random
    for kind, value in parts:
        if kind == _LITERAL:
            append(value)
        elif kind == _CHOICE:
            option = value[int(rand() * len(value))]
            if option.__class__ is str:
                append(option)
            else:
                _render(option, rng, slots, out)
        else:
            append(slots[value])


def _slot_names(parts: Parts) -> set[str]:
    names: set[str] = set()
    for kind, value in parts:
        if kind == _SLOT:
            names.add(value)
        elif kind == _CHOICE:
            for option in value:
                if option.__class__ is not str:
                    names |= _slot_names(option)
    return names


class Template:
    __slots__ = ("parts", "source")

    def __init__(self, source: str):
        self.source = source
        self.parts, end = _parse(source, 0, "")
        if end != len(source):
            raise ValueError(f"unbalanced brackets in template {source!r}")

    def render(self, rng: random.Random, slots: Mapping[str, str] | None = None) -> str:
        out: list[str] = []
        _render(self.parts, rng, slots, out)
        return "".join(out)

    def slots(self) -> set[str]:
        return _slot_names(self.parts)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def _compile(node):
    """Lists of strings become tuples of templates; mappings and other lists are compiled inside."""
    if isinstance(node, dict):
        return {key: _compile(value) for key, value in node.items()}
    if isinstance(node, list):
        return tuple(Template(v) if isinstance(v, str) else _compile(v) for v in node)
    return node


@functools.cache
def texts(name: str) -> dict:
    """``texts/<name>.yaml`` with every list of strings compiled to templates."""
    return _compile(yaml.safe_load((TEXTS / f"{name}.yaml").read_text(encoding="utf-8")))


@functools.cache
def world() -> dict:
    """``texts/world.yaml`` as plain data: the shop's products and the facts text refers to."""
    return yaml.safe_load((TEXTS / "world.yaml").read_text(encoding="utf-8"))


def pick(rng: random.Random, items: Sequence):
    return items[int(rng.random() * len(items))]


def render_one(rng: random.Random, options: Sequence[Template], slots: Mapping[str, str] | None = None) -> str:
    """One of ``options``, rendered, with its first letter capitalised (templates may start with a slot)."""
    text = pick(rng, options).render(rng, slots)
    return text[0].upper() + text[1:] if text[:1].islower() else text
