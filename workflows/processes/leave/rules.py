"""The rules of a leave request (第二十八条), checked when it is submitted and again after a correction.

Every day count goes through the branch calendar (working days only; a half day is 0.5). A rule
that fails raises :class:`Refused` with a stable code and the figures behind it (the balance, the
other request's dates), so the start form, the correction step and the API all say the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from workflows.branch import calendar, settings
from workflows.branch.models import User
from workflows.branch.settings import Setting
from workflows.cases.alerts import Alert, AlertSource
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Msg, Refused
from workflows.processes.family import StartRequest
from workflows.processes.leave.approvers import Route, route
from workflows.processes.leave.models import AttendanceEntry

PROCESS_KEY = "leave_request"
LEAVE_KINDS = ("personal", "sick", "work_injury")
HOSPITAL_LEVELS = ("community", "district", "city", "provincial")  # below district: refused for sick leave
DOCUMENTED = ("sick", "work_injury")  # need a hospital's certificate, and may be filed late with it
PERSONAL_LIMIT = "leave.personal_days_per_year"
MAX_SPAN_DAYS = 366  # one request covers at most a year
MAX_AHEAD_DAYS = 366  # and starts within a year
MAX_LATE_DAYS = 30  # late sick or work-injury leave: filed within 30 days of its first day

SETTINGS = (
    Setting(PERSONAL_LIMIT, default=20, type="long", min="0", max="366",
            label=Msg("Personal leave per calendar year (working days)"),
            help=Msg("Approved plus pending personal leave may not exceed it (第二十八条: 20 days).")),
)


@dataclass(frozen=True)
class LeaveRequest:
    kind: str
    start: dt.date
    end: dt.date
    half_day: str = "none"
    certificate: bool = False
    hospital_level: str | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LeaveRequest:
        return cls(kind=str(data.get("leave_type") or ""), start=_date(data.get("start_date")),
                   end=_date(data.get("end_date")), half_day=str(data.get("half_day") or "none"),
                   certificate=bool(data.get("certificate")), hospital_level=data.get("hospital_level") or None)

    @property
    def is_half(self) -> bool:
        return self.half_day in ("am", "pm")

    def overlaps(self, start: dt.date, end: dt.date, half_day: str = "none") -> bool:
        """Shares a day with another request; a morning and an afternoon of one day do not."""
        if self.end < start or end < self.start:
            return False
        return not (self.is_half and half_day in ("am", "pm") and self.start == start and self.half_day != half_day)


@dataclass(frozen=True)
class Assessment:
    days: Decimal
    late: bool
    route: Route


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Refused(Msg("the leave dates are missing or not dates"), code="leave_dates_missing") from None


def number(value: Decimal) -> int | float:
    """3 rather than 3.0, 2.5 as it is: for messages and the API's figures."""
    return int(value) if value == value.to_integral_value() else float(value)


def days_of(req: LeaveRequest) -> Decimal:
    return calendar.count_days(req.start, req.end, req.is_half)


def days_by_year(start: dt.date, end: dt.date, half_day: str = "none") -> dict[int, Decimal]:
    """The working days of a span, per calendar year (a request over New Year counts in both)."""
    out: dict[int, Decimal] = {}
    for year in range(start.year, end.year + 1):
        first, last = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
        days = calendar.count_days(first, last, half_day in ("am", "pm"))
        if days:
            out[year] = days
    return out


# --- what the person already has -----------------------------------------------------


def pending_requests(user_id: int, exclude_id: int | None = None) -> list[tuple[ProcessInstance, LeaveRequest]]:
    """The person's running leave requests with their current dates (kept in the case's summary)."""
    query = select(ProcessInstance).where(ProcessInstance.process_key == PROCESS_KEY,
                                          ProcessInstance.status == "running",
                                          ProcessInstance.started_by_id == user_id)
    if exclude_id is not None:
        query = query.where(ProcessInstance.id != exclude_id)
    out = []
    for instance in db.session.scalars(query.order_by(ProcessInstance.id)):
        try:
            out.append((instance, LeaveRequest.from_data(instance.summary or {})))
        except Refused:  # a case without dates (never the case for a submitted request): nothing to count
            continue
    return out


def leave_entries(user_id: int, first: dt.date, last: dt.date) -> list[AttendanceEntry]:
    """Approved leave of the person touching the span (ledger entries made by leave cases)."""
    return list(db.session.scalars(select(AttendanceEntry).where(
        AttendanceEntry.user_id == user_id, AttendanceEntry.instance_id.is_not(None),
        AttendanceEntry.start_date <= last, AttendanceEntry.end_date >= first)))


@dataclass(frozen=True)
class Balance:
    year: int
    limit: Decimal
    approved: Decimal
    pending: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.limit - self.approved - self.pending

    def figures(self) -> dict[str, Any]:
        return {"year": self.year, "limit": number(self.limit), "approved": number(self.approved),
                "pending": number(self.pending), "remaining": number(self.remaining)}


