"""What a step's form starts from, and what its completion records.

SpiffWorkflow carries task data forward, so two steps using the same field id
(``decision``, ``comment``) would see each other's answers. A step's form
starts from that step's own values only: what this same step submitted in an
earlier round (after a send-back), else the field's ``defaultValue``; its
decision and comment start afresh each round. A step that revises the case's
data says so with the task property ``prefill`` (field ids, or ``*``): those
fields start from the case's current values. Read-only fields always show the
case's value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workflows.cases.models import AuditEvent, HumanTask
from workflows.db import db
from workflows.engine.dialect import FormField, TaskMeta


def prefilled(meta: TaskMeta) -> set[str]:
    """Field ids this step takes from the case's data (``*``: all of its form)."""
    return set(meta.prefill)


def earlier_round(task: HumanTask, meta: TaskMeta) -> dict[str, Any]:
    """The values this step submitted the last time it was completed in this case.

    Each instance of a multi-instance step is its own performer's step: only the
    same performer's earlier answer counts there.
    """
    query = (select(AuditEvent.changes).where(AuditEvent.instance_id == task.instance_id,
                                              AuditEvent.type == "task_completed",
                                              AuditEvent.task_spec == task.spec_id)
             .order_by(AuditEvent.seq.desc()).limit(1))
    if meta.multi:
        if task.assigned_user_id is None:
            return {}
        query = query.where(AuditEvent.actor_id == task.assigned_user_id)
    changes = db.session.scalar(query) or {}
    return {key: pair[1] for key, pair in changes.items() if isinstance(pair, list) and len(pair) == 2}


# A round's decision and comment are new words each time: a reviewer approving after a
# send-back must not sign their earlier "please fix" reason again without seeing it.
ROUND_FIELDS = frozenset({"decision", "comment"})


def previous_values(task: HumanTask, meta: TaskMeta, case_data: dict[str, Any]) -> dict[str, Any]:
    """Field id -> this step's previous value: what a completion records as the old value."""
    from_case = prefilled(meta)
    own = earlier_round(task, meta)
    return {ff.id: case_data.get(ff.id) if ff.readonly or ff.id in from_case else own.get(ff.id)
            for ff in meta.form}


def starting_values(task: HumanTask, meta: TaskMeta, case_data: dict[str, Any]) -> dict[str, Any]:
    """Field id -> the value the step's form starts with (None: empty): the step's own
    earlier answer, except its decision and comment, else the field's default."""
    from_case = prefilled(meta)
    values = previous_values(task, meta, case_data)
    for ff in meta.form:
        fresh = ff.id in ROUND_FIELDS and ff.id not in from_case and not ff.readonly
        if fresh or values.get(ff.id) is None:
            values[ff.id] = _default(ff)
    return values


def _default(ff: FormField) -> Any:
    if ff.default in (None, ""):
        return None
    if ff.type == "boolean":
        return ff.default.strip().lower() in ("true", "1", "yes")
    return ff.default


def submitted(start: dict[str, Any], clean: dict[str, Any]) -> dict[str, list[Any]]:
    """Every submitted field as {field: [value the step started from, value submitted]}.

    All of them, equal or not: an approval that repeats an earlier one is still
    this step's decision, and the record must show it.
    """
    return {key: [start.get(key), clean[key]] for key in sorted(clean) if not key.startswith("_")}
