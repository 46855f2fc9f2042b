"""The attendance ledger's pages (考勤台账): a person's and a team's month or year, with the month's
calendar picture, the entries and their totals, CSV export, and the absence form (第二十九条)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from workflows.cases import access as case_access
from workflows.engine import clock
from workflows.errors import Invalid, WorkflowError
from workflows.processes.leave import absences, ledger
from workflows.processes.leave import access as ledger_access

from ..i18n import tr, tr_fields
from ..template_helpers import when
from . import leave_api
from .page import NavEntry, Page

bp = Blueprint("attendance", __name__)

PAGE = Page(bp, nav=(NavEntry("attendance.person", _l("Attendance"), "attendance", ledger_access.may_open_ledger),),
            api=leave_api)

KIND_LABELS = {"personal": _l("Personal leave"), "sick": _l("Sick leave"), "work_injury": _l("Work-injury leave"),
               "absence": _l("Absence")}
KIND_ABBR = {"personal": _l("P"), "sick": _l("S"), "work_injury": _l("I"), "absence": _l("A")}
HALF_LABELS = {"none": _l("Whole day"), "am": _l("Morning"), "pm": _l("Afternoon")}
HALF_ABBR = {"am": _l("am"), "pm": _l("pm")}
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


def _period() -> ledger.Period:
    return ledger.parse_period(request.args.get("year"), request.args.get("month"), default_month=True)


def _render(view: ledger.Ledger, *, status: int = 200, form: dict[str, Any] | None = None,
            errors: dict[str, str] | None = None) -> tuple[str, int]:
    person = view.people[0].person if view.unit is None else None
    p = view.period
    if p.month:
        prev, following = (p.year, p.month - 1) if p.month > 1 else (p.year - 1, 12), \
            (p.year, p.month + 1) if p.month < 12 else (p.year + 1, 1)
    else:
        prev, following = (p.year - 1, None), (p.year + 1, None)
    base: dict[str, Any] = ({"user": person.username} if person is not None
                            else {"unit": view.unit.id if view.unit is not None else ""})
    units = ledger_access.visible_units(current_user)
    top = len(units[0].ancestors()) if units else 0
    return render_template(
        "processes/leave/attendance.html", ledger=view, person=person,
        units=[(u, len(u.ancestors()) - top) for u in units],
        endpoint="attendance.person" if person is not None else "attendance.team", base=base, prev=prev,
        next=following, may_record=person is not None and ledger_access.may_record_absence(current_user, person),
        may_cancel=ledger_access.may_cancel_absence(current_user), kinds=KIND_LABELS, abbr=KIND_ABBR,
        halves=HALF_LABELS, half_abbr=HALF_ABBR, weekdays=WEEKDAYS, form=form or {}, errors=errors or {},
        today=clock.today()), status


@bp.app_template_filter("leave_days")
def leave_days(value: Any) -> str:
    """Days as people write them: 2, 0.5, 1.5 (never 2.0)."""
    text = f"{Decimal(value):f}" if value is not None else "0"
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.route("/attendance")
@login_required
def person():
    username = request.args.get("user") or current_user.username
    view = ledger.person_ledger(current_user, username, _period(), ip=request.remote_addr, path=request.path)
    return _render(view)


@bp.route("/attendance/team")
@login_required
def team():
    units = ledger_access.visible_units(current_user)
    chosen = request.args.get("unit") or (str(units[0].id) if units else "")
    if not chosen:
        case_access.refuse(current_user, request.path, "you lead no team whose attendance you could see",
                           ip=request.remote_addr)
    view = ledger.team_ledger(current_user, chosen[:12], _period(), ip=request.remote_addr, path=request.path)
    return _render(view)


@bp.route("/attendance/export.csv")
@login_required
def export():
    """The entries of the page's filters as CSV (UTF-8 with BOM, so Excel reads Chinese)."""
    unit = request.args.get("unit")
    view = ledger.ledger_for(current_user, user=request.args.get("user") or None, unit=unit[:12] if unit else None,
                             period=_period(), ip=request.remote_addr, path=request.path)
    rows = view.entries
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Username"), _("Full name"), _("Type"), _("First day"), _("Last day"), _("Half day"), _("Days"),
                     _("Days in the period"), _("Pay deduction (days)"), _("Month's fixed pay"), _("Score"),
                     _("Late"), _("Case"), _("Recorded by"), _("Recorded at"), _("Via"), _("Note"), _("Cancelled")])
    for v in rows:
        e = v.entry
        writer.writerow([e.user.username, _cell(e.user.full_name), str(KIND_LABELS.get(e.kind, e.kind)),
                         e.start_date.isoformat(), e.end_date.isoformat(), str(HALF_LABELS.get(e.half_day, "")),
                         e.days, v.days_in_period, e.pay_deduction_days, _("yes") if e.month_pay else "",
                         leave_days(e.score),
                         _("yes") if e.late else "", e.instance_id or "",
                         e.recorded_by.username if e.recorded_by else "", when(e.recorded_at), e.via,
                         _cell(e.note), _cell(v.cancellation.reason) if v.cancellation else ""])
    query = request.query_string.decode(errors="replace")[:300]
    case_access.log_event("export", user=current_user, ip=request.remote_addr,
                          detail=f"attendance: {len(rows)} entr(y/ies): {query}")
    name = f"attendance-{view.unit.id if view.unit else view.people[0].person.username}-{view.period.key}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(text: str | None) -> str:
    """Keep a spreadsheet from reading a value as a formula."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/attendance/absences", methods=["POST"])
@login_required
def record_absence():
    form = {k: v for k, v in request.form.items() if k in ("user", "start_date", "end_date", "half_day", "note")}
    try:
        done = absences.record_absence(current_user, form, via="web", ip=request.remote_addr, path=request.path)
    except Invalid as exc:  # a refused rule too (Refused is an Invalid): the form comes back with the message
        username = form.get("user") if "user" not in exc.fields else None
        view = ledger.person_ledger(current_user, username or current_user.username,
                                    _period_of(form.get("start_date")), ip=request.remote_addr, path=request.path)
        flash(tr(exc.message), "error")
        return _render(view, status=422, form=form, errors=tr_fields(exc))
    flash(_("Absence recorded: %(days)s working day(s).", days=sum(e.days for e in done.entries)), "success")
    for review in done.reviews:
        flash(_("The absences reach the threshold of 第二十九条: separation review #%(id)s started.", id=review.id),
              "success")
    first = done.entries[0].start_date
    return redirect(url_for("attendance.person", user=done.person.username, year=first.year, month=first.month))


def _period_of(day: str | None) -> ledger.Period:
    try:
        return ledger.parse_period((day or "")[:4], (day or "")[5:7].lstrip("0") or None, default_month=True)
    except WorkflowError:
        return _period()


@bp.route("/attendance/absences/<int:entry_id>/cancel", methods=["POST"])
@login_required
def cancel_absence(entry_id: int):
    try:
        row = absences.cancel_absence(current_user, entry_id, request.form.get("reason", ""), via="web",
                                      ip=request.remote_addr, path=request.path)
    except Invalid as exc:
        flash(tr(exc.message) + "".join(f" {m}" for m in tr_fields(exc).values()), "error")
        return redirect(request.referrer or url_for("attendance.person"))
    flash(_("The absence was cancelled; the ledger leaves it out."), "success")
    entry = row.entry
    return redirect(url_for("attendance.person", user=entry.user.username, year=entry.start_date.year,
                            month=entry.start_date.month))
