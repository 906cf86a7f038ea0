"""Product reviews: a rating, a title and a body whose tone follows the rating."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from llmops_demo.catalog import Product, Slots
from llmops_demo.grammar import pick, render_one, texts
from llmops_demo.model import Built, NumberedFactory, PiiItem
from llmops_demo.pii import FACTORIES

P_FOREIGN, P_PII, P_INJECTION, P_EXTRA = 0.053, 0.053, 0.0105, 0.1
I18N, PLANTED, TXT = texts("i18n"), texts("planted"), texts("reviews")
_RATINGS = (5,) * 40 + (4,) * 25 + (3,) * 12 + (2,) * 8 + (1,) * 15
_TONE = {5: "positive", 4: "positive", 3: "mixed", 2: "negative", 1: "negative"}


def _aspects(product: Product) -> tuple[str, ...]:
    skip = {"battery"} if not product.battery else set()
    if not product.wireless:
        skip.add("connection")
    if product.noun not in ("earbuds", "headphones", "speaker", "soundbar", "TV", "laptop", "tablet", "phone"):
        skip.add("sound")
    return tuple(a for a in TXT["aspects"] if a not in skip)


class ReviewFactory(NumberedFactory):
    source = "reviews"
    id_field = "review_id"
    id_prefix = "REV"

    def __init__(self, rng: random.Random, day: dt.date, products: tuple[Product, ...]):
        super().__init__(rng, day, products)
        combos = list(FACTORIES)
        rng.shuffle(combos)
        self._pii_combos = itertools.cycle(combos)
        self._aspects = {p.product_id: _aspects(p) for p in products}

    def build(self, record_id: str, plain: bool = False) -> Built:
        rng = self.rng
        product = pick(rng, self.products)
        slots = Slots(rng, self.day, product, self.products)
        rating = pick(rng, _RATINGS)
        built = Built({})
        r = 1.0 if plain else rng.random()
        if r < P_FOREIGN:
            built.lang = pick(rng, tuple(I18N["review"]))
            title, body = self._foreign(slots, built.lang, rating)
        else:
            title, body = self._english(slots, product, rating)
            if r < P_FOREIGN + P_PII:
                title, body = self._plant_pii(slots, built, title, body)
        if not plain and rng.random() < P_INJECTION:
            rule = pick(rng, tuple(PLANTED["injections"]))
            text = render_one(rng, PLANTED["injections"][rule])
            body = f"{body} {text}"
            built.injection = (rule, "body", text)
        record = {"review_id": record_id, "product_id": product.product_id, "rating": rating}
        if title is not None:
            record["title"] = title
        record["body"] = body
        record["created_at"] = self.clock.iso(int(rng.random() * 86_400), rng)
        lang = self._declared_lang(built.lang)
        if lang is not None:
            record["lang"] = lang
        if rng.random() < P_EXTRA:
            record["verified_purchase"] = rng.random() < 0.8
            record["helpful_votes"] = int(rng.random() * 40)
        built.record = record
        return built

    def _declared_lang(self, lang: str) -> str | None:
        """The ``lang`` field as shops fill it: usually right, sometimes absent, sometimes wrong."""
        r = self.rng.random()
        if r < 0.15:
            return None
        if lang != "en" and r < 0.3:
            return "en"
        return "en-US" if lang == "en" and r < 0.2 else lang

    def _english(self, slots: Slots, product: Product, rating: int) -> tuple[str | None, str]:
        rng = self.rng
        tone = _TONE[rating]
        aspects = list(self._aspects[product.product_id])
        rng.shuffle(aspects)
        sentences = [render_one(rng, TXT["intros"][tone], slots)]
        if rng.random() < 0.75:
            sentences.append(render_one(rng, TXT["usage"], slots))
        for i, aspect in enumerate(aspects[: 2 + int(rng.random() * 3)]):
            praise, complaints = TXT["aspects"][aspect]
            good = {
                "positive": i < 2 or rng.random() < 0.7,
                "negative": i >= 2 and rng.random() < 0.3,
                "mixed": i % 2 == 0,
            }[tone]
            sentences.append(render_one(rng, praise if good else complaints, slots))
        if rng.random() < 0.75:
            sentences.append(render_one(rng, TXT["verdicts"][tone], slots))
        title = render_one(rng, TXT["titles"][tone], slots) if rng.random() < 0.88 else None
        return title, " ".join(sentences)

    def _foreign(self, slots: Slots, lang: str, rating: int) -> tuple[str | None, str]:
        rng = self.rng
        tone = "negative" if rating <= 3 else "positive"
        t = I18N["review"][lang]
        body = t["body"][tone]
        remarks = [s for s in body[1:6] if rng.random() < 0.6] or [pick(rng, body[1:6])]
        sentences = [body[0], *remarks, *([body[6]] if rng.random() < 0.85 else [])]
        title = render_one(rng, t["title"][tone], slots) if rng.random() < 0.9 else None
        return title, " ".join(s.render(rng, slots) for s in sentences)

    def _plant_pii(self, slots: Slots, built: Built, title: str | None, body: str) -> tuple[str | None, str]:
        rng = self.rng
        for kind in itertools.islice(self._pii_combos, 1 if rng.random() < 0.85 else 2):
            item = PiiItem("body", kind[0], kind[1], FACTORIES[kind](rng))
            slots["v"] = item.value
            title_free = all(i.field != "title" for i in built.pii)
            if item.type in PLANTED["pii_subjects"] and title_free and rng.random() < 0.1:
                item.field, title = "title", render_one(rng, PLANTED["pii_subjects"][item.type], slots)
            else:
                sentence = render_one(rng, PLANTED["pii_sentences"][item.type], slots)
                body = f"{body} {sentence}" if rng.random() < 0.5 else f"{sentence} {body}"
            built.pii.append(item)
        return title, body
