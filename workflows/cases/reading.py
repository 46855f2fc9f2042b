"""What the pages and the API show of cases and tasks, read in one place.

A view calls one function here and renders what it returns: the right to see is
checked here (``access``), refusals and an auditor's look at a whole record are
logged here, and the workflow is deserialized once per page. Nothing here formats
for people (that is the web layer's presenter) and nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select, union
from sqlalchemy.orm import aliased, defer, joinedload, load_only, undefer

from workflows.branch.models import OrgUnit, User
from workflows.cases import access, alerts, assignment, commands, decision_view, step_values
from workflows.cases.alerts import Alert
from workflows.cases.definitions import ENGINE, built_for
from workflows.cases.models import Attachment, AuditEvent, HumanTask, ProcessInstance, SecurityEvent
from workflows.db import db
from workflows.engine.dialect import TaskMeta
from workflows.errors import NotFound

# --- the workflow, deserialized once ----------------------------------------------


@dataclass
class Facts:
    """What one deserialization of a case's workflow tells a reader."""

    data: dict[str, Any]  # the case's current data (from the most recent task)
    completed: set[str]  # element ids the engine completed
    waiting: set[str]  # element ids ready or waiting now


def facts(instance: ProcessInstance) -> Facts:
    """The case's data and where it stands, from one deserialization through the engine façade."""
    state = ENGINE.load(built_for(instance.definition), instance.state)
    completed, waiting = state.path()
    return Facts(state.data(), completed, waiting)


def diagram_path(found: Facts, steps: Iterable[Any], tasks: Iterable[Any]) -> tuple[list[str], list[str]]:
    """Element ids walked so far and those waiting now, for the diagram: what the engine
    completed, plus steps folded out of the live tree by rework (kept in the history's
    ``engine_steps`` events: their changes are ``steps``)."""
    done = set(found.completed)
    for changes in steps:
        done.update((changes or {}).get("path", [None, []])[1] or [])
    done.update(t.spec_id for t in tasks if t.state == "completed")
    return sorted(done - found.waiting), sorted(found.waiting)


def walked_steps(instance: ProcessInstance) -> list[Any]:
    """The changes of the case's ``engine_steps`` events (the path the engine walked), without
    reading the rest of a long history."""
    return list(db.session.scalars(_WALKED, {"case_id": instance.id}))


# The case page's statements, built once: every case page runs them, and building a statement
# (aliases, functions, eager-load options) costs more Python than PostgreSQL takes to answer it.
CASE_ID = bindparam("case_id")
_WALKED = select(AuditEvent.changes).where(AuditEvent.instance_id == CASE_ID, AuditEvent.type == "engine_steps")


# --- a case --------------------------------------------------------------------------


def events_of(instance: ProcessInstance) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                   .order_by(AuditEvent.seq)))


# what a person reads of an event; the chain's hashes and seals are for verify and the API's feed
_READ_COLUMNS = (AuditEvent.id, AuditEvent.instance_id, AuditEvent.seq, AuditEvent.at, AuditEvent.actor_id,
                 AuditEvent.actor_name, AuditEvent.type, AuditEvent.task_spec, AuditEvent.task_name,
                 AuditEvent.human_task_id, AuditEvent.changes, AuditEvent.comment, AuditEvent.via)


HISTORY_PAGE = 200  # the case page shows the latest events; the whole history is a click (or the API's feed) away


def event_rows(instance: ProcessInstance, latest: int | None = None) -> list[Any]:
    """The case's history for a page, as plain read-only rows with the events' attribute names:
    a 900-event case page then builds no 900 tracked objects (about a fifth of its time).
    With ``latest``, only the last so many events, still oldest first."""
    if latest is None:
        return list(db.session.execute(_ALL_EVENTS, {"case_id": instance.id}).all())
    rows = list(db.session.execute(_LATEST_EVENTS, {"case_id": instance.id, "latest": latest}).all())
    rows.reverse()
    return rows


