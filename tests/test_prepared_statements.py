"""A transaction that only read ends in COMMIT on PostgreSQL, so the connection keeps its
prepared statements; one that wrote still rolls back (issue 9).

psycopg forgets a connection's prepared statements on every ROLLBACK, and a request that only
reads ends in one when its session closes: the inbox's page query was planned afresh on every
request. These tests run on their own engine of one connection, so what they look at is
always the same connection.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from workflows.branch.models import User
from workflows.cases.models import SecurityEvent
from workflows.db import _end_reads_with_commit, db, keep_prepared_statements

LOOKUP = select(User.id).where(User.username == "gm")


def _postgres_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements: PostgreSQL only (SQLite: test_nothing_installed_on_sqlite)")


@pytest.fixture
def engine() -> Iterator[Engine]:
    _postgres_only()
    one = create_engine(db.engine.url, pool_size=1, max_overflow=0)
    yield one
    one.dispose()


def _prepared(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT statement FROM pg_prepared_statements")))


def _lookups(engine: Engine, times: int) -> None:
    for _ in range(times):  # each in its own session, closed as a request's is
        with Session(engine) as session:
            assert session.scalar(LOOKUP) is not None


def test_nothing_installed_on_sqlite() -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite half of the prepared-statement tests")
    keep_prepared_statements(db.engine)
    assert not event.contains(db.engine, "rollback", _end_reads_with_commit)


def test_the_app_engine_keeps_prepared_statements() -> None:
    _postgres_only()
    assert event.contains(db.engine, "rollback", _end_reads_with_commit)


def test_read_only_sessions_keep_the_prepared_statement(engine: Engine) -> None:
    keep_prepared_statements(engine)
    _lookups(engine, 6)  # psycopg prepares a statement on its fifth use
    assert any('FROM "user"' in s and "username" in s for s in _prepared(engine))


def test_without_it_every_close_forgets_them(engine: Engine) -> None:
    """The behaviour worked around: if psycopg stops clearing on ROLLBACK, this says so."""
    _lookups(engine, 6)
    assert not any('FROM "user"' in s for s in _prepared(engine))


def test_a_session_that_wrote_still_rolls_back(engine: Engine) -> None:
    keep_prepared_statements(engine)
    marker = "prepared-statements-rollback-check"
    with Session(engine) as session:
        session.scalar(LOOKUP)
        session.add(SecurityEvent(kind="test", detail=marker))
        session.flush()  # the INSERT reached the database inside the transaction
    with Session(engine) as session:
        assert session.scalar(select(func.count()).where(SecurityEvent.detail == marker)) == 0


def test_after_a_commit_reads_are_kept_again(engine: Engine) -> None:
    keep_prepared_statements(engine)
    with Session(engine) as session:  # a write, committed: the next transaction starts clean
        session.execute(text("SELECT 1"))
        session.execute(text("SET LOCAL statement_timeout = 0"))
        session.commit()
    _lookups(engine, 6)
    assert any('FROM "user"' in s for s in _prepared(engine))


def test_a_failed_read_rolls_back(engine: Engine) -> None:
    keep_prepared_statements(engine)
    with Session(engine) as session:
        with pytest.raises(Exception, match="no_such_table"):
            session.execute(text("SELECT * FROM no_such_table"))
    with Session(engine) as session:  # the connection came back usable
        assert session.scalar(LOOKUP) is not None
