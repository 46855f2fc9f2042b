"""Deploy-time checks: everything a diagram must satisfy before it can run, each
refusal naming the element. The branch's role keys and relation names are passed in;
the engine knows nothing of the branch."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection

from lxml import etree

from workflows.engine.dialect import CONSTRAINTS, FIELD_TYPES, PEOPLE, ProcessMeta
from workflows.engine.durations import DurationError, check_timer_value, parse_duration
from workflows.engine.sandbox import UnsafeExpression, allowed_call_names, check_expression, check_script
from workflows.engine.specs import BuiltDefinition, build
from workflows.engine.xml import (
    BPMN_NS,
    CAMUNDA_NS,
    DMN_NAMESPACES,
    NS,
    DefinitionError,
    check_no_markup,
    label,
    owner,
    parse_xml,
)

RESERVED_IDS = {"Start", "End", "Root"}


def check_bpmn(bpmn_xml: str, dmn_xml: dict[str, str], role_keys: set[str], filename: str, *,
               relations: set[str], functions: Callable[[str], Collection[str]] = lambda key: ()) -> BuiltDefinition:
    """Everything a diagram must satisfy before it can be deployed. ``role_keys`` and
    ``relations`` (of a person: ``regional_manager``, ``superior``…) are the branch's;
    ``functions`` names what a diagram of the given process key may call beyond the pure built-ins."""
    root = parse_xml(bpmn_xml, filename)
    check_no_markup(root, filename)
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") in RESERVED_IDS:
            raise DefinitionError(f"the id '{node.get('id')}' is reserved by the engine; rename the element",
                                  element=label(node), filename=filename)
    built = build(bpmn_xml, dmn_xml, filename)
    calls = allowed_call_names(functions(built.key))
    _check_bpmn_expressions(root, filename, calls)
    for name, text in dmn_xml.items():
        _check_dmn_expressions(parse_xml(text, name), name, calls)
    _check_assignments(built.meta, role_keys, relations, filename)
    _check_subject(built.meta, filename)
    _check_runnable(root, built.meta, role_keys, filename)
    _check_gateways(root, filename)
    _check_forms(built.meta, filename)
    _check_due_dates(built.meta, filename)
    return built


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
                              element=label(owner(node)), filename=filename) from None
    except UnsafeExpression as exc:
        raise DefinitionError(f"expression refused, {exc}: {text.strip()!r}",
                              element=label(owner(node)), filename=filename) from None


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
            raise DefinitionError(f"script format '{fmt}' is not supported", element=label(node), filename=filename)
        script = node.find("bpmn:script", NS)
        _check(script.text if script is not None else None, node, filename, calls, script=True)
    for node in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        coll = node.get(f"{{{CAMUNDA_NS}}}collection")
        if coll:
            _check(coll, node, filename, calls)
    for node in root.iter(f"{{{CAMUNDA_NS}}}script", f"{{{CAMUNDA_NS}}}executionListener",
                          f"{{{CAMUNDA_NS}}}taskListener", f"{{{CAMUNDA_NS}}}connector"):
        raise DefinitionError("listeners, connectors and inline Camunda scripts are not allowed",
                              element=label(owner(node)), filename=filename)
    for node in root.iter(f"{{{BPMN_NS}}}serviceTask", f"{{{BPMN_NS}}}sendTask"):
        raise DefinitionError("service and send tasks are not supported; use a script task calling a helper",
                              element=label(node), filename=filename)


def _check_timer(node: etree._Element, filename: str) -> None:
    """A constant timer must parse and stay within the bound now, not spin a worker later;
    one computed from case data is bounded when it runs (workflows.durations)."""
    text = (node.text or "").strip()
    if not text:
        raise DefinitionError("the timer has no value; write a quoted duration such as \"PT1H\"",
                              element=label(owner(node)), filename=filename)
    if re.fullmatch(r"(R\d*/)?P[0-9YMWDTHS.,]+", text, re.IGNORECASE):
        raise DefinitionError(f"quote the timer value: \"{text[:40]}\"", element=label(owner(node)),
                              filename=filename)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return  # an expression over case data: bounded at run time
    try:
        check_timer_value(etree.QName(node).localname, value)
    except DurationError as exc:
        raise DefinitionError(str(exc), element=label(owner(node)), filename=filename) from None


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
                                      element=label(owner(node)), filename=filename) from None


def _check_assignments(meta: ProcessMeta, role_keys: set[str], relations: set[str], filename: str) -> None:
    scopes = relations | {"department"}
    for task in meta.tasks.values():
        where = f"{task.id} ({task.name})"
        assignee = task.assignee
        if assignee is not None and assignee.field is not None:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", assignee.field):
                raise DefinitionError(f"assignee '{assignee.text}' must name a data field", element=where,
                                      filename=filename)
            continue
        if assignee is not None:
            if assignee.person not in PEOPLE or (assignee.relation and assignee.relation not in relations):
                raise DefinitionError(f"unknown assignee '{assignee.text}'", element=where, filename=filename)
            continue
        if not task.groups:
            raise DefinitionError("user task has no lane, candidate group or assignee", element=where,
                                  filename=filename)
        for group in task.groups:
            if group.role not in role_keys:
                raise DefinitionError(f"unknown role '{group.role}'", element=where, filename=filename)
            if group.scope and (group.person not in PEOPLE or group.relation not in scopes):
                raise DefinitionError(f"unknown scope '{group.scope}'", element=where, filename=filename)


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
            raise DefinitionError(message, element=label(node), filename=filename)
    for role in meta.start_roles:
        if role not in role_keys:
            raise DefinitionError(f"startRoles names unknown role '{role}'",
                                  element=f"{meta.process_id} ({meta.name})", filename=filename)
    if meta.start_roles:
        return
    starts = {s.get("id") for s in proc.findall("bpmn:startEvent", NS)}
    for lane in proc.iter(f"{{{BPMN_NS}}}lane"):
        refs = {(r.text or "").strip() for r in lane.findall("bpmn:flowNodeRef", NS)}
        name = (lane.get("name") or "").strip()
        if refs & starts and name not in role_keys:
            raise DefinitionError(f"the start event lies in lane '{name or lane.get('id')}', which names no role: "
                                  "nobody could start the process; name the lane after a role or set startRoles",
                                  element=label(lane), filename=filename)


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
                    element=label(gw), filename=filename)


MAX_DUE_WORKING_DAYS = 60  # as working_days_later: longer is a mistake, not a deadline


def _check_due_dates(meta: ProcessMeta, filename: str) -> None:
    for task in meta.tasks.values():
        if task.due_working_days is not None:
            if task.due:
                raise DefinitionError("set camunda:dueDate or the property dueWorkingDays, not both",
                                      element=f"{task.id} ({task.name})", filename=filename)
            if not 1 <= task.due_working_days <= MAX_DUE_WORKING_DAYS:
                raise DefinitionError(f"dueWorkingDays must be 1 to {MAX_DUE_WORKING_DAYS} working days, "
                                      f"not {task.due_working_days}", element=f"{task.id} ({task.name})",
                                      filename=filename)
        if task.due:
            try:
                parse_duration(task.due)
            except DurationError as exc:
                raise DefinitionError(f"due date: {exc}", element=f"{task.id} ({task.name})",
                                      filename=filename) from None


def _check_forms(meta: ProcessMeta, filename: str) -> None:
    for where, fields in [("start event", meta.start_form)] + [
        (f"{t.id} ({t.name})", t.form) for t in meta.tasks.values()
    ]:
        seen: set[str] = set()
        for ff in fields:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,59}", ff.id):
                raise DefinitionError(f"form field id '{ff.id}' must be a plain identifier", element=where,
                                      filename=filename)
            if ff.id in seen:
                raise DefinitionError(f"form field '{ff.id}' appears twice", element=where, filename=filename)
            seen.add(ff.id)
            if ff.type not in FIELD_TYPES:
                raise DefinitionError(f"form field '{ff.id}' has unknown type '{ff.type}'", element=where,
                                      filename=filename)
            if ff.type == "enum" and not ff.options:
                raise DefinitionError(f"enum field '{ff.id}' has no values", element=where, filename=filename)
            for name in ff.constraints:
                if name not in CONSTRAINTS:
                    raise DefinitionError(f"form field '{ff.id}' has unknown constraint '{name}'", element=where,
                                          filename=filename)
                if name == "requiredWhen":
                    try:
                        check_expression(ff.required_when or "")
                    except (SyntaxError, UnsafeExpression) as exc:
                        raise DefinitionError(f"form field '{ff.id}': requiredWhen refused ({exc})",
                                              element=where, filename=filename) from None
                elif name == "pattern":
                    try:
                        re.compile(ff.pattern or "")
                    except re.error as exc:
                        raise DefinitionError(f"form field '{ff.id}': bad pattern ({exc})", element=where,
                                              filename=filename) from None


def _check_subject(meta: ProcessMeta, filename: str) -> None:
    """``subjectField`` names the start-form field holding the username of the person the case concerns."""
    if meta.subject_field is None:
        return
    found = next((ff for ff in meta.start_form if ff.id == meta.subject_field), None)
    if found is None:
        raise DefinitionError(f"subjectField '{meta.subject_field}' names no field of the start form",
                              element=f"{meta.process_id} ({meta.name})", filename=filename)
    if found.type not in ("string", "enum"):
        raise DefinitionError(f"subjectField '{meta.subject_field}' must be a text or enum field holding a username",
                              element=f"{meta.process_id} ({meta.name})", filename=filename)
