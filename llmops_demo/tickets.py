"""Support tickets: a customer message, an agent reply, sometimes a follow-up pair, a resolution."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from llmops_demo.catalog import Customer, Product, Slots
from llmops_demo.grammar import Template, pick, render_one, texts
from llmops_demo.model import Built, NumberedFactory, PiiItem, word_count
from llmops_demo.pii import FACTORIES

# The contract for message texts is 15..120 words; markup may turn up to three "and"s into "&amp;",
# hence the margin at the bottom (a customer message a little more: short ones look alike). An injection
# is only appended where it keeps the text within 120.
MIN_WORDS, MIN_CUSTOMER_WORDS, MAX_WORDS = 18, 22, 120
P_FOREIGN, P_PII, P_INJECTION, P_HTML_EMAIL, P_FOLLOWUP, P_EXTRA = 0.053, 0.13, 0.0105, 0.10, 0.3, 0.1
# personal-data items that come from the customer's own structured fields
OWN_ITEMS = (("PERSON", "full_name"), ("PERSON", "first_name_greeting"), ("EMAIL", "customer_own"))
I18N, PLANTED, TXT = texts("i18n"), texts("planted"), texts("tickets")
LANGUAGES = tuple(I18N["ticket"])


def to_html(paragraphs: list[str]) -> str:
    """E-mail bodies as some mail clients export them: paragraphs, line breaks and entities."""
    body = "".join(f"<p>{p.replace(' and ', ' &amp; ', 1)}</p>" for p in paragraphs)
    return body.replace("\n", "<br>")


class TicketFactory(NumberedFactory):
    source = "tickets"
    id_field = "ticket_id"
    id_prefix = "TCK"

    def __init__(self, rng: random.Random, day: dt.date, products: tuple[Product, ...],
                 customers: tuple[Customer, ...]):
        super().__init__(rng, day, products, customers)
        combos = [*FACTORIES, *OWN_ITEMS]
        rng.shuffle(combos)
        self._pii_combos = itertools.cycle(combos)  # round robin: every type and format shows up early
        self._categories = {  # a category that ``needs`` a battery or wireless: only for products with one
            (battery, wireless): tuple(c for c in TXT["categories"]
                                       if {"battery": battery, "wireless": wireless}.get(c.get("needs"), True))
            for battery in (False, True) for wireless in (False, True)
        }

    def build(self, record_id: str, plain: bool = False) -> Built:
        rng = self.rng
        product = pick(rng, self.products)
        customer = pick(rng, self.customers)
        slots = Slots(rng, self.day, product, self.products)
        r = rng.random()
        channel = "email" if r < 0.5 else "chat" if r < 0.85 else "phone"
        built = Built({})
        if not plain:
            r = rng.random()
            if r < P_FOREIGN:
                built.lang = pick(rng, LANGUAGES)
            elif r < P_FOREIGN + P_PII:
                n_items = 1 if rng.random() < 0.7 else 2 if rng.random() < 0.85 else 3
                built.pii = [PiiItem("", t, f, "") for t, f in itertools.islice(self._pii_combos, n_items)]
            built.html = channel == "email" and rng.random() < P_HTML_EMAIL
        if built.lang == "en":
            subject, texts, resolution = self._english(slots, product, customer, built)
        else:
            subject, texts, resolution = self._foreign(slots, built.lang)
        if built.html:
            texts = [to_html(t.split("\n\n")) for t in texts]
        if not plain and rng.random() < P_INJECTION:  # after the markup, so the text stays verbatim
            rule = pick(rng, tuple(PLANTED["injections"]))
            text = render_one(rng, PLANTED["injections"][rule])
            room = [k for k in range(0, len(texts), 2) if word_count(texts[k]) + word_count(text) <= MAX_WORDS]
            if room:
                k = pick(rng, room)
                texts[k] = texts[k] + ("\n" if rng.random() < 0.5 else " ") + text
                built.injection = (rule, f"messages[{k}].text", text)

        created = int(rng.random() * 86_400)
        messages, ts = [], created
        for i, text in enumerate(texts):
            ts += 60 + int(rng.random() * (14_400 if i % 2 else 120_000))
            messages.append({"role": "customer" if i % 2 == 0 else "agent", "text": text, "ts": self.clock.iso(ts)})
        cust: dict = {"id": customer.customer_id}
        if built.pii or rng.random() < 0.95:
            cust["email"] = customer.email
        if built.pii or rng.random() < 0.9:
            cust["name"] = customer.name
        record = {
            "ticket_id": record_id,
            "created_at": self.clock.iso(created, rng),
            "channel": channel,
            "customer": cust,
        }
        if subject is not None:
            record["subject"] = subject
        record["messages"] = messages
        if resolution is not None:
            record["resolution"] = resolution
        if rng.random() < P_EXTRA:
            record["tags"] = [channel, pick(rng, ("vip", "repeat", "escalated", "new"))]
            if rng.random() < 0.5:
                record["priority"] = pick(rng, ("low", "normal", "high", "urgent"))
        built.record = record
        return built

    # -- English -----------------------------------------------------------------------------------------

    def _english(self, slots: Slots, product: Product, customer: Customer, built: Built):
        rng = self.rng
        cat = pick(rng, self._categories[(product.battery, product.wireless)])
        followup = rng.random() < P_FOLLOWUP
        # where each planted item goes: extra sentences per customer message; subject, resolution, greeting
        # and signature hold one value each
        extra: dict[int, list[str]] = {0: [], 2: []}
        subject_value = resolution_value = greeting_name = signature_name = None
        for item in built.pii:
            kind = (item.type, item.format)
            if kind == ("PERSON", "full_name"):
                item.value, item.field, signature_name = customer.name, "messages[0].text", customer.name
                continue
            if kind == ("PERSON", "first_name_greeting"):
                item.value, item.field, greeting_name = customer.first, "messages[1].text", customer.first
                continue
            if kind == ("EMAIL", "customer_own"):
                item.value, item.field = customer.email, "messages[0].text"
                extra[0].append(render_one(rng, PLANTED["own_email_sentences"], {"v": item.value}))
                continue
            item.value = FACTORIES[kind](rng)
            r = rng.random()
            if r < 0.15 and item.type in PLANTED["pii_subjects"] and subject_value is None:
                subject_value = render_one(rng, PLANTED["pii_subjects"][item.type], {"v": item.value})
                item.field = "subject"
            elif r < 0.25 and item.type in PLANTED["pii_resolutions"] and resolution_value is None:
                slots["v"] = item.value
                resolution_value = render_one(rng, PLANTED["pii_resolutions"][item.type], slots)
                item.field = "resolution"
            else:
                k = 2 if followup and rng.random() < 0.3 else 0
                item.field = f"messages[{k}].text"
                slots["v"] = item.value
                extra[k].append(render_one(rng, PLANTED["pii_sentences"][item.type], slots))

        texts = [
            self._customer_message(slots, cat, extra[0], signature_name),
            self._agent_message(slots, cat["action"], greeting_name),
        ]
        if followup:
            followup_body = [render_one(rng, TXT["followup_customer"], slots), *extra[2]]
            texts.append(self._sized([], followup_body, [], slots, TXT["generic_details"], MIN_CUSTOMER_WORDS))
            greet_again = greeting_name is not None and rng.random() < 0.5
            again_name = greeting_name if greet_again else None
            texts.append(self._agent_message(slots, TXT["followup_agent"], again_name))
            if greet_again:
                built.pii.append(PiiItem("messages[3].text", "PERSON", "first_name_greeting", customer.first))
        subject = subject_value or (render_one(rng, cat["subject"], slots) if rng.random() < 0.92 else None)
        resolution = resolution_value or (render_one(rng, cat["resolution"], slots) if rng.random() < 0.8 else None)
        return subject, texts, resolution

    def _customer_message(self, slots: Slots, cat: dict, planted_sentences: list[str],
                          signature_name: str | None) -> str:
        rng = self.rng
        optional_head = [render_one(rng, TXT["openers"], slots)] if rng.random() < 0.7 else []
        body = [render_one(rng, cat["problem"], slots)]
        if rng.random() < 0.6:
            body.append(render_one(rng, cat["detail"], slots))
        if rng.random() < 0.4:
            body.append(render_one(rng, TXT["generic_details"], slots))
        body += planted_sentences
        body.append(render_one(rng, cat["ask"], slots))
        tail = [render_one(rng, TXT["closers"], slots)] if rng.random() < 0.6 else []
        if signature_name is not None:
            tail.append(render_one(rng, PLANTED["full_name_signatures"], {"v": signature_name}))
        return self._sized(optional_head, body, tail, slots, TXT["generic_details"], MIN_CUSTOMER_WORDS,
                           keep_tail=signature_name is not None)

    def _agent_message(self, slots: Slots, actions, greeting_name: str | None) -> str:
        rng = self.rng
        if greeting_name is not None:
            head = [pick(rng, ("Hi", "Hello", "Dear", "Good morning")) + f" {greeting_name},"]
        else:
            head = [render_one(rng, TXT["agent_openers"], slots)] if rng.random() < 0.8 else []
        body = [render_one(rng, TXT["agent_empathy"], slots)] if rng.random() < 0.6 else []
        body.append(render_one(rng, actions, slots))
        if rng.random() < 0.5:
            body.append(render_one(rng, TXT["agent_next"], slots))
        tail = [render_one(rng, TXT["agent_closers"], slots)] if rng.random() < 0.6 else []
        return self._sized(head, body, tail, slots, TXT["agent_next"], MIN_WORDS, keep_head=greeting_name is not None)

    def _sized(self, head: list[str], body: list[str], tail: list[str], slots: Slots, filler: tuple[Template, ...],
               min_words: int, keep_head: bool = False, keep_tail: bool = False) -> str:
        """Join head / body / tail paragraphs, keeping the message within ``min_words``..MAX_WORDS
        (short ones get ``filler`` sentences in the speaker's voice)."""
        words = sum(map(word_count, head + body + tail))
        while words > MAX_WORDS and tail and not keep_tail:
            words -= word_count(tail.pop(0))
        while words > MAX_WORDS and head and not keep_head:
            words -= word_count(head.pop())
        while words < min_words:
            sentence = render_one(self.rng, filler, slots)
            body.insert(len(body) - 1, sentence)
            words += word_count(sentence)
        sep = "\n\n" if self.rng.random() < 0.6 else "\n"
        return sep.join(p for p in (" ".join(head), " ".join(body), "\n".join(tail)) if p)

    # -- Spanish, German, French -------------------------------------------------------------------------

    def _foreign(self, slots: Slots, lang: str):
        rng = self.rng
        t = I18N["ticket"][lang]
        customer = t["customer"]
        middle = [s for s in customer[1:5] if rng.random() < 0.55] or [customer[1 + int(rng.random() * 4)]]
        sentences = [customer[0], *middle]
        sentences += [s for s, p in ((customer[5], 0.8), (customer[6], 0.6)) if rng.random() < p]
        agent = t["agent"]
        replies = [agent[0], *([s for s in agent[1:5] if rng.random() < 0.5] or [agent[1]])]
        if rng.random() < 0.7:
            replies.append(agent[5])
        texts = [
            " ".join(s.render(rng, slots) for s in sentences),
            " ".join(s.render(rng, slots) for s in replies),
        ]
        subject = render_one(rng, t["subject"], slots) if rng.random() < 0.9 else None
        resolution = render_one(rng, t["resolution"], slots) if rng.random() < 0.7 else None
        return subject, texts, resolution
