"""Reading BPMN/DMN safely, building SpiffWorkflow specs, and validating them.

Parsing is not validation: SpiffWorkflow reports many errors only when a spec is
built, and some as plain KeyError. Everything here turns problems into a
:class:`DefinitionError` whose message names the element.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from workflows.engine.durations import DurationError, check_timer_value, parse_duration
from workflows.engine.sandbox import UnsafeExpression, allowed_call_names, check_expression, check_script

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
)
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
MAX_XML_BYTES = 2_000_000
RESERVED_IDS = {"Start", "End", "Root"}
CONSTRAINTS = {"minlength", "maxlength", "min", "max", "pattern", "requiredWhen", "accept", "maxsize"}
FIELD_TYPES = {"string", "long", "boolean", "date", "enum", "text", "decimal", "file"}


class DefinitionError(ValueError):
    """A diagram that cannot be deployed; ``element`` names the culprit."""

    def __init__(self, message: str, element: str | None = None, filename: str | None = None) -> None:
        self.element = element
        self.filename = filename
        where = f"{filename}: " if filename else ""
        what = f"element '{element}': " if element else ""
        super().__init__(f"{where}{what}{message}")


_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def parse_xml(text: str | bytes, filename: str) -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network, bounded size."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_XML_BYTES:
        raise DefinitionError(f"file larger than {MAX_XML_BYTES // 1000} kB", filename=filename)
    if re.search(rb"<!DOCTYPE|<!ENTITY", raw, re.IGNORECASE):
        raise DefinitionError("DOCTYPE and ENTITY declarations are not allowed", filename=filename)
    try:
        root = etree.fromstring(raw, parser=_SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError(f"not well-formed XML: {exc}", filename=filename) from None
    if root is None:
        raise DefinitionError("empty document", filename=filename)
    return root


def _label(node: etree._Element) -> str:
    node_id = node.get("id")
    name = node.get("name")
    if node_id and name:
        return f"{node_id} ({name})"
    return node_id or name or etree.QName(node).localname


def _owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor that carries an id: the element a designer recognises."""
    current: etree._Element | None = node
    while current is not None and current.get("id") is None:
        current = current.getparent()
    return current if current is not None else node


# --- form and assignment metadata -------------------------------------------


@dataclass
class FormField:
    id: str
    label: str
    type: str = "string"
    required: bool = False
    readonly: bool = False
    default: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    constraints: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "label": self.label, "type": self.type, "required": self.required,
            "readonly": self.readonly, "default": self.default,
            "options": [{"id": k, "label": v} for k, v in self.options],
            "constraints": dict(self.constraints), "properties": dict(self.properties),
        }


@dataclass
class TaskMeta:
    id: str
    name: str
    lane: str | None
    form: list[FormField]
    candidate_groups: list[str]
    assignee: str | None
    due: str | None
    properties: dict[str, str]
    documentation: str = ""
    multi: bool = False  # a multi-instance task: each instance is its own performer's step


@dataclass
class ProcessMeta:
    process_id: str
    name: str
    start_form: list[FormField]
    tasks: dict[str, TaskMeta]
    lanes: dict[str, str]  # element id -> lane name
    properties: dict[str, str] = field(default_factory=dict)
    end_events: dict[str, str] = field(default_factory=dict)
    start_lane: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # every named element, for histories


def _form_fields(node: etree._Element) -> list[FormField]:
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
        for p in xf.findall("camunda:properties/camunda:property", NS):
            ff.properties[p.get("id") or ""] = p.get("value") or ""
        fields.append(ff)
    return fields


def _properties(node: etree._Element) -> dict[str, str]:
    return {
        p.get("name") or "": p.get("value") or ""
        for p in node.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)
    }


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
    tasks: dict[str, TaskMeta] = {}
    for ut in proc.iter(f"{{{BPMN_NS}}}userTask"):
        tid = ut.get("id") or ""
        groups = [g.strip() for g in (ut.get(f"{{{CAMUNDA_NS}}}candidateGroups") or "").split(",") if g.strip()]
        doc = ut.find("bpmn:documentation", NS)
        tasks[tid] = TaskMeta(
            id=tid, name=ut.get("name") or tid, lane=lanes.get(tid), form=_form_fields(ut),
            candidate_groups=groups, assignee=ut.get(f"{{{CAMUNDA_NS}}}assignee"),
            due=ut.get(f"{{{CAMUNDA_NS}}}dueDate"), properties=_properties(ut),
            documentation=(doc.text or "").strip() if doc is not None else "",
            multi=ut.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None,
        )
    return ProcessMeta(
        process_id=proc.get("id") or "", name=proc.get("name") or proc.get("id") or "",
        start_form=start_form, tasks=tasks, lanes=lanes, properties=_properties(proc),
        end_events=end_events, start_lane=start_lane,
        names={n.get("id"): n.get("name") for n in proc.iter() if isinstance(n.tag, str) and n.get("id")
               and n.get("name")},
    )


