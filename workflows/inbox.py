"""Inbox queries over the human-task projection (never the workflows)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import Select

from .clock import now
from .db import db
from .models import HumanTask, ProcessInstance, TaskCandidate, TaskExclusion, User
from .org import scope_unit_ids


@dataclass
class InboxFilter:
    view: str = "mine"  # mine | groups | escalated | done
    process_key: str | None = None
    overdue: bool = False
    text: str | None = None
    page: int = 1
    per_page: int = 50


def _group_condition(user: User):  # type: ignore[no-untyped-def]
    roles = list(user.roles) or ["-"]
    scopes = scope_unit_ids(user) or [-1]
    return and_(
        HumanTask.assigned_user_id.is_(None),
        HumanTask.claimed_by_id.is_(None),
        exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.role_key.in_(roles),
                       or_(TaskCandidate.scope_unit_id.is_(None), TaskCandidate.scope_unit_id.in_(scopes))),
        ~exists().where(TaskExclusion.task_id == HumanTask.id, TaskExclusion.user_id == user.id),
    )


def _mine_condition(user: User):  # type: ignore[no-untyped-def]
    return or_(HumanTask.assigned_user_id == user.id, HumanTask.claimed_by_id == user.id)


def _base(user: User, view: str) -> Select:
    query = select(HumanTask)
    if view == "done":
        return query.where(HumanTask.state == "completed", HumanTask.completed_by_id == user.id)
    query = query.where(HumanTask.state == "open")
    if view == "groups":
        return query.where(_group_condition(user))
    if view == "escalated":
        return query.where(HumanTask.escalated_to_id == user.id)
    return query.where(_mine_condition(user))


def tasks(user: User, f: InboxFilter) -> tuple[list[HumanTask], int]:
    query = _base(user, f.view)
    if f.process_key or f.text:
        query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        if f.process_key:
            query = query.where(ProcessInstance.process_key == f.process_key)
        if f.text:
            like = f"%{f.text.strip()[:50]}%"
            query = query.where(or_(ProcessInstance.title.ilike(like), HumanTask.name.ilike(like)))
    if f.overdue:
        query = query.where(HumanTask.due_at.is_not(None), HumanTask.due_at < now())
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    order = HumanTask.completed_at.desc() if f.view == "done" else HumanTask.created_at
    page = max(1, f.page)
    eager = (selectinload(HumanTask.instance).selectinload(ProcessInstance.started_by),
             selectinload(HumanTask.instance).selectinload(ProcessInstance.definition))
    rows = db.session.scalars(query.options(*eager).order_by(order, HumanTask.id)
                              .limit(f.per_page).offset((page - 1) * f.per_page))
    return list(rows), int(total)


def counts(user: User) -> dict[str, int]:
    """Open tasks per inbox view, in one round trip."""

    def count(cond) -> int:  # type: ignore[no-untyped-def]
        return int(db.session.scalar(select(func.count(HumanTask.id)).where(HumanTask.state == "open", cond)) or 0)

    return {
        "mine": count(_mine_condition(user)),
        "groups": count(_group_condition(user)),
        "escalated": count(HumanTask.escalated_to_id == user.id),
        "overdue": count(and_(or_(_mine_condition(user), _group_condition(user)),
                              HumanTask.due_at.is_not(None), HumanTask.due_at < now())),
    }
