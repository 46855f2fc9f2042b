"""The functions the test family's diagram may call (and only it)."""

from __future__ import annotations

from tests.family_demo import rules
from workflows.cases.context import CaseContext
from workflows.cases.functions import FunctionTable

functions = FunctionTable("family_demo")


@functions.register
def record_budget(case: CaseContext, amount: int) -> int:
    """Note the approved amount in the history; returns the budget left to the person."""
    left = rules.budget_left(case.instance.started_by_id)
    case.note("budget_recorded", {"approved_amount": [None, amount], "budget_left": [None, left]})
    return left


@functions.register
def start_follow_up(case: CaseContext) -> int:
    """Start a follow-up request, by the system on behalf of this case; returns its number."""
    from workflows.cases import commands

    data = {"amount": "0", "purpose": f"follow-up of case #{case.instance.id}", "follow_up": "false"}
    follow = commands.start_case(rules.PROCESS_KEY, None, data, via="case", origin=f"case:{case.instance.id}",
                                 commit=False)
    return follow.id