_ALL_EVENTS = select(*_READ_COLUMNS).where(AuditEvent.instance_id == CASE_ID).order_by(AuditEvent.seq)
_LATEST_EVENTS = select(*_READ_COLUMNS).where(AuditEvent.instance_id == CASE_ID) \
    .order_by(AuditEvent.seq.desc()).limit(bindparam("latest"))


def attachments_of(instance: ProcessInstance) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)
                                   .order_by(Attachment.id)))


def open_tasks_of(instance: ProcessInstance) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.state == "open").order_by(HumanTask.id)))


@dataclass
class CaseTaskRow:
    """A task of the case page: flat values and the name of who did, holds or owns it (a long
    case lists hundreds of tasks; tracked objects with their people would cost more than the page)."""

    id: int
    instance_id: int
    spec_id: str
    name: str
    state: str
    outcome: str | None
    person: str | None  # completed by, else claimed by, else assigned to
    instance: ProcessInstance


def case_task_rows(instance: ProcessInstance) -> list[CaseTaskRow]:
    rows = db.session.execute(_TASK_ROWS, {"case_id": instance.id})
    return [CaseTaskRow(r[0], instance.id, r[1], r[2], r[3], r[4], r[5], instance) for r in rows]


def _task_rows() -> Any:
    done_by, held_by, owner = aliased(User), aliased(User), aliased(User)
    return (select(HumanTask.id, HumanTask.spec_id, HumanTask.name, HumanTask.state, HumanTask.outcome,
                   func.coalesce(done_by.full_name, held_by.full_name, owner.full_name))
            .outerjoin(done_by, done_by.id == HumanTask.completed_by_id)
            .outerjoin(held_by, held_by.id == HumanTask.claimed_by_id)
            .outerjoin(owner, owner.id == HumanTask.assigned_user_id)
            .where(HumanTask.instance_id == CASE_ID).order_by(HumanTask.id))


_TASK_ROWS = _task_rows()


@dataclass
class CaseView:
    """The case page: its data, history, tasks, files and the path on its diagram."""

    instance: ProcessInstance
    data: dict[str, Any]
    whole: bool  # the reader sees sensitive fields whole (an auditor)
    events: list[Any]  # read-only rows of the events (``event_rows``): the latest page, or all
    tasks: list[CaseTaskRow]
    attachments: list[Attachment]
    completed: list[str]
    active: list[str]
    event_total: int = 0  # events in the whole history
    decisions: list[decision_view.FiredDecision] = field(default_factory=list)  # tables evaluated, rows fired


def case_view(case_id: int, user: User, ip: str | None = None, whole_history: bool = False) -> CaseView:
    """Everything the case page shows, if ``user`` may see the case (else refused and logged).

    A fixed number of statements however long the history: an auditor's look is logged (and
    committed, which expires what the session holds) before anything is read for the page; then
    the case with its version and people, its latest events (``whole_history``: all), the path the
    engine walked, its tasks with their people, and its files' metadata are read in one statement each.
    The case is read again without ``populate_existing``: its eager loads fill what is not loaded yet,
    and the reader, when they are also its starter, keeps the roles already loaded with them (the
    option that leaves the starter's roles unloaded would otherwise unload the reader's, and the page
    header would read them again)."""
    instance = access.case_for(user, case_id, ip)
    whole = access.note_whole_view(user, instance, ip)
    # by the id asked for: ``instance.id`` after that commit would refresh the expired case (a statement)
    instance = db.session.scalars(_CASE_FOR_PAGE, {"case_id": case_id}).one()
    found = facts(instance)
    events = event_rows(instance, None if whole_history else HISTORY_PAGE)
    tasks = case_task_rows(instance)
    steps = [ev.changes for ev in events if ev.type == "engine_steps"] if whole_history else walked_steps(instance)
    completed, active = diagram_path(found, steps, tasks)
    files = list(db.session.scalars(_FILES, {"case_id": instance.id}))
    total = len(events) if whole_history else max(instance.audit_seq, len(events))
    return CaseView(instance, found.data, whole, events, tasks, files, completed, active, total,
                    decision_view.case_decisions(instance))


