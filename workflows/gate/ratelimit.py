"""API rate counting that holds with several workers: every worker counts in one place.

A fixed window per caller and rule (``1800 per minute``): by default one
``INSERT … ON CONFLICT DO UPDATE … RETURNING hits`` in the database (SQLite ≥ 3.35 and
PostgreSQL), on a connection of its own and committed at once (on PostgreSQL an autocommit
connection kept for counting), so it neither joins nor waits
for the request's own transaction (the API counts a request before it has written anything).
With a ``limits`` storage URI instead (``redis://host:6379``, as Flask-Limiter takes), the same
windows are counted there. A busy database or an unreachable store lets the request through:
a rate limit must not turn an overload into an outage.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import URL, Engine, Insert, bindparam, create_engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from workflows.db import db, is_busy
from workflows.engine.clock import now, now_utc
from workflows.gate.models import RateWindow

log = logging.getLogger(__name__)

DATABASE = "database"  # the storage setting that means: count in the application's database
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the refusing window ends
    first_refusal: bool = False  # the first request that window refused: worth one security-log line


@lru_cache(maxsize=32)
def rules(limit: str) -> tuple[RateLimitItem, ...]:
    """``"1800 per minute"``, ``"20/second;1000/hour"`` → the rules (ValueError when malformed)."""
    return tuple(parse_many(limit))


def hit(who: str, limit: str, storage: str = DATABASE) -> Verdict:
    """Count one request of ``who`` against every rule of ``limit``; refused when any is exceeded
    (then ``retry_after`` is the longest wait among the exceeded ones)."""
    verdict = Verdict(True)
    for item in rules(limit):
        one = _hit_database(who, item) if storage == DATABASE else _hit_storage(storage, who, item)
        if not one.allowed:
            verdict = Verdict(False, max(verdict.retry_after, one.retry_after),
                              verdict.first_refusal or one.first_refusal)
    return verdict


def _hit_database(who: str, item: RateLimitItem) -> Verdict:
    period = item.get_expiry()
    second = int((now() - _EPOCH).total_seconds())
    window = second - second % period
    key = f"{who}|{item.amount}/{period}"[:120]
    on_postgres = db.engine.dialect.name == "postgresql"
    values = {"rate_key": key, "rate_window": window}
    try:
        # its own connection, never the request's transaction; on PostgreSQL one that commits each statement
        with (_counting_engine(db.engine.url).connect() if on_postgres else db.engine.begin()) as conn:
            hits = conn.execute(_count(on_postgres), {**values, "rate_end": window + period}).scalar_one()
            if hits == 1:  # a new window: this caller's earlier ones are over
                conn.execute(_PAST_WINDOWS, values)
    except DBAPIError as exc:
        if not (is_busy(exc) or exc.connection_invalidated):
            raise
        log.warning("rate count skipped, database busy or reconnecting: %s", exc.orig)
        return Verdict(True)
    if hits <= item.amount:
        return Verdict(True)
    return Verdict(False, window + period - second, hits == item.amount + 1)



_TABLE = RateWindow.__table__
_PAST_WINDOWS = delete(_TABLE).where(_TABLE.c.key == bindparam("rate_key"),
                                     _TABLE.c.window_start < bindparam("rate_window"))


@lru_cache(maxsize=2)
def _count(on_postgres: bool) -> Insert:
    """The counting upsert, built once per dialect: every API call runs it."""
    insert = postgresql.insert if on_postgres else sqlite.insert
    return (insert(_TABLE).values(key=bindparam("rate_key"), window_start=bindparam("rate_window"),
                                  window_end=bindparam("rate_end"), hits=1)
            .on_conflict_do_update(index_elements=[_TABLE.c.key, _TABLE.c.window_start],
                                   set_={"hits": _TABLE.c.hits + 1})
            .returning(_TABLE.c.hits))

@lru_cache(maxsize=4)
def _counting_engine(url: URL) -> Engine:
    """PostgreSQL connections for counting alone: each statement commits by itself (no BEGIN and COMMIT
    round trips) and does not wait for the disk (a count lost in a crash does no harm). Without a ping on
    checkout: a connection the server dropped fails one count, which lets its request through, and is replaced."""
    options = " ".join(filter(None, [str(url.query.get("options") or ""), "-c synchronous_commit=off"]))
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=4, pool_pre_ping=False,
                         connect_args={"options": options})


@lru_cache(maxsize=4)
def _limiter(uri: str) -> FixedWindowRateLimiter:
    return FixedWindowRateLimiter(storage_from_string(uri))


def _hit_storage(uri: str, who: str, item: RateLimitItem) -> Verdict:
    try:
        limiter = _limiter(uri)
        if limiter.hit(item, who):
            return Verdict(True)
        stats = limiter.get_window_stats(item, who)
        hits = limiter.storage.get(item.key_for(who))
    except Exception as exc:  # noqa: BLE001 - an unreachable store must not stop the API
        log.warning("rate count skipped, %s unavailable: %s", uri.split("://")[0], exc)
        return Verdict(True)
    return Verdict(False, max(1, math.ceil(stats.reset_time - now_utc().timestamp())), hits == item.amount + 1)


def sweep() -> int:
    """Drop the windows that are over (each caller's are also dropped when its next one opens)."""
    second = int((now() - _EPOCH).total_seconds())
    done = db.session.execute(delete(RateWindow).where(RateWindow.window_end < second))
    db.session.commit()
    return done.rowcount or 0
