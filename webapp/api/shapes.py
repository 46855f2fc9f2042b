"""The JSON shapes of the API's records (tasks, cases, form fields): one place, so every
operation answers the same shape for the same thing."""

from __future__ import annotations

from typing import Any

from flask import request

from workflows.cases import alerts, commands, definitions, reading
from workflows.engine.clock import now

from ..presenter import alert_rows, case_fields
from ..template_helpers import bilingual, label_context
from . import form_shapes
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


def field(ff: Any, ctx: dict[str, Any] | None = None, values: dict[str, Any] | None = None,
          *, hide_sensitive: bool = False) -> dict[str, Any]:
    """A form field with everything needed to render and check it (``form_shapes``)."""
    return form_shapes.field(ff, ctx, values, hide_sensitive=hide_sensitive)


def warnings(alerts: list[Any]) -> list[dict[str, Any]]:
    return [{"kind": w.kind, "message": w.text, "details": plain(w.details), "link": w.link}
            for w in alert_rows(alerts, api_user())]


def task(row: Any, instance: Any = None, forms: dict[tuple[int, str], list[dict[str, Any]]] | None = None
         ) -> dict[str, Any]:
    """A task of ``instance``, or an inbox row (``instance`` None: the row carries its case's title, process
    and version), as the task list answers it. ``forms`` keeps the form of each (definition, step) once for a
    page of tasks: fifty tasks share a few forms."""
    definition_id = instance.definition_id if instance is not None else row.definition_id
    key = (definition_id, row.spec_id)
    form = forms.get(key) if forms is not None else None
    if form is None:
        built = definitions.built_for(instance.definition) if instance is not None \
            else definitions.built_by_id(row.definition_id, row.definition_sha256)
        meta = built.meta.tasks.get(row.spec_id)
        form = [field(ff) for ff in (meta.form if meta else [])]
        if forms is not None:
            forms[key] = form
    return {
        "id": row.id, "name": bilingual(row.name), "task_key": row.spec_id, "state": row.state,
        "instance_id": row.instance_id, "case_title": instance.title if instance is not None else row.case_title,
        "process_key": instance.process_key if instance is not None else row.process_key,
        "created_at": iso(row.created_at), "due_at": iso(row.due_at),
        "overdue": bool(row.due_at and row.state == "open" and row.due_at < now()),
        "bulk": bool(row.bulk), "form": form,
    }


def task_detail(view: reading.TaskView) -> dict[str, Any]:
    """One task as its page shows it: the form with the values this step starts from and
    options naming the case's people, the case data (the step's revealed fields whole for
    the one who may act), and the warnings to decide with."""
    instance = view.task.instance
    ctx = label_context(instance, view.data)
    out = task(view.task, instance)
    hide = not (view.may_act or view.whole)
    out["form"] = [field(ff, ctx, view.values, hide_sensitive=hide) for ff in view.meta.form]
    rows = case_fields(instance, view.data, view.whole, reveal=view.reveal, for_people=False)
    out["data"] = {row.id: plain(row.value) for row in rows}
    out["warnings"] = warnings(view.alerts)
    out["context"] = task_context(view, rows)
    return out


def task_context(view: reading.TaskView, rows: list[Any]) -> dict[str, Any]:
    """What the step is about and who holds it: the case's title and summary fields (masked as
    its data), the assignee or claimant, the groups it is offered to, created and due dates."""
    t, instance = view.task, view.task.instance
    built = definitions.built_for(instance.definition)
    by_id = {row.id: row for row in rows}
    return {
        "case_id": instance.id, "case_title": instance.title, "process_key": instance.process_key,
        "process_name": bilingual(instance.definition.name), "version": instance.definition.version,
        "started_by": form_shapes.person(instance.started_by),
        "summary": [{"id": key, "label": by_id[key].label, "value": plain(by_id[key].value)}
                    for key in built.meta.summary_fields if key in by_id],
        "assigned_to": form_shapes.person(t.assigned_user), "claimed_by": form_shapes.person(t.claimed_by),
        "candidate_groups": form_shapes.candidate_groups(t),
        "may_act": view.may_act, "created_at": iso(t.created_at), "due_at": iso(t.due_at),
        "escalated_to": form_shapes.person(t.escalated_to),
        "completed_by": form_shapes.person(t.completed_by), "completed_at": iso(t.completed_at),
    }


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


def process(d: Any) -> dict[str, Any]:
    """A deployed process (its latest version) with its start form."""
    built = definitions.built_for(d)
    versions = [{"version": v.version, "deployed_at": iso(v.deployed_at)} for v in definitions.versions(d.key)]
    return {"key": d.key, "name": bilingual(d.name), "latest_version": d.version, "versions": versions,
            "can_start": commands.may_start(api_user(), built),
            "start_form": [field(ff) for ff in built.meta.start_form],
            "start_info": warnings(alerts.info_for_start(built, api_user()))}
