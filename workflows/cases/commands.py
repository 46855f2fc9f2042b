"""Starting cases and working their tasks: the one path every web page, API
call and CLI command goes through, so the rules and the audit are the same."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from workflows import processes
from workflows.branch.models import OrgUnit, User
from workflows.cases import access, alerts, assignment, audit, forms, step_values
from workflows.cases.context import CaseContext
from workflows.cases.definitions import built_for, latest
from workflows.cases.models import Attachment, HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine import specs as engine
from workflows.engine.clock import now
from workflows.engine.parser import BuiltDefinition, TaskMeta
from workflows.engine.sandbox import RestrictedScriptEngine
from workflows.errors import Conflict, Forbidden, Invalid, Msg, NotFound, Unconfirmed, WorkflowError


class CaseEngine(RestrictedScriptEngine):
    """The restricted engine with the functions of this case's family and a log of DMN decisions."""

    def __init__(self, ctx: CaseContext) -> None:
        super().__init__(processes.bind_functions(ctx.instance.process_key, ctx))
        self.decisions: list[dict[str, Any]] = []


@contextmanager
def all_or_nothing(engine_failure: str) -> Iterator[None]:
    """One transaction: on any failure roll back and discard the in-memory workflow.

    A lost version race becomes 409; an error raised inside the engine becomes a
    422 with ``engine_failure`` as its message (``%(reason)s`` is the engine's).
    """
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        raise Conflict("someone else acted on this case first; nothing was saved") from None
    except SpiffWorkflowException as exc:
        db.session.rollback()
        raise Invalid(Msg(engine_failure, reason=str(exc).splitlines()[0])) from None
    except BaseException:
        db.session.rollback()
        raise


# --- starting ---------------------------------------------------------------


def may_start(user: User, built: BuiltDefinition) -> bool:
    roles = [r.strip() for r in built.meta.properties.get("startRoles", "").split(",") if r.strip()]
    if not roles and built.meta.start_lane:
        roles = [built.meta.start_lane]
    if not access.works_cases(user):
        return False
    return not roles or user.has_role(*roles)


def refuse_start(user: User, process_key: str, ip: str | None = None) -> None:
    """Refuse (and log) starting a process the user has no role for."""
    audit.security("refused", user=user, ip=ip, detail=f"start {process_key[:80]}")
    db.session.commit()
    raise Forbidden("you may not start this process")


def start_case(process_key: str, user: User | None, data: dict[str, Any], *, via: str = "web",
               uploads: dict[str, forms.Upload] | None = None, ip: str | None = None,
               confirmed: bool | str = True, origin: str | None = None, commit: bool = True) -> ProcessInstance:
    """Start a case. The family's start checks may refuse it first (:class:`Refused`, with
    the figures behind the refusal). Unless ``confirmed`` is True or the fingerprint of the
    very warnings found, the diagram's start warnings (a client already owned, …) stop the
    start with :class:`Unconfirmed`: the starter sees them and confirms.

    ``user`` None: the system starts it (a scheduled job or another case), named by
    ``origin`` ("job:<key>", "case:<id>"); no role is needed and the warnings are recorded
    as seen by no one. ``commit=False`` leaves the commit to the caller (a job, a case).
    """
    definition = latest(process_key)
    assert definition is not None
    built = built_for(definition)
    if user is None:
        if not origin or uploads:
            raise ValueError("a case the system starts names its origin and has no uploads")
    elif not may_start(user, built):
        refuse_start(user, process_key, ip)
    clean, files = forms.validate(built.meta.start_form, data, uploads)
    request = processes.StartRequest(definition.key, user, dict(clean), origin)
    for check in processes.start_checks(definition.key):
        check(request)
    warned = alerts.for_start(built, clean, user) if user is not None else []
    if warned and confirmed is not True and confirmed != alerts.fingerprint(warned):
        raise Unconfirmed("please read the warnings and confirm to go on", warned, alerts.fingerprint(warned))
    props = built.meta.properties
    key_field = props.get("businessKey")
    instance = ProcessInstance(
        definition_id=definition.id, process_key=definition.key, started_by_id=user.id if user else None,
        origin=None if user else origin[:80], state="",
        title=_title(props.get("titleTemplate"), clean, built.name),
        business_key=_business_key(clean.get(key_field)) if key_field else None,
        summary={f: _plain(clean.get(f)) for f in _fields(props.get("summaryFields", ""))},
        started_at=now(), updated_at=now(),
    )
    instance.started_by = user
    db.session.add(instance)
    with all_or_nothing("the process could not run: %(reason)s"):
        db.session.flush()
        ctx = CaseContext(instance, user, via)
        if user is not None:
            clean.update(_store_uploads(instance, None, files, user))
        wf = engine.new_workflow(built, clean, CaseEngine(ctx))
        started = audit.diff({}, clean)
        if warned:  # the starter saw these and went on: part of the record
            started["warnings"] = [None, [a.as_record() for a in warned]]
        if user is None:  # no person: the history says what started it
            started["started_by_system"] = [None, instance.origin]
        audit.record(instance, "case_started", user, changes=started, via=via, task_name=built.name)
        _advance(ctx, wf, built)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    return instance


