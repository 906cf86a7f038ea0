"""Databases on a PostgreSQL server, created and dropped through its ``postgres`` maintenance database.

One place for what the live stack (its metadata and MLflow databases), the tests and the benchmarks (their
throw-away databases) do with a server: psycopg2 in autocommit, since CREATE/DROP DATABASE cannot run in a
transaction.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


@contextlib.contextmanager
def _admin(url: str) -> Iterator:
    import psycopg2  # noqa: PLC0415 - only the profiles and tests on PostgreSQL need the driver

    parts = urlsplit(url)
    conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                            password=parts.password, dbname="postgres")  # fmt: skip
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def ensure(url: str, *names: str) -> None:
    """The databases ``names`` exist on the server of ``url`` afterwards (those already there are kept)."""
    with _admin(url) as cur:
        for name in names:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')


def drop(url: str, *names: str) -> None:
    """The databases ``names`` are gone from the server of ``url``, WITH (FORCE): a pool still holding
    connections does not keep one."""
    with _admin(url) as cur:
        for name in names:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway(server_url: str, prefix: str) -> Iterator[str]:
    """A new database ``<prefix>_<random>`` on the server of ``server_url``; its URL (same driver, user and
    password). Dropped on exit, whatever happened."""
    parts = urlsplit(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with _admin(server_url) as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        drop(server_url, name)