def personal_balance(user_id: int, year: int, exclude_id: int | None = None) -> Balance:
    """Personal leave of one calendar year: the limit, approved (ledger) and pending (running cases)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    approved = sum((days_by_year(e.start_date, e.end_date, e.half_day).get(year, Decimal(0))
                    for e in leave_entries(user_id, first, last) if e.kind == "personal"), Decimal(0))
    pending = sum((days_by_year(r.start, r.end, r.half_day).get(year, Decimal(0))
                   for _, r in pending_requests(user_id, exclude_id) if r.kind == "personal"), Decimal(0))
    return Balance(year, Decimal(settings.get(PERSONAL_LIMIT)), approved, pending)


# --- the checks ------------------------------------------------------------------------


def assess(req: LeaveRequest, requester: User, *, filed_on: dt.date | None = None,
           exclude_id: int | None = None) -> Assessment:
    """Check every rule; the working days, whether it is late, and who approves. ``filed_on``: the
    day the request was first submitted (a correction keeps it: the approvers' time is not the
    requester's lateness); ``exclude_id``: the case being corrected."""
    today = filed_on or clock.today()
    if req.kind not in LEAVE_KINDS:
        raise Refused(Msg("unknown leave type"), code="leave_type_unknown")
    if req.end < req.start:
        raise Refused(Msg("The leave ends (%(end)s) before it starts (%(start)s).", start=req.start.isoformat(),
                          end=req.end.isoformat()), code="leave_dates_order")
    if (req.end - req.start).days >= MAX_SPAN_DAYS or (req.start - today).days > MAX_AHEAD_DAYS:
        raise Refused(Msg("A leave request covers at most a year and starts within a year."),
                      code="leave_too_long")
    if (today - req.start).days > MAX_LATE_DAYS:
        raise Refused(Msg("Leave can be filed late at most %(days)s days after its first day (%(start)s).",
                          days=MAX_LATE_DAYS, start=req.start.isoformat()), code="leave_too_late")
    if req.is_half and req.start != req.end:
        raise Refused(Msg("A half day is a single day: the start and end dates must be the same."),
                      code="leave_half_day_span")
    worked = calendar.working_days(req.start, req.end)
    if not worked:
        raise Refused(Msg("The request has no working day between %(start)s and %(end)s: there is nothing to "
                          "request.", start=req.start.isoformat(), end=req.end.isoformat()),
                      code="leave_no_working_days")
    days = Decimal("0.5") if req.is_half else Decimal(len(worked))
    late = worked[0] <= today
    if late and req.kind not in DOCUMENTED:
        raise Refused(Msg("Leave must be requested at least one working day in advance: the first working day "
                          "of this request is %(first)s and today is %(today)s.",
                          first=worked[0].isoformat(), today=today.isoformat()), code="leave_not_in_advance")
    if req.kind in DOCUMENTED and not req.certificate:
        raise Refused(Msg("Sick and work-injury leave need the hospital's certificate (an uploaded file); "
                          "late sick leave is accepted only with it."), code="leave_certificate_required")
    if req.kind == "sick" and req.hospital_level not in HOSPITAL_LEVELS[1:]:
        raise Refused(Msg("Sick leave needs a certificate from a district-level or higher hospital."),
                      code="leave_hospital_level")
    _check_overlap(req, requester, exclude_id)
    if req.kind == "personal":
        _check_balance(req, requester, exclude_id)
    found = route(requester)
    if found.first is None and found.branch is None:
        raise Refused(Msg("Nobody in the branch can approve your leave: ask the administrator to name a branch "
                          "leave approver."), code="leave_no_approver")
    return Assessment(days, late, found)


def _check_overlap(req: LeaveRequest, requester: User, exclude_id: int | None) -> None:
    for instance, other in pending_requests(requester.id, exclude_id):
        if req.overlaps(other.start, other.end, other.half_day):
            raise Refused(Msg("You already have a pending leave request for %(start)s – %(end)s (case #%(case)s) "
                              "that overlaps this one.", start=other.start.isoformat(), end=other.end.isoformat(),
                              case=instance.id), code="leave_overlap")
    for entry in leave_entries(requester.id, req.start, req.end):
        if req.overlaps(entry.start_date, entry.end_date, entry.half_day):
            raise Refused(Msg("You already have approved leave for %(start)s – %(end)s (case #%(case)s) that "
                              "overlaps this one.", start=entry.start_date.isoformat(),
                              end=entry.end_date.isoformat(), case=entry.instance_id), code="leave_overlap")


def _check_balance(req: LeaveRequest, requester: User, exclude_id: int | None) -> None:
    for year, requested in days_by_year(req.start, req.end, req.half_day).items():
        balance = personal_balance(requester.id, year, exclude_id)
        if requested > balance.remaining:
            raise Refused(Msg("Personal leave is limited to %(limit)s working days in %(year)s: %(approved)s "
                              "approved and %(pending)s pending leave %(remaining)s, and this request needs "
                              "%(requested)s.", requested=number(requested), **balance.figures()),
                          code="leave_balance_exceeded")


def start_check(request: StartRequest) -> None:
    """The family's start check: nothing starts unless every rule holds."""
    if request.process_key != PROCESS_KEY:
        return
    if request.user is None:
        raise Refused(Msg("A leave request is made by the person taking the leave."), code="leave_no_requester")
    assess(LeaveRequest.from_data(request.data), request.user)


def balance_info(source: AlertSource) -> list[Alert]:
    """The start form's line on personal leave left this year (process property ``startInfo``)."""
    balance = personal_balance(source.applicant.id, clock.today().year)
    message = Msg("Personal leave left in %(year)s: %(remaining)s of %(limit)s working days (%(approved)s "
                  "approved, %(pending)s pending).", **balance.figures())
    return [Alert("leave_balance", message, balance.figures())]


