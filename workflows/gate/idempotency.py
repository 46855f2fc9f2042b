"""Idempotency keys: a retried request with the same key gets the first answer, and what the
first did is not done twice.

The key is reserved first, in a short transaction of its own (a second attempt meanwhile is told
the first is still running). A request that changes one case (start, complete) then saves its
answer in the key's row *in the same transaction* as the case change (:func:`settle`): either
both are saved or neither, so a retry either replays the answer or finds nothing done. An attempt
that died before its commit leaves only the reservation, which a retry takes over after
:data:`STALE`. Refusals (4xx) are kept as answers too; 5xx and 429 answers are not (the
reservation is dropped and a retry runs afresh). Keys expire after :data:`TTL`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from workflows.db import db
from workflows.engine.clock import now
from workflows.errors import Conflict, Invalid
from workflows.gate.models import IdempotencyKey

log = logging.getLogger(__name__)

TTL = dt.timedelta(hours=24)
STALE = dt.timedelta(minutes=2)  # longer than any request may run (gunicorn's timeout is 30 s)
MAX_KEY = 200
RUNNING, DONE = "running", "done"


class KeyReused(Invalid):
    code = "idempotency_key_reused"


class InProgress(Conflict):
    code = "idempotency_in_progress"


@dataclass(frozen=True)
class Reservation:
    """This attempt holds the key: it runs the request and settles the answer."""

    row_id: int


@dataclass(frozen=True)
class Replay:
    """The key was answered before: give this answer again."""

    status: int
    body: str


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY and key.isascii() and key.isprintable()


def reserve(user_id: int, key: str, fingerprint: str) -> Reservation | Replay:
    """Hold ``key`` for this attempt (committed at once), or say how the key was used before.
    Raises :class:`KeyReused` for another request under the same key, :class:`InProgress`
    while an earlier attempt still runs."""
    moment = now()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < moment))  # expired: gone
    fresh = IdempotencyKey(user_id=user_id, key=key, fingerprint=fingerprint, status=RUNNING,
                           started_at=moment, expires_at=moment + TTL)
    db.session.add(fresh)
    try:
        db.session.flush()
    except IntegrityError:  # used before (on PostgreSQL: after the other attempt's insert committed)
        db.session.rollback()
    else:
        reservation = Reservation(fresh.id)
        db.session.commit()
        return reservation
    row = db.session.scalars(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                          IdempotencyKey.key == key)).first()
    if row is None:  # the earlier attempt gave its reservation up just now
        raise InProgress("a request with this Idempotency-Key is still being processed; please retry in a moment")
    if row.fingerprint != fingerprint:
        raise KeyReused("this Idempotency-Key was already used for a different request; "
                        "use a new key for a new request")
    if row.status == DONE and row.response_status is not None:
        return Replay(row.response_status, row.response_body or "")
    if row.started_at < moment - STALE and _take_over(row, moment):
        return Reservation(row.id)
    db.session.rollback()
    raise InProgress("a request with this Idempotency-Key is still being processed; please retry in a moment")


def _take_over(row: IdempotencyKey, moment: dt.datetime) -> bool:
    """The attempt holding the key died before its commit (nothing of it was saved): run again."""
    taken = db.session.execute(update(IdempotencyKey).where(
        IdempotencyKey.id == row.id, IdempotencyKey.status == RUNNING, IdempotencyKey.started_at == row.started_at)
        .values(started_at=moment, expires_at=moment + TTL).execution_options(synchronize_session=False))
    db.session.commit()
    return taken.rowcount == 1


def settle(reservation: Reservation | None, status: int, body: str) -> None:
    """Commit the request's work, with its answer kept under the key when there is one (one
    transaction: the answer is saved exactly when the work is)."""
    if reservation is not None:
        db.session.execute(update(IdempotencyKey).where(IdempotencyKey.id == reservation.row_id)
                           .values(status=DONE, response_status=status, response_body=body)
                           .execution_options(synchronize_session=False))
    db.session.commit()


def kept(status: int) -> bool:
    """Answers a retry gets again: all but 5xx (nothing was done; try again) and 429 (slow down)."""
    return status < 500 and status != 429


def settle_failure(reservation: Reservation, status: int, body: str) -> None:
    """After a failed attempt (its work already rolled back): keep a refusal as the key's
    answer, or give the key up so that a retry runs afresh. Never raises: the answer is
    already written; a key left running is taken over by a retry after :data:`STALE`."""
    try:
        db.session.rollback()
        if kept(status):
            settle(reservation, status, body)
        else:
            db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == reservation.row_id,
                                                            IdempotencyKey.status == RUNNING))
            db.session.commit()
    except Exception:  # noqa: BLE001 - the client has its answer; a retry will sort the key out
        db.session.rollback()
        log.exception("idempotency key %s not settled", reservation.row_id)


def sweep() -> int:
    """Drop expired keys (reserving a key also drops them)."""
    done = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < now()))
    db.session.commit()
    return done.rowcount or 0
