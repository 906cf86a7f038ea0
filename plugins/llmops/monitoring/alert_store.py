"""Durable memory of the webhook: signed deliveries already seen (a replay is refused) and firing alerts
already turned into a retraining event (a duplicate within the window starts nothing).

Both are one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired RETURNING`` against a primary key, so concurrent
deliveries of the same alert race on the database's own uniqueness check and exactly one wins: no read-then-write
window, and a duplicate costs one round trip (no failed INSERT, rollback and second UPDATE). SQLite (a file beside
the lake) by default, or PostgreSQL when the API server runs several workers on several hosts.
"""

from __future__ import annotations

import time

from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, delete
from sqlalchemy.dialects import postgresql, sqlite

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


_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}  # the dialects with ON CONFLICT ... DO UPDATE
PURGE_EVERY_S = 60.0  # expired keys are dropped this often, not on every request (one write per request)


class AlertStore:
    def __init__(self, url: str):
        self.engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        if self.engine.dialect.name not in _UPSERT:
            raise ValueError(f"the alert store needs PostgreSQL or SQLite (INSERT ... ON CONFLICT), got {url!r}")
        self._insert = _UPSERT[self.engine.dialect.name]
        _META.create_all(self.engine)
        self._purged: dict[str, float] = {}

    def _claim(self, table: Table, key: str, ttl_s: float, **values: object) -> bool:
        now = time.time()
        if now - self._purged.get(table.name, 0.0) > PURGE_EVERY_S:
            self._purged[table.name] = now
            with self.engine.begin() as conn:
                conn.execute(delete(table).where(table.c.seen_at < now - ttl_s))
        column = table.primary_key.columns[0]
        # one statement, one round trip: a new key is inserted; a key seen before is claimed again only once its
        # window has passed (the conflict's conditional update); either way a row comes back, else no claim
        claim = (self._insert(table).values(**{column.name: key, "seen_at": now, **values})
                 .on_conflict_do_update(index_elements=[column], set_={"seen_at": now, **values},
                                        where=table.c.seen_at < now - ttl_s)
                 .returning(column))  # fmt: skip
        with self.engine.begin() as conn:
            return conn.execute(claim).first() is not None

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
