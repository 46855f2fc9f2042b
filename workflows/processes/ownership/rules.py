"""The client registry (客户归属): conflicts, entries, and who is told what."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from workflows.branch.models import User
from workflows.branch.org import department_of
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Msg
from workflows.processes.ownership.models import ClientOwnership

PROCESS_KEY = "client_ownership"


def normalise_id(id_number: str) -> str:
    return "".join(str(id_number).split()).upper()


def find_conflict(client_id_number: str, instance: ProcessInstance) -> dict[str, Any] | None:
    """Another staff member owns the client, or has a running registration of them."""
    applicant_id = instance.subject_user_id or instance.started_by_id
    return lookup_conflict(client_id_number, applicant_id, instance)


def lookup_conflict(client_id_number: str, applicant_id: int,
                    instance: ProcessInstance | None = None) -> dict[str, Any] | None:
    """The conflict a registration by ``applicant_id`` would have; without a case (the
    start form), every running registration by someone else counts as earlier."""
    key = normalise_id(client_id_number)
    owned = db.session.scalars(
        select(ClientOwnership).where(ClientOwnership.client_id_number == key, ClientOwnership.status == "active",
                                      ClientOwnership.staff_id != applicant_id)
    ).first()
    if owned is not None:
        return {"kind": "owned", "staff_id": owned.staff_id, "staff_name": owned.staff.full_name,
                "since": owned.effective_date.isoformat(), "entry_id": owned.id}
    query = select(ProcessInstance).where(
        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.status == "running",
        ProcessInstance.business_key == key, ProcessInstance.started_by_id != applicant_id,
    )
    if instance is not None:
        query = query.where(ProcessInstance.id != instance.id, ProcessInstance.started_at <= instance.started_at)
    reserved = db.session.scalars(query.order_by(ProcessInstance.id)).first()
    if reserved is not None:
        return {"kind": "reserved", "staff_id": reserved.started_by_id, "staff_name": reserved.started_by.full_name,
                "since": reserved.started_at.date().isoformat(), "instance_id": reserved.id}
    return None


def conflict_alerts(source: Any) -> list[Any]:
    """The facts of a conflict for the person registering, confirming or deciding.

    On the start form the registry is looked up live; on a task, the conflict the
    case recorded (the one the decision is about) is described.
    """
    from workflows.cases.alerts import Alert

    if source.instance is None:
        number = source.data.get("client_id_number")
        conflict = lookup_conflict(str(number), source.applicant.id) if number else None
    else:
        conflict = source.data.get("conflict")
    if not isinstance(conflict, dict) or not conflict.get("staff_id"):
        return []
    staff = db.session.get(User, int(conflict["staff_id"]))
    name = staff.full_name if staff is not None else str(conflict.get("staff_name") or "")
    unit = _unit_path(staff)
    details: dict[str, Any] = {"kind": conflict.get("kind"), "staff_name": name, "unit": unit,
                               "since": conflict.get("since"), "registry_entry_id": None, "case_id": None}
    if conflict.get("kind") == "owned":
        entry = db.session.get(ClientOwnership, int(conflict.get("entry_id") or 0))
        if entry is not None:
            details.update(since=entry.effective_date.isoformat(), registry_entry_id=entry.id,
                           case_id=entry.instance_id)
        message = Msg("The client is already owned by %(name)s (%(unit)s) since %(date)s (registry entry "
                      "#%(entry)s).", name=name, unit=unit, date=details["since"],
                      entry=details["registry_entry_id"] or conflict.get("entry_id"))
        return [Alert("ownership_owned", message, details, details["case_id"])]
    other = db.session.get(ProcessInstance, int(conflict.get("instance_id") or 0))
    if other is not None:
        details.update(since=other.started_at.date().isoformat(), case_id=other.id)
    message = Msg("The client is already reserved by %(name)s (%(unit)s): case #%(case)s, pre-registered on "
                  "%(date)s.", name=name, unit=unit, case=details["case_id"] or conflict.get("instance_id"),
                  date=details["since"])
    return [Alert("ownership_reserved", message, details, details["case_id"])]


def _unit_path(staff: User | None) -> str:
    """'项目一部 / 工行一网点' — the staff member's department and own unit."""
    if staff is None or staff.unit is None:
        return "—"
    department = department_of(staff)
    if department is None or department.id == staff.unit.id:
        return staff.unit.name
    return f"{department.name} / {staff.unit.name}"


def register(instance: ProcessInstance, data: dict[str, Any], actor: User | None) -> ClientOwnership:
    """Enter the ownership decided by the case; a previous owner's entry is ended."""
    key = normalise_id(data.get("client_id_number", ""))
    owner_id = instance.subject_user_id or instance.started_by_id
    for previous in db.session.scalars(
        select(ClientOwnership).where(ClientOwnership.client_id_number == key, ClientOwnership.status == "active")
    ):
        previous.status = "superseded"
        previous.note = f"superseded by case #{instance.id}"
    effective = data.get("effective_date") or clock.today().isoformat()
    entry = ClientOwnership(
        client_name=data.get("client_name", ""), client_id_number=key, client_phone=data.get("client_phone"),
        account_no=data.get("account_no"), staff_id=owner_id,
        effective_date=dt.date.fromisoformat(str(effective)), institutional=bool(data.get("institutional")),
        archive_ref=data.get("archive_ref"), instance_id=instance.id,
        recorded_by_id=actor.id if actor else None,
        note=(data.get("conflict_reason") or None),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def conflict_notices(instance: ProcessInstance, data: dict[str, Any]) -> list[tuple[int, Msg]]:
    """Both staff members are told the trading manager's decision and its reason."""
    conflict = data.get("conflict") or {}
    applicant_id = instance.subject_user_id or instance.started_by_id
    other_id = conflict.get("staff_id")
    winner = "applicant" if data.get("owner_decision") == "applicant" else "existing"
    reason = data.get("conflict_reason") or ""
    client = data.get("client_name", "")
    text_win = Msg("Client ownership decided: %(client)s belongs to you. Reason: %(reason)s",
                   client=client, reason=reason)
    text_lose = Msg("Client ownership decided: %(client)s does not belong to you. Reason: %(reason)s",
                    client=client, reason=reason)
    notices = [(applicant_id, text_win if winner == "applicant" else text_lose)]
    if other_id:
        notices.append((int(other_id), text_lose if winner == "applicant" else text_win))
    return notices


def owners_by_staff() -> list[tuple[User, list[ClientOwnership]]]:
    rows = db.session.scalars(
        select(ClientOwnership).where(ClientOwnership.status == "active")
        .order_by(ClientOwnership.staff_id, ClientOwnership.effective_date)
    ).all()
    grouped: dict[int, tuple[User, list[ClientOwnership]]] = {}
    for row in rows:
        grouped.setdefault(row.staff_id, (row.staff, []))[1].append(row)
    return sorted(grouped.values(), key=lambda pair: pair[0].full_name)
