"""Finding cases: the auditor's search (its page and CSV export) and the API's case list, which
shows each person the cases they may see, with exact filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload, undefer

from workflows.branch.models import User
from workflows.branch.org import scope_unit_ids
from workflows.cases import access, reading
from workflows.cases.models import HumanTask, ProcessInstance, TaskCandidate, TaskExclusion
from workflows.db import db
from workflows.engine.clock import day_start


@dataclass(frozen=True)
class CaseFilter:
    """What the search form asks for; empty fields do not filter."""

    process: str | None = None
    status: str | None = None
    outcome: str | None = None
    person: str | None = None  # part of the starter's name or username
    client: str | None = None  # part of the case title or business key
    start: dt.datetime | None = None  # started on or after
    end: dt.datetime | None = None  # started on or before this day

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseFilter:
        """From the search form's fields, cut to the columns' sizes; a malformed date does not filter."""
        return cls(process=(args.get("process") or "")[:80] or None, status=(args.get("status") or "")[:20] or None,
                   outcome=(args.get("outcome") or "")[:40] or None, person=(args.get("person") or "")[:50] or None,
                   client=(args.get("client") or "")[:50] or None, start=_date(args.get("from")),
                   end=_date(args.get("to")))


def _date(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def search_cases(f: CaseFilter, limit: int) -> list[ProcessInstance]:
    """Cases matching the filter, newest first (the caller checked the right: ``access.AUDIT``)."""
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc())
    if f.process:
        query = query.where(ProcessInstance.process_key == f.process)
    if f.status:
        query = query.where(ProcessInstance.status == f.status)
    if f.outcome:
        query = query.where(ProcessInstance.outcome == f.outcome)
    if f.person:
        like = f"%{f.person}%"
        people = select(User.id).where(or_(User.full_name.ilike(like), User.username.ilike(like)))
        query = query.where(ProcessInstance.started_by_id.in_(people))
    if f.client:
        like = f"%{f.client}%"
        query = query.where(or_(ProcessInstance.title.ilike(like), ProcessInstance.business_key.ilike(like)))
    if f.start is not None:
        query = query.where(ProcessInstance.started_at >= f.start)
    if f.end is not None:
        query = query.where(ProcessInstance.started_at < f.end + dt.timedelta(days=1))
    return list(db.session.scalars(query.limit(limit)))


def note_export(user: User, count: int, query: str, ip: str | None = None) -> None:
    """Exports leave the system: each is written to the security log (committed)."""
    access.log_event("export", user=user, ip=ip, detail=f"{count} case(s): {query[:300]}")


# --- the case list of the API: every case a person may see, filtered, sorted, paged ----------

SORTS = ("started_at", "-started_at", "ended_at", "-ended_at", "id", "-id")


@dataclass(frozen=True)
class CaseQuery:
    """Exact filters of the case list; None does not filter. Days are branch calendar days."""

    process: str | None = None
    status: str | None = None
    outcome: str | None = None
    started_by: str | None = None  # username
    subject: str | None = None  # username of the person the case concerns
    business_key: str | None = None  # the client's ID number, matched whole after normalising
    started_from: dt.date | None = None
    started_to: dt.date | None = None  # inclusive
    ended_from: dt.date | None = None
    ended_to: dt.date | None = None  # inclusive
    sort: str = "-started_at"
    page: int = 1
    per_page: int = 50


def normalise_key(value: str) -> str:
    """A business key as ``commands`` stores it: no whitespace, upper case."""
    return "".join(value.split()).upper()[:120]


def may_list_cases(user: User) -> bool:
    """Auditors see every case; anyone with a business role their own. A pure administrator has
    no right to any case, so has no list either (least privilege, SPEC §1)."""
    return access.may_audit(user) or access.works_cases(user)


def visible_to(user: User) -> ColumnElement[bool]:
    """The cases ``user`` takes part in, as ``access.is_participant`` decides for one case:
    started, concerned, a task they hold, held, completed or were escalated, or an open task of
    their candidate groups they are not excluded from. Correlated EXISTS: the database probes a
    case's own tasks (by index) instead of collecting every task a person ever touched."""
    task = aliased(HumanTask)
    worked = exists().where(task.instance_id == ProcessInstance.id,
                            or_(task.assigned_user_id == user.id, task.claimed_by_id == user.id,
                                task.completed_by_id == user.id, task.escalated_to_id == user.id))
    conditions = [ProcessInstance.started_by_id == user.id, ProcessInstance.subject_user_id == user.id, worked]
    roles = sorted(user.roles)
    if roles:
        open_task, candidate, exclusion = aliased(HumanTask), aliased(TaskCandidate), aliased(TaskExclusion)
        scopes = scope_unit_ids(user) or [-1]
        conditions.append(exists().where(
            open_task.instance_id == ProcessInstance.id, open_task.state == "open",
            candidate.task_id == open_task.id, candidate.role_key.in_(roles),
            or_(candidate.scope_unit_id.is_(None), candidate.scope_unit_id.in_(scopes)),
            ~exists().where(exclusion.task_id == open_task.id, exclusion.user_id == user.id)))
    return or_(*conditions)


