"""Who may see a case, its data and its evidence."""

from __future__ import annotations

from sqlalchemy import or_, select

from . import assignment
from .db import db
from .models import HumanTask, ProcessInstance, User


def is_participant(user: User, instance: ProcessInstance) -> bool:
    if user.id in (instance.started_by_id, instance.subject_user_id):
        return True
    worked = db.session.scalar(
        select(HumanTask.id).where(
            HumanTask.instance_id == instance.id,
            or_(HumanTask.assigned_user_id == user.id, HumanTask.claimed_by_id == user.id,
                HumanTask.completed_by_id == user.id, HumanTask.escalated_to_id == user.id),
        ).limit(1)
    )
    if worked is not None:
        return True
    open_tasks = db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
    )
    return any(assignment.in_candidate_groups(t, user) and user.id not in t.excluded_user_ids for t in open_tasks)


def may_view_case(user: User, instance: ProcessInstance) -> bool:
    return user.has_role("auditor", "admin") or is_participant(user, instance) or decides_about(user, instance)


def decides_about(user: User, instance: ProcessInstance) -> bool:
    """Someone who may act now on a step that shows warnings, in another case of the same
    process and business key (another registration of the same client), may open this
    case: the warning links to it and the decision is made with it. Not its starter."""
    if not instance.business_key:
        return False
    from .definitions import built_for

    related = db.session.scalars(
        select(HumanTask).join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id).where(
            ProcessInstance.process_key == instance.process_key,
            ProcessInstance.business_key == instance.business_key, ProcessInstance.id != instance.id,
            ProcessInstance.started_by_id != user.id, HumanTask.state == "open").limit(50)
    ).all()
    for task in related:
        meta = built_for(task.instance.definition).meta.tasks.get(task.spec_id)
        if meta is None or not meta.properties.get("warnings") or task.instance.subject_user_id == user.id:
            continue
        if assignment.refusal(task, user) is None:
            return True
    return False


def sees_whole_records(user: User) -> bool:
    """Auditors see ID and phone numbers whole (and such views are logged)."""
    return user.has_role("auditor")


def case_for(user: User, instance_id: int, ip: str | None = None) -> ProcessInstance:
    """The case, if ``user`` may see it; refusals are written to the security log."""
    from . import audit
    from .errors import Forbidden, NotFound

    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("no such case")
    if not may_view_case(user, instance):
        audit.security("refused", user=user, ip=ip, detail=f"view case {instance_id}")
        db.session.commit()
        raise Forbidden("you have no part in this case")
    return instance
