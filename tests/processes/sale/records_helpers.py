"""Helpers of the wealth-records tests: fresh valid ID numbers, a fixed today, new people, and
counting what was written (records, history rows, security-log refusals)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from typing import Any

from sqlalchemy import func, select

from tests.conftest import unique_username, user
from workflows.branch.models import User, UserRole
from workflows.cases.models import SecurityEvent
from workflows.db import db
from workflows.engine import clock
from workflows.processes.sale import identity
from workflows.processes.sale.models import WealthCustomer, WealthProduct, WealthRecordChange

TODAY = dt.date(2031, 6, 15)
_seq = itertools.count(1)


def on(day: dt.date = TODAY, hour: int = 10) -> None:
    """The clock at ``hour`` o'clock on ``day`` in the branch's time zone."""
    target = dt.datetime.combine(day, dt.time(hour), tzinfo=clock.BRANCH_TZ).astimezone(dt.UTC).replace(tzinfo=None)
    clock.travel(target - clock.now())


def prc_id(birth: dt.date = dt.date(1980, 1, 1)) -> str:
    """A valid resident ID card number no other test uses (the region code spreads test runs apart)."""
    n = next(_seq)
    region = f"{110000 + (os.getpid() % 89) * 100 + n // 1000 % 100:06d}"
    return identity.make_prc_id(region, birth, n % 1000)


def customer_data(**extra: Any) -> dict[str, Any]:
    birth = extra.pop("birth", dt.date(1980, 1, 1))
    data = {"name": "测试客户", "id_number": prc_id(birth), "birth_date": birth.isoformat(), "phone": "13800138000",
            "risk_level": "C3", "assessed_on": "2031-01-10", "assessment_expires_on": "2032-01-09"}
    data.update(extra)
    return data


def product_code() -> str:
    return f"T{os.getpid() % 10000}-{next(_seq)}"


def person(roles: tuple[str, ...] = ("advisor", "staff"), beside: str = "advisor1") -> User:
    """A new active person (the demo password) with these roles."""
    someone = User(username=unique_username("adv"), full_name="测试理财", unit_id=user(beside).unit_id,
                   password_hash=user(beside).password_hash)
    someone.role_rows = [UserRole(role_key=r) for r in roles]
    db.session.add(someone)
    db.session.commit()
    return someone


def refusals(username: str) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(SecurityEvent.detail).where(SecurityEvent.kind == "refused",
                                                                      SecurityEvent.username == username)
                                   .order_by(SecurityEvent.id)))


def events(kind: str, username: str) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(SecurityEvent.detail).where(SecurityEvent.kind == kind,
                                                                      SecurityEvent.username == username)
                                   .order_by(SecurityEvent.id)))


def counts() -> tuple[int, int, int]:
    """Customers, products and history rows: what a refused import must leave as it was."""
    db.session.expire_all()
    return (db.session.scalar(select(func.count(WealthCustomer.id))) or 0,
            db.session.scalar(select(func.count(WealthProduct.id))) or 0,
            db.session.scalar(select(func.count(WealthRecordChange.id))) or 0)


def history(record_type: str, record_id: int) -> list[WealthRecordChange]:
    db.session.expire_all()
    return list(db.session.scalars(select(WealthRecordChange).where(
        WealthRecordChange.record_type == record_type, WealthRecordChange.record_id == record_id)
        .order_by(WealthRecordChange.id)))


def by_number(number: str) -> WealthCustomer | None:
    db.session.expire_all()
    return db.session.scalars(select(WealthCustomer).where(WealthCustomer.id_number == number)).first()
