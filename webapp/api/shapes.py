"""The JSON shapes of the API's records (tasks, cases, form fields): one place, so every
operation answers the same shape for the same thing."""

from __future__ import annotations

from typing import Any

from flask import request

from workflows.cases import definitions, reading
from workflows.engine.clock import now

from ..presenter import alert_rows, case_fields
from ..template_helpers import bilingual, label_context, option_label
from .auth import api_user


def iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def field(ff: Any, ctx: dict[str, Any] | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {"id": ff.id, "label": bilingual(ff.label), "type": ff.type, "required": ff.required,
           "options": [{"id": k, "label": option_label(v, ctx)} for k, v in ff.options]}
    if values is not None:
        out["value"] = plain(values.get(ff.id))
    return out


def warnings(alerts: list[Any]) -> list[dict[str, Any]]:
    return [{"kind": w.kind, "message": w.text, "details": plain(w.details), "link": w.link}
            for w in alert_rows(alerts, api_user())]


def task(row: Any, instance: Any) -> dict[str, Any]:
    """A task (or an inbox row) of ``instance`` as the task list answers it."""
    meta = definitions.built_for(instance.definition).meta.tasks.get(row.spec_id)
    return {
        "id": row.id, "name": bilingual(row.name), "task_key": row.spec_id, "state": row.state,
        "instance_id": row.instance_id, "case_title": instance.title, "process_key": instance.process_key,
        "created_at": iso(row.created_at), "due_at": iso(row.due_at),
        "overdue": bool(row.due_at and row.state == "open" and row.due_at < now()),
        "bulk": bool(row.bulk), "form": [field(ff) for ff in (meta.form if meta else [])],
    }


def task_detail(view: reading.TaskView) -> dict[str, Any]:
    """One task as its page shows it: the form with the values this step starts from and
    options naming the case's people, the case data (the step's revealed fields whole for
    the one who may act), and the warnings to decide with."""
    instance = view.task.instance
    ctx = label_context(instance, view.data)
    out = task(view.task, instance)
    out["form"] = [field(ff, ctx, view.values) for ff in view.meta.form]
    out["data"] = {row.id: plain(row.value)
                   for row in case_fields(instance, view.data, view.whole, reveal=view.reveal, for_people=False)}
    out["warnings"] = warnings(view.alerts)
    return out


def instance(case: Any) -> dict[str, Any]:
    return summary(reading.case_summary(case, api_user(), request.remote_addr))


def summary(view: reading.CaseSummary) -> dict[str, Any]:
    """A case as every operation answers it, from what the read function gave."""
    case, data, whole = view.instance, view.data, view.whole
    return {
        "id": case.id, "process_key": case.process_key, "version": case.definition.version,
        "title": case.title, "status": case.status, "outcome": case.outcome,
        "started_by": case.started_by.username if case.started_by else None,
        "origin": case.origin, "started_at": iso(case.started_at),
        "ended_at": iso(case.ended_at),
        "data": {row.id: plain(row.value)
                 for row in case_fields(case, data, whole, for_people=False)},
        "open_tasks": [{"id": t.id, "name": bilingual(t.name), "task_key": t.spec_id} for t in view.open_tasks],
    }
