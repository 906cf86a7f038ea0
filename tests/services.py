"""Tests that need a real service or binary: skipped with the reason on a user's machine without it, failed in
CI (``CI=true``), whose .ci/run installs and starts everything the suite needs."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import uuid
from collections.abc import Iterator

import pytest

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


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


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A throw-away database on the PostgreSQL at 127.0.0.1:5432 (required as above); its SQLAlchemy URL."""
    import psycopg2  # noqa: PLC0415 - only the tests that use PostgreSQL need the driver

    require_port(POSTGRES["host"], POSTGRES["port"], "PostgreSQL", "start it (the integration profile's databases)")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **POSTGRES)
    admin.autocommit = True
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg2://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
        finally:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
