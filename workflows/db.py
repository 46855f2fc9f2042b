"""The one SQLAlchemy handle shared by the engine layer and the web app."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

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

    def cursor(self, factory: Any = BufferedCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)