def _fields(text: str) -> list[str]:
    return [f.strip() for f in text.split(",") if f.strip()]


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, bool, float)) else str(value)


def _business_key(value: Any) -> str | None:
    return "".join(str(value).split()).upper()[:120] if value not in (None, "") else None


def _title(template: str | None, data: dict[str, Any], default: str) -> str:
    if not template:
        return default
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: str(data.get(m.group(1)) or ""), template)[:300]


# --- working tasks ------------------------------------------------------------


def lock_for_write(instance: ProcessInstance) -> None:
    """The optimistic version check, done first: bump the version we read or fail.

    Doing it before any other write makes the instance row the first thing a
    transaction writes, so a second writer waits on it (row lock on PostgreSQL,
    write lock on SQLite) and then finds the version moved: 409, nothing saved.
    """
    seen = instance.version
    done = db.session.execute(
        update(ProcessInstance).where(ProcessInstance.id == instance.id, ProcessInstance.version == seen)
        .values(version=seen + 1).execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict("someone else acted on this case first; nothing was saved")
    set_committed_value(instance, "version", seen + 1)


# One query for the task, its groups, its exclusions, its case and the case's version row.
_TASK_WITH_CASE = (
    joinedload(HumanTask.instance).undefer(ProcessInstance.state),
    joinedload(HumanTask.instance).joinedload(ProcessInstance.definition),
    joinedload(HumanTask.candidates),
    joinedload(HumanTask.exclusions),
)


def get_task(task_id: int, user: User, *, for_action: bool = False, ip: str | None = None) -> HumanTask:
    """A task the user may see (or act on); others' tasks look like missing ones are refused."""
    task = db.session.get(HumanTask, task_id, options=_TASK_WITH_CASE)
    if task is None:
        audit.security("refused", user=user, ip=ip, detail=f"unknown task {task_id}")
        db.session.commit()
        raise NotFound("no such task")
    if for_action:
        reason = assignment.refusal(task, user)
        if reason is not None:
            if task.state != "open":
                raise Conflict("this task has already been completed")
            audit.security("refused", user=user, ip=ip, detail=f"task {task_id}: {reason}")
            db.session.commit()
            if "claimed" in reason:
                raise Conflict(reason)
            raise Forbidden(reason)
    elif not may_view_task(task, user):
        audit.security("refused", user=user, ip=ip, detail=f"view task {task_id}")
        db.session.commit()
        raise Forbidden("you have no part in this task")
    return task


def may_view_task(task: HumanTask, user: User) -> bool:
    if access.may_audit(user) or task.escalated_to_id == user.id:
        return True
    if task.assigned_user_id == user.id or task.claimed_by_id == user.id or task.completed_by_id == user.id:
        return True
    return task.state == "open" and assignment.in_candidate_groups(task, user)


def task_meta(task: HumanTask) -> TaskMeta:
    return built_for(task.instance.definition).meta.tasks[task.spec_id]


def revealed_fields(meta: TaskMeta) -> set[str]:
    """Sensitive fields the step's performer sees whole (task property ``reveal``)."""
    return {f.strip() for f in meta.properties.get("reveal", "").split(",") if f.strip()}


def claim(task_id: int, user: User, *, via: str = "web", ip: str | None = None) -> HumanTask:
    task = get_task(task_id, user, for_action=True, ip=ip)
    if task.state != "open":
        raise Conflict("this task has already been completed")
    if task.assigned_user_id is not None:
        raise Conflict("this task is assigned directly; there is nothing to claim")
    lock_for_write(task.instance)
    done = db.session.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.claimed_by_id.is_(None),
                                HumanTask.state == "open").values(claimed_by_id=user.id)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict("someone else claimed this task first")
    _record_simple(task, user, "task_claimed", via)
    return task


def release(task_id: int, user: User, *, via: str = "web", ip: str | None = None) -> HumanTask:
    task = get_task(task_id, user, for_action=True, ip=ip)
    if task.claimed_by_id != user.id or task.state != "open":
        raise Conflict("you do not hold this task")
    lock_for_write(task.instance)
    db.session.execute(update(HumanTask).where(HumanTask.id == task.id, HumanTask.claimed_by_id == user.id)
                       .values(claimed_by_id=None))
    _record_simple(task, user, "task_released", via)
    return task


