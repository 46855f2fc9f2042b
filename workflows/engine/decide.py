"""Evaluating a business rule task's DMN table outside a running case.

A process sometimes needs the same decision for other facts than the case's own: the sale process
lists the products a refused customer may buy by evaluating its suitability table once per product.
This runs the table of a built (deployed, pinned) version through SpiffWorkflow's DMN engine with the
restricted script engine, exactly as the business rule task would, without making a workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.engine.instance import ScriptEngine
from workflows.engine.specs import BuiltDefinition


class DecisionError(ValueError):
    """The table could not be evaluated for these facts (a bad entry, a missing input)."""


@dataclass
class Decided:
    """What the table gave: its outputs, and the rules that fired (id, row, description)."""

    outputs: dict[str, Any]
    rules: list[dict[str, Any]] = field(default_factory=list)


class _Workflow:
    def __init__(self, built: BuiltDefinition) -> None:
        self.script_engine = ScriptEngine()
        self.spec = built.spec
        self.top_workflow = self
        self.parent_workflow = None


class _Probe:
    """What the DMN engine reads of a task: its data, its spec and its workflow's script engine."""

    def __init__(self, built: BuiltDefinition, task_spec: Any, data: dict[str, Any]) -> None:
        self.data = dict(data)
        self.task_spec = task_spec
        self.workflow = _Workflow(built)


def _rule_task(built: BuiltDefinition, task_id: str) -> Any:
    specs = [built.spec, *built.subprocess_specs.values()]
    for spec in specs:
        found = spec.task_specs.get(task_id)
        if found is not None and getattr(found, "dmnEngine", None) is not None:
            return found
    raise DecisionError(f"no business rule task '{task_id}' in {built.key}")


def evaluate(built: BuiltDefinition, task_id: str, data: dict[str, Any]) -> Decided:
    """Evaluate the table the business rule task ``task_id`` runs, for ``data``."""
    spec = _rule_task(built, task_id)
    probe = _Probe(built, spec, data)
    try:
        outputs = dict(spec.dmnEngine.result(probe))
    except Exception as exc:  # noqa: BLE001 - any failure of a table is a failure of this evaluation
        raise DecisionError((str(exc).splitlines() or [type(exc).__name__])[0]) from None
    log = probe.workflow.script_engine.decisions
    rules = log[-1]["rules"] if log else []
    return Decided(outputs, list(rules))
