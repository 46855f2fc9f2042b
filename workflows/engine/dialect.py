"""The BPMN dialect the product reads, typed: every Camunda attribute and property a
diagram may carry is parsed here once, into :class:`ProcessMeta`, :class:`TaskMeta`
and :class:`FormField`. Nothing else reads ``camunda:properties``; the README's
dialect section describes these fields one for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from workflows.engine.xml import BPMN_NS, CAMUNDA_NS, NS, DefinitionError, label

FIELD_TYPES = {"string", "long", "boolean", "date", "enum", "text", "decimal", "file"}
CONSTRAINTS = {"minlength", "maxlength", "min", "max", "pattern", "requiredWhen", "accept", "maxsize"}
PEOPLE = ("initiator", "subject")  # whom an assignee or a group's scope starts from


@dataclass(frozen=True)
class CandidateGroup:
    """``support@initiator.department``: a role, optionally scoped to a relation of the case's people."""

    text: str
    role: str
    scope: str | None = None  # "initiator.department"

    @property
    def person(self) -> str | None:
        return self.scope.partition(".")[0] if self.scope else None

    @property
    def relation(self) -> str | None:
        return self.scope.partition(".")[2] if self.scope else None


@dataclass(frozen=True)
class Assignee:
    """``camunda:assignee``: ``=field`` (a username in the data), ``initiator``, ``subject``, or a
    relation of one of them (``initiator.regional_manager``)."""

    text: str
    field: str | None = None
    person: str | None = None
    relation: str | None = None


def parse_group(text: str) -> CandidateGroup:
    """'support@applicant.department' -> role 'support', scope 'applicant.department'."""
    role, _, scope = text.partition("@")
    return CandidateGroup(text, role.strip(), scope.strip() or None)


def parse_assignee(text: str | None) -> Assignee | None:
    if not text:
        return None
    if text.startswith("="):
        return Assignee(text, field=text[1:])
    person, _, relation = text.partition(".")
    return Assignee(text, person=person, relation=relation or None)


@dataclass
class FormField:
    id: str
    label: str
    type: str = "string"
    required: bool = False
    readonly: bool = False
    default: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    constraints: dict[str, str] = field(default_factory=dict)  # as written; the typed ones follow
    required_when: str | None = None  # an expression over the case's data
    sensitive: str | None = None  # field property: "id" or "phone", what to mask
    min_length: int | None = None
    max_length: int | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    pattern: str | None = None
    accept: frozenset[str] = frozenset()  # file extensions, lower case with the dot
    max_size: int | None = None  # bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "label": self.label, "type": self.type, "required": self.required,
            "readonly": self.readonly, "default": self.default,
            "options": [{"id": k, "label": v} for k, v in self.options],
            "constraints": dict(self.constraints), "sensitive": self.sensitive,
        }


@dataclass
class TaskMeta:
    id: str
    name: str
    lane: str | None
    form: list[FormField]
    candidate_groups: tuple[CandidateGroup, ...] = ()
    assignee: Assignee | None = None
    due: str | None = None  # camunda:dueDate, an ISO 8601 duration
    due_working_days: int | None = None  # property dueWorkingDays: due n working days later (branch calendar)
    documentation: str = ""
    multi: bool = False  # a multi-instance task: each instance is its own performer's step
    bulk: bool = False  # may be completed in bulk from the inbox
    not_same_as: tuple[str, ...] = ()  # task ids whose performers may not do this one
    reveal: frozenset[str] = frozenset()  # sensitive fields shown whole to whoever may act
    prefill: frozenset[str] = frozenset()  # fields that start from the case's data ("*": the whole form)
    warnings: tuple[str, ...] = ()  # warning providers shown to whoever decides

    @property
    def groups(self) -> tuple[CandidateGroup, ...]:
        """The candidate groups, else the lane read as a role key."""
        if self.candidate_groups:
            return self.candidate_groups
        return (parse_group(self.lane),) if self.lane else ()


@dataclass
class ProcessMeta:
    process_id: str
    name: str
    start_form: list[FormField]
    tasks: dict[str, TaskMeta]
    lanes: dict[str, str]  # element id -> lane name
    end_events: dict[str, str] = field(default_factory=dict)
    start_lane: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # every named element, for histories
    start_roles: tuple[str, ...] = ()
    business_key: str | None = None  # the start field whose value keys the case
    title_template: str | None = None  # "{client_name}"
    summary_fields: tuple[str, ...] = ()
    start_warnings: tuple[str, ...] = ()
    start_info: tuple[str, ...] = ()  # providers whose facts the start form shows before submitting
    subject_field: str | None = None  # the start field holding the username of the person the case concerns

    @property
    def starter_roles(self) -> tuple[str, ...]:
        """Who may start: ``startRoles``, else the start event's lane; empty means anyone working cases."""
        if self.start_roles:
            return self.start_roles
        return (self.start_lane,) if self.start_lane else ()


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


def _integer(ff: FormField, name: str, owner: str) -> int:
    text = ff.constraints[name]
    try:
        return int(text)
    except ValueError:
        raise DefinitionError(f"form field '{ff.id}': {name} must be a whole number, not {text[:20]!r}",
                              element=owner) from None


def _decimal(ff: FormField, name: str, owner: str) -> Decimal:
    text = ff.constraints[name]
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise DefinitionError(f"form field '{ff.id}': {name} must be a number, not {text[:20]!r}", element=owner)
    return value


