"""Fixtures of the leave family's tests: fresh people placed in the demo organisation (so what a
test writes for them touches nobody else's ledger), and ledger entries written directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.api.client import api  # noqa: F401 - the API fixture
from tests.conftest import unique_username, user
from tests.processes.leave.steps import branch_approver, calendar_days  # noqa: F401 - fixtures of the leave tests
from workflows.branch.models import User, UserRole
from workflows.db import db
from workflows.processes.leave.models import AttendanceEntry


@pytest.fixture
def newcomer() -> Callable[..., User]:
    """``newcomer(beside="staff01", roles=("staff",))``: a new active person in the same unit as ``beside``."""

    def make(beside: str = "staff01", roles: tuple[str, ...] = ("staff",)) -> User:
        person = User(username=unique_username("att"), full_name="测试员工", unit_id=user(beside).unit_id,
                      password_hash=user(beside).password_hash)  # the demo password
        person.role_rows = [UserRole(role_key=r) for r in roles]
        db.session.add(person)
        db.session.commit()
        return person

    return make


@pytest.fixture
def entry() -> Callable[..., AttendanceEntry]:
    """``entry(person, kind, start, end=None, days=None, half_day="none", pay=0, score=0, month_pay=False)``:
    a ledger entry written directly, as the leave process writes one on final approval."""

    def write(person: User, kind: str, start: dt.date, end: dt.date | None = None, days: str | None = None,
              half_day: str = "none", pay: str = "0", score: int = 0, month_pay: bool = False,
              late: bool = False) -> AttendanceEntry:
        row = AttendanceEntry(user_id=person.id, kind=kind, start_date=start, end_date=end or start,
                              half_day=half_day, days=Decimal(days or "1"), pay_deduction_days=Decimal(pay),
                              month_pay=month_pay, score=score, late=late, via="test")
        db.session.add(row)
        db.session.commit()
        return row

    return write
