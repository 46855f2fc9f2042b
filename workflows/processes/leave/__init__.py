"""Leave requests (Process B, 第二十八、二十九、三十条): the working-day rules, the attendance ledger,
absenteeism and the separation review."""

from workflows.cases.functions import FunctionTable
from workflows.processes.family import Family
from workflows.processes.leave import ledger_models, models  # noqa: F401 - the ledger's tables belong to the family
from workflows.processes.leave.separation import started_by_the_ledger_only

LEAVE_PROCESS = "leave_request"
SEPARATION_PROCESS = "separation_review"

functions = FunctionTable("leave")

FAMILY = Family(
    key="leave",
    process_keys=frozenset({LEAVE_PROCESS, SEPARATION_PROCESS}),
    functions=functions,
    start_checks=(started_by_the_ledger_only,),
)
