"""Absenteeism (旷工, 第二十九条): the regional manager (else the direct superior) or the office
records an absence without approved leave; the ledger applies its deduction, and crossing a
threshold starts the separation review (``separation``).

Deductions: each half day 2 days' pay, each whole day 5 days' pay (``pay_deduction_days``, what
the entry alone costs); when the month's absences reach two days, the entry that reaches them and
every later one of that month carry ``month_pay``: that month's deduction is its fixed pay, which
stands for the days the earlier entries named (they are not added on top). No management-score
effect: §3 names none for absences (score 0). A span is split into one entry per calendar month.

Entries are append-only. An absence recorded in error is withdrawn by the office with a reason
(:func:`cancel_absence`, a cancellation record beside the entry); a review it already started
runs on, and its reviewers decide with the correction in view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from workflows.branch import calendar
from workflows.branch.models import User
from workflows.cases import access
from workflows.cases.forms import CONTROL_CHARACTERS, NOT_AN_OPTION, REQUIRED, has_control_characters
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Conflict, Invalid, Msg, NotFound, Refused
from workflows.processes.leave import access as ledger_access
from workflows.processes.leave import separation
from workflows.processes.leave.ledger import MONTH_PAY_DAYS, cancellations, find_person
from workflows.processes.leave.ledger_models import AttendanceCancellation
from workflows.processes.leave.models import HALF_DAYS, AttendanceEntry

ABSENCE = "absence"
PAY_HALF_DAY = Decimal(2)  # days' pay a half day of absence costs
PAY_WHOLE_DAY = Decimal(5)
MAX_SPAN_DAYS = 31  # calendar days one recording may cover
MAX_NOTE = 500
_FIX = "please correct the highlighted fields"


@dataclass(frozen=True)
class AbsenceInput:
    username: str
    start: dt.date
    end: dt.date
    half_day: str  # none | am | pm
    note: str | None


@dataclass
class Recorded:
    person: User
    entries: list[AttendanceEntry]  # one per calendar month of the span
    reviews: list[ProcessInstance]  # separation reviews this recording started (0 or 1)


def parse(values: dict[str, Any]) -> AbsenceInput:
    """The absence form (page or API) as typed values; a 422 names every wrong field."""
    errors: dict[str, str] = {}
    username = _text(values.get("user"), "user", 60, errors, required=True)
    start = _date(values.get("start_date"), "start_date", errors, required=True)
    end = _date(values.get("end_date"), "end_date", errors, required=False)
    half = _text(values.get("half_day"), "half_day", 20, errors, required=False) or "none"
    if "half_day" in errors or half not in HALF_DAYS:
        errors["half_day"] = NOT_AN_OPTION
    note = _text(values.get("note"), "note", MAX_NOTE, errors, required=False, multiline=True)
    if start is not None and end is not None and not errors:
        if end < start:
            errors["end_date"] = Msg("the last day is before the first day", code="out_of_range")
        elif (end - start).days >= MAX_SPAN_DAYS:
            errors["end_date"] = Msg("record at most %(n)s days at a time", code="too_many", n=MAX_SPAN_DAYS)
        elif half != "none" and end != start:
            errors["half_day"] = Msg("a half day is one day: leave the last day empty or the same", code="invalid")
    if errors:
        raise Invalid(_FIX, errors)
    assert username is not None and start is not None
    return AbsenceInput(username, start, end or start, half, note or None)


def _text(raw: Any, name: str, size: int, errors: dict[str, str], *, required: bool,
          multiline: bool = False) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[name] = REQUIRED
        return None
    if not isinstance(raw, str):
        errors[name] = Msg("a value of the wrong type", code="wrong_type")
        return None
    text = raw.strip()
    if has_control_characters(text, multiline=multiline):
        errors[name] = CONTROL_CHARACTERS
    elif len(text) > size:
        errors[name] = Msg("at most %(n)s characters", code="too_long", n=size)
    return text


def _date(raw: Any, name: str, errors: dict[str, str], *, required: bool) -> dt.date | None:
    text = _text(raw, name, 10, errors, required=required)
    if text is None or name in errors:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = Msg("must be a date (YYYY-MM-DD)", code="not_a_date")
        return None


def record_absence(recorder: User, values: dict[str, Any], *, via: str = "web", ip: str | None = None,
                   path: str = "/attendance/absences") -> Recorded:
    """Record an absence and apply its consequences, all in one transaction (committed here).
    Refused, nothing written: someone the recorder may not record for (403, logged), a day that is
    not a working day, in the future, or already covered by leave or an absence (422)."""
    form = parse(values)
    person = find_person(form.username)
    if not person.active:
        raise Invalid(_FIX, {"user": Msg("no active user has this username", code="unknown_user")})
    if not ledger_access.may_record_absence(recorder, person):
        access.refuse(recorder, f"{path} (absence of {person.username})",
                      "you may not record an absence for this person", ip=ip)
    today = clock.today()
    if form.end > today:
        raise Refused(Msg("an absence can only be recorded once the day has come (%(day)s is in the future)",
                          day=form.end.isoformat()),
                      {"end_date" if form.end != form.start else "start_date":
                       Msg("a day in the future", code="future_day")})
    for name, day in (("start_date", form.start), ("end_date", form.end)):
        if not calendar.is_working_day(day):
            raise Refused(Msg("%(day)s is not a working day", day=day.isoformat()),
                          {name: Msg("not a working day", code="not_a_working_day")})
    _lock(person)
    days = calendar.working_days(form.start, form.end)
    halves = {"none": {"am", "pm"}, "am": {"am"}, "pm": {"pm"}}[form.half_day]
    taken = _covered(person, form.start, form.end)
    for day in days:
        if taken.get(day, set()) & halves:
            raise Refused(Msg("%(day)s is already covered by approved leave or a recorded absence",
                              day=day.isoformat()),
                          {"start_date": Msg("already covered", code="already_covered")})
    entries = [_entry(person, recorder, chunk, form, via) for chunk in _by_month(days)]
    db.session.add_all(entries)
    db.session.flush()
    reviews = separation.check_triggers(person, entries, via=via)
    db.session.commit()
    return Recorded(person, entries, reviews)


def _lock(person: User) -> None:
    """One recording per person at a time (PostgreSQL row lock; SQLite writes one at a time): the
    checks below and the thresholds see every earlier absence."""
    db.session.execute(select(User.id).where(User.id == person.id).with_for_update())


def _covered(person: User, first: dt.date, last: dt.date) -> dict[dt.date, set[str]]:
    """Which halves of each day in-force entries (leave or absence) already cover."""
    rows = list(db.session.scalars(select(AttendanceEntry).where(
        AttendanceEntry.user_id == person.id, AttendanceEntry.start_date <= last, AttendanceEntry.end_date >= first)))
    gone = cancellations([e.id for e in rows])
    taken: dict[dt.date, set[str]] = {}
    for e in rows:
        if e.id in gone:
            continue
        halves = {"am", "pm"} if e.half_day == "none" else {e.half_day}
        day = max(e.start_date, first)
        while day <= min(e.end_date, last):
            taken.setdefault(day, set()).update(halves)
            day += dt.timedelta(1)
    return taken


def _by_month(days: list[dt.date]) -> list[list[dt.date]]:
    chunks: list[list[dt.date]] = []
    for day in days:
        if chunks and (chunks[-1][0].year, chunks[-1][0].month) == (day.year, day.month):
            chunks[-1].append(day)
        else:
            chunks.append([day])
    return chunks


def absent_days_in_month(person: User, year: int, month: int) -> Decimal:
    """The person's absence days in force in a month (absences never span two months)."""
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(32)).replace(day=1) - dt.timedelta(1)
    return _absent_days(person, first, last)


