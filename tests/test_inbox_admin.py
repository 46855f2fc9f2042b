"""Inbox features (bulk, release, overdue, filters) and the admin's organisation pages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.conftest import Leaders, unique_id_number, user
from tests.processes.ownership.steps import counter_pass, open_task, registration
from workflows.branch.models import OrgUnit, User
from workflows.cases import commands as cases
from workflows.cases.models import HumanTask
from workflows.db import db
from workflows.engine import clock


def _at_confirmation(username: str) -> HumanTask:
    instance = cases.start_case("client_ownership", user(username), registration(unique_id_number()))
    return open_task(instance, "Task_ConfirmReservation")


def test_bulk_submission_of_aggregation_tasks(web) -> None:
    aggregates = []
    for username in ("staff01", "staff02", "staff03"):
        task = _at_confirmation(username)
        cases.complete_task(task.id, user("support1"), {"decision": "approve"})
        counter_pass(task.instance, user("counter1"))
        agg = open_task(task.instance, "Task_Aggregate")
        cases.claim(agg.id, user("support1b"))
        aggregates.append(agg.id)
    web.login("support1b")
    page = web.client.get("/?view=mine").get_data(as_text=True)
    assert all(f'name="task_id" value="{i}"' in page for i in aggregates)
    resp = web.post("/tasks/bulk", {"task_id": [str(i) for i in aggregates], "decision": "approve", "view": "mine"})
    assert resp.status_code == 302
    for task_id in aggregates:
        task = db.session.get(HumanTask, task_id)
        assert task.state == "completed" and task.completed_by.username == "support1b"
        assert open_task(task.instance, "Task_TradingReview")


def test_bulk_refuses_tasks_that_are_not_routine(web) -> None:
    task = _at_confirmation("staff10")
    cases.complete_task(task.id, user("support2"), {"decision": "approve"})
    counter = open_task(task.instance, "Task_CounterOpening")
    cases.claim(counter.id, user("counter2"))
    web.login("counter2")
    resp = web.post("/tasks/bulk", {"task_id": [str(counter.id)], "decision": "approve"})
    assert resp.status_code == 302
    assert db.session.get(HumanTask, counter.id).state == "open"


def test_release_returns_a_claimed_task_to_the_group(web) -> None:
    task = _at_confirmation("staff11")
    web.login("support2")
    assert web.post(f"/tasks/{task.id}/claim").status_code == 302
    assert db.session.get(HumanTask, task.id).claimed_by.username == "support2"
    assert web.post(f"/tasks/{task.id}/release").status_code == 302
    assert db.session.get(HumanTask, task.id).claimed_by_id is None
    assert f'data-task-id="{task.id}"' in web.client.get("/?view=groups").get_data(as_text=True)


def test_overdue_tasks_are_marked_and_filtered(web) -> None:
    task = _at_confirmation("staff07")
    fresh = _at_confirmation("staff08")
    db.session.get(HumanTask, task.id).due_at = clock.now() - dt.timedelta(hours=1)
    db.session.commit()
    web.login("support2")
    page = web.client.get("/?view=groups&overdue=1").get_data(as_text=True)
    assert f'data-task-id="{task.id}"' in page and f'data-task-id="{fresh.id}"' not in page
    assert 'class="overdue"' in page and 'id="overdue-count"' in page


def test_process_filter_and_search(web) -> None:
    task = _at_confirmation("staff09")
    web.login("support2")
    title = task.instance.title
    assert f'data-task-id="{task.id}"' in web.client.get(f"/?view=groups&q={title}").get_data(as_text=True)
    page = web.client.get("/?view=groups&process=no_such_process").get_data(as_text=True)
    assert f'data-task-id="{task.id}"' not in page


def test_admin_creates_a_user_and_moves_them_in_the_tree(web, lead: Leaders) -> None:
    team = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.id)).first()
    region = team.parent.parent
    lead(region, region.leader)  # the page below changes the leader; the fixture puts it back afterwards
    web.login("admin")
    resp = web.post("/admin/users/new", {"username": "newstaff", "full_name": "新同事", "password": "s3cret-pass",
                                         "roles": ["staff"], "unit_id": str(team.id), "active": "on"})
    assert resp.status_code == 302
    person = db.session.scalars(select(User).where(User.username == "newstaff")).one()
    assert person.roles == {"staff"} and person.unit_id == team.id
    bad = web.post("/admin/users/new", {"username": "x y", "full_name": "", "password": "1", "roles": ["boss"]})
    assert bad.status_code == 422
    assert db.session.scalars(select(User).where(User.username == "x y")).first() is None
    # a new region with its own manager changes "the applicant's regional manager"
    resp = web.post("/admin/org", {"unit_id": str(region.id), "kind": "region", "name": region.name,
                                   "parent_id": str(region.parent_id), "leader_id": str(user("region22").id)})
    assert resp.status_code == 302
    from workflows.branch.org import relation

    db.session.expire_all()
    assert relation(person, "regional_manager").username == "region22"
    refused = web.post("/admin/org", {"kind": "team", "name": "x", "parent_id": str(region.parent_id)})
    assert refused.status_code == 422


def test_only_admins_reach_admin_pages(web) -> None:
    web.login("staff01")
    assert web.client.get("/admin/users").status_code == 403
    assert web.client.get("/audit/").status_code == 403
