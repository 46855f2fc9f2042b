"""The working-day calendar's pages: a year of month grids and a single month for everyone signed in;
the edit form of a year's holidays and make-up working days for those who keep it (the office and
administrators, ``access.KEEP_CALENDAR``). Writing goes through ``calendar_admin.replace_year``,
the same function as the API and the CLI."""

from __future__ import annotations

import calendar as stdcal
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.branch import calendar_admin
from workflows.cases import access
from workflows.engine.clock import today
from workflows.errors import Conflict, Invalid

from .i18n import tr
from .security import requires

bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")
BLANK_ROWS = 3  # empty rows under a year's entries, to add days without script
MAX_ROWS = calendar_admin.MAX_ENTRIES + 20


@dataclass(frozen=True)
class Cell:
    day: dt.date
    kind: str  # working | weekend | holiday | makeup
    name: str = ""


def _cells(year: int) -> dict[dt.date, Cell]:
    known = {e.day: e for e in calendar_admin.year_entries(year)}
    cells = {}
    for month in range(1, 13):
        for n in range(1, stdcal.monthrange(year, month)[1] + 1):
            day = dt.date(year, month, n)
            entry = known.get(day)
            if entry is not None:
                cells[day] = Cell(day, "makeup" if entry.working else "holiday", entry.name)
            else:
                cells[day] = Cell(day, "working" if day.weekday() < 5 else "weekend")
    return cells


def _weeks(year: int, month: int, cells: dict[dt.date, Cell]) -> list[list[Cell | None]]:
    """The month as Monday-first weeks; None pads the first and last week."""
    return [[cells[d] if d.month == month else None for d in week]
            for week in stdcal.Calendar(firstweekday=0).monthdatescalendar(year, month)]


def _names() -> dict[str, list[Any]]:
    """Month and weekday names in the reader's language (Babel's: 一月 / January, 周一 / Mon)."""
    monday = dt.date(2024, 1, 1)
    return {"months": [format_date(dt.date(2024, m, 1), "LLLL") for m in range(1, 13)],
            "weekdays": [(format_date(monday + dt.timedelta(n), "EEE"), format_date(monday + dt.timedelta(n), "EEEE"))
                         for n in range(7)]}


def _year(year: int) -> int:
    if not calendar_admin.FIRST_YEAR <= year <= calendar_admin.LAST_YEAR:
        abort(404)
    return year


@bp.route("")
@login_required
def index():
    return redirect(url_for("calendar.year_view", year=today().year))


@bp.route("/<int:year>")
@login_required
def year_view(year: int):
    cells = _cells(_year(year))
    counts = calendar_admin.month_counts(year)
    months = [{"number": m, "weeks": _weeks(year, m, cells), "working_days": counts[m - 1]} for m in range(1, 13)]
    exceptions = [c for c in cells.values() if c.kind in ("holiday", "makeup")]
    return render_template("admin_calendar.html", year=year, months=months, total=sum(counts), exceptions=exceptions,
                           may_edit=access.may_keep_calendar(current_user), today=today(),
                           changes=calendar_admin.history(year, limit=10), names=_names())


@bp.route("/<int:year>/<int:month>")
@login_required
def month_view(year: int, month: int):
    if not 1 <= month <= 12:
        abort(404)
    cells = _cells(_year(year))
    first = dt.date(year, month, 1)
    before, after = first - dt.timedelta(1), first + dt.timedelta(stdcal.monthrange(year, month)[1])
    month_cells = [c for c in cells.values() if c.day.month == month]
    return render_template("admin_calendar_month.html", year=year, month=month, weeks=_weeks(year, month, cells),
                           working_days=calendar_admin.month_counts(year)[month - 1], today=today(),
                           exceptions=[c for c in month_cells if c.kind in ("holiday", "makeup")],
                           before=before, after=after, may_edit=access.may_keep_calendar(current_user),
                           names=_names())


@bp.route("/<int:year>/edit", methods=["GET", "POST"])
@login_required
@requires(access.KEEP_CALENDAR)
def edit(year: int):
    _year(year)
    if request.method == "GET":
        rows = [{"date": e.day.isoformat(), "kind": "working" if e.working else "holiday", "name": e.name}
                for e in calendar_admin.year_entries(year)]
        return _edit_page(year, rows + _blank(BLANK_ROWS), {})
    rows = _posted_rows()
    if rows is None:  # more rows than a year can need: refused whole, nothing dropped silently
        flash(_("A year has at most %(n)d holidays and make-up days.", n=calendar_admin.MAX_ENTRIES), "error")
        return redirect(url_for("calendar.edit", year=year))
    kept = [(i, row) for i, row in enumerate(rows) if not row["remove"] and (row["date"] or row["name"])]
    raw = [{"date": row["date"], "working": row["kind"] or None, "name": row["name"]} for _, row in kept]
    try:
        change = calendar_admin.replace_year(year, raw, current_user, via="web")
    except Invalid as exc:
        flash(tr(exc.message), "error")
        return _edit_page(year, rows, _row_errors(exc, [i for i, _ in kept]), 422)
    except Conflict as exc:
        flash(tr(exc.message), "error")
        return _edit_page(year, rows, {}, 409)
    flash(_("Saved.") if change is not None else _("Nothing changed."), "success")
    return redirect(url_for("calendar.year_view", year=year))


def _blank(n: int) -> list[dict[str, Any]]:
    return [{"date": "", "kind": "holiday", "name": "", "remove": False} for _ in range(n)]


def _posted_rows() -> list[dict[str, Any]] | None:
    """The form's rows as typed; None when there are more than any year needs."""
    form = request.form
    dates, kinds, names = form.getlist("date"), form.getlist("kind"), form.getlist("name")
    removed = set(form.getlist("remove"))
    count = max(len(dates), len(kinds), len(names))
    if count > MAX_ROWS:
        return None

    def at(values: list[str], i: int) -> str:
        return values[i][:200] if i < len(values) else ""

    return [{"date": at(dates, i).strip(), "kind": at(kinds, i), "name": at(names, i), "remove": str(i) in removed}
            for i in range(count)]


def _row_errors(exc: Invalid, rows: list[int]) -> dict[Any, dict[str, str]]:
    """``days[j].date`` of the entries sent → {row number on the form: {member: message}}; errors about
    the whole list under the key ``None``."""
    out: dict[Any, dict[str, str]] = {}
    for key, message in exc.fields.items():
        found = re.fullmatch(r"days\[(\d+)\](?:\.(\w+))?", key)
        if found and int(found.group(1)) < len(rows):
            member = {"working": "kind"}.get(found.group(2) or "date", found.group(2) or "date")
            out.setdefault(rows[int(found.group(1))], {})[member] = tr(message)
        else:
            out.setdefault(None, {})[key] = tr(message)
    return out


def _edit_page(year: int, rows: list[dict[str, Any]], errors: dict[Any, dict[str, str]], status: int = 200):
    return render_template("admin_calendar_edit.html", year=year, rows=rows, errors=errors,
                           changes=calendar_admin.history(year, limit=20)), status
