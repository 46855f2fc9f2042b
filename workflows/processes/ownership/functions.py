"""The functions client-ownership diagrams may call (and only they)."""

from __future__ import annotations

from typing import Any

from workflows.cases.context import CaseContext
from workflows.cases.functions import FunctionTable, notice
from workflows.db import db
from workflows.processes.ownership import rules

functions = FunctionTable("ownership")


@functions.register
def ownership_conflict(case: CaseContext, client_id_number: str) -> dict[str, Any] | None:
    """Another staff member owns the client, or has an earlier running registration of them."""
    return rules.find_conflict(client_id_number, case.instance)


@functions.register
def register_ownership(case: CaseContext) -> int:
    """Enter the client in the registry for the applicant (a previous owner's entry ends)."""
    entry = rules.register(case.instance, case.data(), case.actor)
    # The "_" facts are for `flask audit verify` (compared with the registry row), not shown in the history.
    case.note("ownership_registered", {"registry_entry": [None, entry.id],
                                       "owner": [None, entry.staff.full_name],
                                       "_owner_id": [None, entry.staff_id],
                                       "_client_id_number": [None, entry.client_id_number]})
    return entry.id


@functions.register
def notify_conflict_decision(case: CaseContext) -> bool:
    """Tell both staff members the trading manager's decision on a conflict, and its reason."""
    for user_id, text in rules.conflict_notices(case.instance, case.data()):
        db.session.add(notice(user_id, case.instance.id, text))
        case.note("notice_sent", {"to_user_id": [None, user_id]}, text)
    return True