_CASE_FOR_PAGE = select(ProcessInstance).where(ProcessInstance.id == CASE_ID) \
    .options(joinedload(ProcessInstance.definition), undefer(ProcessInstance.state),
             joinedload(ProcessInstance.started_by).lazyload(User.role_rows),
             joinedload(ProcessInstance.subject_user).lazyload(User.role_rows))
_FILES = select(Attachment).where(Attachment.instance_id == CASE_ID).options(defer(Attachment.content)) \
    .order_by(Attachment.id)


@dataclass
class CaseSummary:
    """A case as the API answers it: its data and its open tasks."""

    instance: ProcessInstance
    data: dict[str, Any]
    whole: bool
    open_tasks: list[HumanTask]


def case_summary(instance: ProcessInstance, user: User, ip: str | None = None) -> CaseSummary:
    """The summary of a case ``user`` may see (the caller got it through ``case_for`` or as its actor)."""
    data = facts(instance).data
    whole = access.note_whole_view(user, instance, ip)
    return CaseSummary(instance, data, whole, open_tasks_of(instance))


def case(case_id: int) -> ProcessInstance:
    """A case by id, for a caller that just acted on it (no right is checked here)."""
    instance = db.session.get(ProcessInstance, case_id)
    if instance is None:
        raise NotFound("no such case")
    return instance


@dataclass
class History:
    """A case's audit trail, with the case data that names the people in its option labels."""

    instance: ProcessInstance
    data: dict[str, Any]
    whole: bool
    events: list[AuditEvent]


def history(case_id: int, user: User, ip: str | None = None) -> History:
    instance = access.case_for(user, case_id, ip)
    return History(instance, facts(instance).data, access.sees_whole_records(user), events_of(instance))


def cases_by_id(ids: Iterable[int]) -> dict[int, ProcessInstance]:
    """Several cases with their definitions in one query (a page of tasks, not one query per task)."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {c.id: c for c in db.session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(wanted))
                                                .options(joinedload(ProcessInstance.definition)))}


def openable(user: User, ids: Iterable[int | None]) -> set[int]:
    """Which of these cases ``user`` may open (a link is shown only to those)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return set()
    who = (ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
           ProcessInstance.started_by_id, ProcessInstance.subject_user_id)  # what the rule reads, not the summaries
    return access.viewable(user, db.session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(wanted))
                                                    .options(load_only(*who))))


LIST_PAGE = 50  # rows of a person's own lists (my cases, notices) per page


@dataclass
class OlderPage:
    """A page of a list read newest first by id (keyset paging: a late page costs what the first
    does), and the id the next, older page starts before (None: this is the last page)."""

    rows: list[Any]
    before: int | None


