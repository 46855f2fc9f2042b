"""Relations of a person in the organisation tree ("the applicant's regional manager")."""

from __future__ import annotations

from sqlalchemy import select

from workflows.branch.models import OrgUnit, User, UserRole
from workflows.db import db

RELATION_UNIT_KIND = {
    "team_leader": ("team", "outlet"),
    "regional_manager": ("region",),
    "project_director": ("department",),
}
RELATIONS = frozenset(RELATION_UNIT_KIND) | {"superior"}  # what a diagram may name: "initiator.superior"


def unit_of_kind(user: User, kinds: tuple[str, ...]) -> OrgUnit | None:
    if user.unit is None:
        return None
    for unit in user.unit.ancestors():
        if unit.kind in kinds:
            return unit
    return None


def department_of(user: User) -> OrgUnit | None:
    return unit_of_kind(user, ("department",))


def _leader_above(user: User, kinds: tuple[str, ...]) -> User | None:
    """Leader of the nearest unit of these kinds that someone other than the user leads."""
    if user.unit is None:
        return None
    for unit in user.unit.ancestors():
        if unit.kind in kinds and unit.leader_id and unit.leader_id != user.id:
            return unit.leader
    return None


def gm() -> User | None:
    return db.session.scalars(
        select(User).join(UserRole).where(UserRole.role_key == "gm", User.active.is_(True)).order_by(User.id)
    ).first()


def relation(user: User, name: str) -> User | None:
    """The person in relation ``name`` to ``user``; 'superior' walks up the chain."""
    if name in RELATION_UNIT_KIND:
        return _leader_above(user, RELATION_UNIT_KIND[name])
    if name == "superior":
        for step in ("team_leader", "regional_manager", "project_director"):
            found = relation(user, step)
            if found is not None:
                return found
        boss = gm()
        return boss if boss is not None and boss.id != user.id else None
    raise ValueError(f"unknown relation {name}")


def scope_unit_ids(user: User) -> list[int]:
    """Units whose scoped group tasks this user may see: their unit and those above it."""
    return [u.id for u in user.unit.ancestors()] if user.unit is not None else []


def is_manager_of(manager: User, person: User) -> bool:
    """True when ``manager`` leads a unit that ``person`` belongs to (directly or below)."""
    if person.unit is None:
        return False
    return any(u.leader_id == manager.id for u in person.unit.ancestors())
