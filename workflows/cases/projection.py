"""Engine state → the case's rows: open human_task rows, audit events, status, outcome
and the saved state. Starting, completing and the timer sweep all end in
:func:`advance`, so a step taken by a person, a timer or the engine itself is projected
and audited the same way (the caller commits)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from workflows import processes
from workflows.branch.calendar import working_deadline
from workflows.branch.models import OrgUnit, User
from workflows.cases import assignment, audit, decision_log
from workflows.cases.context import CaseContext
from workflows.cases.definitions import ENGINE
from workflows.cases.models import HumanTask
from workflows.db import db
from workflows.engine.clock import now
from workflows.engine.dialect import TaskMeta
from workflows.engine.durations import due_after
from workflows.engine.instance import Instance, OnTask
from workflows.engine.specs import BuiltDefinition
from workflows.errors import Invalid, Msg


def _follow(ctx: CaseContext) -> OnTask:
    """Keep ``ctx.task`` on the engine task being run: the diagram's functions act on its data."""

    def on_task(task: Any) -> None:
        ctx.task = task

    return on_task


def start(ctx: CaseContext, built: BuiltDefinition, data: dict[str, Any]) -> Instance:
    """A new instance of the case's process, its functions bound to ``ctx``."""
    return ENGINE.new(built, data, processes.bind_functions(ctx.instance.process_key, ctx), on_task=_follow(ctx))


def load(ctx: CaseContext, built: BuiltDefinition) -> Instance:
    """The case's saved instance, its functions bound to ``ctx``, ready to run."""
    functions = processes.bind_functions(ctx.instance.process_key, ctx)
    return ENGINE.load(built, ctx.instance.state, functions, on_task=_follow(ctx))


def advance(ctx: CaseContext, inst: Instance) -> None:
    """Run engine steps, then write tasks, audit, status and state (caller commits)."""
    instance = ctx.instance
    path = inst.run()
    if path:
        audit.record(instance, "engine_steps", None, changes={"path": [None, path]}, via=ctx.via)
    if inst.decisions:
        pinned = instance.definition.decisions
        for decision in inst.decisions:
            audit.record(instance, "decision", None, task_spec=decision["task"], task_name=decision["table"],
                         changes=decision_log.changes(decision, pinned), via=ctx.via)
    for event in ctx.events:
        audit.record(instance, event["type"], ctx.actor, task_spec=event["task_spec"], task_name=event["task_name"],
                     changes=event["changes"], comment=event["comment"], via=ctx.via)
    ctx.events.clear()
    _sync_tasks(ctx, inst)
    if inst.completed:
        instance.status = "completed"
        instance.outcome = inst.outcome()
        instance.ended_at = now()
        audit.record(instance, "case_completed", None, changes={"outcome": [None, instance.outcome]}, via=ctx.via)
    instance.state = inst.save()
    instance.next_timer_at = inst.next_timer_at()
    instance.updated_at = now()


def _sync_tasks(ctx: CaseContext, inst: Instance) -> None:
    instance = ctx.instance
    ready = {t.id: t for t in inst.ready_tasks()}
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
    for task_id, user_task in ready.items():
        if task_id in open_ids:
            continue
        spec_id = user_task.spec_id
        meta = inst.built.meta.tasks.get(spec_id)
        if meta is None:
            raise Invalid(Msg("user task %(task)s has no definition", task=spec_id))
        at = now()
        row = HumanTask(instance_id=instance.id, spiff_task_id=task_id, spec_id=spec_id, name=meta.name,
                        lane=meta.lane, state="open", created_at=at, due_at=_due(meta, at))
        row.instance = instance
        assignment.resolve(row, meta, instance, user_task.data)
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
    """``dueDate`` counts calendar time; ``dueWorkingDays`` counts the branch's working days (a task
    created on Friday afternoon with 1 is due on Monday afternoon, over a holiday week later)."""
    if meta.due_working_days:
        return working_deadline(start, meta.due_working_days)
    if not meta.due:
        return None
    try:
        return due_after(meta.due, start)
    except Exception:  # noqa: BLE001 - a malformed due date is shown as none, not a failure
        return None
