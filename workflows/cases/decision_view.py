"""The decision tables a case evaluated, as the auditor reads them: every row of the table version the case
was pinned to, with the rows that fired marked.

The "decision" audit event names the rules that fired (``changes.rules``) and, since the recording of inputs,
the decision id and the values it read (``workflows.cases.decision_log``); the table is read from the DMN
documents the case's process version pins, so a later change of the table never rewrites what an old case shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import undefer

from workflows.cases import decision_log
from workflows.cases.models import AuditEvent, DecisionDefinition, ProcessInstance, process_decision
from workflows.db import db
from workflows.engine.xml import DefinitionError, parse_xml

__all__ = ["DecisionRule", "DecisionTable", "FiredDecision", "case_decisions", "read_tables"]


@dataclass(frozen=True)
class DecisionRule:
    id: str
    number: int  # 1-based, as the editor numbers rows
    inputs: tuple[str, ...]  # the entries' text, "-" for any
    outputs: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class DecisionTable:
    decision_id: str
    name: str
    hit_policy: str
    inputs: tuple[str, ...]  # column labels
    outputs: tuple[str, ...]
    rules: tuple[DecisionRule, ...]


@dataclass
class FiredDecision:
    """One evaluation in a case: when, at which step, which document version, and which rows fired."""

    event: AuditEvent
    table: DecisionTable | None  # None: the pinned documents no longer hold it (shown as the recorded ids only)
    document: str | None = None
    version: int | None = None
    fired: set[str] = field(default_factory=set)
    fired_rows: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)


def _local(node: Any) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _children(node: Any, name: str) -> list[Any]:
    return [c for c in node if _local(c) == name]


def _text(node: Any) -> str:
    found = [c for c in node.iter() if _local(c) == "text"]
    return (found[0].text or "").strip() if found else ""


def read_tables(dmn_xml: str, name: str = "decision.dmn") -> list[DecisionTable]:
    """The decision tables of a DMN document, rows in order."""
    root = parse_xml(dmn_xml, name)
    tables = []
    for decision in _children(root, "decision"):
        for table in _children(decision, "decisionTable"):
            inputs = tuple(node.get("label") or _text(node) for node in _children(table, "input"))
            outputs = tuple(node.get("label") or node.get("name") or "" for node in _children(table, "output"))
            rules = []
            for number, rule in enumerate(_children(table, "rule"), start=1):
                description = "".join(_text(d) or (d.text or "").strip() for d in _children(rule, "description"))
                rules.append(DecisionRule(rule.get("id", ""), number,
                                          tuple(_text(e) or "-" for e in _children(rule, "inputEntry")),
                                          tuple(_text(e) for e in _children(rule, "outputEntry")), description))
            tables.append(DecisionTable(decision.get("id", ""), decision.get("name") or decision.get("id", ""),
                                        table.get("hitPolicy", "UNIQUE"), inputs, outputs, tuple(rules)))
    return tables


def _recorded_rules(event: AuditEvent) -> list[dict[str, Any]]:
    pair = (event.changes or {}).get("rules")
    value = pair[1] if isinstance(pair, list) and len(pair) == 2 else pair
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _recorded(event: AuditEvent, key: str) -> Any:
    pair = (event.changes or {}).get(key)
    return pair[1] if isinstance(pair, list) and len(pair) == 2 else pair


def _match(event: AuditEvent, fired: set[str], documents: Iterable[tuple[DecisionDefinition, list[DecisionTable]]]
           ) -> tuple[DecisionDefinition, DecisionTable] | None:
    """The pinned table this event evaluated: by decision id when recorded, else the one holding the fired rules,
    else by name."""
    recorded = _recorded(event, "_decision")
    named = recorded.get("id") if isinstance(recorded, dict) else None
    candidates = [(doc, table) for doc, tables in documents for table in tables]
    for test in (lambda t: bool(named) and t.decision_id == named,
                 lambda t: bool(fired) and fired <= {r.id for r in t.rules},
                 lambda t: event.task_name in (t.name, t.decision_id)):
        for doc, table in candidates:
            if test(table):
                return doc, table
    return None


def case_decisions(instance: ProcessInstance) -> list[FiredDecision]:
    """Every decision the case took, oldest first, each with its pinned table: two statements, and a third only
    when there is a decision to show."""
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                               AuditEvent.type == "decision")
                                     .order_by(AuditEvent.seq)))
    if not events:
        return []
    link = process_decision.c
    docs = list(db.session.scalars(
        select(DecisionDefinition).join(process_decision, link.decision_definition_id == DecisionDefinition.id)
        .where(link.process_definition_id == instance.definition_id)
        .options(undefer(DecisionDefinition.dmn_xml)).order_by(DecisionDefinition.key)))
    parsed = []
    for doc in docs:
        try:
            parsed.append((doc, read_tables(doc.dmn_xml, doc.key)))
        except DefinitionError:
            continue  # deployed documents were checked; an unreadable one shows as the recorded ids only
    shown = []
    for event in events:
        rows = _recorded_rules(event)
        fired = {str(r.get("id")) for r in rows if r.get("id")}
        found = _match(event, fired, parsed)
        inputs = decision_log.decode(_recorded(event, "inputs"))
        shown.append(FiredDecision(event, found[1] if found else None, found[0].key if found else None,
                                   found[0].version if found else None, fired, rows,
                                   inputs if isinstance(inputs, dict) else {}))
    return shown
