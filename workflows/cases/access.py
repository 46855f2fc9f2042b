"""Who may do what: see a case, its data and its evidence, open an area — the one place these rules live.

This is the only module that names roles for permissions: pages and API routes ask
for a :class:`Permission` (``webapp.security.requires``), the navigation calls the
``may_*`` functions, and every refusal is logged by :func:`refuse`. Who may start a
process is the diagram's (``startRoles``); who may act on a task is ``assignment``'s.

Rights to case content come from business roles only. The ``admin`` role runs the
system (users, roles, organisation, settings, the security log) and gives no right
to any case, task, attachment, history or audit search (least privilege, SPEC §1);
an administrator who also works cases gets those rights from their other roles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from workflows.branch.models import User
from workflows.cases import assignment
from workflows.cases.models import HumanTask, ProcessInstance
from workflows.db import db
from workflows.errors import Conflict, Forbidden, NotFound

SYSTEM_ROLES = frozenset({"admin"})


def is_participant(user: User, instance: ProcessInstance) -> bool:
    return bool(_participating(user, [instance]))


def _participating(user: User, instances: Iterable[ProcessInstance]) -> set[int]:
    """The ids of the cases ``user`` started or concerns, worked on, or could claim a step of now (an
    open task of their groups they are not excluded from): two statements however many cases."""
    cases = {c.id: c for c in instances}
    found = {i for i, c in cases.items() if user.id in (c.started_by_id, c.subject_user_id)}
    rest = [i for i in cases if i not in found]
    if rest:
        found.update(db.session.scalars(select(HumanTask.instance_id).distinct().where(
            HumanTask.instance_id.in_(rest),
            or_(HumanTask.assigned_user_id == user.id, HumanTask.claimed_by_id == user.id,
                HumanTask.completed_by_id == user.id, HumanTask.escalated_to_id == user.id))))
        rest = [i for i in rest if i not in found]
    if rest:  # candidates and exclusions come with the tasks (selectin)
        for task in db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(rest),
                                                               HumanTask.state == "open")):
            if assignment.in_candidate_groups(task, user) and user.id not in task.excluded_user_ids:
                found.add(task.instance_id)
    return found


def may_audit(user: User) -> bool:
    """Auditors read every case, task, history and attachment, whoever took part."""
    return user.has_role("auditor")


def may_search_cases(user: User) -> bool:
    """The case search, its CSV export and the audit-trail check are the auditor's."""
    return may_audit(user)


def may_view_case(user: User, instance: ProcessInstance) -> bool:
    return may_audit(user) or oversees(user, instance) or is_participant(user, instance) \
        or decides_about(user, instance)  # the role checks first: the others read tasks


def oversees(user: User, instance: ProcessInstance) -> bool:
    """The case's family names who oversees all its cases (``Family.case_readers``)."""
    from workflows import processes

    family = processes.family_of(instance.process_key)
    return bool(family is not None and family.case_readers is not None and family.case_readers(user))


def may_read_security_log(user: User) -> bool:
    """The administrator keeps the system safe; the auditor checks them both."""
    return user.has_role("admin", "auditor")


def may_administer(user: User) -> bool:
    """Users, roles, organisation and settings."""
    return user.has_role("admin")


def may_keep_calendar(user: User) -> bool:
    """The working-day calendar: the administrator, and the office, which keeps attendance (HR)
    and loads each year's official holiday schedule. Everyone signed in may read it."""
    return user.has_role("admin", "office")


def may_design(user: User) -> bool:
    """The designer's pages: versions, the modeler, validate, compare (administrators may look)."""
    return user.has_role("designer", "admin")


def may_deploy(user: User) -> bool:
    """Deploying a new version changes what every new case runs: process designers only."""
    return user.has_role("designer")


def works_cases(user: User) -> bool:
    """Whether any role gives business work (start cases, an inbox); a pure administrator has none."""
    return bool(user.roles - SYSTEM_ROLES)


def decides_about(user: User, instance: ProcessInstance) -> bool:
    """Someone who may act now on a step that shows warnings, in another case of the same
    process and business key (another registration of the same client), may open this
    case: the warning links to it and the decision is made with it. Not its starter."""
    return bool(_deciding_about(user, [instance]))


def viewable(user: User, instances: Iterable[ProcessInstance]) -> set[int]:
    """The ids of the cases among ``instances`` that :func:`may_view_case` lets ``user`` open, in at
    most four statements however many cases (a list page's links: 200 notices asked one case at a
    time sent 400 statements)."""
    cases = {c.id: c for c in instances}
    if may_audit(user):
        return set(cases)
    ok = {i for i, c in cases.items() if oversees(user, c)}
    ok |= _participating(user, [c for i, c in cases.items() if i not in ok])
    return ok | _deciding_about(user, [c for i, c in cases.items() if i not in ok])