# --- SpiffWorkflow spec building -------------------------------------------


class RecordingDMNEngine(DMNEngine):
    """Notes which rules fired so the audit trail can show the auditor."""

    def decide(self, task):  # type: ignore[no-untyped-def]
        rules = super().decide(task)
        log = getattr(task.workflow.script_engine, "decisions", None)
        if log is not None:
            log.append({
                "task": task.task_spec.bpmn_id,
                "table": getattr(self.decision_table, "name", None) or self.decision_table.id,
                "rules": [{"id": r.id, "row": r.row_number, "description": r.description} for r in rules],
            })
        return rules


class _BusinessRuleTaskParser(BusinessRuleTaskParser):
    @staticmethod
    def get_decision_ref(node):  # type: ignore[no-untyped-def]
        """The decision a business rule task runs; SpiffWorkflow reads it (as a raw KeyError
        when missing) while collecting dependencies, before any task is built."""
        ref = (node.get(f"{{{CAMUNDA_NS}}}decisionRef") or "").strip()
        if not ref:
            raise ValidationException("a business rule task needs camunda:decisionRef naming a DMN decision",
                                      node=node)
        return ref


class BranchParser(CamundaParser):
    """CamundaParser with a clear error for business rule tasks lacking a decision."""

    OVERRIDE_PARSER_CLASSES = dict(CamundaParser.OVERRIDE_PARSER_CLASSES)
    key = f"{{{BPMN_NS}}}businessRuleTask"
    OVERRIDE_PARSER_CLASSES[key] = (_BusinessRuleTaskParser, OVERRIDE_PARSER_CLASSES[key][1])


@dataclass
class BuiltDefinition:
    key: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    meta: ProcessMeta


def build(bpmn_xml: str, dmn_xml: dict[str, str], filename: str = "process.bpmn") -> BuiltDefinition:
    """Parse and build the specs, turning every failure into a DefinitionError."""
    root = parse_xml(bpmn_xml, filename)
    if etree.QName(root).namespace != BPMN_NS or etree.QName(root).localname != "definitions":
        raise DefinitionError("root element must be bpmn:definitions", filename=filename)
    dmn_roots = {name: parse_xml(text, name) for name, text in dmn_xml.items()}
    meta = extract_meta(root)
    parser = BranchParser()
    current = filename
    try:
        parser.add_bpmn_xml(root, filename)
        for name, droot in dmn_roots.items():
            current = name
            parser.add_dmn_xml(droot, name)
        current = filename
        spec = parser.get_spec(meta.process_id)
        subprocess_specs = parser.get_subprocess_specs(meta.process_id)
    except ValidationException as exc:
        element = getattr(exc, "id", None) or getattr(exc, "name", None)
        raise DefinitionError(_first_line(exc), element=element, filename=current) from None
    except SpiffWorkflowException as exc:
        raise DefinitionError(_first_line(exc), filename=current) from None
    except (KeyError, NameError, AttributeError, TypeError, ValueError, IndexError) as exc:
        raise DefinitionError(f"invalid diagram ({type(exc).__name__}: {exc})", filename=current) from None
    for task_spec in list(spec.task_specs.values()) + [
        ts for sp in subprocess_specs.values() for ts in sp.task_specs.values()
    ]:
        engine = getattr(task_spec, "dmnEngine", None)
        if engine is not None:
            engine.__class__ = RecordingDMNEngine
    return BuiltDefinition(meta.process_id, meta.name, spec, subprocess_specs, meta)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


# --- deploy-time checks -----------------------------------------------------


