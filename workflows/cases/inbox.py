"""Inbox queries over the human-task projection (never the workflows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select

from workflows.branch.models import User
from workflows.branch.org import scope_unit_ids
from workflows.cases.models import HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate, TaskExclusion
from workflows.db import db
from workflows.engine.clock import now


@dataclass
class InboxFilter:
    view: str = "mine"  # mine | groups | escalated | done
    process_key: str | None = None
    overdue: bool = False
    text: str | None = None
    page: int = 1
    per_page: int = 50


def _group_condition(user: User):
    """Unassigned, unclaimed tasks one of whose groups the user is in, and not excluded from.

    Written as IN (subquery) rather than correlated EXISTS so the database builds
    each set once instead of probing it per task row.
    """
    roles = list(user.roles) or ["-"]
    scopes = scope_unit_ids(user) or [-1]
    mine_by_group = select(TaskCandidate.task_id).where(
        TaskCandidate.role_key.in_(roles),
        or_(TaskCandidate.scope_unit_id.is_(None), TaskCandidate.scope_unit_id.in_(scopes)))
    excluded = select(TaskExclusion.task_id).where(TaskExclusion.user_id == user.id)
    return and_(
        HumanTask.assigned_user_id.is_(None),
        HumanTask.claimed_by_id.is_(None),
        HumanTask.id.in_(mine_by_group),
        HumanTask.id.not_in(excluded),
    )


def _mine_condition(user: User):
    return or_(HumanTask.assigned_user_id == user.id, HumanTask.claimed_by_id == user.id)


def _where(user: User, view: str) -> list:
    if view == "done":
        return [HumanTask.state == "completed", HumanTask.completed_by_id == user.id]
    conditions = [HumanTask.state == "open"]
    if view == "groups":
        return [*conditions, _group_condition(user)]
    if view == "escalated":
        return [*conditions, HumanTask.escalated_to_id == user.id]
    return [*conditions, _mine_condition(user)]


@dataclass
class InboxRow:
    """One line of the inbox: flat values, read in one query with no ORM objects."""

    id: int
    instance_id: int
    spec_id: str
    name: str
    state: str
    bulk: bool
    created_at: dt.datetime
    due_at: dt.datetime | None
    escalated_at: dt.datetime | None
    completed_at: dt.datetime | None
    case_title: str
    process_name: str
    process_version: int
    started_by: str | None  # None: the system started the case


def tasks(user: User, f: InboxFilter, known_total: int | None = None) -> tuple[list[InboxRow], int]:
    """A page of the inbox and the number of matching tasks."""
    conditions = _where(user, f.view)
    filtered = bool(f.process_key or f.text or f.overdue)
    if f.process_key:
        conditions.append(ProcessInstance.process_key == f.process_key)
    if f.text:
        like = f"%{f.text.strip()[:50]}%"
        conditions.append(or_(ProcessInstance.title.ilike(like), HumanTask.name.ilike(like)))
    if f.overdue:
        conditions += [HumanTask.due_at.is_not(None), HumanTask.due_at < now()]
    if known_total is not None and not filtered:
        total = known_total
    else:
        total = db.session.scalar(
            select(func.count(HumanTask.id)).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(*conditions)) or 0
    order = HumanTask.completed_at.desc() if f.view == "done" else HumanTask.created_at
    page = max(1, f.page)
    query = (
        select(HumanTask.id, HumanTask.instance_id, HumanTask.spec_id, HumanTask.name, HumanTask.state,
               HumanTask.bulk, HumanTask.created_at, HumanTask.due_at, HumanTask.escalated_at,
               HumanTask.completed_at, ProcessInstance.title, ProcessDefinition.name, ProcessDefinition.version,
               User.full_name)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .outerjoin(User, User.id == ProcessInstance.started_by_id)  # none: started by the system
        .where(*conditions).order_by(order, HumanTask.id).limit(f.per_page).offset((page - 1) * f.per_page)
    )
    return [InboxRow(*row) for row in db.session.execute(query)], int(total)


def counts(user: User) -> dict[str, int]:
    """Open tasks per inbox view, in one scan of the open tasks."""
    mine, groups = _mine_condition(user), _group_condition(user)
    overdue = and_(or_(mine, groups), HumanTask.due_at.is_not(None), HumanTask.due_at < now())

    def tally(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    row = db.session.execute(
        select(tally(mine), tally(groups), tally(HumanTask.escalated_to_id == user.id), tally(overdue))
        .where(HumanTask.state == "open")
    ).one()
    return {"mine": int(row[0]), "groups": int(row[1]), "escalated": int(row[2]), "overdue": int(row[3])}
