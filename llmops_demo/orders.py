"""Orders: one CSV row per order, header per the contract."""

from __future__ import annotations

from llmops.contracts.raw_landing import ORDERS_HEADER
from llmops_demo.catalog import order_id
from llmops_demo.grammar import pick
from llmops_demo.model import NumberedFactory

HEADER_LINE = ",".join(ORDERS_HEADER).encode()
_STATUSES = ("placed",) * 30 + ("shipped",) * 30 + ("delivered",) * 30 + ("returned",) * 5 + ("cancelled",) * 5


def csv_line(fields: list[str] | tuple[str, ...]) -> str:
    """One RFC 4180 row (CRLF-terminated); quotes only the fields that need it."""
    out = []
    for f in fields:
        if any(c in f for c in ',"\r\n'):
            f = '"' + f.replace('"', '""') + '"'
        out.append(f)
    return ",".join(out) + "\r\n"


class OrderFactory(NumberedFactory):
    """Numbered as order ids elsewhere are (catalog.order_id): text may cite them."""

    source = "orders"
    id_field = "order_id"

    def new_id(self) -> str:
        self._seq += 1
        return order_id(self.day, self._seq)

    def row(self, record_id: str) -> list[str]:
        rng = self.rng
        customer, product = pick(rng, self.customers), pick(rng, self.products)
        qty = 1 if rng.random() < 0.85 else 2 + int(rng.random() * 3)
        name = product.name if rng.random() < 0.85 else f"{product.name}, {pick(rng, ('black', 'white', 'silver'))}"
        shipping = 0.0 if product.price * qty >= 50 else 4.99
        return [
            record_id,
            customer.customer_id,
            customer.email if rng.random() < 0.92 else "",
            name,
            pick(rng, _STATUSES),
            self.clock.iso(int(rng.random() * 86_400), rng),
            f"{product.price * qty + shipping:.2f}",
        ]
