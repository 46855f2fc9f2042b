"""Sample attendance for ``flask seed demo``: a few leave entries in last month's ledger and an
absence series that starts one separation review, so the ledger pages and the inbox have content."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from workflows.branch import calendar
from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock
from workflows.processes.leave import absences
from workflows.processes.leave.models import AttendanceEntry

# (username, kind, nth working day of last month, working days, half day, pay deduction days, score)
_LEAVE = (("staff02", "personal", 2, 1, "none", "1", -10), ("staff03", "sick", 5, 2, "none", "0", -10),
          ("staff06", "personal", 8, 1, "am", "0.5", -5), ("staff07", "work_injury", 11, 3, "none", "0", 0))


_THIS_MONTH = (("staff02", "sick", 2, "none", "0", -5), ("staff03", "personal", 3, "pm", "0.5", -5))


def attendance_samples() -> None:
    """Once: skipped when the demo people already have ledger entries."""
    people = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(
        [row[0] for row in _LEAVE] + [row[0] for row in _THIS_MONTH] + ["staff04", "region11"])))}
    if not {row[0] for row in _LEAVE} | {"staff04", "region11"} <= set(people):
        return
    if db.session.scalar(select(AttendanceEntry.id).where(
            AttendanceEntry.user_id.in_([u.id for u in people.values()])).limit(1)) is not None:
        return
    first_of_month = clock.today().replace(day=1)
    last_month_end = first_of_month - dt.timedelta(1)
    days = calendar.working_days(last_month_end.replace(day=1), last_month_end)
    for username, kind, nth, count, half, pay, score in _LEAVE:
        span = days[nth - 1: nth - 1 + count]
        db.session.add(AttendanceEntry(
            user_id=people[username].id, kind=kind, start_date=span[0], end_date=span[-1], half_day=half,
            days=Decimal("0.5") if half != "none" else Decimal(len(span)), pay_deduction_days=Decimal(pay),
            score=score, via="demo", note="示例 sample"))
    # and a little in the month under way, so the ledger opens on something (from its third working day)
    this_month = calendar.working_days(first_of_month, clock.today() - dt.timedelta(1))
    for username, kind, nth, half, pay, score in _THIS_MONTH:
        if username in people and len(this_month) >= 3:
            day = this_month[min(nth, len(this_month)) - 1]
            db.session.add(AttendanceEntry(
                user_id=people[username].id, kind=kind, start_date=day, end_date=day, half_day=half,
                days=Decimal("0.5") if half != "none" else Decimal(1), pay_deduction_days=Decimal(pay),
                score=score, via="demo", note="示例 sample"))
    db.session.commit()
    # three working days in a row without leave: the regional manager records them, the review starts
    run = days[14:17]
    absences.record_absence(people["region11"], {"user": "staff04", "start_date": run[0].isoformat(),
                                                 "end_date": run[-1].isoformat(), "note": "连续未到岗 (示例 sample)"},
                            via="demo")