def _record_simple(task: HumanTask, user: User, type_: str, via: str) -> None:
    instance = task.instance
    audit.record(instance, type_, user, task_spec=task.spec_id, task_name=task.name, human_task_id=task.id, via=via)
    instance.updated_at = now()
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("the case was changed by someone else; please reload") from None
    db.session.refresh(task)


@dataclass
class Completion:
    """What a caller needs after the commit, without reloading rows."""

    task_id: int
    task_name: str
    instance_id: int
    instance_status: str


def complete_task(task_id: int, user: User, data: dict[str, Any], *, via: str = "web", ip: str | None = None,
                  uploads: dict[str, forms.Upload] | None = None, bulk: bool = False) -> Completion:
    """Validate, run the task and the engine, and save everything in one transaction."""
    task = get_task(task_id, user, for_action=True, ip=ip)
    if task.state != "open":
        raise Conflict("this task has already been completed")
    if bulk and not task.bulk:
        raise Forbidden("this task cannot be completed in bulk")
    instance = task.instance
    built = built_for(instance.definition)
    meta = built.meta.tasks.get(task.spec_id)
    if meta is None:
        raise NotFound("the task's definition is missing")
    ctx = CaseContext(instance, user, via)
    wf = engine.deserialize(built, instance.state, CaseEngine(ctx))
    spiff_task = wf.get_task_from_id(UUID(task.spiff_task_id))
    if spiff_task is None or not spiff_task.has_state(TaskState.READY):
        raise Conflict("this task is no longer waiting for input")
    clean, files = forms.validate(meta.form, data, uploads, current=spiff_task.data)
    start = step_values.previous_values(task, meta, spiff_task.data)
    # The state we deserialized is still the latest, or 409. A task finished by a
    # concurrent request shows up as a non-READY task in the newer state instead.
    lock_for_write(instance)
    with all_or_nothing("the process could not continue: %(reason)s"):
        clean.update(_store_uploads(instance, task, files, user))
        spiff_task.data = {**spiff_task.data, **clean}
        ctx.task = spiff_task
        spiff_task.run()
        task.state = "completed"
        task.completed_at = now()
        task.completed_by_id = user.id
        task.claimed_by_id = task.claimed_by_id or (None if task.assigned_user_id else user.id)
        task.outcome = str(clean.get("decision"))[:40] if clean.get("decision") else "completed"
        audit.record(instance, "task_completed", user, task_spec=task.spec_id, task_name=task.name,
                     human_task_id=task.id, changes=step_values.submitted(start, clean),
                     comment=clean.get("comment") if isinstance(clean.get("comment"), str) else None, via=via)
        _advance(ctx, wf, built)
        result = Completion(task.id, task.name, instance.id, instance.status)
        db.session.commit()
    return result


def bulk_complete(task_ids: list[int], user: User, data: dict[str, Any], *, via: str = "web",
                  ip: str | None = None) -> dict[int, str]:
    """Complete many routine tasks with the same answer; each in its own transaction."""
    results: dict[int, str] = {}
    for task_id in task_ids[:500]:
        try:
            complete_task(task_id, user, data, via=via, ip=ip, bulk=True)
            results[task_id] = "completed"
        except WorkflowError as exc:
            results[task_id] = exc.message
    return results


def _store_uploads(instance: ProcessInstance, task: HumanTask | None, files: dict[str, forms.Upload],
                   user: User) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for field_id, upload in files.items():
        att = Attachment(instance_id=instance.id, human_task_id=task.id if task else None, field=field_id,
                         filename=upload.filename[-200:], content_type=upload.content_type[:100],
                         size=len(upload.content), sha256=upload.sha256, content=upload.content,
                         uploaded_by_id=user.id, uploaded_at=now())
        db.session.add(att)
        db.session.flush()
        stored[field_id] = {"attachment_id": att.id, "filename": att.filename, "sha256": att.sha256}
    return stored


# --- advancing the engine and projecting its state ----------------------------