def check_bpmn(bpmn_xml: str, dmn_xml: dict[str, str], role_keys: set[str], filename: str,
               functions: Callable[[str], Collection[str]] = lambda key: ()) -> BuiltDefinition:
    """Everything a diagram must satisfy before it can be deployed. ``functions`` names
    what a diagram of the given process key may call beyond the pure built-ins."""
    root = parse_xml(bpmn_xml, filename)
    _check_no_markup(root, filename)
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") in RESERVED_IDS:
            raise DefinitionError(f"the id '{node.get('id')}' is reserved by the engine; rename the element",
                                  element=_label(node), filename=filename)
    built = build(bpmn_xml, dmn_xml, filename)
    calls = allowed_call_names(functions(built.key))
    _check_bpmn_expressions(root, filename, calls)
    for name, text in dmn_xml.items():
        _check_dmn_expressions(parse_xml(text, name), name, calls)
    _check_assignments(built.meta, role_keys, filename)
    _check_runnable(root, built.meta, role_keys, filename)
    _check_gateways(root, filename)
    _check_forms(built.meta, filename)
    _check_due_dates(built.meta, filename)
    return built


ACTIVE_NAMESPACES = {"http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg",
                     "http://www.w3.org/1999/xlink", "http://www.w3.org/1998/Math/MathML"}


def _check_no_markup(root: etree._Element, filename: str) -> None:
    """Refuse anything a browser could run if the file were ever displayed: HTML/SVG
    elements, <script> outside a BPMN script task, on* handlers, javascript: links."""
    for node in root.iter():
        if not isinstance(node.tag, str):
            if isinstance(node, etree._ProcessingInstruction):
                raise DefinitionError("processing instructions are not allowed", element=_label(_owner(node)),
                                      filename=filename)
            continue
        qname = etree.QName(node)
        is_bpmn_script = qname.namespace == BPMN_NS and qname.localname == "script"
        if qname.namespace in ACTIVE_NAMESPACES or (qname.localname.lower() == "script" and not is_bpmn_script):
            raise DefinitionError("HTML, SVG and script elements are not allowed in a diagram",
                                  element=_label(_owner(node)), filename=filename)
        for attr, value in node.attrib.items():
            local = etree.QName(attr).localname.lower()
            if local.startswith("on") or "javascript:" in value.replace(" ", "").lower():
                raise DefinitionError(f"attribute '{local}' is not allowed", element=_label(_owner(node)),
                                      filename=filename)


def _check(text: str | None, node: etree._Element, filename: str, calls: set[str], script: bool = False) -> None:
    if text is None or not text.strip():
        return
    try:
        if script:
            check_script(text, calls)
        else:
            check_expression(text, calls)
    except SyntaxError as exc:
        raise DefinitionError(f"expression is not valid: {text.strip()!r} ({exc.msg})",
                              element=_label(_owner(node)), filename=filename) from None
    except UnsafeExpression as exc:
        raise DefinitionError(f"expression refused, {exc}: {text.strip()!r}",
                              element=_label(_owner(node)), filename=filename) from None


def _check_bpmn_expressions(root: etree._Element, filename: str, calls: set[str]) -> None:
    for node in root.iter(f"{{{BPMN_NS}}}conditionExpression", f"{{{BPMN_NS}}}completionCondition",
                          f"{{{BPMN_NS}}}loopCardinality", f"{{{BPMN_NS}}}timeDuration",
                          f"{{{BPMN_NS}}}timeDate", f"{{{BPMN_NS}}}timeCycle"):
        _check(node.text, node, filename, calls)
    for node in root.iter(f"{{{BPMN_NS}}}timeDuration", f"{{{BPMN_NS}}}timeDate", f"{{{BPMN_NS}}}timeCycle"):
        _check_timer(node, filename)
    for node in root.iter(f"{{{BPMN_NS}}}scriptTask"):
        fmt = (node.get("scriptFormat") or "python").lower()
        if fmt not in ("python", ""):
            raise DefinitionError(f"script format '{fmt}' is not supported", element=_label(node), filename=filename)
        script = node.find("bpmn:script", NS)
        _check(script.text if script is not None else None, node, filename, calls, script=True)
    for node in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        coll = node.get(f"{{{CAMUNDA_NS}}}collection")
        if coll:
            _check(coll, node, filename, calls)
    for node in root.iter(f"{{{CAMUNDA_NS}}}script", f"{{{CAMUNDA_NS}}}executionListener",
                          f"{{{CAMUNDA_NS}}}taskListener", f"{{{CAMUNDA_NS}}}connector"):
        raise DefinitionError("listeners, connectors and inline Camunda scripts are not allowed",
                              element=_label(_owner(node)), filename=filename)
    for node in root.iter(f"{{{BPMN_NS}}}serviceTask", f"{{{BPMN_NS}}}sendTask"):
        raise DefinitionError("service and send tasks are not supported; use a script task calling a helper",
                              element=_label(node), filename=filename)


