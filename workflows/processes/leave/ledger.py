"""Reading the attendance ledger (考勤台账): a person's or a team's entries for a month or a year,
their totals, and the month's picture of who is away which working day, by kind.

Entries are never changed; an absence withdrawn by the office keeps its entry and gains a
cancellation record, and is left out of totals and the picture. An entry that spans the edge of
the period counts with the working days inside it (its deduction and score in proportion: the
rules are per day). In a month whose absences reach two days the deduction is the month's fixed
pay (第二十九条), which then stands for every deduction of that month.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflows.branch import calendar
from workflows.branch.models import CalendarDay, OrgUnit, User
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Invalid, Msg
from workflows.processes.leave import access as ledger_access
from workflows.processes.leave.ledger_models import AttendanceCancellation, SeparationTrigger
from workflows.processes.leave.models import KINDS, AttendanceEntry

MONTH_PAY_DAYS = Decimal(2)  # absence days in one month that cost the month's fixed pay
FIRST_YEAR, LAST_YEAR = 2000, 2100
_FIX = "please correct the highlighted fields"
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Period:
    year: int
    month: int | None  # None: the whole year

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month or 1, 1)

    @property
    def last(self) -> dt.date:
        month = self.month or 12
        return dt.date(self.year, month, month_calendar.monthrange(self.year, month)[1])

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" if self.month else f"{self.year:04d}"

    def months(self) -> list[str]:
        return [f"{self.year:04d}-{m:02d}" for m in ([self.month] if self.month else range(1, 13))]


def parse_period(year: str | None, month: str | None, *, default_month: bool) -> Period:
    """``year`` (default this year) and ``month`` (1–12; empty or absent: the whole year, unless
    ``default_month`` asks for this month when neither is given). A 422 names a bad one."""
    today = clock.today()
    errors: dict[str, str] = {}
    y = _number(year, "year", FIRST_YEAR, LAST_YEAR, errors)
    m = _number(month, "month", 1, 12, errors)
    if errors:
        raise Invalid(_FIX, errors)
    if y is None:
        y = today.year
        if m is None and default_month and month is None:
            m = today.month
    return Period(y, m)


def _number(raw: str | None, name: str, low: int, high: int, errors: dict[str, str]) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        errors[name] = Msg("not a whole number", code="not_a_whole_number")
        return None
    value = int(text)
    if not low <= value <= high:
        errors[name] = Msg("must be between %(low)s and %(high)s", code="out_of_range", low=low, high=high)
        return None
    return value


# --- what is read -----------------------------------------------------------------------------


@dataclass
class Totals:
    days: dict[str, Decimal] = field(default_factory=lambda: {k: Decimal(0) for k in KINDS})
    pay_deduction_days: Decimal = Decimal(0)  # outside the months that cost the month's fixed pay
    month_pay_months: list[str] = field(default_factory=list)  # "YYYY-MM"
    score: Decimal = Decimal(0)  # half a sick day is −2.5
    entries: int = 0  # in force
    cancelled: int = 0
    late: int = 0

    @property
    def total_days(self) -> Decimal:
        return sum(self.days.values(), Decimal(0))

    def add(self, other: Totals) -> None:
        for kind, days in other.days.items():
            self.days[kind] += days
        self.pay_deduction_days += other.pay_deduction_days
        self.month_pay_months = sorted(set(self.month_pay_months) | set(other.month_pay_months))
        self.score += other.score
        self.entries += other.entries
        self.cancelled += other.cancelled
        self.late += other.late


@dataclass
class EntryView:
    entry: AttendanceEntry
    cancellation: AttendanceCancellation | None
    days_in_period: Decimal  # the working days of the entry inside the period (all of them when it lies inside)
    review_id: int | None = None  # the separation review this absence started


@dataclass
class PersonLedger:
    person: User
    entries: list[EntryView]
    totals: Totals
    month_pay_people: int = 0  # (team totals only) people whose deduction includes a month's fixed pay


@dataclass(frozen=True)
class DayColumn:
    day: dt.date
    working: bool
    weekend: bool
    exception: bool  # a public holiday on a weekday, or a make-up working day (调休) on a weekend
    name: str  # the calendar's name of the exception ("国庆节 National Day"), else ""

    @property
    def holiday(self) -> bool:
        return self.exception and not self.working

    @property
    def make_up(self) -> bool:
        return self.exception and self.working


@dataclass(frozen=True)
class Mark:
    kind: str
    half: str  # none | am | pm
    entry_id: int


@dataclass
class PictureRow:
    person: User
    cells: list[tuple[Mark, ...]]  # one per day of the month, in order


@dataclass
class MonthPicture:
    days: list[DayColumn]
    rows: list[PictureRow]


@dataclass
class Ledger:
    period: Period
    people: list[PersonLedger]
    totals: Totals
    unit: OrgUnit | None = None  # a team ledger: its unit
    picture: MonthPicture | None = None  # a month's ledger only

    @property
    def entries(self) -> list[EntryView]:
        return sorted((v for p in self.people for v in p.entries),
                      key=lambda v: (v.entry.start_date, v.entry.user.username, v.entry.id))


# --- entry points -------------------------------------------------------------------------------


def find_person(username: str) -> User:
    person = db.session.scalars(select(User).where(User.username == username)).first() if len(username) <= 60 else None
    if person is None:
        raise Invalid(_FIX, {"user": Msg("no user has this username", code="unknown_user")})
    return person


def find_unit(unit_id: str | int) -> OrgUnit:
    text = str(unit_id).strip()
    unit = db.session.get(OrgUnit, int(text)) if text.isascii() and text.isdigit() and len(text) < 10 else None
    if unit is None:
        raise Invalid(_FIX, {"unit": Msg("no such unit", code="not_found")})
    return unit


def person_ledger(viewer: User, username: str, period: Period, *, ip: str | None = None,
                  path: str = "/attendance") -> Ledger:
    """One person's ledger, for those who may see it (else 403, logged)."""
    person = find_person(username)
    if not ledger_access.may_see_person(viewer, person):
        ledger_access.refuse_person(viewer, person.username, path, ip)
    return _ledger([person], period)


