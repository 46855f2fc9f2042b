"""What-if replay: how the decisions already taken would come out under a changed table.

Every past "decision" audit event of the decision the document defines (any version of it) is
evaluated again, on the values it recorded (``decision_log``), with the changed table, through
SpiffWorkflow's DMN engine and the restricted script engine, as a business rule task would. The
result is compared with what the event recorded, output by output. Nothing is written: running
cases keep the version they started with whatever the replay says.

Events are read in batches by id (keyset), with only the columns needed, so the cost grows with
the number of decisions, not with the size of the history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from workflows.cases import decision_log
from workflows.cases.models import AuditEvent, DecisionDefinition, ProcessInstance, process_decision
from workflows.db import db
from workflows.engine import dmn
from workflows.engine.sandbox import RestrictedScriptEngine
from workflows.errors import Msg, NotFound

__all__ = ["Affected", "Replay", "replay"]

BATCH = 2000
NOT_RECORDED = "values not recorded (decided before the replay existed)"
MAX_AFFECTED = 500  # cases listed; the counts cover them all


@dataclass
class Affected:
    """One past decision whose outcome would change."""

    instance_id: int
    title: str
    at: dt.datetime
    old: dict[str, Any]  # output name -> recorded value (only the outputs that change)
    new: dict[str, Any]
    old_rules: list[int]  # rows that fired then
    new_rules: list[int]  # rows that would fire now


@dataclass
class Replay:
    decision_id: str
    total: int = 0
    unchanged: int = 0
    changed: int = 0
    not_replayable: int = 0  # inputs not recorded (events older than the recording), or evaluation failed
    failures: Counter[str] = field(default_factory=Counter)  # why, for the not replayable ones
    changes: Counter[tuple[str, str | None, str | None]] = field(default_factory=Counter)  # (output, old, new) -> cases
    affected: list[Affected] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.changed > len(self.affected)

    def change_rows(self) -> list[tuple[str, str | None, str | None, int]]:
        """(output, old, new, count), the largest change first; None: no rule matched."""
        return [(o, a, b, n) for (o, a, b), n in sorted(self.changes.items(),
                                                        key=lambda kv: (-kv[1], str(kv[0])))]


def shown(value: Any) -> str | None:
    """An output value as the counts name it: the text itself, or how a table writes it; None when
    no rule matched (no output)."""
    if value is None:
        return None
    return value if isinstance(value, str) else repr(value)


def _events(key: str, after: int) -> list[Any]:
    pinned = select(process_decision.c.process_definition_id).join(
        DecisionDefinition, DecisionDefinition.id == process_decision.c.decision_definition_id).where(
        DecisionDefinition.key == key)
    query = (select(AuditEvent.id, AuditEvent.at, AuditEvent.changes, AuditEvent.task_name,
                    ProcessInstance.id.label("instance_id"), ProcessInstance.title)
             .join(ProcessInstance, ProcessInstance.id == AuditEvent.instance_id)
             .where(ProcessInstance.definition_id.in_(pinned), AuditEvent.type == "decision", AuditEvent.id > after)
             .order_by(AuditEvent.id).limit(BATCH))
    return list(db.session.execute(query))


def replay(key: str, new_xml: str, limit: int = MAX_AFFECTED) -> Replay:
    """Replay every past decision of the document ``key`` with ``new_xml`` (already checked:
    a :class:`DefinitionError` when SpiffWorkflow cannot read it)."""
    if db.session.scalar(select(DecisionDefinition.id).where(DecisionDefinition.key == key).limit(1)) is None:
        raise NotFound(Msg("no deployed DMN document '%(key)s'", key=key))
    loaded = dmn.load(new_xml, key)
    workflow = dmn.workflow_for(RestrictedScriptEngine())
    report = Replay(loaded.decision_id)
    after = 0
    while rows := _events(key, after):
        after = rows[-1].id
        for row in rows:
            _one(row, key, loaded, workflow, report, limit)
    return report


def _one(row: Any, key: str, loaded: dmn.LoadedDecision, workflow: Any, report: Replay, limit: int) -> None:
    inputs, outputs, about = decision_log.read(row.changes)
    if about and (about.get("id") != loaded.decision_id or about.get("document") not in (None, key)):
        return  # a decision of another table of the same process
    report.total += 1
    if inputs is None or outputs is None:
        report.not_replayable += 1
        report.failures[NOT_RECORDED] += 1
        return
    try:
        rules, new = dmn.decide(loaded, dict(inputs), workflow)
    except Exception as exc:  # noqa: BLE001 - an expression failing on old values: counted, reported by kind
        report.not_replayable += 1
        report.failures[_why(exc)] += 1
        return
    new = decision_log.decode(decision_log.encode(new))  # as it would be recorded
    names = list(dict.fromkeys([*outputs, *new]))
    differs = {name: (outputs.get(name), new.get(name)) for name in names if outputs.get(name) != new.get(name)}
    if not differs:
        report.unchanged += 1
        return
    report.changed += 1
    for name, (old_value, new_value) in differs.items():
        report.changes[(name, shown(old_value), shown(new_value))] += 1
    if len(report.affected) < limit:
        old_rules = [r.get("row") for r in (row.changes or {}).get("rules", [None, []])[1] or [] if isinstance(r, dict)]
        report.affected.append(Affected(row.instance_id, row.title, row.at, {k: v[0] for k, v in differs.items()},
                                        {k: v[1] for k, v in differs.items()}, old_rules,
                                        [r.row_number for r in rules]))


def _why(exc: Exception) -> str:
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{type(exc).__name__}: {first}"[:200]
