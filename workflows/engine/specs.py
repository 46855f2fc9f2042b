"""SpiffWorkflow wiring in one place: spec cache, serializer, script engine, runs.

A serialized instance holds no spec: specs are built once per deployed version
and cached, which keeps rows small and deserialization cheap. After every run,
loops ("send back" → resubmit) are folded back onto the earlier task so the
live task tree never grows with rework; the audit log keeps the history.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from workflows.engine import clock  # noqa: F401 - installs the engine clock
from workflows.engine.parser import BuiltDefinition, build
from workflows.engine.sandbox import RestrictedScriptEngine


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


@dataclass
class LoadedDefinition:
    id: int
    sha256: str
    built: BuiltDefinition


_cache: dict[int, LoadedDefinition] = {}


def load_definition(definition_id: int, sha256: str, bpmn_xml: str, dmn_xml: dict[str, str]) -> BuiltDefinition:
    """The built spec of one deployed version, built once per process."""
    hit = _cache.get(definition_id)
    if hit is not None and hit.sha256 == sha256:
        return hit.built
    built = build(bpmn_xml, dmn_xml)
    _cache[definition_id] = LoadedDefinition(definition_id, sha256, built)
    return built


def cached_definition(definition_id: int, sha256: str) -> BuiltDefinition | None:
    hit = _cache.get(definition_id)
    return hit.built if hit is not None and hit.sha256 == sha256 else None


def new_workflow(built: BuiltDefinition, data: dict[str, Any], engine: RestrictedScriptEngine) -> BpmnWorkflow:
    wf = BpmnWorkflow(built.spec, built.subprocess_specs, script_engine=engine)
    wf.task_tree.data.update(deepcopy(data))
    start = wf.get_next_task(state=TaskState.READY)
    if start is not None:
        start.data.update(deepcopy(data))
    return wf


def serialize(wf: BpmnWorkflow) -> str:
    SERIALIZER.registry._encoder_mode = True
    try:
        dct = SERIALIZER.to_dict(wf)
        dct["format"] = STATE_FORMAT
        return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        SERIALIZER.registry._encoder_mode = False


def deserialize(built: BuiltDefinition, state: str, engine: RestrictedScriptEngine) -> BpmnWorkflow:
    """Rebuild a workflow and re-attach our engine: the serializer never keeps it."""
    dct = json.loads(state)
    dct.pop("format", None)
    wf = SERIALIZER.from_dict(dct, spec=built.spec, subprocess_specs=built.subprocess_specs)
    wf.script_engine = engine
    return wf


# --- running ---------------------------------------------------------------

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def run(wf: BpmnWorkflow, will_complete: Any = None, did_complete: Any = None) -> list[dict[str, Any]]:
    """Advance engine steps and fold loops; returns the loops folded."""
    folded: list[dict[str, Any]] = []
    wf.do_engine_steps(will_complete_task=will_complete, did_complete_task=did_complete)
    for _ in range(50):
        fold = _fold_one_loop(wf)
        if fold is None:
            break
        folded.append(fold)
        wf.do_engine_steps(will_complete_task=will_complete, did_complete_task=did_complete)
    return folded


def _fold_one_loop(wf: BpmnWorkflow) -> dict[str, Any] | None:
    for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
        earlier = _earlier_run_of(task)
        if earlier is None or not _only_branch(earlier, task):
            continue
        data = deepcopy(task.data)
        removed = wf.reset_from_task_id(earlier.id, data=data)
        removed_ids = {t.id for t in removed}
        for tid in list(wf.event_manager.tasks):
            if tid in removed_ids or tid not in wf.tasks:
                wf.event_manager.tasks.pop(tid, None)
        return {"task_spec": task.task_spec.name, "removed": len(removed)}
    return None


def _earlier_run_of(task: Any) -> Any:
    node = task.parent
    while node is not None:
        if node.task_spec is task.task_spec and node.has_state(TaskState.COMPLETED):
            return node
        node = node.parent
    return None


def _only_branch(earlier: Any, task: Any) -> bool:
    """True when nothing else is alive below ``earlier`` but ``task`` (and its boundary events)."""
    siblings = set(task.parent.children) if task.parent is not None else {task}
    allowed = set()
    for sib in siblings:
        allowed.update(sib)  # a sibling and its descendants (boundary timers)
    for node in earlier:
        if node is earlier or node in allowed:
            continue
        if node.has_state(LIVE) and not _is_ancestor(node, task):
            return False
    return True


def _is_ancestor(node: Any, task: Any) -> bool:
    parent = task.parent
    while parent is not None:
        if parent is node:
            return True
        parent = parent.parent
    return False


def ready_user_tasks(wf: BpmnWorkflow) -> list[Any]:
    return wf.get_tasks(state=TaskState.READY, manual=True)


def next_timer_at(wf: BpmnWorkflow) -> datetime | None:
    """The earliest moment a waiting timer of this workflow is due (naive UTC)."""
    due: list[datetime] = []
    for event in wf.waiting_events():
        if "Timer" not in event.event_type or event.value is None:
            continue
        value = event.value
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            due.append(moment)
    return min(due) if due else None
