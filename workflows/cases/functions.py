"""Functions a diagram may call from a script task or condition.

These are the only calls the restricted expression environment allows beyond
pure built-ins. Each is registered in a :class:`FunctionTable` (the generic one
here, a family's in its package) and takes the running case first, so its
effects land in the same transaction as the case's state and are written to
the audit trail. The README's list and ``flask processes functions`` are
generated from the tables.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select

from workflows.branch.models import User, UserRole, Violation
from workflows.branch.org import relation
from workflows.cases.context import CaseContext
from workflows.cases.models import HumanTask, Notice
from workflows.db import db
from workflows.engine.clock import now
from workflows.errors import Msg

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FunctionDoc:
    """One registered function as the designers' list shows it."""

    name: str
    signature: str  # the arguments a diagram writes, without the case
    summary: str
    owner: str


class FunctionTable:
    """Named functions a diagram may call; register them with ``@table.register``."""

    def __init__(self, owner: str) -> None:
        self.owner = owner  # "generic" or a family key
        self._functions: dict[str, Callable[..., Any]] = {}

    def register(self, fn: F) -> F:
        name = fn.__name__
        if name.startswith("_") or name in self._functions:
            raise ValueError(f"diagram function '{name}' is private or registered twice")
        self._functions[name] = fn
        return fn

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._functions)

    def bind(self, ctx: CaseContext) -> dict[str, Callable[..., Any]]:
        """The functions with the running case filled in."""
        return {name: partial(fn, ctx) for name, fn in self._functions.items()}

    def docs(self) -> list[FunctionDoc]:
        out = []
        for name, fn in sorted(self._functions.items()):
            params = list(inspect.signature(fn).parameters.values())[1:]  # the case is filled in
            signature = "(" + ", ".join(str(p).replace("'", "") for p in params) + ")"
            summary = (inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " ")
            out.append(FunctionDoc(name, signature, summary, self.owner))
        return out


functions = FunctionTable("generic")


def notice(user_id: int, instance_id: int, text: str) -> Notice:
    """A notice whose template and values are kept, to be shown in the reader's language."""
    if isinstance(text, Msg):
        return Notice(user_id=user_id, instance_id=instance_id, text=str(text), template=text.template,
                      params={k: str(v) for k, v in text.params.items()})
    return Notice(user_id=user_id, instance_id=instance_id, text=str(text), template=None, params={})


@functions.register
def record_violation(case: CaseContext, kind: str, detail: str | None = None) -> bool:
    """Record a violation of the person the case concerns (its subject, else its initiator)."""
    staff_id = case.instance.subject_user_id or case.instance.started_by_id
    db.session.add(Violation(kind=kind, staff_id=staff_id, instance_id=case.instance.id,
                             detail=detail, recorded_by_id=case.actor.id if case.actor else None))
    case.note("violation_recorded", {"violation": [None, kind]}, detail)
    return True


@functions.register
def notify(case: CaseContext, who: str, text: str) -> bool:
    """Send a notice to 'initiator' or a relation of the initiator (e.g. 'superior')."""
    starter = case.instance.started_by
    user = starter if who == "initiator" else (relation(starter, who) if starter is not None else None)
    if user is not None:
        db.session.add(notice(user.id, case.instance.id, str(text)[:2000]))
        case.note("notice_sent", {"to": [None, user.full_name]}, str(text)[:2000])
    return user is not None


@functions.register
def escalate(case: CaseContext, task_id: str) -> bool:
    """Mark the open task as overdue and show it to the assignee's superior."""
    open_tasks = db.session.query(HumanTask).filter_by(instance_id=case.instance.id, spec_id=task_id,
                                                       state="open").all()
    for ht in open_tasks:
        ht.escalated_at = now()
        holder = ht.claimed_by or ht.assigned_user
        boss = relation(holder, "superior") if holder is not None else None
        if boss is not None:
            db.session.add(notice(boss.id, case.instance.id, Msg(
                "Escalated: '%(task)s' of case #%(case)s is overdue.", task=ht.name, case=case.instance.id)))
            ht.escalated_to_id = boss.id
        case.note("task_escalated", {"task": [None, ht.name],
                                     "escalated_to": [None, boss.full_name if boss else None]})
    return bool(open_tasks)


@functions.register
def remind(case: CaseContext, task_id: str) -> bool:
    """Remind whoever holds the open task (its assignee, or who claimed it) that it still waits for them."""
    open_tasks = db.session.query(HumanTask).filter_by(instance_id=case.instance.id, spec_id=task_id,
                                                       state="open").all()
    reminded = False
    for ht in open_tasks:
        holder = ht.claimed_by or ht.assigned_user
        if holder is None:
            continue
        db.session.add(notice(holder.id, case.instance.id, Msg(
            "Reminder: '%(task)s' of case #%(case)s is waiting for you.", task=ht.name, case=case.instance.id)))
        case.note("task_reminded", {"task": [None, ht.name], "reminded": [None, holder.full_name]})
        reminded = True
    return reminded


@functions.register
def members_of(case: CaseContext, role: str) -> list[str]:
    """Usernames holding a role, without the people the case concerns (they do not vote)."""
    skip = {case.instance.started_by_id, case.instance.subject_user_id}
    rows = db.session.scalars(select(User).join(UserRole).where(UserRole.role_key == role,
                                                                User.active.is_(True)).order_by(User.username))
    return [u.username for u in rows if u.id not in skip]


@functions.register
def tally(case: CaseContext, task_id: str) -> dict[str, int]:
    """Count the decisions of the finished instances of a (multi-instance) task in this round."""
    live_ids = {str(t.id) for t in case.task.workflow.tasks.values()} if case.task is not None else set()
    rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == case.instance.id,
                                                      HumanTask.spec_id == task_id,
                                                      HumanTask.state == "completed"))
    counts: dict[str, int] = {"total": 0, "approve": 0, "reject": 0}
    for row in rows:
        if row.spiff_task_id in live_ids:
            counts[row.outcome or "completed"] = counts.get(row.outcome or "completed", 0) + 1
            counts["total"] += 1
    return counts


@functions.register
def working_days_later(case: CaseContext, days: int = 1) -> str:
    """The moment `days` working days from now on the branch calendar (ISO 8601, UTC): a timer's timeDate."""
    from workflows.branch.calendar import working_deadline

    count = int(days)
    if not 0 < count <= 60:
        raise ValueError("working_days_later counts 1 to 60 working days")
    return working_deadline(now(), count).replace(tzinfo=dt.UTC).isoformat()
