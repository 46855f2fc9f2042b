"""Keeping the working-day calendar: a year's exceptions are replaced as a whole, checked entry
by entry, and every replacement is kept (:class:`CalendarChange`: who, when, how, old and new).

HR loads each year's official schedule (the page, ``PUT /api/v1/calendar/<year>`` or
``flask calendar load``); all three go through :func:`replace_year`, so they refuse the same
things with the same messages and field codes (``days[3].date`` → ``not_a_weekday``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError

from workflows.branch.calendar import exceptions
from workflows.branch.models import CalendarChange, CalendarDay, User
from workflows.cases import access
from workflows.cases.forms import CONTROL_CHARACTERS, NOT_YES_OR_NO, REQUIRED, UNKNOWN_FIELD, has_control_characters
from workflows.db import db
from workflows.engine.clock import now
from workflows.errors import Conflict, Invalid, Msg, NotFound

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_ENTRIES = 366
LOCK_BASE = 0x0CA1_0000  # advisory lock keys of calendar years: LOCK_BASE + year
MAX_NAME = 60
VIAS = ("web", "api", "cli")
DATA_DIR = Path(__file__).with_name("calendar_data")
ENTRY_KEYS = ("date", "working", "name")
FIX = "please correct the highlighted fields"
NOT_A_DATE = Msg("must be a date (YYYY-MM-DD)", code="not_a_date")
NOT_A_WEEKDAY = Msg("a public holiday must fall on a weekday (Saturdays and Sundays are days off anyway)",
                    code="not_a_weekday")
NOT_A_WEEKEND = Msg("a make-up working day must be a Saturday or a Sunday", code="not_a_weekend")
DUPLICATE = Msg("this date is listed more than once", code="duplicate")


@dataclass(frozen=True)
class Entry:
    """One exception as entered: a holiday (``working`` false) or a make-up working day."""

    day: dt.date
    working: bool
    name: str

    def as_json(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "working": self.working, "name": self.name}


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid(FIX, {"year": Msg("a year from %(first)s to %(last)s", code="out_of_range",
                                        first=FIRST_YEAR, last=LAST_YEAR)})
    return year


def year_entries(year: int) -> list[Entry]:
    """The stored exceptions of ``year``, in date order."""
    check_year(year)
    rows = db.session.scalars(select(CalendarDay).where(CalendarDay.day >= dt.date(year, 1, 1),
                                                        CalendarDay.day <= dt.date(year, 12, 31))
                              .order_by(CalendarDay.day))
    return [Entry(r.day, bool(r.working), r.name or "") for r in rows]


def month_counts(year: int) -> list[int]:
    """Working days of each month of ``year`` (January first), from one query."""
    check_year(year)
    known = exceptions(dt.date(year, 1, 1), dt.date(year, 12, 31))
    counts = [0] * 12
    day = dt.date(year, 1, 1)
    while day.year == year:
        if known.get(day, day.weekday() < 5):
            counts[day.month - 1] += 1
        day += dt.timedelta(1)
    return counts


@dataclass(frozen=True)
class ChangeView:
    """A recorded replacement of a year, as the page and the API show it."""

    at: dt.datetime
    username: str | None  # None: the system (the CLI, the demo)
    name: str | None
    via: str
    old: list[dict[str, Any]]
    new: list[dict[str, Any]]


def history(year: int, limit: int = 50) -> list[ChangeView]:
    """The year's recorded changes, newest first."""
    rows = db.session.execute(select(CalendarChange, User.username, User.full_name)
                              .outerjoin(User, User.id == CalendarChange.changed_by_id)
                              .where(CalendarChange.year == year)
                              .order_by(CalendarChange.id.desc()).limit(limit))
    return [ChangeView(c.changed_at, username, name, c.via, json.loads(c.old_days), json.loads(c.new_days))
            for c, username, name in rows]


def _working(value: Any) -> bool | Msg:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "working", "holiday"):
        return value.strip().lower() in ("true", "working")
    return NOT_YES_OR_NO


def _day(value: Any, year: int) -> dt.date | Msg:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return NOT_A_DATE
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return NOT_A_DATE
    if day.year != year:
        return Msg("must be a date in %(year)s", code="out_of_range", year=year)
    return day


def _name(value: Any) -> str | Msg:
    if value is None:
        return ""
    if not isinstance(value, str):
        return Msg("must be text", code="wrong_type")
    text = value.strip()
    if has_control_characters(text):
        return CONTROL_CHARACTERS
    if len(text) > MAX_NAME:
        return Msg("at most %(n)s characters", code="too_long", n=MAX_NAME)
    return text


