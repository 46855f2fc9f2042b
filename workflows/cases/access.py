"""Who may see a case, its data and its evidence — the one place these rules live.

Rights to case content come from business roles only. The ``admin`` role runs the
system (users, roles, organisation, settings, the security log) and gives no right
to any case, task, attachment, history or audit search (least privilege, SPEC §1);
an administrator who also works cases gets those rights from their other roles.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from workflows.branch.models import User
from workflows.cases import assignment
from workflows.cases.models import HumanTask, ProcessInstance
from workflows.db import db

SYSTEM_ROLES = frozenset({"admin"})


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


def may_audit(user: User) -> bool:
    """Auditors read every case, task, history and attachment, whoever took part."""
    return user.has_role("auditor")


def may_search_cases(user: User) -> bool:
    """The case search, its CSV export and the audit-trail check are the auditor's."""
    return may_audit(user)


def may_view_case(user: User, instance: ProcessInstance) -> bool:
    return may_audit(user) or is_participant(user, instance) or decides_about(user, instance)


def may_read_security_log(user: User) -> bool:
    """The administrator keeps the system safe; the auditor checks them both."""
    return user.has_role("admin", "auditor")


def may_administer(user: User) -> bool:
    """Users, roles, organisation and settings."""
    return user.has_role("admin")


def works_cases(user: User) -> bool:
    """Whether any role gives business work (start cases, an inbox); a pure administrator has none."""
    return bool(user.roles - SYSTEM_ROLES)


def decides_about(user: User, instance: ProcessInstance) -> bool:
    """Someone who may act now on a step that shows warnings, in another case of the same
    process and business key (another registration of the same client), may open this
    case: the warning links to it and the decision is made with it. Not its starter."""
    if not instance.business_key:
        return False
    from workflows.cases.definitions import built_for

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
    return may_audit(user)


def case_for(user: User, instance_id: int, ip: str | None = None, what: str | None = None) -> ProcessInstance:
    """The case, if ``user`` may see it; refusals are written to the security log
    (``what`` names the thing asked for, e.g. an attachment of the case)."""
    from workflows.cases import audit
    from workflows.errors import Forbidden, NotFound

    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("no such case")
    if not may_view_case(user, instance):
        detail = f"view {what} of case {instance_id}" if what else f"view case {instance_id}"
        audit.security("refused", user=user, ip=ip, detail=detail)
        db.session.commit()
        raise Forbidden("you have no part in this case")
    return instance
