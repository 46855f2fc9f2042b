"""What `flask audit verify` checks of leave requests: each ledger entry agrees with its case's history."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.cases.integrity import Report, new_value
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.processes.leave.models import AttendanceEntry


def ledger_rows(s: Session, case_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The ledger entries of a batch of cases, in one query: the columns the check compares, as plain rows."""
    out: dict[int, list[Any]] = {}
    for row in s.execute(select(AttendanceEntry.id, AttendanceEntry.instance_id, AttendanceEntry.user_id,
                                AttendanceEntry.kind, AttendanceEntry.start_date, AttendanceEntry.end_date,
                                AttendanceEntry.days, AttendanceEntry.pay_deduction_days, AttendanceEntry.score,
                                AttendanceEntry.late)
                         .where(AttendanceEntry.instance_id.in_(case_ids))):
        out.setdefault(row.instance_id or 0, []).append(row)
    return out


def _same(row_value: Any, noted: Any) -> bool:
    if noted is None:
        return True  # not recorded: nothing to compare
    if isinstance(row_value, Decimal) or isinstance(noted, (int, float)) and not isinstance(noted, bool):
        return Decimal(str(row_value)) == Decimal(str(noted))
    return str(row_value) == str(noted)


def check_ledger(s: Session, inst: ProcessInstance, events: list[AuditEvent], report: Report,
                 entries: list[AttendanceEntry] | None = None) -> None:
    """The ledger entry a leave case made agrees with its history: same person, kind, dates, days,
    deduction, score and lateness; no entry the history does not name."""
    if entries is None:
        entries = list(s.scalars(select(AttendanceEntry).where(AttendanceEntry.instance_id == inst.id)))
    rows = {r.id: r for r in entries}
    noted: dict[int, AuditEvent] = {}
    for ev in events:
        entry = new_value((ev.changes or {}).get("ledger_entry")) if ev.type == "leave_recorded" else None
        if isinstance(entry, int):
            noted[entry] = ev
    for entry_id, ev in noted.items():
        row = rows.get(entry_id)
        if row is None:
            report.add("ledger", inst.id, ev.seq, f"ledger entry {entry_id}, made in event {ev.seq}, is missing")
            continue
        changes = ev.changes or {}
        pairs = {"_user_id": row.user_id, "_kind": row.kind, "_start_date": row.start_date.isoformat(),
                 "_end_date": row.end_date.isoformat(), "days": row.days,
                 "pay_deduction_days": row.pay_deduction_days, "score": row.score, "late": row.late}
        wrong = [key.lstrip("_") for key, value in pairs.items() if not _same(value, new_value(changes.get(key)))]
        if wrong:
            report.add("ledger", inst.id, ev.seq, f"ledger entry {entry_id} differs from event {ev.seq} in "
                       f"{', '.join(wrong)}")
    for entry_id in sorted(set(rows) - set(noted)):
        report.add("ledger", inst.id, None, f"ledger entry {entry_id} is not in the case's history")
