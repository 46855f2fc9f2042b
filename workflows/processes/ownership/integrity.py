"""What `flask audit verify` checks of client ownership: registry entries against the history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.branch.models import User
from workflows.cases.integrity import Report, new_value
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.processes.ownership.models import ClientOwnership


def registry_rows(s: Session, case_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The registry entries of a batch of cases, in one query (verify reads cases in batches): the
    columns the check compares, as plain rows (building an ORM object per entry was a third of
    verify's reading)."""
    out: dict[int, list[Any]] = {}
    for row in s.execute(select(ClientOwnership.id, ClientOwnership.instance_id, ClientOwnership.staff_id,
                                ClientOwnership.client_id_number)
                         .where(ClientOwnership.instance_id.in_(case_ids))):
        out.setdefault(row.instance_id or 0, []).append(row)
    return out


def _staff_name(s: Session, staff_id: int | None) -> str | None:
    """The owner's name, for an event written before owners were recorded by id."""
    person = s.get(User, staff_id) if staff_id is not None else None
    return person.full_name if person is not None else None


def check_registry(s: Session, inst: ProcessInstance, events: list[AuditEvent], report: Report,
                   entries: list[ClientOwnership] | None = None) -> None:
    """The registry entries a case made agree with its history (part of `flask audit verify`)."""
    if entries is None:
        entries = list(s.scalars(select(ClientOwnership).where(ClientOwnership.instance_id == inst.id)))
    rows: dict[int, Any] = {r.id: r for r in entries}
    report.registry += len(rows)
    noted: dict[int, AuditEvent] = {}
    for ev in events:
        if ev.type == "ownership_registered":
            entry = new_value((ev.changes or {}).get("registry_entry"))
            if isinstance(entry, int):
                noted[entry] = ev
    for entry_id, ev in noted.items():
        row = rows.get(entry_id)
        changes = ev.changes or {}
        if row is None:
            report.add("registry", inst.id, ev.seq, f"registry entry {entry_id}, made in event {ev.seq}, is missing")
            continue
        owner_id = new_value(changes.get("_owner_id"))
        owner_ok = row.staff_id == owner_id if owner_id is not None else \
            _staff_name(s, row.staff_id) == new_value(changes.get("owner"))
        client = new_value(changes.get("_client_id_number"))
        if not owner_ok:
            report.add("registry", inst.id, ev.seq, f"registry entry {entry_id} names staff {row.staff_id} as "
                       f"owner, but event {ev.seq} registered {owner_id or new_value(changes.get('owner'))}")
        elif client is not None and row.client_id_number != client:
            report.add("registry", inst.id, ev.seq, f"registry entry {entry_id} is for another client than "
                       f"event {ev.seq} registered")
    for entry_id in sorted(set(rows) - set(noted)):
        report.add("registry", inst.id, None, f"registry entry {entry_id} is not in the case's history")
