"""What the ledger adds to its entries without ever changing one: a cancellation record for an
absence recorded in error, and the separation-review triggers already acted on (第二十九条)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock
from workflows.processes.leave.models import AttendanceEntry


class AttendanceCancellation(db.Model):
    """An absence entry withdrawn by the office, with its reason. The entry stays as written; the
    ledger's totals and picture leave cancelled entries out. One cancellation per entry."""

    __tablename__ = "attendance_cancellation"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("attendance_entry.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    cancelled_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    cancelled_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    via: Mapped[str] = mapped_column(String(10), default="web")

    cancelled_by: Mapped[User] = relationship()
    entry: Mapped[AttendanceEntry] = relationship()


class SeparationTrigger(db.Model):
    """A threshold of absences crossed (``consecutive``: 3 consecutive working days in the month
    ``period`` = "YYYY-MM"; ``year``: 5 days in the year ``period`` = "YYYY") and the review it
    started. Unique per person, kind and period: a re-run or a race never starts a second review."""

    __tablename__ = "separation_trigger"
    __table_args__ = (UniqueConstraint("user_id", "kind", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(20))  # consecutive | year
    period: Mapped[str] = mapped_column(String(7))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("attendance_entry.id"))  # the entry that crossed it
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
