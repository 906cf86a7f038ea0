"""Durable memory of the webhook: signed deliveries already seen (a replay is refused) and firing alerts
already turned into a retraining event (a duplicate within the window starts nothing).

A delivery's claims (its signature, then each firing alert) are upserts against primary keys in one transaction,
one commit: ``INSERT … ON CONFLICT DO UPDATE … WHERE`` the key's window has passed, so concurrent deliveries of
the same alert race on the database's own uniqueness check and exactly one wins, with no read-then-write window
and no failed statement to roll back. SQLite (a file beside the lake) by default; PostgreSQL when the API server
runs several workers on several hosts (``monitoring.state_url``): the two databases with this upsert.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Column, Float, MetaData, String, Table, bindparam, create_engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from llmops import lake
from llmops.config import Settings

_META = MetaData()
_DELIVERIES = Table("webhook_deliveries", _META, Column("signature", String(128), primary_key=True),
                    Column("seen_at", Float, nullable=False))
_ALERTS = Table("webhook_alerts", _META, Column("key", String(512), primary_key=True),
                Column("seen_at", Float, nullable=False))
_UPSERT_DIALECTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def state_url(cfg: Settings) -> str:
    """``monitoring.state_url``, or a SQLite file under a local lake (a remote lake needs an explicit URL)."""
    if cfg.monitoring.state_url:
        return cfg.monitoring.state_url
    if not lake.is_local(cfg.paths.lake_root):
        raise RuntimeError("monitoring.state_url must be set when the lake is not local")
    folder = lake.local_path(lake.join(cfg.paths.lake_root, "monitoring"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'alert_webhook.db'}"


def _claim_statement(insert, table: Table):
    """Insert the key, or take it over when its claim is older than ``expired``: one row changed = claimed.
    A constant statement with bound parameters, compiled once and cached, not built per request."""
    upsert = insert(table).values({table.primary_key.columns[0].name: bindparam("key"), "seen_at": bindparam("now")})
    return upsert.on_conflict_do_update(index_elements=list(table.primary_key.columns),
                                        set_={"seen_at": upsert.excluded.seen_at},
                                        where=table.c.seen_at < bindparam("expired"))  # fmt: skip


PURGE_EVERY_S = 60.0  # expired keys are dropped this often, not on every request


class AlertStore:
    def __init__(self, url: str):
        backend = make_url(url).get_backend_name()
        insert = _UPSERT_DIALECTS.get(backend)
        if insert is None:
            raise ValueError(f"monitoring.state_url: the receiver's store needs SQLite or PostgreSQL, not {backend}")
        self.engine = create_engine(url, connect_args={"timeout": 30} if backend == "sqlite" else {})
        try:
            _META.create_all(self.engine)
        except DBAPIError:
            # each API-server worker creates the tables on its first delivery: two at once race on PostgreSQL's
            # catalog and one loses; checked again, the tables exist. Any other failure raises again here.
            _META.create_all(self.engine)
        self._claims = {table.name: _claim_statement(insert, table) for table in (_DELIVERIES, _ALERTS)}
        self._purged = 0.0

    def _purge(self, now: float, ttl_s: dict[Table, float]) -> None:
        if now - self._purged > PURGE_EVERY_S:
            self._purged = now
            with self.engine.begin() as conn:
                for table, ttl in ttl_s.items():
                    conn.execute(delete(table).where(table.c.seen_at < now - ttl))

    def claim(self, signature: str | None, keys: Sequence[str], replay_ttl_s: float,
              window_s: float) -> list[bool] | None:  # fmt: skip
        """One delivery's claims, in one transaction. None: ``signature`` was seen within ``replay_ttl_s`` (a
        replay; nothing is claimed). Else, for each firing alert's key in order, True when this delivery claimed
        it: its first firing within ``window_s`` (one run per alert storm). ``signature`` None: an unsigned
        (bearer) delivery, which only claims its alerts."""
        now = time.time()
        self._purge(now, {_DELIVERIES: replay_ttl_s, _ALERTS: window_s})
        with self.engine.begin() as conn:
            def claimed(table: Table, key: str, ttl: float) -> bool:
                changed = conn.execute(self._claims[table.name], {"key": key, "now": now, "expired": now - ttl})
                return changed.rowcount == 1

            if signature is not None and not claimed(_DELIVERIES, signature, replay_ttl_s):
                return None
            return [claimed(_ALERTS, key, window_s) for key in keys]

    def release(self, signature: str | None, keys: Sequence[str]) -> None:
        """Undo claims whose events could not be created (the delivery answered 503), so that the sender's retry,
        byte for byte the same or not, may create them."""
        with self.engine.begin() as conn:
            if signature is not None:
                conn.execute(delete(_DELIVERIES).where(_DELIVERIES.c.signature == signature))
            if keys:
                conn.execute(delete(_ALERTS).where(_ALERTS.c.key.in_(keys)))