def _deciding_about(user: User, instances: list[ProcessInstance]) -> set[int]:
    """:func:`decides_about` for several cases: their related open tasks read in one statement."""
    keyed = [c for c in instances if c.business_key]
    if not keyed:
        return set()
    from workflows.cases.definitions import built_for

    related: dict[tuple[str, str | None], list[HumanTask]] = {}
    for task in db.session.scalars(
        select(HumanTask).join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id).where(
            ProcessInstance.process_key.in_({c.process_key for c in keyed}),
            ProcessInstance.business_key.in_({c.business_key for c in keyed}),
            ProcessInstance.started_by_id != user.id, HumanTask.state == "open")
        .options(contains_eager(HumanTask.instance))
    ):
        related.setdefault((task.instance.process_key, task.instance.business_key), []).append(task)
    found: set[int] = set()
    for case in keyed:
        for task in related.get((case.process_key, case.business_key), []):
            other = task.instance
            if other.id == case.id:
                continue
            meta = built_for(other.definition).meta.tasks.get(task.spec_id)
            if meta is None or not meta.warnings or other.subject_user_id == user.id:
                continue
            if assignment.refusal(task, user) is None:
                found.add(case.id)
                break
    return found


def sees_whole_records(user: User) -> bool:
    """Auditors see ID and phone numbers whole (and such views are logged)."""
    return may_audit(user)


def log_event(kind: str, *, user: User | None = None, username: str | None = None, ip: str | None = None,
              detail: str | None = None) -> None:
    """A security-log entry (a login, a logout, a refused request) written and committed at once,
    so it stays even when the request then fails."""
    from workflows.cases import audit

    audit.security(kind, user=user, username=username, ip=ip, detail=detail)
    db.session.commit()


def refuse(user: User | None, detail: str, message: str, *, ip: str | None = None,
           conflict: bool = False, code: str | None = None) -> NoReturn:
    """Write the refusal to the security log, commit it, and raise: the one way a refusal
    is recorded, so each is logged once. ``conflict`` answers 409 (a race lost) instead of 403;
    ``code`` is the stable code a program branches on (else ``forbidden`` / ``conflict``)."""
    log_event("refused", user=user, ip=ip, detail=detail)
    raise (Conflict if conflict else Forbidden)(message, code=code)


NO_PART = "no_part"  # the code of "you have no part in this case / task"


@dataclass(frozen=True)
class Permission:
    """A right a page or an API route needs, as data: its name, who holds it, and what a
    refused person reads (English; translated at display)."""

    name: str
    allows: Callable[[User], bool]
    refusal: str


AUDIT = Permission("audit", may_search_cases, "only auditors may open this page")
SECURITY_LOG = Permission("security_log", may_read_security_log,
                          "only auditors and administrators may open this page")
ADMINISTER = Permission("administer", may_administer, "only administrators may open this page")
KEEP_CALENDAR = Permission("keep_calendar", may_keep_calendar,
                           "only administrators and the office may change the working-day calendar")
DESIGN = Permission("design", may_design, "Only process designers may open the designer.")
DEPLOY = Permission("deploy", may_deploy, "Only process designers may deploy.")


def require(permission: Permission, user: User, detail: str, ip: str | None = None) -> None:
    """Go on if ``user`` holds ``permission``; else refuse (logged once)."""
    if not permission.allows(user):
        refuse(user, detail, permission.refusal, ip=ip)


def case_for(user: User, instance_id: int, ip: str | None = None, what: str | None = None) -> ProcessInstance:
    """The case, if ``user`` may see it; refusals are written to the security log
    (``what`` names the thing asked for, e.g. an attachment of the case)."""
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("no such case")
    if not may_view_case(user, instance):
        detail = f"view {what} of case {instance_id}" if what else f"view case {instance_id}"
        refuse(user, detail, "you have no part in this case", ip=ip, code=NO_PART)
    return instance


def note_whole_view(user: User, instance: ProcessInstance, ip: str | None = None) -> bool:
    """Whether ``user`` reads this case's records whole; an auditor's look at a case they
    take no part in is written to the security log (and committed) before it is shown."""
    whole = sees_whole_records(user)
    if whole and not is_participant(user, instance):
        log_event("record_viewed", user=user, ip=ip, detail=f"case {instance.id} viewed whole")
    return whole
