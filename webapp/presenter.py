"""Turning case data and audit events into rows for pages, with masking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from workflows import audit
from workflows.access import is_participant, sees_whole_records
from workflows.db import db
from workflows.definitions import built_for
from workflows.models import AuditEvent, ProcessInstance, User
from workflows.parser import BuiltDefinition

from .template_helpers import amount, bilingual, day, mask, role_name


@dataclass
class FieldRow:
    id: str
    label: str
    value: Any
    type: str
    sensitive: str | None


def field_catalog(built: BuiltDefinition) -> dict[str, tuple[str, str, str | None, dict[str, str]]]:
    """field id -> (label, type, sensitive kind, option labels) across the whole process."""
    catalog: dict[str, tuple[str, str, str | None, dict[str, str]]] = {}
    for ff in built.meta.start_form + [ff for t in built.meta.tasks.values() for ff in t.form]:
        if ff.id not in catalog:
            catalog[ff.id] = (ff.label, ff.type, ff.properties.get("sensitive"), dict(ff.options))
    return catalog


def sensitive_fields(instance: ProcessInstance) -> dict[str, str]:
    return {k: v[2] for k, v in field_catalog(built_for(instance.definition)).items() if v[2]}


def case_fields(instance: ProcessInstance, data: dict[str, Any], user: User,
                reveal: set[str] | None = None, for_people: bool = True) -> list[FieldRow]:
    """The case's data for display: masked unless the task needs it or the user audits."""
    catalog = field_catalog(built_for(instance.definition))
    whole = sees_whole_records(user)
    if whole and not is_participant(user, instance):
        audit.security("record_viewed", user=user, ip=request.remote_addr if request else None,
                       detail=f"case {instance.id} viewed whole")
        db.session.commit()
    rows = []
    for key, (label, ftype, sensitive, options) in catalog.items():
        if key not in data:
            continue
        value = data[key]
        if not for_people:
            pass  # machines get the stored values (masked all the same)
        elif ftype == "enum" and value in options:
            value = bilingual(options[value])
        elif ftype == "decimal" and value is not None:
            value = amount(value)
        elif ftype == "date" and value:
            value = day(value)
        if sensitive and not whole and key not in (reveal or set()):
            value = mask(value, sensitive)
        rows.append(FieldRow(key, bilingual(label), value, ftype, sensitive))
    return rows


SYSTEM_FIELDS = {
    "path": _l("Steps passed"), "assignee": _l("Assignee"), "groups": _l("Groups"), "rules": _l("Rules fired"),
    "outcome": _l("Outcome"), "to": _l("To"), "to_user_id": _l("To"), "owner": _l("Owner"),
    "registry_entry": _l("Registry entry"), "violation": _l("Violation"), "task": _l("Task"),
    "escalated_to": _l("Escalated to"),
}


def _shown(key: str, value: Any, options: dict[str, str], names: dict[str, str]) -> Any:
    """A recorded value as a person reads it: names instead of ids, yes/no, option labels."""
    if value is None:
        return None
    if key == "path" and isinstance(value, list):
        return " → ".join(bilingual(names.get(v, v)) for v in value)
    if key == "groups" and isinstance(value, list):
        shown = []
        for g in value:
            role, _, scope = str(g).partition("@")
            shown.append(role_name(role) + (f" ({scope})" if scope else ""))
        return ", ".join(shown)
    if key == "rules" and isinstance(value, list):
        return "; ".join(f"{r.get('id')} {r.get('description') or ''}".strip() for r in value if isinstance(r, dict))
    if key == "outcome" and isinstance(value, str):
        return bilingual(names.get(value, value))
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dict) and "filename" in value:
        return value["filename"]
    if options and isinstance(value, str) and value in options:
        return bilingual(options[value])
    return value


@dataclass
class HistoryRow:
    event: AuditEvent
    changes: list[tuple[str, Any, Any]]


def history_rows(events: list[AuditEvent], user: User) -> list[HistoryRow]:
    if not events:
        return []
    instance = db.session.get(ProcessInstance, events[0].instance_id)
    assert instance is not None
    built = built_for(instance.definition)
    catalog = field_catalog(built)
    names = built.meta.names
    whole = sees_whole_records(user)
    rows = []
    for ev in events:
        changes = []
        for key, pair in (ev.changes or {}).items():
            if key.startswith("_"):
                continue  # facts kept for verification only
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            label, _t, sensitive, options = catalog.get(key, (key, "", None, {}))
            if sensitive and not whole:
                old, new = mask(old, sensitive) if old else old, mask(new, sensitive) if new else new
            old, new = _shown(key, old, options, names), _shown(key, new, options, names)
            changes.append((bilingual(SYSTEM_FIELDS.get(key, label)), old, new))
        rows.append(HistoryRow(ev, changes))
    return rows
