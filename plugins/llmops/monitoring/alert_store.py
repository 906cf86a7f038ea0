"""Durable memory of the webhook: signed deliveries already seen (a replay is refused) and firing alerts
already turned into a retraining event (a duplicate within the window starts nothing).

Both are an INSERT against a primary key, so concurrent deliveries of the same alert race on the database's
own uniqueness check and exactly one wins: no read-then-write window. SQLite (a file beside the lake) by
default; any SQLAlchemy URL, e.g. PostgreSQL when the API server runs several workers on several hosts.
"""

from __future__ import annotations

import time

from sqlalchemy import Column, Float, MetaData, String, Table, bindparam, create_engine, delete, insert, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from llmops import lake
from llmops.config import Settings

_META = MetaData()
_DELIVERIES = Table("webhook_deliveries", _META, Column("signature", String(128), primary_key=True),
                    Column("seen_at", Float, nullable=False))
_ALERTS = Table("webhook_alerts", _META, Column("key", String(512), primary_key=True),
                Column("seen_at", Float, nullable=False), Column("event_id", String(64)))


def state_url(cfg: Settings) -> str:
    """``monitoring.state_url``, or a SQLite file under a local lake (a remote lake needs an explicit URL)."""
    if cfg.monitoring.state_url:
        return cfg.monitoring.state_url
    if not lake.is_local(cfg.paths.lake_root):
        raise RuntimeError("monitoring.state_url must be set when the lake is not local")
    folder = lake.local_path(lake.join(cfg.paths.lake_root, "monitoring"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'alert_webhook.db'}"


# a key's claim renewed once its window has passed (its table, its primary key)
_RENEW = {
    table.name: update(table)
    .where(table.primary_key.columns[0] == bindparam("claimed"), table.c.seen_at < bindparam("expired"))
    .values(seen_at=bindparam("now"))
    for table in (_DELIVERIES, _ALERTS)
}
PURGE_EVERY_S = 60.0  # expired keys are dropped this often, not on every request (one write per request)


class AlertStore:
    def __init__(self, url: str):
        self.engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        try:
            _META.create_all(self.engine)
        except DBAPIError:
            # each API-server worker creates the tables on its first delivery: two at once race on PostgreSQL's
            # catalog and one loses; checked again, the tables exist. Any other failure raises again here.
            _META.create_all(self.engine)
        self._purged: dict[str, float] = {}

    def _claim(self, table: Table, key: str, ttl_s: float) -> bool:
        now = time.time()
        if now - self._purged.get(table.name, 0.0) > PURGE_EVERY_S:
            self._purged[table.name] = now
            with self.engine.begin() as conn:
                conn.execute(delete(table).where(table.c.seen_at < now - ttl_s))
        column = table.primary_key.columns[0]
        # constant statements with bound parameters: compiled once and cached, not built per request
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table), {column.name: key, "seen_at": now})
        except IntegrityError:
            # seen before: claimed again only once its window has passed, by one conditional update (one winner)
            with self.engine.begin() as conn:
                renewed = conn.execute(_RENEW[table.name], {"claimed": key, "expired": now - ttl_s, "now": now})
            return renewed.rowcount == 1
        return True

    def first_delivery(self, signature: str, ttl_s: float) -> bool:
        """True the first time a signature is seen within ``ttl_s``; a replay gets False."""
        return self._claim(_DELIVERIES, signature, ttl_s)

    def first_firing(self, key: str, window_s: float) -> bool:
        """True for the first firing of ``key`` (fingerprint) within ``window_s``: one run per alert storm."""
        return self._claim(_ALERTS, key, window_s)

    def forget_firing(self, key: str) -> None:
        """Undo a claim whose event could not be created, so the sender's retry may create it."""
        with self.engine.begin() as conn:
            conn.execute(delete(_ALERTS).where(_ALERTS.c.key == key))