def _absent_days(person: User, first: dt.date, last: dt.date) -> Decimal:
    rows = list(db.session.scalars(select(AttendanceEntry).where(
        AttendanceEntry.user_id == person.id, AttendanceEntry.kind == ABSENCE,
        AttendanceEntry.start_date <= last, AttendanceEntry.end_date >= first)))
    gone = cancellations([e.id for e in rows])
    return sum((Decimal(e.days) for e in rows if e.id not in gone), Decimal(0))


def _entry(person: User, recorder: User, days: list[dt.date], form: AbsenceInput, via: str) -> AttendanceEntry:
    half = form.half_day != "none"
    count = Decimal("0.5") if half else Decimal(len(days))
    before = absent_days_in_month(person, days[0].year, days[0].month)
    return AttendanceEntry(
        user_id=person.id, kind=ABSENCE, start_date=days[0], end_date=days[-1], half_day=form.half_day,
        days=count, pay_deduction_days=PAY_HALF_DAY if half else PAY_WHOLE_DAY * len(days),
        month_pay=before + count >= MONTH_PAY_DAYS, score=0, late=False, instance_id=None,
        recorded_by_id=recorder.id, recorded_at=clock.now(), via=via[:10], note=form.note)


def cancel_absence(user: User, entry_id: int, reason: Any, *, via: str = "web", ip: str | None = None,
                   path: str = "/attendance/absences/cancel") -> AttendanceCancellation:
    """The office withdraws an absence recorded in error, with a reason; the entry stays as written."""
    if not ledger_access.may_cancel_absence(user):
        access.refuse(user, f"{path} (entry {entry_id})", "only the office may cancel an absence", ip=ip)
    errors: dict[str, str] = {}
    text = _text(reason, "reason", MAX_NOTE, errors, required=True, multiline=True)
    if errors:
        raise Invalid(_FIX, errors)
    entry = db.session.get(AttendanceEntry, entry_id)
    if entry is None:
        raise NotFound("no such attendance entry")
    if entry.kind != ABSENCE:
        raise Refused("only a recorded absence can be cancelled here; leave is changed through its case")
    if entry.user_id == user.id:
        access.refuse(user, f"{path} (entry {entry_id}, own)", "you may not cancel your own absence", ip=ip)
    _lock(entry.user)
    if cancellations([entry.id]):
        raise Conflict("this absence is already cancelled", code="already_cancelled")
    row = AttendanceCancellation(entry_id=entry.id, reason=text or "", cancelled_by_id=user.id,
                                 cancelled_at=clock.now(), via=via[:10])
    db.session.add(row)
    db.session.commit()
    return row