def _check_timer(node: etree._Element, filename: str) -> None:
    """A constant timer must parse and stay within the bound now, not spin a worker later;
    one computed from case data is bounded when it runs (workflows.durations)."""
    text = (node.text or "").strip()
    if not text:
        raise DefinitionError("the timer has no value; write a quoted duration such as \"PT1H\"",
                              element=_label(_owner(node)), filename=filename)
    if re.fullmatch(r"(R\d*/)?P[0-9YMWDTHS.,]+", text, re.IGNORECASE):
        raise DefinitionError(f"quote the timer value: \"{text[:40]}\"", element=_label(_owner(node)),
                              filename=filename)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return  # an expression over case data: bounded at run time
    try:
        check_timer_value(etree.QName(node).localname, value)
    except DurationError as exc:
        raise DefinitionError(str(exc), element=_label(_owner(node)), filename=filename) from None


def _check_dmn_expressions(root: etree._Element, filename: str, calls: set[str]) -> None:
    for ns in DMN_NAMESPACES:
        for node in root.iter(f"{{{ns}}}inputExpression"):
            text = node.find(f"{{{ns}}}text")
            _check(text.text if text is not None else None, node, filename, calls)
        for node in root.iter(f"{{{ns}}}outputEntry"):
            text = node.find(f"{{{ns}}}text")
            _check(text.text if text is not None else None, node, filename, calls)
        for node in root.iter(f"{{{ns}}}inputEntry"):
            text = node.find(f"{{{ns}}}text")
            value = (text.text or "").strip() if text is not None else ""
            if not value or value == "-":
                continue
            candidate = value.replace("?", "x") if "?" in value else value
            try:
                check_expression(candidate, calls)
            except SyntaxError:
                _check(f"x {value}", node, filename, calls)  # an entry such as '< 18'
            except UnsafeExpression as exc:
                raise DefinitionError(f"expression refused, {exc}: {value!r}",
                                      element=_label(_owner(node)), filename=filename) from None


ASSIGNEE_RELATIONS = {"initiator", "subject"}
RELATIONS = {"team_leader", "regional_manager", "project_director", "superior", "department"}


def parse_group(text: str) -> tuple[str, str | None]:
    """'support@applicant.department' -> ('support', 'applicant.department')."""
    role, _, scope = text.partition("@")
    return role.strip(), (scope.strip() or None)


def _check_assignments(meta: ProcessMeta, role_keys: set[str], filename: str) -> None:
    for task in meta.tasks.values():
        label = f"{task.id} ({task.name})"
        if task.assignee and task.assignee.startswith("="):
            if not re.fullmatch(r"=[A-Za-z][A-Za-z0-9_]*", task.assignee):
                raise DefinitionError(f"assignee '{task.assignee}' must name a data field", element=label,
                                      filename=filename)
            continue
        if task.assignee:
            who, _, relation = task.assignee.partition(".")
            if who not in ASSIGNEE_RELATIONS or (relation and relation not in RELATIONS):
                raise DefinitionError(f"unknown assignee '{task.assignee}'", element=label, filename=filename)
            continue
        groups = task.candidate_groups or ([task.lane] if task.lane else [])
        if not groups:
            raise DefinitionError("user task has no lane, candidate group or assignee", element=label,
                                  filename=filename)
        for group in groups:
            role, scope = parse_group(group)
            if role not in role_keys:
                raise DefinitionError(f"unknown role '{role}'", element=label, filename=filename)
            if scope:
                who, _, relation = scope.partition(".")
                if who not in ASSIGNEE_RELATIONS or relation not in RELATIONS:
                    raise DefinitionError(f"unknown scope '{scope}'", element=label, filename=filename)


