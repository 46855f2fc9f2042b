"""Evaluating a business rule task's DMN table outside a running case.

A process sometimes needs the same decision for other facts than the case's own: the sale process
lists the products a refused customer may buy by evaluating its suitability table once per product.
This runs the table of a built (deployed, pinned) version through SpiffWorkflow's DMN engine with the
restricted script engine, exactly as the business rule task would, without making a workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.engine import dmn
from workflows.engine.instance import ScriptEngine
from workflows.engine.specs import BuiltDefinition


class DecisionError(ValueError):
    """The table could not be evaluated for these facts (a bad entry, a missing input)."""


@dataclass
class Decided:
    """What the table gave: its outputs, and the rules that fired (id, row, description)."""

    outputs: dict[str, Any]
    rules: list[dict[str, Any]] = field(default_factory=list)


def _rule_task(built: BuiltDefinition, task_id: str) -> Any:
    specs = [built.spec, *built.subprocess_specs.values()]
    for spec in specs:
        found = spec.task_specs.get(task_id)
        if found is not None and getattr(found, "dmnEngine", None) is not None:
            return found
    raise DecisionError(f"no business rule task '{task_id}' in {built.key}")


def evaluate(built: BuiltDefinition, task_id: str, data: dict[str, Any]) -> Decided:
    """Evaluate the table the business rule task ``task_id`` runs, for ``data`` (the replay's path,
    ``dmn.decide``, with the version's own parsed table)."""
    spec = _rule_task(built, task_id)
    engine = spec.dmnEngine
    loaded = dmn.LoadedDecision(task_id, task_id, engine.decision_table, engine, ())
    try:
        rules, outputs = dmn.decide(loaded, dict(data), dmn.workflow_for(ScriptEngine()))
    except Exception as exc:  # noqa: BLE001 - any failure of a table is a failure of this evaluation
        raise DecisionError((str(exc).splitlines() or [type(exc).__name__])[0]) from None
    return Decided(dict(outputs), [{"id": r.id, "row": r.row_number, "description": r.description} for r in rules])
