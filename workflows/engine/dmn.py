"""DMN decision tables through SpiffWorkflow's own parser and engine, outside a running
workflow: what a table reads, what its matching rules give, and evaluating a table on
recorded values (the what-if replay and its bench). The same ``DMNEngine`` and the same
restricted script engine evaluate every entry, as when a business rule task runs."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser
from SpiffWorkflow.dmn.specs.model import DecisionTable, HitPolicy
from SpiffWorkflow.exceptions import SpiffWorkflowException

from workflows.engine.sandbox import SAFE_CONSTANTS, SAFE_FUNCTIONS, RestrictedScriptEngine
from workflows.engine.xml import DefinitionError, parse_xml

__all__ = ["LoadedDecision", "ReplayTask", "decide", "fired", "load", "outputs_of", "referenced_names", "workflow_for"]

INPUT_PLACEHOLDER = "dmninputexpr"  # what SpiffWorkflow's DMNEngine puts in place of '?' in an entry


def _names(text: str | None, prefix: str = "") -> set[str]:
    """The data names an expression (or an entry such as ``>= limit``) reads; empty when it does not parse."""
    if not text or not text.strip() or text.strip() == "-":
        return set()
    source = text.replace("?", INPUT_PLACEHOLDER)
    for candidate in (source, f"{prefix}{source}"):
        try:
            tree = ast.parse(candidate.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return set()


def referenced_names(table: DecisionTable) -> tuple[str, ...]:
    """Every case-data name the table's input expressions, input entries and output entries read,
    sorted: what a decision's audit event records so the decision can be evaluated again."""
    names: set[str] = set()
    for column in table.inputs:
        names |= _names(column.expression)
    for rule in table.rules:
        for entry in rule.inputEntries:
            for text in entry.lhs:
                names |= _names(text, f"{INPUT_PLACEHOLDER} ")
        for out in rule.outputEntries:
            names |= _names(out.text)
    names -= {INPUT_PLACEHOLDER, *SAFE_FUNCTIONS, *SAFE_CONSTANTS}
    return tuple(sorted(names))


def outputs_of(table: DecisionTable, rules: list[Any], task: Any) -> dict[str, Any]:
    """What the matching ``rules`` give, exactly as ``DMNEngine.result`` builds it: under COLLECT a
    list per output of every rule, else the first rule's outputs (no rule: nothing)."""
    result: dict[str, Any] = {}
    if table.hit_policy == HitPolicy.COLLECT.value:
        for rule in rules:
            for key, value in rule.output_as_dict(task).items():
                result.setdefault(key, []).append(value)
    elif rules:
        result = dict(rules[0].output_as_dict(task))
    return result


def fired(table: DecisionTable, rules: list[Any]) -> list[Any]:
    """The rules that gave the result: all under COLLECT, else the first."""
    return rules if table.hit_policy == HitPolicy.COLLECT.value else rules[:1]


@dataclass
class LoadedDecision:
    """One decision of a DMN document as SpiffWorkflow parsed it."""

    decision_id: str
    name: str
    table: DecisionTable
    engine: DMNEngine
    reads: tuple[str, ...]


def load(dmn_xml: str, filename: str) -> LoadedDecision:
    """Parse a DMN document (hostile XML refused) into SpiffWorkflow's table and engine; a
    :class:`DefinitionError` when SpiffWorkflow cannot read it."""
    root = parse_xml(dmn_xml, filename)
    parser = BpmnDmnParser()
    try:
        parser.add_dmn_xml(root, filename)
        if len(parser.dmn_parsers) != 1:
            raise DefinitionError("the document must define one decision", filename=filename)
        decision_id = next(iter(parser.dmn_parsers))
        dmn_parser = parser.dmn_parsers[decision_id]
        dmn_parser.parse()
        decision = dmn_parser.decision
        if not decision.decisionTables:
            raise DefinitionError("the decision has no decision table", element=decision_id, filename=filename)
        table = decision.decisionTables[0]
    except DefinitionError:
        raise
    except ValidationException as exc:
        raise DefinitionError((str(exc).splitlines() or ["invalid DMN"])[0], filename=filename) from None
    except (SpiffWorkflowException, KeyError, IndexError, AttributeError, TypeError, ValueError,
            etree.LxmlError) as exc:
        raise DefinitionError(f"invalid DMN ({type(exc).__name__}: {exc})", filename=filename) from None
    return LoadedDecision(decision_id, decision.name or decision_id, table, DMNEngine(table), referenced_names(table))


class _Spec:
    bpmn_name = "what-if replay"
    bpmn_id = "replay"


class _Workflow:
    """What SpiffWorkflow's DMN engine and its exceptions read of a workflow."""

    def __init__(self, script_engine: Any) -> None:
        self.script_engine = script_engine
        self.spec = type("Spec", (), {"file": "replay"})()
        self.top_workflow = self


class ReplayTask:
    """The task a decision is evaluated for outside a workflow: its data and the restricted engine."""

    task_spec = _Spec()

    def __init__(self, data: dict[str, Any], workflow: _Workflow) -> None:
        self.data = data
        self.workflow = workflow


def workflow_for(script_engine: RestrictedScriptEngine | None = None) -> _Workflow:
    return _Workflow(script_engine or RestrictedScriptEngine())


def decide(loaded: LoadedDecision, data: dict[str, Any], workflow: _Workflow) -> tuple[list[Any], dict[str, Any]]:
    """(the rules that gave the result, the outputs) of the table on ``data``, through SpiffWorkflow's
    DMNEngine; what the expressions raise is raised (the caller counts it as not replayable)."""
    task = ReplayTask(data, workflow)
    rules = loaded.engine.decide(task)
    return fired(loaded.table, rules), outputs_of(loaded.table, rules, task)
