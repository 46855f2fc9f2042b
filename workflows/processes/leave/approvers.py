"""Who approves a leave request (第二十八条第5款): the requester's regional manager, else their
direct superior; then the branch (the GM, or the person the administrator names).

Computed into the case's data when the request is submitted (and again after a correction), so
each approval step is assigned to one named person and the history says who and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from workflows.branch import settings
from workflows.branch.models import User
from workflows.branch.org import gm, relation
from workflows.branch.settings import Setting
from workflows.db import db
from workflows.errors import Msg

BRANCH_APPROVER = "leave.branch_approver"

SETTINGS = (
    Setting(BRANCH_APPROVER, default="", type="string", label=Msg("Branch leave approver (username)"),
            help=Msg("Gives the branch's approval of leave requests instead of the GM. A username that no "
                     "active user has (or the GM's) means the GM.")),
)


@dataclass(frozen=True)
class Route:
    first: User | None  # None: nobody above the requester in the branch (the GM)
    branch: User | None  # None: the first approver's approval is the branch's (the GM approved first)


def _usable(person: User | None, requester: User) -> bool:
    return person is not None and person.active and person.id != requester.id


def first_approver(requester: User) -> User | None:
    """The regional manager; without one, the direct superior: station manager → regional
    manager → project director → GM. Never the requester; inactive leaders are passed over."""
    chain = [relation(requester, "regional_manager"), relation(requester, "team_leader"),
             relation(requester, "project_director"), gm()]
    return next((p for p in chain if _usable(p, requester)), None)


def named_approver() -> User | None:
    """The branch leave approver the administrator named, if that username is an active user."""
    username = str(settings.get(BRANCH_APPROVER) or "").strip()
    if not username:
        return None
    return db.session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()


def branch_approver(requester: User, first: User | None) -> User | None:
    """The named approver, else the GM; never the requester nor the first approver. When the
    first approver is the GM and nobody else is named, the GM's approval is the branch's: None."""
    boss = gm()
    named = named_approver()
    for person in (named, boss) if named is not None else (boss,):
        if _usable(person, requester) and (first is None or person.id != first.id):
            return person
    return None


def route(requester: User) -> Route:
    first = first_approver(requester)
    return Route(first, branch_approver(requester, first))