NOBODY_RUNS = {
    "task": "nobody could ever complete a plain task; make it a user task (with a lane, candidate group or "
            "assignee) or a script task",
    "manualTask": "nobody could ever complete a manual task; make it a user task with a lane, candidate group "
                  "or assignee",
    "receiveTask": "a receive task waits for a message nothing can send; use a user task or a timer",
}


def _check_runnable(root: etree._Element, meta: ProcessMeta, role_keys: set[str], filename: str) -> None:
    """Diagrams that build but could never run: steps nobody can complete, and a process
    nobody may start (its start roles, or the lane of its start event, must be roles)."""
    proc = next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == meta.process_id), root)
    for kind, message in NOBODY_RUNS.items():
        for node in proc.iter(f"{{{BPMN_NS}}}{kind}"):
            raise DefinitionError(message, element=_label(node), filename=filename)
    start_roles = [r.strip() for r in meta.properties.get("startRoles", "").split(",") if r.strip()]
    for role in start_roles:
        if role not in role_keys:
            raise DefinitionError(f"startRoles names unknown role '{role}'",
                                  element=f"{meta.process_id} ({meta.name})", filename=filename)
    if start_roles:
        return
    starts = {s.get("id") for s in proc.findall("bpmn:startEvent", NS)}
    for lane in proc.iter(f"{{{BPMN_NS}}}lane"):
        refs = {(r.text or "").strip() for r in lane.findall("bpmn:flowNodeRef", NS)}
        name = (lane.get("name") or "").strip()
        if refs & starts and name not in role_keys:
            raise DefinitionError(f"the start event lies in lane '{name or lane.get('id')}', which names no role: "
                                  "nobody could start the process; name the lane after a role or set startRoles",
                                  element=_label(lane), filename=filename)


def _check_gateways(root: etree._Element, filename: str) -> None:
    flows = {f.get("id"): f for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    for gw in root.iter(f"{{{BPMN_NS}}}exclusiveGateway", f"{{{BPMN_NS}}}inclusiveGateway"):
        outgoing = [f for f in flows.values() if f.get("sourceRef") == gw.get("id")]
        if len(outgoing) < 2:
            continue
        default = gw.get("default")
        for flow in outgoing:
            if flow.get("id") != default and flow.find("bpmn:conditionExpression", NS) is None:
                raise DefinitionError(
                    f"outgoing flow '{flow.get('id')}' has no condition and is not the default",
                    element=_label(gw), filename=filename)


def _check_due_dates(meta: ProcessMeta, filename: str) -> None:
    for task in meta.tasks.values():
        if task.due:
            try:
                parse_duration(task.due)
            except DurationError as exc:
                raise DefinitionError(f"due date: {exc}", element=f"{task.id} ({task.name})",
                                      filename=filename) from None


def _check_forms(meta: ProcessMeta, filename: str) -> None:
    for owner, fields in [("start event", meta.start_form)] + [
        (f"{t.id} ({t.name})", t.form) for t in meta.tasks.values()
    ]:
        seen: set[str] = set()
        for ff in fields:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,59}", ff.id):
                raise DefinitionError(f"form field id '{ff.id}' must be a plain identifier", element=owner,
                                      filename=filename)
            if ff.id in seen:
                raise DefinitionError(f"form field '{ff.id}' appears twice", element=owner, filename=filename)
            seen.add(ff.id)
            if ff.type not in FIELD_TYPES:
                raise DefinitionError(f"form field '{ff.id}' has unknown type '{ff.type}'", element=owner,
                                      filename=filename)
            if ff.type == "enum" and not ff.options:
                raise DefinitionError(f"enum field '{ff.id}' has no values", element=owner, filename=filename)
            for name, config in ff.constraints.items():
                if name not in CONSTRAINTS:
                    raise DefinitionError(f"form field '{ff.id}' has unknown constraint '{name}'", element=owner,
                                          filename=filename)
                if name == "requiredWhen":
                    try:
                        check_expression(config)
                    except (SyntaxError, UnsafeExpression) as exc:
                        raise DefinitionError(f"form field '{ff.id}': requiredWhen refused ({exc})",
                                              element=owner, filename=filename) from None
                elif name == "pattern":
                    try:
                        re.compile(config)
                    except re.error as exc:
                        raise DefinitionError(f"form field '{ff.id}': bad pattern ({exc})", element=owner,
                                              filename=filename) from None
