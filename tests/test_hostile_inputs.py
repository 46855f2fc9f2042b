"""Inputs that used to break a worker: SQLite snapshots under load, huge durations and
values, control characters, absurd numbers and nesting, diagrams that cannot run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, text

from webapp.config import engine_options


def test_half_read_result_does_not_pin_an_old_sqlite_snapshot(tmp_path: Path) -> None:
    """A result left half-read used to keep SQLite's read snapshot: the next write on that
    connection failed at once with "database is locked" and its reads stayed stale."""
    url = f"sqlite:///{tmp_path / 'snap.db'}"
    engine = create_engine(url, **engine_options(url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1), (2), (3)"))
    other = sqlite3.connect(tmp_path / "snap.db")
    with engine.connect() as conn:
        half_read = conn.execute(text("SELECT x FROM t ORDER BY x"))
        assert half_read.fetchone() == (1,)
        other.execute("INSERT INTO t VALUES (4)")  # another worker commits meanwhile
        other.commit()
        conn.execute(text("INSERT INTO t VALUES (5)"))  # the security-log write of a read view
        conn.commit()
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 5  # sees the other's row
        assert [r[0] for r in half_read] == [2, 3]  # and the half-read result still reads on
    other.close()
    engine.dispose()
