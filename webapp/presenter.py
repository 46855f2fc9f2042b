"""Turning case data and audit events into rows for pages, with masking.

Formatting only: what to read and who may see it whole come from ``workflows.cases.reading``;
nothing here queries or writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from workflows import processes
from workflows.cases import decision_log, reading
from workflows.cases.alerts import Alert
from workflows.cases.definitions import built_for
from workflows.cases.step_values import prefilled
from workflows.engine.specs import BuiltDefinition
from workflows.errors import Msg

from .i18n import tr
from .template_helpers import (
    amount,
    bilingual,
    day,
    event_label,
    label_context,
    mask,
    moment_format,
    option_label,
    role_name,
)


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
            catalog[ff.id] = (ff.label, ff.type, ff.sensitive, dict(ff.options))
    return catalog


def step_catalog(built: BuiltDefinition, spec_id: str | None,
                 general: dict[str, tuple[str, str, str | None, dict[str, str]]] | None = None,
                 ) -> dict[str, tuple[str, str, str | None, dict[str, str]]]:
    """The catalog as one step reads it: that step's own labels and options first, so
    a decision is labelled with the options of the step that made it."""
    catalog = dict(general if general is not None else field_catalog(built))
    meta = built.meta.tasks.get(spec_id) if spec_id else None
    for ff in meta.form if meta is not None else []:
        catalog[ff.id] = (ff.label, ff.type, ff.sensitive, dict(ff.options))
    return catalog


def step_words(built: BuiltDefinition) -> set[str]:
    """Field ids several steps answer for themselves (``decision``, ``comment``): each
    step's words, read in the history with that step's labels, not case data."""
    seen: dict[str, int] = {}
    for ff in built.meta.start_form:
        seen[ff.id] = seen.get(ff.id, 0) + 1
    for meta in built.meta.tasks.values():
        taken = prefilled(meta)  # a revising step edits the case's data, it adds no words of its own
        for ff in meta.form:
            if ff.id not in taken and not ff.readonly:
                seen[ff.id] = seen.get(ff.id, 0) + 1
    return {key for key, count in seen.items() if count > 1}


def case_fields(instance: Any, data: dict[str, Any], whole: bool, reveal: set[str] | None = None,
                for_people: bool = True) -> list[FieldRow]:
    """The case's data for display: masked unless the task needs it or the reader sees records
    ``whole`` (an auditor; the read function that said so logged the look)."""
    built = built_for(instance.definition)
    catalog = field_catalog(built)
    own_words = step_words(built) if for_people else set()
    ctx = label_context(instance, data)
    rows = []
    for key, (label, ftype, sensitive, options) in catalog.items():
        if key not in data or key in own_words:
            continue
        value = data[key]
        if not for_people:
            pass  # machines get the stored values (masked all the same)
        elif ftype == "enum" and value in options:
            value = option_label(options[value], ctx)
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
    "outcome": _l("Outcome"), "to": _l("To"), "violation": _l("Violation"), "task": _l("Task"),
    "escalated_to": _l("Escalated to"), "reminded": _l("Reminded"), "warnings": _l("Warnings seen and confirmed"),
    "started_by_system": _l("Started by the system"), "inputs": _l("Values the rule read"),
    "outputs": _l("Rule result"),
}  # and each family's change keys (Family.labels), merged in history_rows


def _shown(key: str, value: Any, options: dict[str, str], names: dict[str, str],
           ctx: dict[str, Any] | None = None) -> Any:
    """A recorded value as a person reads it: names instead of ids, yes/no, option labels."""
    if value is None:
        return None
    if key == "warnings" and isinstance(value, list):
        return " ".join(_warning_text(w) for w in value)
    if key == "path" and isinstance(value, list):
        return " → ".join(bilingual(names.get(v, v)) for v in value)
    if key == "groups" and isinstance(value, list):
        shown = []
        for g in value:
            role, _, scope = str(g).partition("@")
            shown.append(role_name(role) + (f" ({scope})" if scope else ""))
        return ", ".join(shown)
    if key in ("inputs", "outputs") and isinstance(value, dict):
        return ", ".join(f"{k} = {_plain(v)}" for k, v in value.items())
    if key == "rules" and isinstance(value, list):
        return "; ".join(f"{r.get('id')} {bilingual(r.get('description') or '')}".strip()
                         for r in value if isinstance(r, dict))
    if key == "outcome" and isinstance(value, str):
        return bilingual(names.get(value, value))
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dict) and "filename" in value:
        return value["filename"]
    if options and isinstance(value, str) and value in options:
        return option_label(options[value], ctx)
    return value


def _plain(value: Any) -> str:
    """A value a decision read or gave, as written in a table (dates and decimals as themselves)."""
    value = decision_log.decode(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _warning_text(warning: Any) -> str:
    if isinstance(warning, dict) and warning.get("template"):
        try:
            return tr(Msg(str(warning["template"]), **(warning.get("params") or {})))
        except (KeyError, ValueError, TypeError):
            return str(warning["template"])
    return str(warning)


@dataclass
class Change:
    """One recorded change as a history reader may see it."""

    key: str  # the field id (or a system/family change key)
    label: str  # in the reader's language
    old: Any  # as stored, masked where the reader may not see it whole
    new: Any
    shown_old: Any  # as people read it: names, option labels, yes/no
    shown_new: Any


@dataclass
class HistoryRow:
    event: Any  # the audit event
    entries: list[Change]
    when: str = ""  # the event's moment, what happened and at which step, in the reader's language
    what: str = ""
    step: str = ""

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        """(label, old, new) as the history table shows them."""
        return [(c.label, c.shown_old, c.shown_new) for c in self.entries]


def history_rows(instance: Any, events: list[Any], whole: bool,
                 data: dict[str, Any] | None = None) -> list[HistoryRow]:
    """Events as people read them; ``data`` (the case's) fills names into option labels.

    A long history repeats the same labels, steps and words: each is put into the reader's
    language once per call (a 900-event page would otherwise translate tens of thousands of times)."""
    if not events:
        return []
    memo: dict[Any, Any] = {}
    labels: dict[tuple[str, str], str] = {}
    words: dict[tuple[str, str], str] = {}
    moment = moment_format()
    built = built_for(instance.definition)
    general = field_catalog(built)
    catalogs: dict[str | None, dict[str, tuple[str, str, str | None, dict[str, str]]]] = {}
    ctx = label_context(instance, data if data is not None else {})
    names = built.meta.names
    family_labels = processes.labels()
    rows = []
    for ev in events:
        if ev.task_spec not in catalogs:
            catalogs[ev.task_spec] = step_catalog(built, ev.task_spec, general)
        catalog = catalogs[ev.task_spec]
        changes = []
        for key, pair in (ev.changes or {}).items():
            if key.startswith("_"):
                continue  # facts kept for verification only
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            if old in (None, "") and new in (None, ""):
                continue  # a field left empty: nothing to read
            if key == "comment" and ev.type == "task_completed":
                continue  # the step's own comment has its own column
            label, _t, sensitive, options = catalog.get(key, (key, "", None, {}))
            if key == "inputs" and isinstance(new, dict) and not whole:  # what a decision read: masked as fields
                new = {k: mask(v, catalog[k][2]) if k in catalog and catalog[k][2] and v else v
                       for k, v in new.items()}
            if sensitive and not whole:
                old, new = mask(old, sensitive) if old else old, mask(new, sensitive) if new else new
            shown_pair = []
            for value in (old, new):
                if value is None or not isinstance(value, (str, bool, list)):
                    shown_pair.append(None if value is None else _shown(key, value, options, names, ctx))
                    continue
                # a long history repeats the same words: each is worded once (lists of names too)
                memo_key = (key, value.__class__, tuple(map(str, value)) if isinstance(value, list) else value,
                            id(options))
                if memo_key not in memo:
                    memo[memo_key] = _shown(key, value, options, names, ctx)
                shown_pair.append(memo[memo_key])
            shown_old, shown_new = shown_pair
            if (key, label) not in labels:
                labels[key, label] = _label(key, label, family_labels)
            changes.append(Change(key, labels[key, label], old, new, shown_old, shown_new))
        if ("what", ev.type) not in words:
            words["what", ev.type] = event_label(ev.type)
        if ("step", ev.task_name) not in words:
            words["step", ev.task_name] = bilingual(ev.task_name) if ev.task_name else ""
        rows.append(HistoryRow(ev, changes, moment(ev.at), words["what", ev.type], words["step", ev.task_name]))
    return rows


def _label(key: str, label: str, family_labels: dict[str, str]) -> str:
    if key in SYSTEM_FIELDS:
        return bilingual(str(SYSTEM_FIELDS[key]))
    if key in family_labels:
        return bilingual(gettext(family_labels[key]))
    return bilingual(label)


@dataclass
class AlertRow:
    kind: str
    text: str
    details: dict[str, Any]
    link: str | None  # only to a case the reader may open


def alert_rows(found: list[Alert], viewer: Any) -> list[AlertRow]:
    """Warnings in the reader's language, each linking to its case when the reader may open it."""
    openable = reading.openable(viewer, (alert.case_id for alert in found))
    return [AlertRow(alert.kind, tr(alert.message), dict(alert.details),
                     url_for("cases.case_page", instance_id=alert.case_id) if alert.case_id in openable else None)
            for alert in found]
