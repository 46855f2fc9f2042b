"""The sale register: one row per finished high-risk-sale case, written in the case's last transaction.

The row keeps what the case decided and who said what: the decision's inputs, the DMN rule that fired (as
the platform's ``decision`` event records it) in the table version the case's process version pins, the
advisor's disclosures and term warning, the customer's declaration and its signed scan, the witness and
their statement, the double-recording reference, and the times.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from workflows.cases.context import CaseContext
from workflows.cases.models import AuditEvent, HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Msg, Refused
from workflows.processes.sale import suitability
from workflows.processes.sale.models import SaleRecord

STATUSES = ("completed", "refused", "declined")
WITNESSED = ("witness", "declaration_witness")
RECORDING_REF = re.compile(r"[A-Z]{2,6}-([0-9]{8})-[0-9]{4,8}")


def masked_name(name: str | None) -> str:
    """A customer's name as lists show it: the family name, the rest starred (王**)."""
    text = (name or "").strip()
    return text[:1] + "*" * max(1, len(text) - 1) if text else ""


def _recorded(value: Any) -> Any:
    """A case value as JSON keeps it (dates and decimals as text)."""
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    return value


def fired(case: CaseContext) -> dict[str, Any] | None:
    """The suitability decision the case took: the latest ``decision`` entry of the business rule task,
    from this run's log when the table ran in this transaction, else from the case's history."""
    engine = getattr(getattr(case.task, "workflow", None), "script_engine", None)
    for entry in reversed(getattr(engine, "decisions", None) or []):
        if entry.get("task") == suitability.RULE_TASK:
            return entry
    changes = db.session.scalars(select(AuditEvent.changes).where(
        AuditEvent.instance_id == case.instance.id, AuditEvent.type == "decision",
        AuditEvent.task_spec == suitability.RULE_TASK).order_by(AuditEvent.seq.desc()).limit(1)).first()
    if not changes:
        return None
    entry = {key: (pair[1] if isinstance(pair, list) and len(pair) == 2 else pair) for key, pair in changes.items()}
    return entry


def pinned_table(instance: ProcessInstance) -> tuple[str | None, int | None]:
    """(document key, version) of the DMN document the case's process version pins for the decision."""
    for table in instance.definition.decisions:
        if suitability.DECISION_ID in (table.decision_ids or []):
            return table.key, table.version
    return None, None


def check_recording_ref(ref: Any, sale_day: dt.date) -> str:
    """The double-recording reference ``SYS-YYYYMMDD-NNNN``: its date a real day, not before the sale
    and not after today. Refused with the field's message otherwise."""
    text = str(ref or "").strip()
    match = RECORDING_REF.fullmatch(text)
    day = None
    if match:
        try:
            day = dt.datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            day = None
    if day is None or day < sale_day or day > clock.today():
        raise Refused(Msg("please correct the highlighted fields"),
                      {"recording_ref": Msg("not a double-recording reference of this sale (SL-YYYYMMDD-NNNN, "
                                            "dated from the sale day to today)", code="recording_ref")},
                      code="sale_recording_ref")
    return text


def _witness_task(instance_id: int) -> HumanTask | None:
    return db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.spec_id == "Task_Witness", HumanTask.state == "completed")
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1)).first()


def write(case: CaseContext, status: str) -> int:
    """Write the case's register row (once) and note it in the history."""
    if status not in STATUSES:
        raise ValueError(f"not a register status: {status!r}")
    instance, data = case.instance, case.data()
    started_on = clock.local(instance.started_at).date()
    outcome = str(data.get("outcome") or "refused")
    recording = None
    if status == "completed" and outcome in WITNESSED:
        recording = check_recording_ref(data.get("recording_ref"), started_on)
    decision = fired(case) or {}
    rules = decision.get("rules") or []
    rule = rules[0] if rules and isinstance(rules[0], dict) else {}
    table_key, table_version = pinned_table(instance)
    inputs = decision.get("inputs") if isinstance(decision.get("inputs"), dict) else None
    if inputs is None:
        inputs = {key: _recorded(data.get(key)) for key in suitability.INPUTS}
    witness = _witness_task(instance.id) if outcome in WITNESSED else None
    scan = data.get("declaration_scan")
    suitable = [c.strip() for c in str(data.get("suitable_products") or "").split(",") if c.strip()]
    row = SaleRecord(
        instance_id=instance.id, customer_id=int(data["customer_record"]), product_id=int(data["product_record"]),
        advisor_id=instance.started_by_id, amount=Decimal(str(data.get("amount"))),
        purpose=str(data.get("purpose")), horizon_months=data.get("horizon_months"),
        outcome=outcome, status=status, refusal_reason=str(data.get("reason") or "")[:60] or None,
        decision_key=table_key, decision_version=table_version,
        decision_rule=str(rule.get("id"))[:120] if rule.get("id") else None,
        decision_row=rule.get("row") if isinstance(rule.get("row"), int) else None,
        decision_inputs=inputs, suitable_products=suitable,
        term_warning=data.get("term_warning") or None, disclosure=data.get("disclosure") or None,
        customer_confirmed=data.get("customer_confirmed") == "confirmed" or None,
        declaration_text=data.get("declaration_text") or None,
        declaration_attachment_id=scan.get("attachment_id") if isinstance(scan, dict) else None,
        witness_id=witness.completed_by_id if witness is not None else None,
        witness_warning=data.get("second_warning") or None if witness is not None else None,
        witness_statement=data.get("customer_confirmation") or None if witness is not None else None,
        witnessed_at=witness.completed_at if witness is not None and status == "completed" else None,
        declined_reason=data.get("comment") or None if status == "declined" else None,
        recording_ref=recording, started_at=instance.started_at, finished_at=clock.now(),
    )
    db.session.add(row)
    db.session.flush()
    # The "_" facts are for `flask audit verify` (compared with the register row), not shown in the history.
    case.note("sale_registered", {"sale_record": [None, row.id], "sale_status": [None, status],
                                  "recording_ref": [None, recording],
                                  "_outcome": [None, outcome], "_rule": [None, row.decision_rule],
                                  "_customer_record": [None, row.customer_id],
                                  "_product_record": [None, row.product_id], "_amount": [None, str(row.amount)]})
    return row.id
