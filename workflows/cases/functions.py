"""Functions a diagram may call from a script task or condition.

These are the only calls the restricted expression environment allows beyond
pure built-ins; each is bound to the running case so its effects land in the
same transaction as the case's state and are written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from workflows.branch.models import User, UserRole, Violation
from workflows.branch.org import relation
from workflows.cases.context import CaseContext
from workflows.cases.models import HumanTask, Notice
from workflows.db import db
from workflows.engine.clock import now
from workflows.errors import Msg
from workflows.processes.ownership import rules as ownership

HELPER_NAMES = frozenset({
    "ownership_conflict", "register_ownership", "record_violation", "notify", "notify_conflict_decision",
    "escalate", "members_of", "tally",
})


def notice(user_id: int, instance_id: int, text: str) -> Notice:
    """A notice whose template and values are kept, to be shown in the reader's language."""
    if isinstance(text, Msg):
        return Notice(user_id=user_id, instance_id=instance_id, text=str(text), template=text.template,
                      params={k: str(v) for k, v in text.params.items()})
    return Notice(user_id=user_id, instance_id=instance_id, text=str(text), template=None, params={})


def bind(ctx: CaseContext) -> dict[str, Callable[..., Any]]:
    """The helper functions, bound to one case."""

    def data() -> dict[str, Any]:
        return ctx.task.data if ctx.task is not None else {}

    def ownership_conflict(client_id_number: str) -> dict[str, Any] | None:
        return ownership.find_conflict(client_id_number, ctx.instance)

    def register_ownership() -> int:
        entry = ownership.register(ctx.instance, data(), ctx.actor)
        # The "_" facts are for `flask audit verify` (compared with the registry row), not shown in the history.
        ctx.note("ownership_registered", {"registry_entry": [None, entry.id],
                                           "owner": [None, entry.staff.full_name],
                                           "_owner_id": [None, entry.staff_id],
                                           "_client_id_number": [None, entry.client_id_number]})
        return entry.id

    def record_violation(kind: str, detail: str | None = None) -> bool:
        staff_id = ctx.instance.subject_user_id or ctx.instance.started_by_id
        db.session.add(Violation(kind=kind, staff_id=staff_id, instance_id=ctx.instance.id,
                                 detail=detail, recorded_by_id=ctx.actor.id if ctx.actor else None))
        ctx.note("violation_recorded", {"violation": [None, kind]}, detail)
        return True

    def notify(who: str, text: str) -> bool:
        """Send a notice to 'initiator' or a relation of the initiator."""
        user = ctx.instance.started_by if who == "initiator" else relation(ctx.instance.started_by, who)
        if user is not None:
            db.session.add(notice(user.id, ctx.instance.id, str(text)[:2000]))
            ctx.note("notice_sent", {"to": [None, user.full_name]}, str(text)[:2000])
        return user is not None

    def notify_conflict_decision() -> bool:
        for user_id, text in ownership.conflict_notices(ctx.instance, data()):
            db.session.add(notice(user_id, ctx.instance.id, text))
            ctx.note("notice_sent", {"to_user_id": [None, user_id]}, text)
        return True

    def escalate(task_id: str) -> bool:
        """Mark the open task as overdue and show it to the assignee's superior."""
        open_tasks = db.session.query(HumanTask).filter_by(instance_id=ctx.instance.id, spec_id=task_id,
                                                           state="open").all()
        for ht in open_tasks:
            ht.escalated_at = now()
            holder = ht.claimed_by or ht.assigned_user
            boss = relation(holder, "superior") if holder is not None else None
            if boss is not None:
                db.session.add(notice(boss.id, ctx.instance.id, Msg(
                    "Escalated: '%(task)s' of case #%(case)s is overdue.", task=ht.name, case=ctx.instance.id)))
                ht.escalated_to_id = boss.id
            ctx.note("task_escalated", {"task": [None, ht.name],
                                        "escalated_to": [None, boss.full_name if boss else None]})
        return bool(open_tasks)

    def members_of(role: str) -> list[str]:
        """Usernames holding a role, without the people the case concerns (they do not vote)."""
        skip = {ctx.instance.started_by_id, ctx.instance.subject_user_id}
        rows = db.session.scalars(select(User).join(UserRole).where(UserRole.role_key == role,
                                                                    User.active.is_(True)).order_by(User.username))
        return [u.username for u in rows if u.id not in skip]

    def tally(task_id: str) -> dict[str, int]:
        """Count the decisions of the finished instances of a (multi-instance) task in this round."""
        live_ids = {str(t.id) for t in ctx.task.workflow.tasks.values()} if ctx.task is not None else set()
        rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == ctx.instance.id,
                                                          HumanTask.spec_id == task_id,
                                                          HumanTask.state == "completed"))
        counts: dict[str, int] = {"total": 0, "approve": 0, "reject": 0}
        for row in rows:
            if row.spiff_task_id in live_ids:
                counts[row.outcome or "completed"] = counts.get(row.outcome or "completed", 0) + 1
                counts["total"] += 1
        return counts

    return {
        "members_of": members_of, "tally": tally,
        "ownership_conflict": ownership_conflict, "register_ownership": register_ownership,
        "record_violation": record_violation, "notify": notify,
        "notify_conflict_decision": notify_conflict_decision, "escalate": escalate,
    }
