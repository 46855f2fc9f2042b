"""Request-level records of the API gate: idempotency keys with their first answer, and the
rate counters every worker shares."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.db import db
from workflows.engine import clock


class IdempotencyKey(db.Model):
    """One ``Idempotency-Key`` of one user: the request it was first used for (``fingerprint``)
    and, once that request is answered, the answer to give every retry until ``expires_at``."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and body
    status: Mapped[str] = mapped_column(String(10))  # running | done
    started_at: Mapped[dt.datetime] = mapped_column(default=clock.now)  # of the attempt that holds it
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)


class RateWindow(db.Model):
    """Requests counted for one caller and limit in one fixed window (``window_start``: its first
    second since the epoch), by every worker through one upsert."""

    __tablename__ = "rate_window"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    window_end: Mapped[int] = mapped_column(BigInteger, index=True)  # the sweeper drops the row after it
    hits: Mapped[int] = mapped_column(default=0)
