"""Who approves a leave request (第二十八条第5款): the regional manager, else the direct superior;
then the branch (GM or the named approver); never the requester, never one person twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import user
from tests.processes.leave.steps import approve_all, assignee, decide, on, open_specs, open_task, person, start, week
from workflows.branch.models import OrgUnit
from workflows.cases import commands as cases
from workflows.db import db
from workflows.errors import Forbidden, Refused
from workflows.processes.leave import approvers


def _route(username: str) -> tuple[str | None, str | None]:
    found = approvers.route(user(username))
    return (found.first.username if found.first else None, found.branch.username if found.branch else None)


def test_the_chain_for_each_kind_of_requester() -> None:
    assert _route("staff01") == ("region11", "gm")  # staff of the regional manager's own team
    assert _route("staff03") == ("region11", "gm")  # staff of a station manager's team: still the region's manager
    assert _route("station112") == ("region11", "gm")  # station manager
    assert _route("region11") == ("director1", "gm")  # regional manager: their project director
    assert _route("support1") == ("director1", "gm")  # support staff of a department
    assert _route("director1") == ("gm", None)  # project director: the GM, whose approval is the branch's
    assert _route("counter1") == ("gm", None)  # branch staff without a team


def test_without_a_regional_manager_the_station_manager_approves(lead) -> None:
    staff = user("staff03")
    region = next(u for u in staff.unit.ancestors() if u.kind == "region")
    lead(region, None)
    db.session.expire_all()
    assert _route("staff03") == ("station112", "gm")
    assert _route("station112")[0] == "director1"  # no regional manager above them either: the director


def test_a_named_branch_approver_replaces_the_gm_but_never_doubles_up(branch_approver) -> None:
    branch_approver("retail")
    assert _route("staff01") == ("region11", "retail")
    assert _route("director1") == ("gm", "retail")  # the GM first, then the named approver
    assert _route("gm") == (None, "retail")  # the GM's own leave: the named approver alone
    assert _route("retail") == ("gm", None)  # the named approver's own leave: the GM, once
    branch_approver("region11")
    assert _route("staff01") == ("region11", "gm")  # first approver named: the GM approves for the branch
    branch_approver("nobody-has-this-name")
    assert _route("staff01") == ("region11", "gm")


def test_the_gm_cannot_request_leave_when_nobody_else_can_approve_it() -> None:
    on(week(30, 0))
    with pytest.raises(Refused) as caught:
        start(user("gm"), "personal", week(30, 2))
    assert caught.value.code == "leave_no_approver"


def test_the_gms_leave_goes_to_the_named_approver_alone(branch_approver) -> None:
    branch_approver("retail")
    on(week(30, 0))
    instance = start(user("gm"), "personal", week(30, 3))
    assert open_specs(instance) == ["Task_BranchApproval", "Task_Withdraw"]
    assert assignee(instance, "Task_BranchApproval").username == "retail"
    decide(instance, "Task_BranchApproval")
    db.session.refresh(instance)
    assert instance.outcome == "End_Approved"


def test_steps_are_assigned_to_the_computed_people_and_nobody_approves_their_own() -> None:
    on(week(31, 0))
    requester = person("staff03")
    instance = start(requester, "personal", week(31, 2))
    first = open_task(instance, "Task_FirstApproval")
    assert first.assigned_user_id == user("region11").id and requester.id in first.excluded_user_ids
    with pytest.raises(Forbidden):
        cases.complete_task(first.id, requester, {"decision": "approve"})
    with pytest.raises(Forbidden):  # another manager is not the assignee
        cases.complete_task(first.id, user("region12"), {"decision": "approve"})
    decide(instance, "Task_FirstApproval")
    assert assignee(instance, "Task_BranchApproval").username == "gm"


def test_nobody_approves_twice_in_one_case(branch_approver) -> None:
    """Whoever did the first approval is excluded from the branch approval (``notSameAs``), besides
    the routing never naming them twice."""
    on(week(32, 0))
    requester = person("support1", roles=("support",))
    instance = start(requester, "personal", week(32, 2))
    decide(instance, "Task_FirstApproval")  # director1
    branch = open_task(instance, "Task_BranchApproval")
    assert branch.assigned_user_id == user("gm").id and user("director1").id in branch.excluded_user_ids
    with pytest.raises(Forbidden):
        cases.complete_task(branch.id, user("director1"), {"decision": "approve"})


def test_a_project_directors_leave_is_approved_once_by_the_gm() -> None:
    on(week(33, 0))
    director = user("director1")  # leads the department they belong to
    department = db.session.scalars(select(OrgUnit).where(OrgUnit.id == director.unit_id)).one()
    assert department.kind == "department" and department.leader_id == director.id
    instance = start(director, "personal", week(33, 2))
    assert assignee(instance, "Task_FirstApproval").username == "gm"
    approve_all(instance)
    assert open_specs(instance) == []