def _advance(ctx: CaseContext, wf: Any, built: BuiltDefinition) -> None:
    """Run engine steps, then write tasks, audit, status and state (caller commits)."""
    instance = ctx.instance
    path: list[str] = []

    def will_complete(task: Any) -> None:
        ctx.task = task

    def did_complete(task: Any) -> None:
        spec = task.task_spec
        if getattr(spec, "bpmn_id", None) and not spec.manual:
            path.append(spec.bpmn_id)

    engine.run(wf, will_complete, did_complete)
    if path:
        audit.record(instance, "engine_steps", None, changes={"path": [None, path]}, via=ctx.via)
    for decision in wf.script_engine.decisions:
        audit.record(instance, "decision", None, task_spec=decision["task"], task_name=decision["table"],
                     changes={"rules": [None, decision["rules"]]}, via=ctx.via)
    for event in ctx.events:
        audit.record(instance, event["type"], ctx.actor, task_spec=event["task_spec"], task_name=event["task_name"],
                     changes=event["changes"], comment=event["comment"], via=ctx.via)
    ctx.events.clear()
    _sync_tasks(ctx, wf, built)
    if wf.completed:
        instance.status = "completed"
        instance.outcome = _outcome(wf)
        instance.ended_at = now()
        audit.record(instance, "case_completed", None, changes={"outcome": [None, instance.outcome]}, via=ctx.via)
    instance.state = engine.serialize(wf)
    instance.next_timer_at = engine.next_timer_at(wf)
    instance.updated_at = now()


def _outcome(wf: Any) -> str | None:
    ends = [t for t in wf.get_tasks(state=TaskState.COMPLETED) if isinstance(t.task_spec, EndEvent)]
    if not ends:
        return None
    return max(ends, key=lambda t: t.last_state_change).task_spec.bpmn_id[:40]


def _sync_tasks(ctx: CaseContext, wf: Any, built: BuiltDefinition) -> None:
    instance = ctx.instance
    ready = {str(t.id): t for t in engine.ready_user_tasks(wf)}
    with db.session.no_autoflush:  # one flush for the whole request, at commit or below
        open_rows = db.session.execute(
            select(HumanTask.id, HumanTask.spiff_task_id, HumanTask.spec_id, HumanTask.name)
            .where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
        ).all()
    open_ids = set()
    for row in open_rows:
        if row.spiff_task_id in ready:
            open_ids.add(row.spiff_task_id)
            continue
        closing = db.session.get(HumanTask, row.id)
        if closing is not None and closing.state == "completed":
            continue  # the task this request just completed
        db.session.execute(update(HumanTask).where(HumanTask.id == row.id, HumanTask.state == "open")
                           .values(state="cancelled", completed_at=now()))
        audit.record(instance, "task_cancelled", None, task_spec=row.spec_id, task_name=row.name,
                     human_task_id=row.id, via=ctx.via)
    created: list[HumanTask] = []
    for spiff_id, spiff_task in ready.items():
        if spiff_id in open_ids:
            continue
        spec_id = spiff_task.task_spec.bpmn_id
        meta = built.meta.tasks.get(spec_id)
        if meta is None:
            raise Invalid(Msg("user task %(task)s has no definition", task=spec_id))
        at = now()
        row = HumanTask(instance_id=instance.id, spiff_task_id=spiff_id, spec_id=spec_id, name=meta.name,
                        lane=meta.lane, state="open", created_at=at, due_at=_due(meta, at))
        row.instance = instance
        assignment.resolve(row, meta, instance, spiff_task.data)
        db.session.add(row)
        created.append(row)
    if not created:
        return
    db.session.flush()  # the new rows' ids, for their audit events
    for row in created:
        who = db.session.get(User, row.assigned_user_id).full_name if row.assigned_user_id else None
        groups = [c.role_key + (f"@{_unit_name(c.scope_unit_id)}" if c.scope_unit_id else "") for c in row.candidates]
        audit.record(instance, "task_created", None, task_spec=row.spec_id, task_name=row.name,
                     human_task_id=row.id, changes={"assignee": [None, who], "groups": [None, groups]}, via=ctx.via)


def _unit_name(unit_id: int) -> str:
    unit = db.session.get(OrgUnit, unit_id)
    return unit.name if unit is not None else str(unit_id)


def _due(meta: TaskMeta, start: dt.datetime) -> dt.datetime | None:
    if not meta.due:
        return None
    try:
        parsed = TimerEventDefinition.parse_iso_duration(meta.due)
        return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
    except Exception:  # noqa: BLE001 - a malformed due date is shown as none, not a failure
        return None


def instance_data(instance: ProcessInstance) -> dict[str, Any]:
    """The case's current data (from the most recent task), for display."""
    built = built_for(instance.definition)
    wf = engine.deserialize(built, instance.state, RestrictedScriptEngine())
    tasks = wf.get_tasks(state=TaskState.READY | TaskState.WAITING) or wf.get_tasks(state=TaskState.COMPLETED)
    if not tasks:
        return dict(wf.data)
    latest_task = max(tasks, key=lambda t: t.last_state_change)
    return {**wf.data, **latest_task.data}