def _type_constraints(ff: FormField, owner: str) -> None:
    c = ff.constraints
    ff.required_when = c.get("requiredWhen") or None
    ff.pattern = c.get("pattern") or None
    if c.get("minlength"):
        ff.min_length = _integer(ff, "minlength", owner)
    if c.get("maxlength"):
        ff.max_length = _integer(ff, "maxlength", owner)
    if c.get("maxsize"):
        ff.max_size = _integer(ff, "maxsize", owner)
    if c.get("min") not in (None, "") and ff.type in ("long", "decimal"):
        ff.minimum = _decimal(ff, "min", owner)
    if c.get("max") not in (None, "") and ff.type in ("long", "decimal"):
        ff.maximum = _decimal(ff, "max", owner)
    ff.accept = frozenset(a.strip().lower() for a in c.get("accept", "").split(",") if a.strip())


def _form_fields(node: etree._Element) -> list[FormField]:
    owner = label(node)
    fields: list[FormField] = []
    for xf in node.findall("bpmn:extensionElements/camunda:formData/camunda:formField", NS):
        ftype = xf.get("type") or "string"
        fid = xf.get("id") or ""
        ff = FormField(id=fid, label=xf.get("label") or fid, type=ftype, default=xf.get("defaultValue"))
        for value in xf.findall("camunda:value", NS):
            ff.options.append((value.get("id") or "", value.get("name") or value.get("id") or ""))
        for c in xf.findall("camunda:validation/camunda:constraint", NS):
            name = c.get("name") or ""
            if name == "required":
                ff.required = True
            elif name == "readonly":
                ff.readonly = True
            else:
                ff.constraints[name] = c.get("config") or ""
        properties = {p.get("id") or "": p.get("value") or "" for p in xf.findall("camunda:properties/camunda:property",
                                                                                   NS)}
        ff.sensitive = properties.get("sensitive") or None
        _type_constraints(ff, owner)
        fields.append(ff)
    return fields


def _properties(node: etree._Element) -> dict[str, str]:
    return {
        p.get("name") or "": p.get("value") or ""
        for p in node.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)
    }


def _working_days(props: dict[str, str], owner: str) -> int | None:
    """``dueWorkingDays``: a whole number of working days (its range is a deploy check)."""
    text = props.get("dueWorkingDays", "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,4}", text):
        raise DefinitionError(f"dueWorkingDays must be a whole number of working days, not {text[:20]!r}",
                              element=owner)
    return int(text)


def _task(ut: etree._Element, lanes: dict[str, str]) -> TaskMeta:
    tid = ut.get("id") or ""
    props = _properties(ut)
    groups = tuple(parse_group(g.strip()) for g in (ut.get(f"{{{CAMUNDA_NS}}}candidateGroups") or "").split(",")
                   if g.strip())
    doc = ut.find("bpmn:documentation", NS)
    form = _form_fields(ut)
    prefill = frozenset(_names(props.get("prefill")))
    return TaskMeta(
        id=tid, name=ut.get("name") or tid, lane=lanes.get(tid), form=form, candidate_groups=groups,
        assignee=parse_assignee(ut.get(f"{{{CAMUNDA_NS}}}assignee")), due=ut.get(f"{{{CAMUNDA_NS}}}dueDate"),
        due_working_days=_working_days(props, label(ut)),
        documentation=(doc.text or "").strip() if doc is not None else "",
        multi=ut.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None,
        bulk=props.get("bulk", "").lower() == "true",
        not_same_as=tuple(part for part in re.split(r"[,\s]+", props.get("notSameAs", "")) if part),
        reveal=frozenset(_names(props.get("reveal"))),
        prefill=frozenset(ff.id for ff in form) if "*" in prefill else prefill,
        warnings=_names(props.get("warnings")),
    )


def extract_meta(root: etree._Element) -> ProcessMeta:
    """Forms, assignment and properties of the (first) executable process."""
    processes = root.findall("bpmn:process", NS)
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"] or processes
    if not executable:
        raise DefinitionError("no <process> element found")
    proc = executable[0]
    lanes: dict[str, str] = {}
    for lane in proc.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id") or ""
    start_form: list[FormField] = []
    start_lane = None
    for start in proc.findall("bpmn:startEvent", NS):
        start_form = _form_fields(start) or start_form
        start_lane = lanes.get(start.get("id") or "") or start_lane
    end_events = {e.get("id") or "": e.get("name") or e.get("id") or "" for e in proc.iter(f"{{{BPMN_NS}}}endEvent")}
    tasks = {ut.get("id") or "": _task(ut, lanes) for ut in proc.iter(f"{{{BPMN_NS}}}userTask")}
    props = _properties(proc)
    return ProcessMeta(
        process_id=proc.get("id") or "", name=proc.get("name") or proc.get("id") or "",
        start_form=start_form, tasks=tasks, lanes=lanes, end_events=end_events, start_lane=start_lane,
        names={n.get("id"): n.get("name") for n in proc.iter() if isinstance(n.tag, str) and n.get("id")
               and n.get("name")},
        start_roles=_names(props.get("startRoles")),
        business_key=props.get("businessKey") or None,
        title_template=props.get("titleTemplate") or None,
        summary_fields=_names(props.get("summaryFields")),
        start_warnings=_names(props.get("startWarnings")),
        start_info=_names(props.get("startInfo")),
        subject_field=(props.get("subjectField") or "").strip() or None,
    )
