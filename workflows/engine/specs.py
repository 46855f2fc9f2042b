"""Building SpiffWorkflow specs from a diagram, and the spec-less serializer.

Parsing is not validation: SpiffWorkflow reports many errors only when a spec is
built, and some as plain KeyError; :func:`build` turns them all into a
:class:`DefinitionError`. A serialized instance holds no spec: specs are built
once per deployed version (see :class:`workflows.engine.instance.Engine`), which
keeps rows small and deserialization cheap.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from workflows.engine import clock, dmn, durations  # noqa: F401 - install the engine clock and bounded timers
from workflows.engine.dialect import ProcessMeta, extract_meta
from workflows.engine.xml import BPMN_NS, CAMUNDA_NS, DefinitionError, parse_xml


class RecordingDMNEngine(DMNEngine):
    """Notes each decision taken so the audit trail can show the auditor, and the what-if
    replay can evaluate it again: which decision (``decision_id``, in document ``document``),
    the rules that gave the result (under COLLECT every matching rule, else the first), the
    case-data values the table reads (``reads``) and the outputs. ``result`` is
    ``DMNEngine.result`` with the note added (evaluated once)."""

    decision_id: str = ""
    document: str | None = None
    reads: tuple[str, ...] = ()

    def result(self, task):
        table = self.decision_table
        rules = self.decide(task)
        outputs = dmn.outputs_of(table, rules, task)
        log = getattr(task.workflow.script_engine, "decisions", None)
        if log is not None:
            log.append({
                "task": task.task_spec.bpmn_id,
                "table": getattr(table, "name", None) or table.id,
                "decision": self.decision_id or None,
                "document": self.document,
                "rules": [{"id": r.id, "row": r.row_number, "description": r.description}
                          for r in dmn.fired(table, rules)],
                "inputs": {name: deepcopy(task.data[name]) for name in self.reads if name in task.data},
                "outputs": deepcopy(outputs),
            })
        return outputs


class _BusinessRuleTaskParser(BusinessRuleTaskParser):
    @staticmethod
    def get_decision_ref(node):
        """The decision a business rule task runs; SpiffWorkflow reads it (as a raw KeyError
        when missing) while collecting dependencies, before any task is built."""
        ref = (node.get(f"{{{CAMUNDA_NS}}}decisionRef") or "").strip()
        if not ref:
            raise ValidationException("a business rule task needs camunda:decisionRef naming a DMN decision",
                                      node=node)
        return ref

    def create_task(self):
        """The task, its engine told which decision of which document it evaluates and what it reads."""
        task = super().create_task()
        ref = self.get_decision_ref(self.node)
        engine = task.dmnEngine
        engine.__class__ = RecordingDMNEngine
        engine.decision_id = ref
        source = self.process_parser.parser.dmn_parsers.get(ref)
        engine.document = getattr(source, "filename", None)
        engine.reads = dmn.referenced_names(engine.decision_table)
        return task


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
    try:
        meta = extract_meta(root)
    except DefinitionError as exc:
        raise DefinitionError(exc.message, element=exc.element, filename=filename) from None
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
    return BuiltDefinition(meta.process_id, meta.name, spec, subprocess_specs, meta)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


# --- the spec-less serializer -------------------------------------------------


class _SpecReferenceConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its spec; the caller supplies the cached spec."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = _SpecReferenceConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    return BpmnWorkflowSerializer(registry)


SERIALIZER = _make_serializer()
STATE_FORMAT = "spec-ref/1"


def serialize(wf: BpmnWorkflow) -> str:
    SERIALIZER.registry._encoder_mode = True
    try:
        dct = SERIALIZER.to_dict(wf)
        dct["format"] = STATE_FORMAT
        return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        SERIALIZER.registry._encoder_mode = False


def deserialize(built: BuiltDefinition, state: str, script_engine: Any) -> BpmnWorkflow:
    """Rebuild a workflow and attach ``script_engine``: the serializer never keeps one, and
    SpiffWorkflow's default engine runs arbitrary Python."""
    dct = json.loads(state)
    dct.pop("format", None)
    wf = SERIALIZER.from_dict(dct, spec=built.spec, subprocess_specs=built.subprocess_specs)
    wf.script_engine = script_engine
    return wf
