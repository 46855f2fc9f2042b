"""The append-only, hash-chained case history, and its verification.

Each event's hash covers its content and the previous event's hash; the
instance row keeps the head (sequence and hash), so an edited, deleted or
inserted row breaks the chain and ``flask audit verify`` names it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .clock import now
from .db import db
from .models import AuditEvent, ProcessInstance, SecurityEvent, User

GENESIS = "0" * 64


def _digest(fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hash_fields(ev: AuditEvent) -> dict[str, Any]:
    return {
        "instance_id": ev.instance_id, "seq": ev.seq, "at": ev.at.isoformat(timespec="microseconds"),
        "actor_id": ev.actor_id, "actor_name": ev.actor_name, "type": ev.type,
        "task_spec": ev.task_spec, "task_name": ev.task_name, "human_task_id": ev.human_task_id,
        "changes": ev.changes or {}, "comment": ev.comment, "via": ev.via, "prev_hash": ev.prev_hash,
    }


def record(
    instance: ProcessInstance,
    type_: str,
    actor: User | None,
    *,
    task_spec: str | None = None,
    task_name: str | None = None,
    human_task_id: int | None = None,
    changes: dict[str, Any] | None = None,
    comment: str | None = None,
    via: str = "web",
) -> AuditEvent:
    """Append one event to the instance's chain (in the caller's transaction)."""
    seq = (instance.audit_seq or 0) + 1
    ev = AuditEvent(
        instance_id=instance.id, seq=seq, at=now(), actor_id=actor.id if actor else None,
        actor_name=actor.full_name if actor else "system", type=type_, task_spec=task_spec,
        task_name=task_name, human_task_id=human_task_id, changes=_jsonable(changes or {}),
        comment=comment, via=via, prev_hash=instance.audit_hash or GENESIS,
    )
    ev.hash = _digest(_hash_fields(ev))
    instance.audit_seq = seq
    instance.audit_hash = ev.hash
    db.session.add(ev)
    return ev


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def diff(before: dict[str, Any], after: dict[str, Any], keys: set[str] | None = None) -> dict[str, list[Any]]:
    """Top-level fields whose value changed: {field: [old, new]}."""
    names = keys if keys is not None else set(before) | set(after)
    out: dict[str, list[Any]] = {}
    for key in sorted(names):
        if key.startswith("_"):
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = [old, new]
    return out


@dataclass
class VerifyProblem:
    instance_id: int
    seq: int | None
    message: str


def verify(instance_id: int | None = None) -> list[VerifyProblem]:
    """Walk every chain; report the first broken event of each instance."""
    problems: list[VerifyProblem] = []
    query = select(ProcessInstance).order_by(ProcessInstance.id)
    if instance_id is not None:
        query = query.where(ProcessInstance.id == instance_id)
    for inst in db.session.scalars(query):
        problem = _verify_instance(inst)
        if problem is not None:
            problems.append(problem)
    return problems


def _verify_instance(inst: ProcessInstance) -> VerifyProblem | None:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == inst.id).order_by(AuditEvent.seq)
    ).all()
    prev = GENESIS
    expected_seq = 1
    for ev in events:
        if ev.seq != expected_seq:
            return VerifyProblem(inst.id, expected_seq, f"event {expected_seq} is missing")
        if ev.prev_hash != prev:
            return VerifyProblem(inst.id, ev.seq, f"event {ev.seq} does not follow event {ev.seq - 1}")
        if _digest(_hash_fields(ev)) != ev.hash:
            return VerifyProblem(inst.id, ev.seq, f"event {ev.seq} ({ev.type}) was altered")
        prev = ev.hash
        expected_seq += 1
    if (inst.audit_seq or 0) != len(events):
        return VerifyProblem(inst.id, len(events) + 1, f"event {len(events) + 1} is missing (history ends early)")
    if (inst.audit_hash or GENESIS) != prev:
        return VerifyProblem(inst.id, len(events), "the last event does not match the case's recorded head")
    return None


def security(kind: str, *, user: User | None = None, username: str | None = None, ip: str | None = None,
             detail: str | None = None) -> SecurityEvent:
    """Append to the security log (logins, refused actions)."""
    ev = SecurityEvent(kind=kind, user_id=user.id if user else None,
                       username=username or (user.username if user else None), ip=ip, detail=detail, at=now())
    db.session.add(ev)
    return ev
