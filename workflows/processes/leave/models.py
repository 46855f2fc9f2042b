"""The attendance ledger (考勤台账): one entry per approved leave request or recorded absence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock

KINDS = ("personal", "sick", "work_injury", "absence")
HALF_DAYS = ("none", "am", "pm")


class AttendanceEntry(db.Model):
    """What a leave or an absence costs: working days, pay deduction and management score (第二十九、三十条).

    ``month_pay`` means the deduction is the month's fixed pay (two days' absence) rather than
    ``pay_deduction_days``. A leave entry names its case (one entry per case); an absence names who recorded it.
    """

    __tablename__ = "attendance_entry"
    __table_args__ = (Index("ix_attendance_entry_user_start", "user_id", "start_date"),
                      Index("ix_attendance_entry_start", "start_date"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(20))  # one of KINDS
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    half_day: Mapped[str] = mapped_column(String(4), default="none")  # one of HALF_DAYS
    days: Mapped[Decimal] = mapped_column(Numeric(6, 1))  # working days, 0.5 for a half day
    pay_deduction_days: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=Decimal(0))
    month_pay: Mapped[bool] = mapped_column(default=False)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=Decimal(0))  # score effect ≤ 0; −2.5: half a sick day
    late: Mapped[bool] = mapped_column(default=False)  # sick or work-injury leave filed on or after its first day
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    via: Mapped[str] = mapped_column(String(10), default="web")
    note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
