"""What the client registry page and its API show, to whom."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from workflows.branch.models import User, Violation
from workflows.cases import access
from workflows.db import db
from workflows.processes.ownership import access as registry_access
from workflows.processes.ownership.models import ClientOwnership
from workflows.processes.ownership.rules import normalise_id, owners_by_staff


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


@dataclass
class RegistryEntry:
    """An entry as the registry API answers it: who owned the client from when, and (for the
    registry's readers) the owners before, whose entries this one superseded."""

    entry: ClientOwnership
    previous: list[ClientOwnership] | None  # oldest first; None: not shown to this reader


@dataclass
class RegistryPage:
    entries: list[RegistryEntry]
    total: int
    whole: bool  # the reader sees ID numbers whole (an auditor; the look is logged)


def registry_entries(user: User, *, staff: str | None = None, client_id_number: str | None = None,
                     include_superseded: bool = False, page: int = 1, per_page: int = 50, ip: str | None = None,
                     path: str = "/api/v1/registry") -> RegistryPage:
    """The registry under the page's rules: its readers see every entry and each client's earlier
    owners; a staff member sees only their own entries; anyone else is refused (logged).
    A page of entries by client ID number, and how many match in all.

    ``client_id_number`` matches the whole normalised number only (never a part of it)."""
    reader = registry_access.may_read_registry(user)
    if not reader and not registry_access.may_open_registry(user):
        access.refuse(user, path, "you may not see the client registry", ip=ip)
    conditions = [] if include_superseded else [ClientOwnership.status == "active"]
    if not reader:
        conditions.append(ClientOwnership.staff_id == user.id)
    if staff:
        conditions.append(ClientOwnership.staff.has(User.username == staff))
    if client_id_number:
        conditions.append(ClientOwnership.client_id_number == normalise_id(client_id_number))
    total = db.session.scalar(select(func.count(ClientOwnership.id)).where(*conditions)) or 0
    whole = access.sees_whole_records(user)
    if whole and total:  # logged before reading: the log entry commits
        access.log_event("record_viewed", user=user, ip=ip, detail=f"registry viewed whole: page {page} of "
                         f"{total} entr(y/ies) (staff={staff or '*'}, client={'given' if client_id_number else '*'})")
    rows = list(db.session.scalars(select(ClientOwnership).where(*conditions)
                                   .options(joinedload(ClientOwnership.staff))
                                   .order_by(ClientOwnership.client_id_number, ClientOwnership.id)
                                   .limit(per_page).offset((max(1, page) - 1) * per_page)))
    if not reader:
        return RegistryPage([RegistryEntry(row, None) for row in rows], int(total), whole)
    numbers = {row.client_id_number for row in rows}
    earlier: dict[str, list[ClientOwnership]] = {n: [] for n in numbers}
    if numbers:
        for row in db.session.scalars(select(ClientOwnership).where(
                ClientOwnership.client_id_number.in_(numbers), ClientOwnership.status != "active")
                .options(joinedload(ClientOwnership.staff)).order_by(ClientOwnership.id)):
            earlier[row.client_id_number].append(row)
    entries = [RegistryEntry(row, [e for e in earlier[row.client_id_number] if e.id < row.id]) for row in rows]
    return RegistryPage(entries, int(total), whole)
