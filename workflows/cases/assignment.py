"""Who may work a task: assignee, candidate groups, and segregation of duties."""

from __future__ import annotations

from sqlalchemy import select

from workflows.branch.models import User
from workflows.branch.org import department_of, relation, scope_unit_ids
from workflows.cases.models import HumanTask, ProcessInstance, TaskCandidate, TaskExclusion
from workflows.db import db
from workflows.engine.dialect import TaskMeta
from workflows.errors import Refusal

# An assignee may be a relation of the case's people: "initiator.regional_manager".


def _person(instance: ProcessInstance, who: str) -> User | None:
    """The case's subject or initiator; None for the initiator of a case the system started."""
    if who == "subject" and instance.subject_user is not None:
        return instance.subject_user
    return instance.started_by


def resolve(task: HumanTask, meta: TaskMeta, instance: ProcessInstance, data: dict | None = None) -> None:
    """Fill in the assignee or candidate groups and who is excluded from acting."""
    excluded: set[int] = set()
    own_task = False
    assignee = meta.assignee
    if assignee is not None and assignee.field is not None:
        username = str((data or {}).get(assignee.field, ""))
        person = db.session.scalars(select(User).where(User.username == username)).first()
        task.assigned_user_id = person.id if person else None
        if person is None:
            task.candidates.append(TaskCandidate(role_key="admin"))
    elif assignee is not None:
        person = _person(instance, assignee.person or "")
        rel = assignee.relation
        if person is None:  # no initiator (started by the system): the administrator routes it
            task.candidates.append(TaskCandidate(role_key="admin"))
        elif rel:
            target = relation(person, rel) or relation(person, "superior")
            task.assigned_user_id = target.id if target else None
            if target is None:
                task.candidates.append(TaskCandidate(role_key="gm"))
        else:
            task.assigned_user_id = person.id
            own_task = True
    else:
        for group in meta.groups:
            unit_id = None
            if group.scope:
                person = _person(instance, group.person or "")
                unit = department_of(person) if group.relation == "department" and person is not None else None
                if group.relation != "department" and person is not None:
                    leader = relation(person, group.relation or "")
                    unit = leader.unit if leader else None
                unit_id = unit.id if unit else None
            task.candidates.append(TaskCandidate(role_key=group.role, scope_unit_id=unit_id))
    if not own_task:
        excluded.add(instance.started_by_id)
        if instance.subject_user_id:
            excluded.add(instance.subject_user_id)
    for spec_id in meta.not_same_as:
        excluded.update(db.session.scalars(
            select(HumanTask.completed_by_id).where(HumanTask.instance_id == instance.id,
                                                    HumanTask.spec_id == spec_id, HumanTask.state == "completed")
        ))
    excluded.discard(None)
    task.exclusions = [TaskExclusion(user_id=uid) for uid in sorted(excluded)]
    task.bulk = meta.bulk


def in_candidate_groups(task: HumanTask, user: User) -> bool:
    roles = user.roles
    scopes: list[int] | None = None
    for cand in task.candidates:
        if cand.role_key not in roles:
            continue
        if cand.scope_unit_id is None:
            return True
        if scopes is None:
            scopes = scope_unit_ids(user)
        if cand.scope_unit_id in scopes:
            return True
    return False


# Why someone may not act on a task; CLAIMED is a race lost (409), the others a lack of right (403).
# The codes are stable (programs branch on them): both ways of "not yours" share ``not_a_candidate``.
SEGREGATION = Refusal("segregation_of_duties",
                      "segregation of duties: you started, concern, or already reviewed this case")
ASSIGNED_ELSEWHERE = Refusal("not_a_candidate", "this task is assigned to someone else")
NOT_YOUR_GROUPS = Refusal("not_a_candidate", "this task is not for your groups")
CLAIMED = Refusal("claimed_by_other", "this task has been claimed by someone else")


def refusal(task: HumanTask, user: User) -> Refusal | None:
    """Why ``user`` may not act on ``task``, or None when they may."""
    if user.id in task.excluded_user_ids:
        return SEGREGATION
    if task.assigned_user_id is not None:
        return None if task.assigned_user_id == user.id else ASSIGNED_ELSEWHERE
    if not in_candidate_groups(task, user):
        return NOT_YOUR_GROUPS
    if task.claimed_by_id is not None and task.claimed_by_id != user.id:
        return CLAIMED
    return None
