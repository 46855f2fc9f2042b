"""Inbox queries over the human-task projection (never the workflows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, and_, bindparam, case, func, literal_column, or_, select, true

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


OPEN = literal_column("'open'")
"""The open state written into the SQL text, not bound: the partial indexes on open rows
(``human_task.state = 'open'``) serve only a query whose text states the same constant."""


def _open():
    return HumanTask.state == OPEN


# The person's values are bound, not written into each statement: a view's statement is built once per
# server process (``_page``) and SQLAlchemy's compiled form and PostgreSQL's prepared plan reused.
UID = bindparam("inbox_uid")
ROLES = bindparam("inbox_roles", expanding=True)
SCOPES = bindparam("inbox_scopes", expanding=True)


def _params(user: User) -> dict:
    return {"inbox_uid": user.id, "inbox_roles": sorted(user.roles) or ["-"],
            "inbox_scopes": scope_unit_ids(user) or [-1]}


def _group_condition():
    """Open, unassigned, unclaimed tasks one of whose groups the user is in, and not excluded from.

    Correlated EXISTS over the open rows (the partial index ``ix_human_task_open_unowned``),
    so the cost follows the open work: each open task probes its own few candidate and
    exclusion rows by key, however many tasks the user's roles had over the years.
    """
    in_my_group = select(TaskCandidate.id).where(
        TaskCandidate.task_id == HumanTask.id, TaskCandidate.role_key.in_(ROLES),
        or_(TaskCandidate.scope_unit_id.is_(None), TaskCandidate.scope_unit_id.in_(SCOPES)))
    excluded = select(TaskExclusion.task_id).where(TaskExclusion.task_id == HumanTask.id,
                                                   TaskExclusion.user_id == UID)
    return and_(
        _open(),
        HumanTask.assigned_user_id.is_(None),
        HumanTask.claimed_by_id.is_(None),
        in_my_group.exists(),
        ~excluded.exists(),
    )


def _mine_condition():
    return and_(_open(), or_(HumanTask.assigned_user_id == UID, HumanTask.claimed_by_id == UID))


def _escalated_condition():
    return and_(_open(), HumanTask.escalated_to_id == UID)


def _where(view: str) -> list:
    if view == "done":
        return [HumanTask.state == "completed", HumanTask.completed_by_id == UID]
    if view == "groups":
        return [_group_condition()]
    if view == "escalated":
        return [_escalated_condition()]
    return [_mine_condition()]


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
    process_key: str = ""
    definition_id: int = 0
    definition_sha256: str = ""  # with definition_id: the built spec from the engine's cache, no query


def _select(view: str, conditions: list, counted: bool) -> Select:
    # both orders walk an index (done: completer, completed_at; the others: open rows by creation)
    order = (HumanTask.completed_at.desc(), HumanTask.id.desc()) if view == "done" \
        else (HumanTask.created_at, HumanTask.id)
    columns = [HumanTask.id, HumanTask.instance_id, HumanTask.spec_id, HumanTask.name, HumanTask.state,
               HumanTask.bulk, HumanTask.created_at, HumanTask.due_at, HumanTask.escalated_at,
               HumanTask.completed_at, ProcessInstance.title, ProcessDefinition.name, ProcessDefinition.version,
               User.full_name, ProcessInstance.process_key, ProcessInstance.definition_id, ProcessDefinition.sha256]
    if not counted:  # the total rides along with the page: one statement, one reading of the matching rows
        columns.append(func.count().over())
    return (
        select(*columns)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .outerjoin(User, User.id == ProcessInstance.started_by_id)  # none: started by the system
        .where(*conditions).order_by(*order)
        .limit(bindparam("inbox_limit")).offset(bindparam("inbox_offset"))
    )


@cache
def _page(view: str, counted: bool) -> Select:
    """An unfiltered view's page statement, built once."""
    return _select(view, _where(view), counted)


def tasks(user: User, f: InboxFilter, known_total: int | None = None) -> tuple[list[InboxRow], int]:
    """A page of the inbox and the number of matching tasks."""
    filtered = bool(f.process_key or f.text or f.overdue)
    counted = known_total is not None and not filtered
    view = f.view if f.view in ("mine", "groups", "escalated", "done") else "mine"
    conditions = _where(view) if filtered else []  # the unfiltered page's statement is built once
    if f.process_key:
        conditions.append(ProcessInstance.process_key == f.process_key)
    if f.text:
        like = f"%{f.text.strip()[:50]}%"
        conditions.append(or_(ProcessInstance.title.ilike(like), HumanTask.name.ilike(like)))
    if f.overdue:
        conditions += [HumanTask.due_at.is_not(None), HumanTask.due_at < now()]
    page = max(1, f.page)
    params = {**_params(user), "inbox_limit": f.per_page, "inbox_offset": (page - 1) * f.per_page}
    query = _select(view, conditions, counted) if filtered else _page(view, counted)
    found = db.session.execute(query, params).all()
    if counted:
        total = known_total
    elif found:
        total = found[0][-1]
        found = [row[:-1] for row in found]
    elif page == 1:
        total = 0
    else:  # a page past the end: count on their own
        conditions = conditions or _where(view)
        total = db.session.scalar(
            select(func.count(HumanTask.id)).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(*conditions), params) or 0
    return [InboxRow(*row) for row in found], int(total or 0)


def counts(user: User) -> dict[str, int]:
    """Open tasks per inbox view, in one statement: one aggregate per view, joined.

    Each aggregate reads only open rows through its own index (the user's own tasks, the
    open unowned queue, the open escalations) once, so the header costs the same on every
    page whatever the history. Mine and groups never share a task: overdue is their sum.
    """
    late = case((and_(HumanTask.due_at.is_not(None), HumanTask.due_at < now()), 1), else_=0)

    def tally(condition, name: str):
        return select(func.count(HumanTask.id).label("n"), func.coalesce(func.sum(late), 0).label("late")) \
            .where(condition).subquery(name)

    mine, groups = tally(_mine_condition(), "mine"), tally(_group_condition(), "groups")
    escalated = tally(_escalated_condition(), "escalated")
    row = db.session.execute(
        select(mine.c.n, groups.c.n, escalated.c.n, mine.c.late + groups.c.late)
        .select_from(mine).join(groups, true()).join(escalated, true()),  # three one-row aggregates side by side
        _params(user),
    ).one()
    return {"mine": int(row[0]), "groups": int(row[1]), "escalated": int(row[2]), "overdue": int(row[3])}
