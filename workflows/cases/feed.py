"""A case's history as a program reads it: who acted (by username) and to whom notices went.

Events keep the actor's name as it was (``actor_name``) and a notice's recipient as the
diagram function wrote it: a user id (``to_user_id``) or a name (``to``, ``escalated_to``).
Usernames are found here: by id, else by the notice row the same step wrote (same case,
same text or template, that person's name), each notice row answering one event only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from workflows.branch.models import User
from workflows.cases.models import AuditEvent, Notice, ProcessInstance
from workflows.db import db

# Every event type the platform writes to a case's history; families add their own
# (their ``Family.labels``, e.g. ``ownership_registered``).
EVENT_TYPES = (
    "case_started", "task_created", "task_claimed", "task_released", "task_completed", "task_cancelled",
    "engine_steps", "decision", "case_completed", "timer_fired", "timer_error", "task_escalated",
    "notice_sent", "violation_recorded", "state_sealed", "audit_sealed",
)
NOTICE_EVENTS = frozenset({"notice_sent", "task_escalated"})
ESCALATION = "Escalated: '%(task)s' of case #%(case)s is overdue."  # functions.escalate's notice


def _new(pair: Any) -> Any:
    """The new value of a recorded change ``[old, new]``."""
    return pair[1] if isinstance(pair, list) and len(pair) == 2 else None


def usernames(ids: Iterable[int | None]) -> dict[int, str]:
    """User id -> username, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {row.id: row.username for row in rows}


def notice_recipients(instance: ProcessInstance, events: list[AuditEvent]) -> dict[int, list[str]]:
    """Event seq -> the usernames its notice went to, for the notice events among ``events``."""
    notices = [ev for ev in events if ev.type in NOTICE_EVENTS]
    if not notices:
        return {}
    by_id = usernames(_new((ev.changes or {}).get("to_user_id")) for ev in notices)
    pool = list(db.session.execute(
        select(Notice.user_id, Notice.text, Notice.template, Notice.params, User.username, User.full_name)
        .join(User, User.id == Notice.user_id).where(Notice.instance_id == instance.id).order_by(Notice.id)))
    out: dict[int, list[str]] = {}
    for ev in notices:
        changes = ev.changes or {}
        user_id = _new(changes.get("to_user_id"))
        if isinstance(user_id, int) and user_id in by_id:
            out[ev.seq] = [by_id[user_id]]
            continue
        found = next((row for row in pool if _wrote(ev, changes, row)), None)
        if found is not None:
            pool.remove(found)
            out[ev.seq] = [found.username]
        else:
            out[ev.seq] = []
    return out


def _wrote(ev: AuditEvent, changes: dict[str, Any], row: Any) -> bool:
    """Whether notice ``row`` is the one the step that recorded ``ev`` wrote."""
    if ev.type == "notice_sent":
        return row.text == (ev.comment or "") and row.full_name == _new(changes.get("to"))
    return (row.template == ESCALATION and row.full_name == _new(changes.get("escalated_to"))
            and (row.params or {}).get("task") == _new(changes.get("task")))