def team_ledger(viewer: User, unit_id: str | int, period: Period, *, ip: str | None = None,
                path: str = "/attendance/team") -> Ledger:
    """Everyone in the unit and below, for its leaders up the chain, the office, the GM and auditors."""
    unit = find_unit(unit_id)
    if not ledger_access.may_see_unit(viewer, unit):
        ledger_access.refuse_unit(viewer, unit.id, path, ip)
    ledger = _ledger(people_in(unit), period)
    ledger.unit = unit
    return ledger


def ledger_for(viewer: User, *, user: str | None, unit: str | None, period: Period, ip: str | None = None,
               path: str = "/api/v1/attendance") -> Ledger:
    """The API's one question: a person (``user``), a team (``unit``), or else one's own."""
    if user and unit:
        raise Invalid(_FIX, {"unit": Msg("give a user or a unit, not both", code="invalid")})
    if unit:
        return team_ledger(viewer, unit, period, ip=ip, path=path)
    return person_ledger(viewer, user or viewer.username, period, ip=ip, path=path)


def people_in(unit: OrgUnit) -> list[User]:
    """Active people of the unit and every unit below it, by username."""
    parents = dict(db.session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    below = {unit.id}
    grew = True
    while grew:
        more = {uid for uid, parent in parents.items() if parent in below and uid not in below}
        below |= more
        grew = bool(more)
    return list(db.session.scalars(select(User).where(User.unit_id.in_(below), User.active.is_(True))
                                   .order_by(User.username)))


# --- building ---------------------------------------------------------------------------------


def _ledger(people: list[User], period: Period) -> Ledger:
    entries = entries_of([p.id for p in people], period.first, period.last)
    cancelled = cancellations([e.id for e in entries])
    reviews = reviews_started([e.id for e in entries if e.kind == "absence"])
    window_first = min([period.first, *(e.start_date for e in entries)])
    window_last = max([period.last, *(e.end_date for e in entries)])
    working = set(calendar.working_days(window_first, window_last))
    by_person: dict[int, list[AttendanceEntry]] = defaultdict(list)
    for e in entries:
        by_person[e.user_id].append(e)
    rows: list[PersonLedger] = []
    total = Totals()
    for person in people:
        views = [EntryView(e, cancelled.get(e.id), _days_inside(e, period.first, period.last, working),
                           reviews.get(e.id)) for e in by_person.get(person.id, [])]
        totals = _totals(views, period, working)
        rows.append(PersonLedger(person, views, totals))
        total.add(totals)
    ledger = Ledger(period, rows, total)
    if period.month:
        ledger.picture = _picture(rows, period, working)
    return ledger


def entries_of(user_ids: list[int], first: dt.date, last: dt.date) -> list[AttendanceEntry]:
    """Entries of these people that touch the days from ``first`` to ``last``, oldest first."""
    if not user_ids:
        return []
    return list(db.session.scalars(
        select(AttendanceEntry).where(AttendanceEntry.user_id.in_(user_ids), AttendanceEntry.start_date <= last,
                                      AttendanceEntry.end_date >= first)
        .options(joinedload(AttendanceEntry.user), joinedload(AttendanceEntry.recorded_by))
        .order_by(AttendanceEntry.start_date, AttendanceEntry.id)))


def cancellations(entry_ids: list[int]) -> dict[int, AttendanceCancellation]:
    if not entry_ids:
        return {}
    rows = db.session.scalars(select(AttendanceCancellation).where(AttendanceCancellation.entry_id.in_(entry_ids))
                              .options(joinedload(AttendanceCancellation.cancelled_by)))
    return {c.entry_id: c for c in rows}


def reviews_started(entry_ids: list[int]) -> dict[int, int]:
    """Absence entry id → the separation review it started."""
    if not entry_ids:
        return {}
    rows = db.session.execute(select(SeparationTrigger.entry_id, SeparationTrigger.instance_id)
                              .where(SeparationTrigger.entry_id.in_(entry_ids)))
    return {entry_id: instance_id for entry_id, instance_id in rows if entry_id is not None}


def _days_inside(entry: AttendanceEntry, first: dt.date, last: dt.date, working: set[dt.date]) -> Decimal:
    if first <= entry.start_date and entry.end_date <= last:
        return Decimal(entry.days)
    if entry.half_day != "none":
        return Decimal(entry.days) if first <= entry.start_date <= last else Decimal(0)
    inside = _working_between(max(entry.start_date, first), min(entry.end_date, last), working)
    whole = _working_between(entry.start_date, entry.end_date, working)
    if not whole:
        return Decimal(0)
    return (Decimal(entry.days) * inside / whole).quantize(_TENTH, ROUND_HALF_UP)


def _working_between(first: dt.date, last: dt.date, working: set[dt.date]) -> int:
    return sum(1 for n in range((last - first).days + 1) if first + dt.timedelta(n) in working)


def _month_shares(entry: AttendanceEntry, period: Period, working: set[dt.date]) -> list[tuple[str, Decimal]]:
    """(month, working days of the entry in it) for the months of the period it touches."""
    shares = []
    for month in period.months():
        y, m = int(month[:4]), int(month[5:])
        first = dt.date(y, m, 1)
        last = dt.date(y, m, month_calendar.monthrange(y, m)[1])
        if entry.end_date < first or entry.start_date > last:
            continue
        days = _days_inside(entry, first, last, working)
        if days:
            shares.append((month, days))
    return shares


def _totals(views: list[EntryView], period: Period, working: set[dt.date]) -> Totals:
    totals = Totals()
    deduction: dict[str, Decimal] = defaultdict(Decimal)
    absent: dict[str, Decimal] = defaultdict(Decimal)
    for view in views:
        entry = view.entry
        if view.cancellation is not None:
            totals.cancelled += 1
            continue
        totals.entries += 1
        totals.late += 1 if entry.late else 0
        days = Decimal(entry.days)
        for month, share in _month_shares(entry, period, working):
            totals.days[entry.kind] = totals.days.get(entry.kind, Decimal(0)) + share
            part = share / days if days else Decimal(0)
            deduction[month] += (Decimal(entry.pay_deduction_days) * part).quantize(_TENTH, ROUND_HALF_UP)
            totals.score += (Decimal(entry.score) * part).quantize(_TENTH, ROUND_HALF_UP)
            if entry.kind == "absence":
                absent[month] += share
    totals.month_pay_months = sorted(m for m, days in absent.items() if days >= MONTH_PAY_DAYS)
    totals.pay_deduction_days = sum((d for m, d in deduction.items() if m not in totals.month_pay_months),
                                    Decimal(0))
    return totals


def _picture(rows: list[PersonLedger], period: Period, working: set[dt.date]) -> MonthPicture:
    names = dict(db.session.execute(select(CalendarDay.day, CalendarDay.name).where(
        CalendarDay.day >= period.first, CalendarDay.day <= period.last)).all())
    days = [period.first + dt.timedelta(n) for n in range((period.last - period.first).days + 1)]
    columns = [DayColumn(d, d in working, d.weekday() >= 5, d in names, names.get(d) or "") for d in days]
    out = []
    for row in rows:
        cells: list[list[Mark]] = [[] for _ in days]
        for view in row.entries:
            entry = view.entry
            if view.cancellation is not None:
                continue
            for i, d in enumerate(days):
                if entry.start_date <= d <= entry.end_date and d in working:
                    cells[i].append(Mark(entry.kind, entry.half_day, entry.id))
        out.append(PictureRow(row.person, [tuple(c) for c in cells]))
    return MonthPicture(columns, out)
