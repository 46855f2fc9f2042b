"""Leave requests (Process B, 第二十八、二十九、三十条): the working-day rules, the attendance ledger,
absenteeism and the separation review."""

from workflows.cases.functions import FunctionTable
from workflows.errors import Msg
from workflows.processes.family import Family
from workflows.processes.leave import ledger_models, models  # noqa: F401 - the ledger's tables belong to the family
from workflows.processes.leave.separation import started_by_the_ledger_only

LEAVE_PROCESS = "leave_request"
SEPARATION_PROCESS = "separation_review"

functions = FunctionTable("leave")

# The leave request's parts; `diagram` registers its functions on the table above.
from workflows.processes.leave import approvers, codes, demo, demo_attendance, diagram, integrity, rules  # noqa: E402,F401


def demo_samples() -> None:
    """The demo's leave cases at every step, then ledger entries and an absence series that starts a review."""
    demo.leave_samples()
    demo_attendance.attendance_samples()


FAMILY = Family(
    key="leave",
    process_keys=frozenset({LEAVE_PROCESS, SEPARATION_PROCESS}),
    functions=functions,
    labels={  # the leave request's events and facts
        "leave_assessed": Msg("Leave checked and routed"), "leave_recorded": Msg("Entered in the attendance ledger"),
        "days": Msg("Working days"), "late": Msg("Filed late"), "first_approver": Msg("First approver"),
        "branch_approver": Msg("Branch approver"), "ledger_entry": Msg("Ledger entry"),
        "pay_deduction_days": Msg("Pay deduction (days)"), "score": Msg("Management score"),
    },
    warnings={"leave_balance": rules.balance_info},
    start_checks=(rules.start_check, started_by_the_ledger_only),
    settings=approvers.SETTINGS + rules.SETTINGS,
    demo=demo_samples,
    verify_records=integrity.check_ledger,
    verify_rows=integrity.ledger_rows,
    error_codes=codes.ERROR_CODES,
    field_codes=codes.FIELD_CODES,
)
