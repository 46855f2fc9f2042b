"""Sample leave requests for the demo branch, one in each state, so inboxes and the ledger are not empty."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workflows.branch import calendar
from workflows.branch.models import User
from workflows.cases.models import HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.processes.leave.rules import PROCESS_KEY

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _open_task(instance: ProcessInstance, spec_id: str) -> HumanTask:
    return db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.spec_id == spec_id,
                                                      HumanTask.state == "open")).one()


def _decide(instance: ProcessInstance, spec_id: str, data: dict[str, Any]) -> None:
    from workflows.cases import commands

    task = _open_task(instance, spec_id)
    actor = db.session.get(User, task.assigned_user_id)
    commands.complete_task(task.id, actor, data, via="seed")


def leave_samples() -> None:
    """Pending at the first approval, pending at the branch, approved (with its ledger entry),
    rejected and withdrawn: each by another demo staff member."""
    from workflows.cases import commands
    from workflows.cases.definitions import latest
    from workflows.cases.forms import Upload

    if latest(PROCESS_KEY, required=False) is None:
        return
    people = {u.username: u for u in db.session.scalars(select(User))}
    day = calendar.add_working_days(clock.today(), 3)
    later = calendar.add_working_days(clock.today(), 8)

    def request(username: str, kind: str, first: Any, last: Any, reason: str, **extra: Any) -> ProcessInstance:
        data = {"leave_type": kind, "start_date": first.isoformat(), "end_date": last.isoformat(),
                "half_day": extra.pop("half_day", "none"), "reason": reason, **extra}
        uploads = {"certificate": Upload("诊断证明.pdf", "application/pdf", PDF)} if kind != "personal" else None
        return commands.start_case(PROCESS_KEY, people[username], data, uploads=uploads, via="seed")

    request("staff01", "personal", day, day, "家中有事 Family matter")
    sick = request("staff03", "sick", day, calendar.add_working_days(day, 1), "发烧就医 Fever",
                   hospital_name="福田区人民医院", hospital_level="district")
    _decide(sick, "Task_FirstApproval", {"decision": "approve"})
    approved = request("staff05", "personal", later, later, "办理证件 Paperwork", half_day="am")
    _decide(approved, "Task_FirstApproval", {"decision": "approve"})
    _decide(approved, "Task_BranchApproval", {"decision": "approve"})
    rejected = request("staff07", "personal", later, calendar.add_working_days(later, 2), "旅行 Travel")
    _decide(rejected, "Task_FirstApproval", {"decision": "reject", "comment": "月底业绩冲刺期间 Month-end sales push"})
    withdrawn = request("staff09", "personal", day, day, "私事 Personal errand")
    commands.complete_task(_open_task(withdrawn, "Task_Withdraw").id, people["staff09"],
                           {"decision": "withdraw", "comment": "已改期 Rescheduled"}, via="seed")
