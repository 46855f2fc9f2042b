"""The separation review (第二十九条): absences of 3 consecutive working days in a month, or of
5 days in a calendar year, count as resignation and start ``bpmn/separation_review.bpmn``.

The system starts it (origin ``attendance:<entry id>``, in the transaction that records the
absence), never a person: the ledger crossed the threshold. Each (person, trigger, period) is
kept in ``separation_trigger`` (unique), so a re-run or a second recording starts nothing more;
when one recording crosses both thresholds at once, one review covers both.

The person is the case's subject (``subjectField``): they read it and never act on it. Its
reviewers are chosen here and written into the case's data (so the history shows them): the
person's project director, then the GM. Neither may be the person or anyone who recorded the
absences counted: a project director who recorded them (or none at all) leaves the GM to decide
alone; where the GM recorded them, the longest-standing other member of the managers' meeting
(营业部经理会) decides in their place.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from workflows.branch import calendar
from workflows.branch.models import User, UserRole
from workflows.branch.org import gm, relation
from workflows.db import db
from workflows.errors import Msg, Refused
from workflows.processes.leave.ledger_models import SeparationTrigger
from workflows.processes.leave.models import AttendanceEntry

if TYPE_CHECKING:
    from workflows.cases.models import ProcessInstance
    from workflows.processes.family import StartRequest

PROCESS = "separation_review"
CONSECUTIVE_DAYS = 3  # whole working days in a row, within one month
YEAR_DAYS = Decimal(5)  # absence days in one calendar year
CONSECUTIVE, YEAR = "consecutive", "year"


def started_by_the_ledger_only(request: StartRequest) -> None:
    """Start check: nobody starts a separation review by hand (the ledger does, as the system)."""
    if request.process_key == PROCESS and request.user is not None:
        raise Refused(Msg("A separation review is started by the attendance ledger when absences reach the "
                          "threshold, not by hand."))


def _absences(person: User, first: dt.date, last: dt.date) -> list[AttendanceEntry]:
    from workflows.processes.leave.ledger import cancellations

    rows = list(db.session.scalars(select(AttendanceEntry).where(
        AttendanceEntry.user_id == person.id, AttendanceEntry.kind == "absence",
        AttendanceEntry.start_date <= last, AttendanceEntry.end_date >= first).order_by(AttendanceEntry.start_date)))
    gone = cancellations([e.id for e in rows])
    return [e for e in rows if e.id not in gone]


def longest_run(entries: list[AttendanceEntry], working: list[dt.date]) -> int:
    """The most whole working days absent in a row (two half days of one day make a whole one)."""
    absent: dict[dt.date, Decimal] = {}
    for e in entries:
        share = Decimal("0.5") if e.half_day != "none" else Decimal(1)
        for day in working:
            if e.start_date <= day <= e.end_date:
                absent[day] = absent.get(day, Decimal(0)) + share
    best = run = 0
    for day in working:
        run = run + 1 if absent.get(day, Decimal(0)) >= 1 else 0
        best = max(best, run)
    return best


def crossed(person: User, month: tuple[int, int]) -> list[tuple[str, str, list[AttendanceEntry]]]:
    """The thresholds the person's absences stand over now: (kind, period, the absences counted)."""
    year, m = month
    first = dt.date(year, m, 1)
    last = (first + dt.timedelta(32)).replace(day=1) - dt.timedelta(1)
    found = []
    in_month = _absences(person, first, last)
    if longest_run(in_month, calendar.working_days(first, last)) >= CONSECUTIVE_DAYS:
        found.append((CONSECUTIVE, f"{year:04d}-{m:02d}", in_month))
    in_year = _absences(person, dt.date(year, 1, 1), dt.date(year, 12, 31))
    if sum((Decimal(e.days) for e in in_year), Decimal(0)) >= YEAR_DAYS:
        found.append((YEAR, f"{year:04d}", in_year))
    return found


def check_triggers(person: User, entries: list[AttendanceEntry], *, via: str = "web") -> list[ProcessInstance]:
    """After ``entries`` were written (flushed): start the review for thresholds crossed for the first
    time, in the caller's transaction. Returns the review started, if any."""
    fresh: dict[tuple[str, str], list[AttendanceEntry]] = {}
    for month in sorted({(e.start_date.year, e.start_date.month) for e in entries}):
        for kind, period, counted in crossed(person, month):
            known = db.session.scalar(select(SeparationTrigger.id).where(
                SeparationTrigger.user_id == person.id, SeparationTrigger.kind == kind,
                SeparationTrigger.period == period))
            if known is None:
                fresh[(kind, period)] = counted
    if not fresh:
        return []
    entry = entries[-1]
    instance = _start(person, entry, [(k, p, rows) for (k, p), rows in fresh.items()], via)
    for kind, period in fresh:
        db.session.add(SeparationTrigger(user_id=person.id, kind=kind, period=period, instance_id=instance.id,
                                         entry_id=entry.id))
    db.session.flush()
    return [instance]

def reviewers(person: User, recorders: set[int]) -> tuple[User | None, User | None]:
    """(project director or None, final reviewer): never the person nor one who recorded the absences."""
    director = relation(person, "project_director")
    if director is not None and (director.id in recorders or not director.active):
        director = None
    skip = recorders | {person.id} | ({director.id} if director is not None else set())
    final = gm()
    if final is None or final.id in skip:
        final = db.session.scalars(
            select(User).join(UserRole).where(UserRole.role_key == "committee", User.active.is_(True),
                                              User.id.not_in(skip)).order_by(User.id)).first()
    return director, final


def _start(person: User, entry: AttendanceEntry, fresh: list[tuple[str, str, list[AttendanceEntry]]],
           via: str) -> ProcessInstance:
    from workflows.cases import commands

    counted = {e.id: e for _k, _p, rows in fresh for e in rows}
    recorders = {e.recorded_by_id for e in counted.values() if e.recorded_by_id is not None}
    director, final = reviewers(person, recorders)
    names = db.session.scalars(select(User.username).where(User.id.in_(recorders)).order_by(User.username)).all()
    year_days = sum((Decimal(e.days) for e in _absences(person, dt.date(entry.start_date.year, 1, 1),
                                                         dt.date(entry.start_date.year, 12, 31))), Decimal(0))
    kinds = {k for k, _p, _r in fresh}
    data = {
        "staff": person.username, "staff_name": person.full_name,
        "trigger": "both" if len(kinds) > 1 else next(iter(kinds)),
        "period": ", ".join(p for _k, p, _r in fresh),
        "absence_dates": "; ".join(_describe(e) for e in sorted(counted.values(), key=lambda e: e.start_date)),
        "absence_days_year": str(year_days), "recorded_by": ", ".join(names),
        "director_reviewer": director.username if director is not None else "",
        "gm_reviewer": final.username if final is not None else "",
    }
    return commands.start_case(PROCESS, None, data, via=via, origin=f"attendance:{entry.id}", commit=False)


def _describe(e: AttendanceEntry) -> str:
    if e.half_day != "none":
        return f"{e.start_date.isoformat()} ({e.half_day})"
    if e.start_date == e.end_date:
        return e.start_date.isoformat()
    return f"{e.start_date.isoformat()}..{e.end_date.isoformat()} ({e.days})"


def review_of(entry_id: int) -> int | None:
    """The review an absence entry started, if it started one."""
    return db.session.scalar(select(SeparationTrigger.instance_id).where(SeparationTrigger.entry_id == entry_id)
                             .limit(1))
