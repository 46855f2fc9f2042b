"""The client registry (客户归属): conflicts, entries, and who is told what."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from .db import db
from .errors import Msg
from .models import ClientOwnership, ProcessInstance, User

PROCESS_KEY = "client_ownership"


def normalise_id(id_number: str) -> str:
    return "".join(str(id_number).split()).upper()


def find_conflict(client_id_number: str, instance: ProcessInstance) -> dict[str, Any] | None:
    """Another staff member owns the client, or has a running registration of them."""
    key = normalise_id(client_id_number)
    applicant_id = instance.subject_user_id or instance.started_by_id
    owned = db.session.scalars(
        select(ClientOwnership).where(ClientOwnership.client_id_number == key, ClientOwnership.status == "active",
                                      ClientOwnership.staff_id != applicant_id)
    ).first()
    if owned is not None:
        return {"kind": "owned", "staff_id": owned.staff_id, "staff_name": owned.staff.full_name,
                "since": owned.effective_date.isoformat(), "entry_id": owned.id}
    reserved = db.session.scalars(
        select(ProcessInstance).where(
            ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.status == "running",
            ProcessInstance.business_key == key, ProcessInstance.id != instance.id,
            ProcessInstance.started_by_id != applicant_id, ProcessInstance.started_at <= instance.started_at,
        ).order_by(ProcessInstance.id)
    ).first()
    if reserved is not None:
        return {"kind": "reserved", "staff_id": reserved.started_by_id, "staff_name": reserved.started_by.full_name,
                "since": reserved.started_at.date().isoformat(), "instance_id": reserved.id}
    return None


def register(instance: ProcessInstance, data: dict[str, Any], actor: User | None) -> ClientOwnership:
    """Enter the ownership decided by the case; a previous owner's entry is ended."""
    key = normalise_id(data.get("client_id_number", ""))
    owner_id = instance.subject_user_id or instance.started_by_id
    for previous in db.session.scalars(
        select(ClientOwnership).where(ClientOwnership.client_id_number == key, ClientOwnership.status == "active")
    ):
        previous.status = "superseded"
        previous.note = f"superseded by case #{instance.id}"
    effective = data.get("effective_date") or dt.date.today().isoformat()
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
