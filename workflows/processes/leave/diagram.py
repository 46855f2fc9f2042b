"""The functions the leave-request diagram calls (registered on the family's table)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workflows.branch.models import User
from workflows.cases.context import CaseContext
from workflows.cases.functions import notice
from workflows.cases.models import HumanTask
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Msg, Refused
from workflows.processes.leave import functions, rules
from workflows.processes.leave.costs import leave_costs
from workflows.processes.leave.models import AttendanceEntry

SUMMARY_FIELDS = ("leave_type", "start_date", "end_date", "half_day")


def _name(user: Any) -> str | None:
    return user.full_name if user is not None else None


@functions.register
def assess_leave(case: CaseContext) -> dict[str, Any]:
    """Check the leave rules again (a correction may change anything) and name the two approvers.

    Refuses the step, nothing saved, when a rule fails. Returns days, late, first_approver and
    branch_approver (usernames; None skips that step)."""
    instance, data = case.instance, case.data()
    requester = instance.started_by
    if requester is None:
        raise Refused(Msg("A leave request is made by the person taking the leave."),
                            code="leave_no_requester")
    req = rules.LeaveRequest.from_data(data)
    found = rules.assess(req, requester, filed_on=clock.local(instance.started_at).date(), exclude_id=instance.id)
    # The summary keeps the request's current dates: lists show them, and the balance and overlap
    # checks of the person's other requests read them.
    summary = dict(instance.summary or {})
    summary.update({f: data.get(f) for f in SUMMARY_FIELDS})
    instance.summary = summary
    first, branch = found.route.first, found.route.branch
    case.note("leave_assessed", {"days": [None, rules.number(found.days)], "late": [None, found.late],
                                 "first_approver": [None, _name(first)], "branch_approver": [None, _name(branch)]})
    return {"days": rules.number(found.days), "late": found.late,
            "first_approver": first.username if first else None, "branch_approver": branch.username if branch else None}


@functions.register
def record_leave(case: CaseContext) -> int:
    """Write the approved leave into the attendance ledger (days, pay deduction, score, late) and tell the requester."""
    instance, data = case.instance, case.data()
    req = rules.LeaveRequest.from_data(data)
    days = rules.days_of(req)
    costs = leave_costs(req.kind, days)
    late = bool(data.get("late"))
    entry = AttendanceEntry(user_id=instance.started_by_id, kind=req.kind, start_date=req.start, end_date=req.end,
                            half_day=req.half_day, days=days, pay_deduction_days=costs.pay_deduction_days,
                            score=costs.score, late=late, instance_id=instance.id,
                            recorded_by_id=case.actor.id if case.actor else None, via=case.via[:10],
                            recorded_at=clock.now())
    db.session.add(entry)
    db.session.flush()
    # The "_" facts are for `flask audit verify` (compared with the ledger row), not shown in the history.
    case.note("leave_recorded", {"ledger_entry": [None, entry.id], "days": [None, rules.number(days)],
                                 "pay_deduction_days": [None, rules.number(costs.pay_deduction_days)],
                                 "score": [None, rules.number(costs.score)], "late": [None, late],
                                 "_user_id": [None, entry.user_id], "_kind": [None, entry.kind],
                                 "_start_date": [None, req.start.isoformat()],
                                 "_end_date": [None, req.end.isoformat()]})
    _tell(case, instance.started_by_id, Msg("Your leave %(start)s – %(end)s is approved: %(days)s working day(s).",
                                            start=req.start.isoformat(), end=req.end.isoformat(),
                                            days=rules.number(days)))
    return entry.id


@functions.register
def leave_rejected(case: CaseContext) -> bool:
    """Tell the requester their leave was rejected, and the approver's reason."""
    data = case.data()
    text = Msg("Your leave request %(start)s – %(end)s was rejected. Reason: %(reason)s",
               start=str(data.get("start_date")), end=str(data.get("end_date")), reason=str(data.get("comment") or ""))
    _tell(case, case.instance.started_by_id, text)
    return True


@functions.register
def leave_withdrawn(case: CaseContext) -> bool:
    """Tell whoever holds an open approval step of this request that the requester withdrew it."""
    instance, data = case.instance, case.data()
    holders = db.session.scalars(select(HumanTask.assigned_user_id).where(
        HumanTask.instance_id == instance.id, HumanTask.state == "open",
        HumanTask.spec_id.in_(("Task_FirstApproval", "Task_BranchApproval")))).all()
    text = Msg("%(name)s withdrew the leave request %(start)s – %(end)s.", name=_name(instance.started_by) or "",
               start=str(data.get("start_date")), end=str(data.get("end_date")))
    for user_id in holders:
        if user_id is not None:
            _tell(case, user_id, text)
    return True


def _tell(case: CaseContext, user_id: int | None, text: Msg) -> None:
    person = db.session.get(User, user_id) if user_id is not None else None
    if person is None:
        return
    db.session.add(notice(person.id, case.instance.id, text))
    case.note("notice_sent", {"to": [None, person.full_name]}, text)
