"""Helpers of the leave-request tests: fresh people (each test its own balance), the branch
date set by the injectable clock, calendar exceptions, and the steps of the diagram."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete

from tests.conftest import open_specs, open_task, unique_username, user  # noqa: F401 - the steps' own
from workflows.branch import accounts
from workflows.branch.models import CalendarDay, StoredSetting, User, UserRole
from workflows.cases import commands as cases
from workflows.cases.forms import Upload
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.processes.leave.approvers import BRANCH_APPROVER

PROCESS = "leave_request"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PASSWORD = "leave-test-1234"
_hash: list[str] = []
_names = itertools.count(1)

# The tests' year: far from the other tests' dates, with its own calendar exceptions.
MON = dt.date(2033, 3, 7)  # a Monday; 2033-03-04 is a Friday


def week(n: int, weekday: int = 0) -> dt.date:
    """The ``weekday`` (0 = Monday) of the ``n``-th week after MON."""
    return MON + dt.timedelta(weeks=n, days=weekday)


def on(day: dt.date, hour: int = 10) -> None:
    """Move the clock so that it is ``hour`` o'clock on ``day`` in the branch's time zone."""
    target = dt.datetime.combine(day, dt.time(hour), tzinfo=clock.BRANCH_TZ).astimezone(dt.UTC).replace(tzinfo=None)
    clock.travel(target - clock.now())


def person(like: str = "staff01", roles: tuple[str, ...] = ("staff",)) -> User:
    """A new person in the unit of the demo user ``like``: their own leave balance and requests."""
    if not _hash:
        _hash.append(accounts.hash_password(PASSWORD))
    model = user(like)
    someone = User(username=unique_username("lv"), full_name=f"请假测试{next(_names)}", password_hash=_hash[0],
                   unit_id=model.unit_id)
    someone.role_rows = [UserRole(role_key=r) for r in roles]
    db.session.add(someone)
    db.session.commit()
    return someone


def request(kind: str, first: dt.date, last: dt.date | None = None, half_day: str = "none",
            **extra: Any) -> dict[str, Any]:
    data = {"leave_type": kind, "start_date": first.isoformat(), "end_date": (last or first).isoformat(),
            "half_day": half_day, "reason": "测试 test"}
    if kind != "personal":
        data.update(hospital_name="福田区人民医院", hospital_level="district")
    data.update(extra)
    return data


def certificate() -> dict[str, Upload]:
    return {"certificate": Upload("证明.pdf", "application/pdf", PDF)}


def start(who: User, kind: str, first: dt.date, last: dt.date | None = None, **kw: Any) -> ProcessInstance:
    uploads = kw.pop("uploads", certificate() if kind != "personal" else None)
    return cases.start_case(PROCESS, who, request(kind, first, last, **kw), uploads=uploads)




def assignee(instance: ProcessInstance, spec_id: str) -> User:
    task = open_task(instance, spec_id)
    found = db.session.get(User, task.assigned_user_id)
    assert found is not None
    return found


def decide(instance: ProcessInstance, spec_id: str, decision: str = "approve", comment: str = "",
           actor: User | None = None) -> None:
    task = open_task(instance, spec_id)
    who = actor or db.session.get(User, task.assigned_user_id)
    cases.complete_task(task.id, who, {"decision": decision, "comment": comment})


def approve_all(instance: ProcessInstance) -> None:
    """Both approvals by the people they are assigned to (the branch one when there is one)."""
    decide(instance, "Task_FirstApproval")
    if "Task_BranchApproval" in open_specs(instance):
        decide(instance, "Task_BranchApproval")
    db.session.refresh(instance)
    assert instance.outcome == "End_Approved", instance.outcome


@pytest.fixture
def calendar_days() -> Iterator[Any]:
    """``calendar_days({date: working, …})``: exceptions to Monday–Friday for this test only."""
    added: list[dt.date] = []

    def add(days: dict[dt.date, bool]) -> None:
        for day, working in days.items():
            db.session.add(CalendarDay(day=day, working=working, name="测试 test"))
            added.append(day)
        db.session.commit()

    yield add
    db.session.rollback()
    if added:
        db.session.execute(delete(CalendarDay).where(CalendarDay.day.in_(added)))
        db.session.commit()


@pytest.fixture
def branch_approver() -> Iterator[Any]:
    """``branch_approver(username)``: the administrator names the branch leave approver for this test."""
    from workflows.branch import settings

    def name(username: str) -> None:
        settings.change(BRANCH_APPROVER, username, user("admin"))
        db.session.commit()

    yield name
    db.session.rollback()
    db.session.execute(delete(StoredSetting).where(StoredSetting.key == BRANCH_APPROVER))
    db.session.commit()
