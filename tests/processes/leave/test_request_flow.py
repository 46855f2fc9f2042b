"""A leave request through the real engine: approve (one ledger entry, in the history, verified),
reject (the requester is told why), send back and resubmit (the rules checked again), withdraw."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import user
from tests.processes.leave.steps import (
    approve_all,
    assignee,
    decide,
    on,
    open_specs,
    open_task,
    person,
    request,
    start,
    week,
)
from workflows.cases import commands as cases
from workflows.cases import integrity
from workflows.cases.models import AuditEvent, HumanTask, Notice
from workflows.db import db
from workflows.errors import Forbidden, Invalid, Refused
from workflows.processes.leave import rules
from workflows.processes.leave.models import AttendanceEntry


def _events(instance) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                   .order_by(AuditEvent.seq)))


def _entries(instance) -> list[AttendanceEntry]:
    return list(db.session.scalars(select(AttendanceEntry).where(AttendanceEntry.instance_id == instance.id)))


def _notices(who, instance) -> list[Notice]:
    return list(db.session.scalars(select(Notice).where(Notice.user_id == who.id,
                                                        Notice.instance_id == instance.id)))


def test_approval_writes_one_ledger_entry_in_the_same_history() -> None:
    on(week(40, 0))
    requester = person()
    instance = start(requester, "sick", week(40, 1), week(40, 4))  # 4 sick days: every day's pay
    decide(instance, "Task_FirstApproval")
    assert _entries(instance) == []  # not before the branch approves
    decide(instance, "Task_BranchApproval")
    db.session.refresh(instance)
    assert (instance.status, instance.outcome) == ("completed", "End_Approved")
    assert open_specs(instance) == []  # the withdraw step closed with the case
    (entry,) = _entries(instance)
    assert (entry.user_id, entry.kind, entry.days, entry.pay_deduction_days, entry.score, entry.late) == (
        requester.id, "sick", Decimal(4), Decimal(4), Decimal(-20), False)
    assert entry.recorded_by_id == user("gm").id and entry.via == "web"
    events = _events(instance)
    recorded = next(e for e in events if e.type == "leave_recorded")
    assert recorded.changes["ledger_entry"] == [None, entry.id] and recorded.actor_id == user("gm").id
    routed = next(e for e in events if e.type == "leave_assessed")
    assert routed.changes["first_approver"] == [None, user("region11").full_name]
    assert any("approved" in n.text for n in _notices(requester, instance))
    assert integrity.check(instance.id).problem_count == 0


def test_verify_notices_a_ledger_entry_that_disagrees_with_the_history() -> None:
    on(week(41, 0))
    instance = start(person(), "personal", week(41, 2))
    approve_all(instance)
    (entry,) = _entries(instance)
    entry.score = Decimal(0)  # someone edits the ledger behind the process's back
    db.session.commit()
    report = integrity.check(instance.id)
    assert report.counts.get("ledger") == 1
    assert any("score" in p.message for p in report.problems)
    entry.score = Decimal(-10)
    db.session.commit()


def test_reject_ends_the_request_and_tells_the_requester_why() -> None:
    on(week(42, 0))
    requester = person()
    instance = start(requester, "personal", week(42, 2))
    decide(instance, "Task_FirstApproval", "reject", "业绩考核周 Review week")
    db.session.refresh(instance)
    assert (instance.status, instance.outcome) == ("completed", "End_Rejected")
    assert _entries(instance) == [] and open_specs(instance) == []
    (told,) = _notices(requester, instance)
    assert "rejected" in told.text and "Review week" in told.text
    assert told.params["reason"] == "业绩考核周 Review week"


def test_reject_needs_a_reason() -> None:
    on(week(42, 0))
    instance = start(person(), "personal", week(42, 3))
    with pytest.raises(Invalid) as caught:
        decide(instance, "Task_FirstApproval", "reject", "")
    assert "comment" in getattr(caught.value, "fields", {})


def test_send_back_correct_and_resubmit_checks_the_rules_again() -> None:
    on(week(43, 0))
    requester = person()
    other = start(requester, "personal", week(44, 0))
    instance = start(requester, "personal", week(43, 2))
    decide(instance, "Task_FirstApproval")
    decide(instance, "Task_BranchApproval", "send_back", "请改为半天 Make it half a day")
    assert open_specs(instance) == ["Task_Revise", "Task_Withdraw"]
    revise = open_task(instance, "Task_Revise")
    assert revise.assigned_user_id == requester.id
    # A correction that overlaps the other pending request is refused, nothing saved
    with pytest.raises(Refused) as caught:
        cases.complete_task(revise.id, requester, request("personal", week(44, 0)))
    assert caught.value.code == "leave_overlap" and caught.value.figures["case"] == other.id
    db.session.rollback()
    assert open_specs(instance) == ["Task_Revise", "Task_Withdraw"]
    cases.complete_task(revise.id, requester, request("personal", week(43, 3), half_day="pm"))
    db.session.refresh(instance)
    assert instance.summary["start_date"] == week(43, 3).isoformat() and instance.summary["half_day"] == "pm"
    assert assignee(instance, "Task_FirstApproval").username == "region11"  # both approvals again
    approve_all(instance)
    (entry,) = _entries(instance)
    assert (entry.start_date, entry.days) == (week(43, 3), Decimal("0.5"))
    rounds = [e for e in _events(instance) if e.type == "leave_assessed"]
    assert len(rounds) == 2
    assert integrity.check(instance.id).problem_count == 0


def test_a_correction_keeps_the_filing_day_for_the_advance_rule() -> None:
    """Sent back and corrected after the leave began: the lateness is the approvers' time, not the requester's."""
    on(week(45, 0))
    requester = person()
    instance = start(requester, "personal", week(45, 1), week(45, 2))
    decide(instance, "Task_FirstApproval", "send_back", "写清事由 Say why")
    on(week(45, 1), hour=15)
    cases.complete_task(open_task(instance, "Task_Revise").id, requester,
                        request("personal", week(45, 1), week(45, 2), reason="搬家 Moving house"))
    assert "Task_FirstApproval" in open_specs(instance)


def test_withdraw_a_pending_request_closes_it_and_frees_its_days() -> None:
    on(week(46, 0))
    requester = person()
    instance = start(requester, "personal", *[week(46, 1), week(47, 4)])  # 9 working days
    assert rules.personal_balance(requester.id, week(46, 1).year).pending == Decimal(9)
    decide(instance, "Task_FirstApproval")
    approver = assignee(instance, "Task_BranchApproval")
    withdraw = open_task(instance, "Task_Withdraw")
    with pytest.raises(Forbidden):  # only the requester may withdraw
        cases.complete_task(withdraw.id, approver, {"decision": "withdraw"})
    db.session.rollback()
    cases.complete_task(withdraw.id, requester, {"decision": "withdraw", "comment": "不去了 Not needed"})
    db.session.refresh(instance)
    assert (instance.status, instance.outcome) == ("completed", "End_Withdrawn")
    assert open_specs(instance) == [] and _entries(instance) == []
    branch = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.spec_id == "Task_BranchApproval")).one()
    assert branch.state == "cancelled"
    assert any("withdrew" in n.text for n in _notices(approver, instance))
    assert rules.personal_balance(requester.id, week(46, 1).year).pending == Decimal(0)
    assert integrity.check(instance.id).problem_count == 0
