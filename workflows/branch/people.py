"""Administration of users, roles and the organisation tree."""

from __future__ import annotations

import re

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from workflows.branch import accounts
from workflows.branch.models import UNIT_KINDS, OrgUnit, User, UserRole
from workflows.branch.roles import ROLE_KEYS
from workflows.cases import access, audit
from workflows.cases.forms import CONTROL_CHARACTERS, REQUIRED, has_control_characters
from workflows.db import db
from workflows.errors import Invalid, Msg, NotFound

PARENT_KIND = {"department": "branch", "region": "department", "outlet": "region", "team": "outlet"}


SEPARATE_DUTIES = ("admin", "auditor")


def save_user(user: User | None, *, username: str, full_name: str, roles: list[str], unit_id: int | None,
              active: bool, password: str | None, actor: User | None, ip: str | None = None) -> User:
    """Create or edit a user. ``actor`` is who does it (None: an operator's command); nobody
    changes their own roles, and every change of roles is written to the security log."""
    old_roles = sorted(user.roles) if user is not None else []
    new_roles = sorted(set(roles))
    if actor is not None and user is not None and actor.id == user.id and new_roles != old_roles:
        access.refuse(actor, f"change own roles: {_roles(old_roles)} -> {_roles(new_roles)}",
                      "nobody may change their own roles; ask another administrator", ip=ip, code="own_roles")
    errors: dict[str, str] = {}
    username = (username or "").strip()
    full_name = (full_name or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{2,60}", username):
        errors["username"] = Msg("2-60 letters, digits, dots, dashes or underscores", code="pattern")
    elif db.session.scalars(select(User).where(User.username == username,
                                               User.id != (user.id if user else -1))).first():
        errors["username"] = Msg("this username is taken", code="taken")
    if not full_name:
        errors["full_name"] = REQUIRED
    elif len(full_name) > 100:
        errors["full_name"] = _too_long(100)
    elif has_control_characters(full_name):
        errors["full_name"] = CONTROL_CHARACTERS
    unknown = [r for r in roles if r not in ROLE_KEYS]
    if unknown:
        errors["roles"] = Msg("unknown role", code="not_an_option")
    elif all(r in new_roles for r in SEPARATE_DUTIES):
        errors["roles"] = Msg("administrator and auditor are separate duties; give them to two people",
                              code="separate_duties")
    if unit_id is not None and db.session.get(OrgUnit, unit_id) is None:
        errors["unit_id"] = Msg("unknown unit", code="not_found")
    if user is None and not password:
        errors["password"] = REQUIRED
    if password and (problem := password_problem(password)):
        errors["password"] = problem
    if errors:
        raise Invalid("please correct the highlighted fields", errors)
    if user is None:
        user = User(username=username, full_name=full_name, password_hash="")
        db.session.add(user)
    user.username, user.full_name, user.unit_id, user.active = username, full_name, unit_id, active
    if password:
        user.password_hash = accounts.hash_password(password)
    if new_roles != old_roles:
        user.role_rows = [UserRole(role_key=r) for r in new_roles]
        db.session.flush()  # the new user's id, for the log
        granted, revoked = sorted(set(new_roles) - set(old_roles)), sorted(set(old_roles) - set(new_roles))
        audit.security("roles_changed", user=actor, username=None if actor else "system", ip=ip,
                       detail=f"user {user.username} (#{user.id}): {_roles(old_roles)} -> {_roles(new_roles)}; "
                              f"granted {_roles(granted)}, revoked {_roles(revoked)}")
    db.session.commit()
    return user


def password_problem(password: str) -> str | None:
    """What is wrong with a new password (the same rule for the admin page and the CLI), or None."""
    if len(password) < 8:
        return Msg("at least %(n)s characters", code="too_short", n=8)
    if has_control_characters(password):
        return CONTROL_CHARACTERS
    return None


def set_password(username: str, password: str) -> User:
    """An operator's command: a new password for ``username``, under the same rule as the admin page."""
    user = by_username(username)
    problem = password_problem(password or "")
    if problem:
        raise Invalid("please correct the highlighted fields", {"password": problem})
    user.password_hash = accounts.hash_password(password)
    db.session.commit()
    return user


def by_username(username: str) -> User:
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("no such user")
    return user


def signed_in(user_id: str) -> User | None:
    """The active user a session's id stands for (Flask-Login's loader), or None."""
    try:
        key = int(user_id)
    except (TypeError, ValueError):
        return None
    user = db.session.scalars(_SIGNED_IN, {"signed_in_id": key}).unique().first()
    return user if user is not None and user.active else None


# With the roles and the unit in the same statement: every request asks for both (the inbox counts, the
# navigation), and each lazy load is one more round trip to PostgreSQL. Built once: every request runs it.
_SIGNED_IN = select(User).where(User.id == bindparam("signed_in_id")) \
    .options(joinedload(User.role_rows), joinedload(User.unit))


def set_locale(user: User, code: str) -> None:
    """Remember the language ``user`` chose (the caller checked it is one the app speaks)."""
    user.locale = code
    db.session.commit()


def users(order: str = "username") -> list[User]:
    """Every user, by username or by full name."""
    column = User.full_name if order == "full_name" else User.username
    return list(db.session.scalars(select(User).order_by(column)))


def _too_long(limit: int) -> Msg:
    return Msg("at most %(n)s characters", code="too_long", n=limit)


def _roles(keys: list[str]) -> str:
    return "[" + ", ".join(keys) + "]"


def save_unit(unit: OrgUnit | None, *, kind: str, name: str, parent_id: int | None,
              leader_id: int | None) -> OrgUnit:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if kind not in UNIT_KINDS:
        errors["kind"] = Msg("unknown kind", code="not_an_option")
    if not name:
        errors["name"] = REQUIRED
    elif len(name) > 100:
        errors["name"] = _too_long(100)
    elif has_control_characters(name):
        errors["name"] = CONTROL_CHARACTERS
    parent = db.session.get(OrgUnit, parent_id) if parent_id else None
    if kind != "branch":
        if parent is None:
            errors["parent_id"] = REQUIRED
        elif parent.kind != PARENT_KIND.get(kind) and not (kind == "team" and parent.kind in ("outlet", "region")):
            errors["parent_id"] = Msg("a unit of this kind cannot sit under that parent", code="wrong_parent")
        elif unit is not None and any(a.id == unit.id for a in parent.ancestors()):
            errors["parent_id"] = Msg("a unit cannot sit under itself", code="wrong_parent")
    if kind == "department" and parent is not None and unit is None:
        if len([c for c in parent.children if c.kind == "department"]) >= 10:
            errors["parent_id"] = Msg("too many departments", code="too_many")
    if leader_id is not None and db.session.get(User, leader_id) is None:
        errors["leader_id"] = Msg("unknown user", code="not_found")
    if errors:
        raise Invalid("please correct the highlighted fields", errors)
    if unit is None:
        unit = OrgUnit(kind=kind, name=name)
        db.session.add(unit)
    unit.kind, unit.name, unit.parent_id, unit.leader_id = kind, name, parent.id if parent else None, leader_id
    db.session.commit()
    return unit


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def get_unit(unit_id: int) -> OrgUnit:
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound("no such unit")
    return unit


def tree() -> list[tuple[int, OrgUnit]]:
    """Units in tree order with their depth."""
    roots = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id)).all()
    out: list[tuple[int, OrgUnit]] = []

    def walk(unit: OrgUnit, depth: int) -> None:
        out.append((depth, unit))
        for child in unit.children:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return out
