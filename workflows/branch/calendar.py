"""The branch's working-day calendar: Monday to Friday, minus public holidays, plus the
weekend days the official holiday schedule makes working days (调休).

Only the exceptions are stored (:class:`CalendarDay`); every day count, due date and
escalation of the leave family goes through these functions, so one edit of a year's
schedule changes them all. Dates are the branch's calendar dates; moments are naive UTC
as the database stores them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from workflows.branch.models import CalendarDay
from workflows.db import db
from workflows.engine import clock

MAX_SPAN_DAYS = 3 * 366  # a count or search longer than this is a mistake, not a question


def exceptions(first: dt.date, last: dt.date) -> dict[dt.date, bool]:
    """The stored exceptions between two dates (inclusive): date → working. One query."""
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.working)
                              .where(CalendarDay.day >= first, CalendarDay.day <= last))
    return {day: bool(working) for day, working in rows}


def _rule(day: dt.date, known: dict[dt.date, bool]) -> bool:
    return known.get(day, day.weekday() < 5)


def is_working_day(day: dt.date) -> bool:
    return _rule(day, exceptions(day, day))


def working_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """The working days from ``first`` to ``last``, both included (empty when last < first)."""
    if last < first:
        return []
    if (last - first).days > MAX_SPAN_DAYS:
        raise ValueError("span longer than three years")
    known = exceptions(first, last)
    span = (last - first).days + 1
    return [d for d in (first + dt.timedelta(n) for n in range(span)) if _rule(d, known)]


def count_days(first: dt.date, last: dt.date, half_day: bool = False) -> Decimal:
    """Working days of a request: a half day (first == last) counts 0.5 when that day is a working day."""
    days = len(working_days(first, last))
    if half_day and first == last:
        return Decimal("0.5") * days
    return Decimal(days)


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``day`` (n ≥ 1); ``day`` itself need not be a working day."""
    if n < 1:
        raise ValueError("n must be at least 1")
    window = 14 + n * 3
    while True:
        known = exceptions(day + dt.timedelta(1), day + dt.timedelta(window))
        found = 0
        for offset in range(1, window + 1):
            candidate = day + dt.timedelta(offset)
            if _rule(candidate, known):
                found += 1
                if found == n:
                    return candidate
        if window > MAX_SPAN_DAYS:
            raise ValueError("no working day within three years")
        window *= 2


def next_working_day(day: dt.date) -> dt.date:
    return add_working_days(day, 1)


def working_deadline(start: dt.datetime, n: int = 1) -> dt.datetime:
    """The stored moment ``n`` working days after ``start`` (naive UTC): the same branch clock time
    on the n-th working day after. A start on a day off counts from the next working day's midnight,
    so a Friday-afternoon request falls due on Monday afternoon, a Saturday one on Tuesday at 00:00."""
    local = clock.local(start)
    day, at = local.date(), local.timetz().replace(tzinfo=None)
    if not is_working_day(day):
        day, at = add_working_days(day, 1), dt.time(0)
        if n == 0:
            return clock.day_start(day)
    due_day = add_working_days(day, n) if n else day
    moment = dt.datetime.combine(due_day, at, tzinfo=clock.BRANCH_TZ)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)
