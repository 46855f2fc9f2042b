"""Escalation (SPEC §3.5): an approval step open for one working day reminds its approver and shows
itself, overdue, to the approver's superior. The sweeper fires it with nobody logged in; the clock is
moved (no sleeping); weekends and holidays do not count."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.conftest import user
from tests.processes.leave.steps import decide, on, open_task, person, start, week
from workflows.cases import commands as cases
from workflows.cases import timers
from workflows.cases.models import AuditEvent, Notice
from workflows.db import db
from workflows.engine import clock


def _notices(username: str, instance) -> list[str]:
    return [n.text for n in db.session.scalars(select(Notice).where(Notice.user_id == user(username).id,
                                                                    Notice.instance_id == instance.id))]


def _types(instance) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.type).where(AuditEvent.instance_id == instance.id)
                                   .order_by(AuditEvent.seq)))


def _sweep() -> None:
    db.session.commit()
    timers.sweep()
    db.session.expire_all()


def test_a_friday_request_escalates_on_monday_not_saturday() -> None:
    on(week(50, 4), hour=10)  # Friday 10:00
    instance = start(person(), "personal", week(51, 1))
    task = open_task(instance, "Task_FirstApproval")
    # the inbox's due date says the same (dueWorkingDays): Monday 10:00 in Shanghai, 02:00 UTC
    assert task.due_at.replace(microsecond=0) == dt.datetime.combine(week(51, 0), dt.time(2))
    on(week(50, 5), hour=12)  # Saturday noon: a calendar day later, but no working day yet
    _sweep()
    assert task.escalated_at is None and _notices("region11", instance) == []
    on(week(51, 0), hour=9)  # Monday 09:00: not yet one working day
    _sweep()
    assert task.escalated_at is None
    on(week(51, 0), hour=10)
    clock.travel(dt.timedelta(minutes=1))  # Monday 10:01: one working day has passed
    _sweep()
    db.session.refresh(task)
    assert task.state == "open" and task.escalated_at is not None  # still the approver's to decide
    assert task.escalated_to_id == user("director1").id
    assert any("Reminder" in text for text in _notices("region11", instance))
    assert any("Escalated" in text for text in _notices("director1", instance))
    assert cases.may_view_task(task, user("director1"))  # the superior sees it, marked overdue
    types = _types(instance)
    assert types.count("timer_fired") == 1 and "task_reminded" in types and "task_escalated" in types
    reminded = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                           AuditEvent.type == "task_reminded")).one()
    assert reminded.actor_id is None and reminded.via == "timer"  # nobody was logged in
    _sweep()  # once only
    assert _types(instance).count("timer_fired") == 1


def test_a_request_before_a_holiday_escalates_after_it(calendar_days) -> None:
    calendar_days({week(52, 2): False})  # Wednesday is a public holiday
    on(week(52, 1), hour=16)  # Tuesday 16:00
    instance = start(person(), "personal", week(53, 0))
    task = open_task(instance, "Task_FirstApproval")
    on(week(52, 2), hour=17)  # the holiday, past 16:00
    _sweep()
    assert task.escalated_at is None
    on(week(52, 3), hour=16)  # Thursday 16:01
    clock.travel(dt.timedelta(minutes=1))
    _sweep()
    db.session.refresh(task)
    assert task.escalated_at is not None


def test_the_branch_step_has_its_own_day_and_escalates_to_its_approvers_superior() -> None:
    on(week(54, 0), hour=10)  # Monday
    instance = start(person(), "personal", week(55, 0))
    on(week(54, 0), hour=11)
    decide(instance, "Task_FirstApproval")
    branch = open_task(instance, "Task_BranchApproval")
    on(week(54, 1), hour=10)  # Tuesday 10:00: the first step's timer is gone with its step
    clock.travel(dt.timedelta(minutes=5))
    _sweep()
    assert branch.escalated_at is None
    on(week(54, 1), hour=11)
    clock.travel(dt.timedelta(minutes=1))
    _sweep()
    db.session.refresh(branch)
    assert branch.escalated_at is not None
    assert any("Reminder" in text for text in _notices("gm", instance))
    assert branch.escalated_to_id is None  # the GM has no superior in the branch: reminded, marked overdue
