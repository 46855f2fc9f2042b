"""Starting cases and working their tasks: the one path every web page, API
call and CLI command goes through, so the rules and the audit are the same."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from workflows import processes
from workflows.branch.models import User
from workflows.cases import access, alerts, assignment, audit, forms, projection, step_values
from workflows.cases.context import CaseContext
from workflows.cases.definitions import ENGINE, built_for, latest
from workflows.cases.models import Attachment, HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine.clock import now
from workflows.engine.dialect import ProcessMeta, TaskMeta
from workflows.engine.instance import EngineError, Instance
from workflows.engine.specs import BuiltDefinition
from workflows.errors import Conflict, Forbidden, Invalid, Msg, NotFound, Unconfirmed, WorkflowError


def _changed() -> Conflict:
    """The optimistic version check lost: someone else acted on the case first."""
    return Conflict("someone else acted on this case first; nothing was saved", code="changed_by_other")


def _closed() -> Conflict:
    """The task is no longer open (completed, or ended with its case or by a timer)."""
    return Conflict("this task has already been completed", code="already_completed")


@contextmanager
def all_or_nothing(engine_failure: str) -> Iterator[None]:
    """One transaction: on any failure roll back and discard the in-memory workflow.

    A lost version race becomes 409; an error raised inside the engine becomes a
    422 with ``engine_failure`` as its message (``%(reason)s`` is the engine's), unless a diagram
    function refused with a :class:`WorkflowError` (e.g. a rule checked again after a correction):
    that refusal is raised as it is, its code and figures intact.
    """
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        raise _changed() from None
    except EngineError as exc:
        db.session.rollback()
        refusal = _refusal_inside(exc)
        if refusal is not None:  # a diagram function refused (a rule checked at this step): as it is
            raise refusal from None
        raise Invalid(Msg(engine_failure, reason=str(exc).splitlines()[0]), code="process_failed") from None
    except BaseException:
        db.session.rollback()
        raise


def _refusal_inside(exc: BaseException) -> WorkflowError | None:
    """The refusal a diagram function raised, which the engine wrapped in its own error."""
    seen: BaseException | None = exc
    for _ in range(5):
        seen = seen.__cause__ or seen.__context__ if seen is not None else None
        if isinstance(seen, WorkflowError):
            return seen
    return None


# --- starting ---------------------------------------------------------------


def may_start(user: User, built: BuiltDefinition) -> bool:
    roles = built.meta.starter_roles
    if not access.works_cases(user):
        return False
    return not roles or user.has_role(*roles)


def refuse_start(user: User, process_key: str, ip: str | None = None) -> None:
    """Refuse (and log) starting a process the user has no role for."""
    access.refuse(user, f"start {process_key[:80]}", "you may not start this process", ip=ip,
                  code="may_not_start")


def start_case(process_key: str, user: User | None, data: dict[str, Any], *, via: str = "web",
               uploads: dict[str, forms.Upload] | None = None, ip: str | None = None,
               confirmed: bool | str = True, origin: str | None = None, commit: bool = True,
               known_only: bool = False) -> ProcessInstance:
    """Start a case. The family's start checks may refuse it first (:class:`Refused`, with
    the figures behind the refusal). Unless ``confirmed`` is True or the fingerprint of the
    very warnings found, the diagram's start warnings (a client already owned, …) stop the
    start with :class:`Unconfirmed`: the starter sees them and confirms.

    ``user`` None: the system starts it (a scheduled job or another case), named by
    ``origin`` ("job:<key>", "case:<id>"); no role is needed and the warnings are recorded
    as seen by no one. ``commit=False`` leaves the commit to the caller (a job, a case).
    ``known_only`` (the API) refuses keys of ``data`` that are no field of the start form.
    """
    definition = latest(process_key)
    assert definition is not None
    built = built_for(definition)
    if user is None:
        if not origin or uploads:
            raise ValueError("a case the system starts names its origin and has no uploads")
    elif not may_start(user, built):
        refuse_start(user, process_key, ip)
    clean, files = forms.validate(built.meta.start_form, data, uploads, known_only=known_only)
    given = {field_id: {"filename": upload.filename} for field_id, upload in files.items()}  # not stored yet
    request = processes.StartRequest(definition.key, user, {**clean, **given}, origin)
    for check in processes.start_checks(definition.key):
        check(request)
    subject = _subject(built.meta, clean)
    warned = alerts.for_start(built, clean, subject or user) if user is not None else []
    if warned and confirmed is not True and confirmed != alerts.fingerprint(warned):
        raise Unconfirmed("please read the warnings and confirm to go on", warned, alerts.fingerprint(warned))
    meta = built.meta
    instance = ProcessInstance(
        definition_id=definition.id, process_key=definition.key, started_by_id=user.id if user else None,
        origin=None if user else (origin or "system")[:80], state="",
        subject_user_id=subject.id if subject is not None else None,
        title=_title(meta.title_template, clean, built.name),
        business_key=_business_key(clean.get(meta.business_key)) if meta.business_key else None,
        summary={f: _plain(clean.get(f)) for f in meta.summary_fields},
        started_at=now(), updated_at=now(),
    )
    instance.started_by = user
    instance.subject_user = subject
    db.session.add(instance)
    with all_or_nothing("the process could not run: %(reason)s"):
        db.session.flush()
        ctx = CaseContext(instance, user, via)
        if user is not None:
            clean.update(_store_uploads(instance, None, files, user))
        inst = projection.start(ctx, built, clean)
        started = audit.diff({}, clean)
        if warned:  # the starter saw these and went on: part of the record
            started["warnings"] = [None, [a.as_record() for a in warned]]
        if user is None:  # no person: the history says what started it
            started["started_by_system"] = [None, instance.origin]
        audit.record(instance, "case_started", user, changes=started, via=via, task_name=built.name)
        projection.advance(ctx, inst)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    return instance


def _subject(meta: ProcessMeta, clean: dict[str, Any]) -> User | None:
    """The person the case concerns: the active user whose username the start field
    ``subjectField`` holds (None when the process names none, or the field is left empty)."""
    if meta.subject_field is None or clean.get(meta.subject_field) in (None, ""):
        return None
    username = str(clean[meta.subject_field])
    person = db.session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()
    if person is None:
        raise Invalid("please correct the highlighted fields",
                      {meta.subject_field: Msg("no active user has this username", code="unknown_user")})
    return person


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
        raise _changed()
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
        access.log_event("refused", user=user, ip=ip, detail=f"unknown task {task_id}")
        raise NotFound("no such task")
    if for_action:
        reason = assignment.refusal(task, user)
        if reason is not None:
            if task.state != "open":
                raise _closed()
            access.refuse(user, f"task {task_id}: {reason.message}", reason.message, ip=ip,
                          conflict=reason == assignment.CLAIMED, code=reason.code)
    elif not may_view_task(task, user):
        access.refuse(user, f"view task {task_id}", "you have no part in this task", ip=ip, code=access.NO_PART)
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
    return set(meta.reveal)


def claim(task_id: int, user: User, *, via: str = "web", ip: str | None = None) -> HumanTask:
    """Claim a group task; claiming one already held is a no-op (a retried request succeeds,
    and the history keeps one claim)."""
    task = get_task(task_id, user, for_action=True, ip=ip)
    if task.state != "open":
        raise _closed()
    if task.assigned_user_id is not None:
        raise Conflict("this task is assigned directly; there is nothing to claim", code="assigned_directly")
    if task.claimed_by_id == user.id:
        return task
    lock_for_write(task.instance)
    done = db.session.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.claimed_by_id.is_(None),
                                HumanTask.state == "open").values(claimed_by_id=user.id)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict("someone else claimed this task first", code="claimed_by_other")
    _record_simple(task, user, "task_claimed", via)
    return task


def release(task_id: int, user: User, *, via: str = "web", ip: str | None = None) -> HumanTask:
    task = get_task(task_id, user, for_action=True, ip=ip)
    if task.state != "open":
        raise _closed()
    if task.claimed_by_id != user.id:
        raise Conflict("you do not hold this task", code="not_held")
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
        raise Conflict("the case was changed by someone else; please reload", code="changed_by_other") from None
    db.session.refresh(task)


@dataclass
class Completion:
    """What a caller needs after the commit, without reloading rows."""

    task_id: int
    task_name: str
    instance_id: int
    instance_status: str


def complete_task(task_id: int, user: User, data: dict[str, Any], *, via: str = "web", ip: str | None = None,
                  uploads: dict[str, forms.Upload] | None = None, bulk: bool = False,
                  known_only: bool = False, commit: bool = True) -> Completion:
    """Validate, run the task and the engine, and save everything in one transaction.
    ``known_only`` (the API) refuses keys of ``data`` that are no field of the step's form;
    ``commit=False``: flushed, for the caller to commit with its own rows, e.g. an idempotency key."""
    task = get_task(task_id, user, for_action=True, ip=ip)
    if task.state != "open":
        raise _closed()
    if bulk and not task.bulk:
        raise Forbidden("this task cannot be completed in bulk", code="not_bulk")
    instance = task.instance
    built = built_for(instance.definition)
    meta = built.meta.tasks.get(task.spec_id)
    if meta is None:
        raise NotFound("the task's definition is missing")
    ctx = CaseContext(instance, user, via)
    inst = projection.load(ctx, built)
    user_task = inst.task(task.spiff_task_id)
    if user_task is None or not user_task.ready:
        raise Conflict("this task is no longer waiting for input", code="changed_by_other")
    clean, files = forms.validate(meta.form, data, uploads, current=user_task.data, known_only=known_only)
    start = step_values.previous_values(task, meta, user_task.data)
    # The state we deserialized is still the latest, or 409. A task finished by a
    # concurrent request shows up as a non-READY task in the newer state instead.
    lock_for_write(instance)
    with all_or_nothing("the process could not continue: %(reason)s"):
        clean.update(_store_uploads(instance, task, files, user))
        inst.run_task(user_task, clean)
        task.state = "completed"
        task.completed_at = now()
        task.completed_by_id = user.id
        task.claimed_by_id = task.claimed_by_id or (None if task.assigned_user_id else user.id)
        task.outcome = str(clean.get("decision"))[:40] if clean.get("decision") else "completed"
        audit.record(instance, "task_completed", user, task_spec=task.spec_id, task_name=task.name,
                     human_task_id=task.id, changes=step_values.submitted(start, clean),
                     comment=clean.get("comment") if isinstance(clean.get("comment"), str) else None, via=via)
        projection.advance(ctx, inst)
        result = Completion(task.id, task.name, instance.id, instance.status)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    return result


def bulk_complete(task_ids: list[int], user: User, data: dict[str, Any], *, via: str = "web",
                  ip: str | None = None, known_only: bool = False) -> dict[int, WorkflowError | None]:
    """Complete many routine tasks with the same answer, each in its own transaction (one refusal
    undoes nothing of the others): task id → None when completed, else the refusal (its ``code``
    for programs, its ``message`` for people), in the order given."""
    results: dict[int, WorkflowError | None] = {}
    for task_id in task_ids[:500]:
        try:
            complete_task(task_id, user, dict(data), via=via, ip=ip, bulk=True, known_only=known_only)
            results[task_id] = None
        except WorkflowError as exc:
            db.session.rollback()  # what the refusal logged is already committed
            results[task_id] = exc
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


# --- reading the engine state -------------------------------------------------


def snapshot(instance: ProcessInstance) -> Instance:
    """The case's engine state for reading (data, path), loaded once; never run or saved."""
    return ENGINE.load(built_for(instance.definition), instance.state)


def instance_data(instance: ProcessInstance) -> dict[str, Any]:
    """The case's current data (from the most recent task), for display."""
    return snapshot(instance).data()
