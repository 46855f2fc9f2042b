"""People and the organisation tree as far as a person may see them, under the pages' rules.

The administrator's pages (users, organisation) show everyone and the whole tree; anyone else
sees what their profile shows: themselves, and their own unit with the units above it (whose
leaders are the superiors their requests are routed to)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflows.branch.models import OrgUnit, User
from workflows.branch.people import tree
from workflows.cases import access
from workflows.db import db


@dataclass
class UnitRow:
    unit: OrgUnit
    depth: int


def people(user: User, *, username: str | None = None, active: bool | None = None) -> list[User]:
    """Everyone for an administrator; oneself for anyone else. Ordered by username."""
    conditions = [] if access.may_administer(user) else [User.id == user.id]
    if username:
        conditions.append(User.username == username)
    if active is not None:
        conditions.append(User.active.is_(active))
    return list(db.session.scalars(select(User).where(*conditions).options(joinedload(User.unit))
                                   .order_by(User.username)).unique())


def org(user: User) -> list[UnitRow]:
    """The whole tree (in tree order) for an administrator; for anyone else the branch down to
    their own unit: each unit of their chain, from the top."""
    if access.may_administer(user):
        return [UnitRow(unit, depth) for depth, unit in tree()]
    if user.unit is None:
        return []
    chain = list(reversed(user.unit.ancestors()))
    return [UnitRow(unit, depth) for depth, unit in enumerate(chain)]