def _user_id(username: str) -> int:
    """The id of ``username``; -1 (nobody's) for an unknown name, so the filter finds nothing."""
    found = db.session.scalar(select(User.id).where(User.username == username))
    return found if found is not None else -1


def list_cases(user: User, q: CaseQuery, ip: str | None = None) -> tuple[list[ProcessInstance], int]:
    """A page of the cases ``user`` may see that match ``q``, and how many match in all.

    Every case returned passes ``access.may_view_case``; an auditor's list is every case.
    A pure administrator is refused (logged)."""
    if not may_list_cases(user):
        access.refuse(user, "list cases", "the administrator role gives no access to cases", ip=ip)
    conditions: list[ColumnElement[bool]] = []
    if not access.may_audit(user):
        conditions.append(visible_to(user))
    if q.process:
        conditions.append(ProcessInstance.process_key == q.process)
    if q.status:
        conditions.append(ProcessInstance.status == q.status)
    if q.outcome:
        conditions.append(ProcessInstance.outcome == q.outcome)
    if q.started_by:
        conditions.append(ProcessInstance.started_by_id == _user_id(q.started_by))
    if q.subject:
        conditions.append(ProcessInstance.subject_user_id == _user_id(q.subject))
    if q.business_key:
        conditions.append(ProcessInstance.business_key == normalise_key(q.business_key))
    conditions += _day_range(ProcessInstance.started_at, q.started_from, q.started_to)
    conditions += _day_range(ProcessInstance.ended_at, q.ended_from, q.ended_to)
    total = db.session.scalar(select(func.count(ProcessInstance.id)).where(*conditions)) or 0
    ids = list(db.session.scalars(select(ProcessInstance.id).where(*conditions).order_by(*_order(q.sort))
                                  .limit(q.per_page).offset((max(1, q.page) - 1) * q.per_page)))
    if access.sees_whole_records(user):
        _note_whole_views(user, ids, ip)  # before reading them: the log entry commits
    found = {c.id: c for c in db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_(ids or [-1]))
        .options(joinedload(ProcessInstance.definition), joinedload(ProcessInstance.started_by),
                 joinedload(ProcessInstance.subject_user), undefer(ProcessInstance.state))).unique()}
    return [found[i] for i in ids], int(total)


def _note_whole_views(user: User, ids: list[int], ip: str | None) -> None:
    """An auditor reads the cases of the page whole: those they take no part in are written to
    the security log, once for the page (``access.note_whole_view`` does it for one case)."""
    if not ids:
        return
    own = set(db.session.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(ids), visible_to(user))))
    outside = [i for i in ids if i not in own]
    if outside:
        listed = ", ".join(f"#{i}" for i in outside)
        access.log_event("record_viewed", user=user, ip=ip, detail=f"case list: {len(outside)} case(s) viewed whole: "
                                                                   f"{listed}")


def _day_range(column: Any, first: dt.date | None, last: dt.date | None) -> list[ColumnElement[bool]]:
    """From the start of ``first`` to the end of ``last``, both branch calendar days."""
    out = []
    if first is not None:
        out.append(column >= day_start(first))
    if last is not None:
        out.append(column < day_start(last + dt.timedelta(days=1)))
    return out


def _order(sort: str) -> list[Any]:
    """The sort, then the id in the same direction so pages never overlap; cases not yet ended
    come last whichever way ``ended_at`` is sorted (the same on SQLite and PostgreSQL)."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    tie = ProcessInstance.id.desc() if descending else ProcessInstance.id.asc()
    if name == "id":
        return [tie]
    column = getattr(ProcessInstance, name)
    direction = column.desc() if descending else column.asc()
    if name == "ended_at":
        return [case((column.is_(None), 1), else_=0), direction, tie]
    return [direction, tie]


def summaries(instances: list[ProcessInstance], user: User) -> list[reading.CaseSummary]:
    """What the API shows of each case of a page from :func:`list_cases` (which logged an auditor's
    look): its data and open tasks, the open tasks of the whole page read in one query."""
    ids = [c.id for c in instances]
    open_tasks: dict[int, list[HumanTask]] = {i: [] for i in ids}
    if ids:
        for task in db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids),
                                                               HumanTask.state == "open").order_by(HumanTask.id)):
            open_tasks[task.instance_id].append(task)
    whole = access.sees_whole_records(user)
    return [reading.CaseSummary(c, reading.facts(c).data, whole, open_tasks[c.id]) for c in instances]