def newest_first(query: Any, column: Any, before: int | None, per_page: int) -> OlderPage:
    """One page of ``query``'s rows by ``column`` (their id) descending, those before ``before``."""
    if before is not None:
        query = query.where(column < before)
    rows = list(db.session.scalars(query.order_by(column.desc()).limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    return OlderPage(rows, rows[-1].id if more and rows else None)


def my_cases(user: User, before: int | None = None, per_page: int = LIST_PAGE) -> OlderPage:
    """Cases ``user`` started or completed a task of, newest first, a page at a time (those before
    ``before``).

    Each way yields only its newest page of case ids, from its own index read backwards
    (``(started_by_id, id)``, ``(completed_by_id, instance_id)``), and the page is the newest of
    those: a GM who approved a hundred thousand cases over the years reads a page, not all of them
    (``started_by OR id IN (every case they worked)`` collected them all: 160 ms at 1M task rows)."""
    n = per_page + 1
    started = select(ProcessInstance.id.label("id")).where(ProcessInstance.started_by_id == user.id)
    worked = select(HumanTask.instance_id.label("id")).where(HumanTask.completed_by_id == user.id).distinct()
    if before is not None:
        started = started.where(ProcessInstance.id < before)
        worked = worked.where(HumanTask.instance_id < before)
    newest = [way.order_by(column.desc()).limit(n).subquery()
              for way, column in ((started, ProcessInstance.id), (worked, HumanTask.instance_id))]
    ids = union(*(select(sub.c.id) for sub in newest)).subquery()
    query = select(ProcessInstance).where(ProcessInstance.id.in_(select(ids.c.id))).options(
        joinedload(ProcessInstance.definition), joinedload(ProcessInstance.started_by).lazyload(User.role_rows))
    return newest_first(query, ProcessInstance.id, None, per_page)


def attachment(attachment_id: int, user: User, ip: str | None = None) -> Attachment:
    """A file of a case ``user`` may see; every look at one is written to the security log."""
    att = db.session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("no such file")
    access.case_for(user, att.instance_id, ip, f"attachment {att.id}")
    access.log_event("attachment_viewed", user=user, ip=ip, detail=f"attachment {att.id} of case {att.instance_id}")
    return att


def case_attachments(case_id: int, user: User, ip: str | None = None) -> list[Attachment]:
    """The files of a case ``user`` may see (their metadata: reading one is :func:`attachment`)."""
    instance = access.case_for(user, case_id, ip, "attachments")
    return list(db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)
                                   .options(defer(Attachment.content), joinedload(Attachment.uploaded_by))
                                   .order_by(Attachment.id)))


# --- a task ----------------------------------------------------------------------


@dataclass
class TaskView:
    """The task page: the step, the case data it is decided with, and the form's values."""

    task: HumanTask
    meta: TaskMeta
    data: dict[str, Any]
    may_act: bool
    reveal: set[str]  # sensitive fields shown whole to the one who acts on this step
    whole: bool
    values: dict[str, Any]  # what the form starts from
    alerts: list[Alert]
    events: list[Any] = field(default_factory=list)  # read-only rows of the latest events (``event_rows``)
    event_total: int = 0  # events in the whole history
    attachments: list[Attachment] = field(default_factory=list)


def task_view(task_id: int, user: User, ip: str | None = None, *, with_history: bool = True) -> TaskView:
    """Everything the task page (or the API's task) shows, if ``user`` may see the task."""
    task = commands.get_task(task_id, user, ip=ip)
    may_act = task.state == "open" and assignment.refusal(task, user) is None
    meta = commands.task_meta(task)
    data = facts(task.instance).data
    # the whole of a sensitive field only for the one who acts on the step that needs it
    reveal = commands.revealed_fields(meta) if may_act else set()
    whole = access.note_whole_view(user, task.instance, ip)
    view = TaskView(task, meta, data, may_act, reveal, whole, {}, [])
    if with_history:
        view.events = event_rows(task.instance, HISTORY_PAGE)
        view.event_total = max(task.instance.audit_seq, len(view.events))
        view.attachments = attachments_of(task.instance)
    view.values = step_values.starting_values(task, meta, data)
    view.alerts = alerts.for_task(task, meta, data)
    return view


def offered_to(task: HumanTask) -> list[tuple[str, OrgUnit | None]]:
    """The groups a task is offered to: each role, with the unit it is limited to (if any)."""
    ids = {c.scope_unit_id for c in task.candidates if c.scope_unit_id is not None}
    units = {u.id: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))} if ids else {}
    return [(c.role_key, units.get(c.scope_unit_id) if c.scope_unit_id is not None else None)
            for c in task.candidates]


# --- the security log ----------------------------------------------------------------


def security_log(limit: int = 500) -> list[SecurityEvent]:
    """The newest entries of the security log."""
    return list(db.session.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)))
