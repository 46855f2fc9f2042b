"""What the client registry page shows, to whom."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from workflows.branch.models import User, Violation
from workflows.cases import access
from workflows.db import db
from workflows.processes.ownership import access as registry_access
from workflows.processes.ownership.models import ClientOwnership
from workflows.processes.ownership.rules import owners_by_staff


@dataclass
class RegistryView:
    groups: list[tuple[User, list[ClientOwnership]]]
    violations: list[Violation] = field(default_factory=list)


def registry_for(user: User, ip: str | None = None, path: str = "/registry") -> RegistryView:
    """The whole registry and its violations for its readers (``registry_access.may_read_registry``);
    a staff member sees their own clients only; anyone else is refused (logged)."""
    groups = owners_by_staff()
    if registry_access.may_read_registry(user):
        violations = list(db.session.scalars(select(Violation).order_by(Violation.id.desc()).limit(100)))
        return RegistryView(groups, violations)
    own = [(staff, rows) for staff, rows in groups if staff.id == user.id]
    if not own and not registry_access.may_open_registry(user):
        access.refuse(user, path, "you may not see the client registry", ip=ip)
    return RegistryView(own)