def parse(year: int, raw: Any) -> list[Entry]:
    """The entries of ``raw`` (a list of {"date", "working", "name"}), or Invalid naming each bad
    one as ``days[i].<member>``; nothing is written either way."""
    check_year(year)
    if not isinstance(raw, list):
        raise Invalid(FIX, {"days": Msg("must be a list of days", code="wrong_type")})
    if len(raw) > MAX_ENTRIES:
        raise Invalid(FIX, {"days": Msg("at most %(n)s days", code="too_many", n=MAX_ENTRIES)})
    errors: dict[str, Msg] = {}
    entries: list[Entry] = []
    seen: set[dt.date] = set()
    for i, item in enumerate(raw):
        at = f"days[{i}]"
        if not isinstance(item, dict):
            errors[at] = Msg("must be an object", code="not_an_object")
            continue
        for key in sorted(set(item) - set(ENTRY_KEYS))[:5]:
            errors[f"{at}.{str(key)[:40]}"] = UNKNOWN_FIELD
        day = _day(item["date"], year) if item.get("date") not in (None, "") else REQUIRED
        working = _working(item["working"]) if item.get("working") not in (None, "") else REQUIRED
        name = _name(item.get("name"))
        if isinstance(day, dt.date) and isinstance(working, bool):
            if not working and day.weekday() >= 5:
                day = NOT_A_WEEKDAY
            elif working and day.weekday() < 5:
                day = NOT_A_WEEKEND
            elif day in seen:
                day = DUPLICATE
        for key, value in (("date", day), ("working", working), ("name", name)):
            if isinstance(value, Msg):
                errors[f"{at}.{key}"] = value
        if isinstance(day, dt.date) and isinstance(working, bool) and isinstance(name, str):
            seen.add(day)
            entries.append(Entry(day, working, name))
    if errors:
        raise Invalid(FIX, dict(errors))
    return sorted(entries, key=lambda e: e.day)


def replace_year(year: int, raw: Any, actor: User | None, *, via: str = "web") -> CalendarChange | None:
    """Replace ``year``'s exceptions with ``raw`` and record the change, in one transaction (this
    commits, or rolls back and raises). None when the year already reads so. ``actor`` None is the
    system (the CLI, the demo); a person must be allowed to keep the calendar."""
    if via not in VIAS:
        raise ValueError(f"unknown via {via!r}")
    if actor is not None and not access.may_keep_calendar(actor):
        access.refuse(actor, f"change the calendar of {year}", access.KEEP_CALENDAR.refusal)
    try:
        entries = parse(year, raw)
        _lock_year(year)
        old = year_entries(year)
        if old == entries:
            db.session.rollback()
            return None
        at = now()
        who = actor.id if actor is not None else None
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        db.session.execute(delete(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))
        db.session.add_all(CalendarDay(day=e.day, working=e.working, name=e.name, updated_at=at, updated_by_id=who)
                           for e in entries)
        change = CalendarChange(year=year, old_days=_dump(old), new_days=_dump(entries), changed_by_id=who,
                                changed_at=at, via=via)
        db.session.add(change)
        db.session.commit()
    except IntegrityError:  # another edit of the same year committed first
        db.session.rollback()
        raise Conflict("someone else changed the calendar at the same time; nothing was saved, reload and retry",
                       code="changed_by_other") from None
    except BaseException:
        db.session.rollback()
        raise
    return change


def _lock_year(year: int) -> None:
    """Two edits of one year take turns, so the second reads what the first wrote and records it as
    its old days: never two lists merged, never a stale history. PostgreSQL: a transaction lock on the
    year. SQLite: a write first (it matches no row), which opens the transaction holding the database's
    write lock before anything is read; a second writer waits for it (or answers busy)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_BASE + year})
    else:
        db.session.execute(update(CalendarDay).where(CalendarDay.day == dt.date(1, 1, 1))
                           .values(working=CalendarDay.working).execution_options(synchronize_session=False))


def _dump(entries: list[Entry]) -> str:
    return json.dumps([e.as_json() for e in entries], ensure_ascii=False)


def bundled_years() -> list[int]:
    return sorted(int(p.stem) for p in DATA_DIR.glob("*.json") if p.stem.isdigit())


def read_schedule(year: int, path: Path | None = None) -> Any:
    """The days of a schedule file: the bundled one of ``year``, or ``path`` ({"year", "days"} or a
    bare list of days). A file for another year is refused."""
    path = path or DATA_DIR / f"{year}.json"
    if not path.is_file():
        raise NotFound(Msg("no schedule file for %(year)s", year=year))
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise Invalid(Msg("the schedule file is not valid JSON")) from None
    if isinstance(data, dict):
        if data.get("year") not in (None, year):
            raise Invalid(Msg("the schedule file is for %(other)s, not %(year)s", other=str(data.get("year"))[:8],
                              year=year))
        data = data.get("days")
    return data  # not a list: replace_year refuses it (``days``: wrong_type), nothing is cleared


def load_schedule(year: int, path: Path | None = None, actor: User | None = None) -> CalendarChange | None:
    """Load a schedule file through :func:`replace_year` (via ``cli``)."""
    return replace_year(year, read_schedule(year, path), actor, via="cli")


def load_bundled_if_empty() -> list[int]:
    """The demo: load each bundled year that has never been edited (an HR edit is never overwritten)."""
    loaded = []
    for year in bundled_years():
        touched = db.session.scalar(select(CalendarChange.id).where(CalendarChange.year == year).limit(1))
        if touched is None and not year_entries(year):
            load_schedule(year)
            loaded.append(year)
    return loaded
