"""A small family that exists only for tests: it plugs into the platform with its own
folder and one registration (``processes.register(FAMILY)`` in its fixture)."""

from __future__ import annotations

from tests.family_demo import jobs, rules
from tests.family_demo.functions import functions
from workflows.branch.settings import Setting
from workflows.cases.jobs import Job
from workflows.errors import Msg
from workflows.processes import Family

FAMILY = Family(
    key="family_demo",
    process_keys=frozenset({rules.PROCESS_KEY}),
    functions=functions,
    labels={"budget_recorded": Msg("Budget recorded"), "budget_left": Msg("Budget left")},
    start_checks=(rules.check_budget,),
    settings=(Setting(rules.BUDGET, default=1000, label=Msg("Yearly budget per person"), type="long",
                      min="0", max="1000000"),),
    jobs=(Job("family_demo.month_end", "month_end", jobs.month_end, label=Msg("Month-end review")),),
)
