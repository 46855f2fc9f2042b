"""Who may read whose attendance, and who records an absence: the family's one rule, used by
its pages, its API and its navigation. A refusal is logged (``workflows.cases.access.refuse``)."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import select

from workflows.branch.models import OrgUnit, User
from workflows.branch.org import is_manager_of, relation
from workflows.cases import access
from workflows.db import db

READ_ALL = ("office", "gm", "auditor")  # HR keeps the ledger, the GM runs the branch, auditors read everything
RECORD_ANY = ("office",)  # HR records an absence for anyone (never their own)


def reads_everyone(user: User) -> bool:
    return user.has_role(*READ_ALL)


def may_see_person(viewer: User, person: User) -> bool:
    """The person themselves, their managers up the chain, the office, the GM, auditors."""
    return viewer.id == person.id or reads_everyone(viewer) or is_manager_of(viewer, person)


def may_see_unit(viewer: User, unit: OrgUnit) -> bool:
    """A team ledger: the unit is led by the viewer or lies below one they lead (or they read everyone)."""
    return reads_everyone(viewer) or any(u.leader_id == viewer.id for u in unit.ancestors())


def may_open_ledger(viewer: User) -> bool:
    """Everyone has a ledger of their own (the navigation shows it to every signed-in person)."""
    return viewer.id is not None


def visible_units(viewer: User) -> list[OrgUnit]:
    """The units whose team ledger the viewer may open, in tree order (parents before children)."""
    units = list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
    if reads_everyone(viewer):
        chosen = units
    else:
        chosen = [u for u in units if any(a.leader_id == viewer.id for a in u.ancestors())]
    return _tree_order(chosen)


def _tree_order(units: list[OrgUnit]) -> list[OrgUnit]:
    ids = {u.id for u in units}
    children: dict[int | None, list[OrgUnit]] = {}
    for u in units:
        children.setdefault(u.parent_id if u.parent_id in ids else None, []).append(u)
    out: list[OrgUnit] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(children.get(node.id, [])))
    return out


def first_approver(person: User) -> User | None:
    """The leave chain's first step: the regional manager, or the direct superior where there is none."""
    return relation(person, "regional_manager") or relation(person, "superior")


def may_record_absence(recorder: User, person: User) -> bool:
    """The person's regional manager (else their direct superior) or the office; never oneself."""
    if recorder.id == person.id:
        return False
    if recorder.has_role(*RECORD_ANY):
        return True
    boss = first_approver(person)
    return boss is not None and boss.id == recorder.id


def may_record_some(recorder: User) -> bool:
    """Whether the absence form is worth showing: the office, or someone who leads a unit."""
    if recorder.has_role(*RECORD_ANY):
        return True
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.leader_id == recorder.id).limit(1)) is not None


def may_cancel_absence(user: User) -> bool:
    """Withdrawing an absence recorded in error is HR's (the office), with a reason."""
    return user.has_role(*RECORD_ANY)


def refuse_person(viewer: User, person_username: str, path: str, ip: str | None) -> NoReturn:
    access.refuse(viewer, f"{path} (attendance of {person_username[:60]})",
                  "you may not see this person's attendance", ip=ip)


def refuse_unit(viewer: User, unit_id: int, path: str, ip: str | None) -> NoReturn:
    access.refuse(viewer, f"{path} (attendance of unit {unit_id})", "you may not see this team's attendance", ip=ip)
