"""FAQ HTML pages: one question/answer pair per heading (h2, h3 or dt), wrapped in real-world noise."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from llmops_demo.catalog import SHOP, WORLD, Product, Slots
from llmops_demo.grammar import Template, pick, render_one, texts
from llmops_demo.model import PiiItem
from llmops_demo.pii import FACTORIES

P_PII = 0.025
PLANTED, TXT = texts("planted"), texts("faq")
POISON = "\x00"  # stands where a broken page gets its invalid bytes

_STYLE = (
    "body{font-family:Arial,sans-serif;margin:0}.faq h2,.faq h3{color:#1a1a2e}"
    'nav ul{display:flex;gap:1rem}a[href^="http"]::after{content:"\\2197"}'
)
_SCRIPT = (
    "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
    "if(window.innerWidth<600&&document.cookie.indexOf('consent=1')<0){gtag('event','faq_view');}"
)


class FaqFactory:
    source = "faq"

    def __init__(self, rng: random.Random, day: dt.date, products: tuple[Product, ...]):
        self.rng, self.day, self.products = rng, day, products
        combos = [k for k in FACTORIES if k[0] in PLANTED["faq_pii_sentences"]]
        rng.shuffle(combos)
        self._pii_combos = itertools.cycle(combos)
        # product pages go through the catalogue before one repeats: the same product on two pages is
        # the likeliest way to two near-identical pairs
        self._page_products = itertools.cycle(self._shuffled(products))

    def page(self, n_pairs: int, missing: frozenset[int] = frozenset(),
             poison: bool = False) -> tuple[str, list[tuple[int, PiiItem]]]:
        """A page of ``n_pairs`` headings; those at the 1-based indices in ``missing`` get no answer.

        Returns the HTML and the personal data planted, by heading index. With ``poison`` the first
        answer starts with POISON, for the caller to swap for bytes that are not UTF-8.
        """
        rng = self.rng
        product = next(self._page_products)
        if rng.random() < 0.4:  # a policy page: its topic first, then questions from the other topics
            topic = TXT["policy_topics"][pick(rng, tuple(TXT["policy_topics"]))]
            others = [(t, i) for t in TXT["policy_topics"].values() if t is not topic for i in t["intents"]]
            intents = [(topic, i) for i in self._shuffled(topic["intents"])] + self._shuffled(others)
            title = topic["title"]
        else:
            topic = TXT["product_topic"]
            intents = [(topic, i) for i in self._shuffled(topic["intents"])]
            title = render_one(rng, TXT["product_titles"], Slots(rng, self.day, product, self.products))
        style = pick(rng, ("h2", "h3", "dl"))
        out = [self._head(title, style)]
        planted_pii: list[tuple[int, PiiItem]] = []
        for index in range(1, n_pairs + 1):
            topic, intent = intents[(index - 1) % len(intents)]
            # policy answers quote a worked example naming some product: it keeps pages on one topic apart
            example = pick(rng, self.products) if "examples" in topic else product
            slots = Slots(rng, self.day, example, self.products)
            question = render_one(rng, intent["questions"], slots)
            out.append(self._heading(style, index, question))
            if index in missing:
                continue
            # two answer sentences, a worked example on policy pages and a closing note: FAQ pairs are short,
            # and every choice point they carry keeps unrelated pairs apart in word 3-gram Jaccard
            sentences = [render_one(rng, (t,), slots) for t in rng.sample(intent["answers"], 2)]
            if "examples" in topic:
                sentences.append(render_one(rng, topic["examples"], slots))
            if poison and index == 1:
                sentences[0] = POISON + sentences[0]
            if rng.random() < P_PII and not poison:
                kind = next(self._pii_combos)
                item = PiiItem("answer", kind[0], kind[1], FACTORIES[kind](rng))
                slots["v"] = item.value
                sentences.append(render_one(rng, PLANTED["faq_pii_sentences"][item.type], slots))
                planted_pii.append((index, item))
            steps = intent.get("steps", ())
            out.append(self._answer(slots, sentences, steps, ordered="examples" not in topic, dl=style == "dl"))
            if rng.random() < 0.08:
                out.append(f"<script>gtag('event','faq_open',{{id:{index}}});</script>")
        out.append(self._foot(style))
        return "\n".join(out), planted_pii

    def _heading(self, style: str, index: int, question: str) -> str:
        if style == "dl":
            return f"<dt>{question}</dt>"
        attribute = f'id="q{index}"' if self.rng.random() < 0.5 else 'class="question"'
        return f"<{style} {attribute}>{question}</{style}>"

    def _shuffled(self, items) -> list:
        items = list(items)
        self.rng.shuffle(items)
        return items

    def _answer(self, slots: Slots, sentences: list[str], steps: tuple[Template, ...], ordered: bool, dl: bool) -> str:
        rng = self.rng
        paragraphs = [" ".join(sentences)] if rng.random() < 0.5 else sentences
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        if steps and rng.random() < 0.6:  # some of the intent's steps, in their order
            kept = [t for t in steps if rng.random() < 0.75] or list(steps[:2])
            items = [render_one(rng, (t,), slots) for t in kept]
            tag = "ol" if ordered else "ul"
            html += f"<{tag}>" + "".join(f"<li>{c}</li>" for c in items) + f"</{tag}>"
        html += f'<p class="note">{render_one(rng, TXT["notes"], slots)}</p>'
        if rng.random() < 0.3:
            html = html.replace(" and ", " &amp; ", 1).replace(" ", "&nbsp;", 1)
        if dl:
            return f"<dd>{html}</dd>"
        return f'<div class="answer">{html}</div>' if rng.random() < 0.4 else html

    def _head(self, title: str, style: str) -> str:
        rng = self.rng
        links = [n for n in WORLD["nav_links"] if rng.random() < 0.8]
        nav = "".join(f'<li><a href="/{n.lower().replace(" ", "-")}">{n}</a></li>' for n in links)
        banner = (
            '<div class="cookie-banner">We use cookies &amp; similar tech. <button>OK</button></div>\n'
            if rng.random() < 0.3
            else ""
        )
        return (
            f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title} &ndash; {SHOP} Help</title>\n"
            f"<style>{_STYLE}</style>\n<script>{_SCRIPT}</script>\n"
            f"</head>\n<body>\n<!-- help centre template v{1 + int(rng.random() * 4)} -->\n"
            f'<nav class="top"><ul>{nav}</ul></nav>\n{banner}<main class="faq">\n<h1>{title}</h1>\n'
            + ("<dl>" if style == "dl" else "")
        )

    def _foot(self, style: str) -> str:
        rng = self.rng
        return (
            ("</dl>\n" if style == "dl" else "") + "</main>\n<footer>"
            f"<h3>{render_one(rng, TXT['footer_headings'])}</h3><p>&copy; {self.day.year} {SHOP} Ltd. "
            'All rights reserved.</p><ul><li><a href="/privacy">Privacy</a></li>'
            '<li><a href="/imprint">Imprint</a></li></ul></footer>\n'
            '<script async src="/static/analytics.js"></script>\n</body>\n</html>\n'
        )
