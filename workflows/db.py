"""The one SQLAlchemy handle shared by the engine layer and the web app."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))


class BufferedCursor(sqlite3.Cursor):
    """A SQLite cursor that reads all of a statement's rows when it runs.

    SQLite keeps a read transaction (a snapshot) open for as long as any statement
    has unread rows; Python's sqlite3 neither resets such a statement on rollback
    nor when the cursor is freed (it stays in the statement cache). One result left
    half-read (``scalars()`` iterated later, ``any()`` stopping early) therefore
    pinned an old snapshot on a pooled connection: the next write on it failed at
    once with "database is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait helps), and
    every later request on that connection read stale data and failed its writes.
    Reading the rows at once ends the statement, so a connection never holds a read
    transaction between statements and a write always starts from the newest data.
    """

    _rows: list[Any] = []
    _at = 0

    def execute(self, sql: str, parameters: Any = ()) -> BufferedCursor:
        super().execute(sql, parameters)
        self._buffer()
        return self

    def executemany(self, sql: str, seq_of_parameters: Any) -> BufferedCursor:
        super().executemany(sql, seq_of_parameters)
        self._buffer()
        return self

    def _buffer(self) -> None:
        self._rows = super().fetchall() if self.description is not None else []
        self._at = 0

    def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchmany(self, size: int | None = None) -> list[Any]:
        end = self._at + (self.arraysize if size is None else size)
        rows = self._rows[self._at:end]
        self._at += len(rows)
        return rows

    def fetchall(self) -> list[Any]:
        rows = self._rows[self._at:] if self._at else self._rows
        self._rows, self._at = [], 0
        return rows

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row


class BufferedConnection(sqlite3.Connection):
    """A SQLite connection whose cursors are :class:`BufferedCursor` (``factory=`` of ``sqlite3.connect``)."""

    def cursor(self, factory: Any = BufferedCursor) -> Any:
        return super().cursor(factory)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):  # also our BufferedConnection
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache: case state rows are a few KiB each
        cur.execute("PRAGMA mmap_size=268435456")
        cur.close()


def install_sqlite_pragmas() -> None:
    """WAL, foreign keys and a large cache on every SQLite connection (once per process)."""
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


_WROTE = "wrote_in_transaction"


def _note_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WROTE] = True


def _forget_writes(conn: Any, *_args: Any) -> None:
    conn.info.pop(_WROTE, None)


def _end_reads_with_commit(conn: Any) -> None:
    """End a transaction that only read with COMMIT rather than ROLLBACK (PostgreSQL).

    psycopg forgets every prepared statement of a connection on ROLLBACK, and every
    request that only reads ends in one (the session closes), so the inbox's page query
    was planned afresh on each request: half its time. Committing a transaction that
    ran nothing but SELECTs changes nothing in the database and keeps the connection's
    prepared statements; a transaction that wrote, or failed, still rolls back. (A SELECT
    with a lasting side effect, such as ``pg_notify``, would now be committed: the app runs
    none; its advisory locks are transaction locks, released either way.)
    """
    if conn.info.pop(_WROTE, False):
        return
    raw = conn.connection.dbapi_connection
    info = getattr(raw, "info", None)
    if info is not None and getattr(info, "transaction_status", None) == _INTRANS:
        raw.commit()


_INTRANS: Any = object()  # psycopg's "in a transaction" status, once a psycopg engine is set up


def keep_prepared_statements(engine: Engine) -> None:
    """Install :func:`_end_reads_with_commit` on a psycopg engine (once per engine). psycopg is imported
    only then: on SQLite it is 60 ms of every command's start-up for nothing."""
    global _INTRANS
    if engine.dialect.driver != "psycopg" or event.contains(engine, "rollback", _end_reads_with_commit):
        return
    from psycopg.pq import TransactionStatus

    _INTRANS = TransactionStatus.INTRANS
    event.listen(engine, "before_cursor_execute", _note_write)
    event.listen(engine, "commit", _forget_writes)
    event.listen(engine, "rollback", _end_reads_with_commit)


def recover() -> None:
    """End a failed transaction so this worker's next request starts clean; a connection
    that cannot even roll back is dropped from the pool rather than handed out again."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - whatever broke the connection, the cure is a new one
        log.exception("rollback failed; discarding the connection")
        db.session.invalidate()
        db.session.remove()


def rollback() -> None:
    """Throw away what this request changed and has not committed."""
    db.session.rollback()


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is the database being busy (locked), worth a retry rather than a 500."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text
