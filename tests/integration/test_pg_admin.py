"""llmops.pg_admin against the real PostgreSQL at 127.0.0.1:5432 (the databases the stack, tests and benchmarks
make and drop)."""

from __future__ import annotations

import pytest
import sqlalchemy

from llmops import pg_admin
from tests.services import POSTGRES_SERVER_URL, require_postgres

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


def _databases() -> set[str]:
    engine = sqlalchemy.create_engine(POSTGRES_SERVER_URL)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sqlalchemy.text("SELECT datname FROM pg_database")).scalars())
    finally:
        engine.dispose()


def test_a_throwaway_database_is_usable_and_dropped_even_with_a_connection_open_and_an_error():
    failing = pytest.raises(RuntimeError, match="the body failed")
    with failing, pg_admin.throwaway(POSTGRES_SERVER_URL, "pgadmin") as url:
        name = url.rsplit("/", 1)[1]
        assert name.startswith("pgadmin_") and name in _databases()
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as conn:  # still open when the database is dropped: WITH (FORCE)
            assert conn.execute(sqlalchemy.text("SELECT 1")).scalar() == 1
            raise RuntimeError("the body failed")
    assert name not in _databases()


def test_ensure_creates_what_is_missing_and_keeps_what_exists():
    with pg_admin.throwaway(POSTGRES_SERVER_URL, "pgadmin") as url:
        existing = url.rsplit("/", 1)[1]
        missing = f"{existing}_new"
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE TABLE kept (x int)"))
        try:
            pg_admin.ensure(url, existing, missing)
            pg_admin.ensure(url, existing, missing)  # a second time: nothing to do, no error
            assert {existing, missing} <= _databases()
            with engine.connect() as conn:
                assert conn.execute(sqlalchemy.text("SELECT count(*) FROM kept")).scalar() == 0
        finally:
            engine.dispose()
            pg_admin.drop(url, missing)
        assert missing not in _databases()
