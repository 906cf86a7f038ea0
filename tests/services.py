"""Tests that need a real service or binary: skipped with the reason on a user's machine without it, failed in
CI (``CI=true``), whose .ci/run installs and starts everything the suite needs."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Iterator

import pytest

from llmops import pg_admin

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
POSTGRES_SERVER_URL = f"postgresql+psycopg2://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/postgres"


def require(available: bool, what: str, how: str) -> None:
    if available:
        return
    message = f"{what} is not available here: {how}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must provide it: {message}", pytrace=False)
    pytest.skip(message)


def require_binary(name: str, how: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"`{name}`", how)
    return path


def require_port(host: str, port: int, what: str, how: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=2):
            reachable = True
    except OSError:
        reachable = False
    require(reachable, f"{what} at {host}:{port}", how)


def require_postgres() -> None:
    require_port(POSTGRES["host"], POSTGRES["port"], "PostgreSQL", "start it (the integration profile's databases)")


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A throw-away database on the PostgreSQL at 127.0.0.1:5432 (required as above); its SQLAlchemy URL."""
    require_postgres()
    with pg_admin.throwaway(POSTGRES_SERVER_URL, prefix) as url:
        yield url
