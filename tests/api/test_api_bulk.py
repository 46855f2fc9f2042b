"""POST /tasks/bulk-complete: tasks the diagram marks `bulk` completed with one answer, one
outcome per task in the request's order, a refusal undoing nothing of the others."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import counter_pass, open_specs, open_task, registration
from workflows.cases import commands
from workflows.cases.models import AuditEvent, HumanTask
from workflows.db import db


def confirmations(count: int) -> list[int]:
    """Open Task_ConfirmReservation tasks (bulk) of cases started in support1's department."""
    starters = ("staff01", "staff02", "staff03", "staff04", "staff05")
    ids = []
    for i in range(count):
        case = commands.start_case("client_ownership", user(starters[i % len(starters)]),
                                   registration(unique_id_number()))
        ids.append(open_task(case, "Task_ConfirmReservation").id)
    db.session.commit()
    return ids


def bulk(person, body: dict, **headers: str):
    db.session.commit()
    return person.client.post("/api/v1/tasks/bulk-complete", headers={**person.headers, **headers}, json=body)


def test_ten_tasks_with_one_refusal_among_them(api) -> None:
    tasks = confirmations(10)
    taken = tasks[3]
    commands.complete_task(taken, user("support1b"), {"decision": "approve"})  # done before the batch
    support = api("support1")
    order = list(reversed(tasks))
    resp = bulk(support, {"task_ids": order, "data": {"decision": "approve"}})
    assert resp.status_code == 200
    body = resp.get_json()
    assert [r["task_id"] for r in body["results"]] == order
    assert (body["completed"], body["refused"], body["total"]) == (9, 1, 10)
    refused = [r for r in body["results"] if r["status"] == "refused"]
    single = support.post(f"/tasks/{taken}/complete", {"decision": "approve"}).get_json()
    assert refused == [{"task_id": taken, "status": "refused", "error": single["error"], "message": single["message"]}]
    assert single["error"] != "invalid" and single["message"]
    for task_id in tasks:
        task = db.session.get(HumanTask, task_id)
        assert task.state == "completed"
        assert task.completed_by.username == ("support1b" if task_id == taken else "support1")
        assert open_specs(task.instance) == ["Task_CounterOpening"]
    recorded = db.session.scalars(select(AuditEvent).where(AuditEvent.human_task_id.in_(tasks),
                                                           AuditEvent.type == "task_completed")).all()
    assert sorted(e.human_task_id for e in recorded) == sorted(tasks)  # once each
    assert {e.via for e in recorded if e.human_task_id != taken} == {"api"}


def test_each_refusal_carries_its_code_fields_and_a_message_in_the_requests_language(api) -> None:
    routine, other = confirmations(2)
    case = db.session.get(HumanTask, other).instance
    commands.complete_task(other, user("support1"), {"decision": "approve"})
    counter = open_task(case, "Task_CounterOpening").id  # not a bulk step
    support = api("support1")
    resp = bulk(support, {"task_ids": [routine, counter], "data": {"decision": "send_back"}},
                **{"Accept-Language": "zh"})
    first, second = resp.get_json()["results"]
    assert first["status"] == "refused" and first["error"] == "invalid" and "comment" in first["fields"]
    assert second["status"] == "refused" and second["error"] != "invalid"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r["message"]) for r in (first, second))
    assert db.session.get(HumanTask, routine).state == "open"


def test_the_aggregation_step_in_bulk(api) -> None:
    aggregates = []
    for task_id in confirmations(3):
        task = db.session.get(HumanTask, task_id)
        commands.complete_task(task_id, user("support1"), {"decision": "approve"})
        counter_pass(task.instance, user("counter1"))
        aggregates.append(open_task(task.instance, "Task_Aggregate").id)
    resp = bulk(api("support1b"), {"task_ids": aggregates, "data": {"batch_ref": "B-2026-11"}})
    assert resp.get_json()["completed"] == 3
    assert all(open_specs(db.session.get(HumanTask, t).instance) == ["Task_TradingReview"] for t in aggregates)


def test_a_retried_batch_with_the_same_key_is_answered_once(api) -> None:
    tasks = confirmations(2)
    support = api("support1")
    body = {"task_ids": tasks, "data": {"decision": "approve"}}
    first = bulk(support, body, **{"Idempotency-Key": "batch-2026-11-24"})
    again = bulk(support, body, **{"Idempotency-Key": "batch-2026-11-24"})
    assert first.get_json()["completed"] == 2 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    reused = bulk(support, {**body, "task_ids": tasks[:1]}, **{"Idempotency-Key": "batch-2026-11-24"})
    assert reused.status_code == 422 and reused.get_json()["error"] == "idempotency_key_reused"


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"task_ids": "a list of 1 to 500 task ids"}),
    ({"task_ids": []}, {"task_ids": "a list of 1 to 500 task ids"}),
    ({"task_ids": list(range(1, 502))}, {"task_ids": "a list of 1 to 500 task ids"}),
    ({"task_ids": "1,2"}, {"task_ids": "a list of 1 to 500 task ids"}),
    ({"task_ids": [1, "2"]}, {"task_ids": "each must be a positive whole number"}),
    ({"task_ids": [0]}, {"task_ids": "each must be a positive whole number"}),
    ({"task_ids": [True]}, {"task_ids": "each must be a positive whole number"}),
    ({"task_ids": [1.5]}, {"task_ids": "each must be a positive whole number"}),
    ({"task_ids": [2**31]}, {"task_ids": "each must be a positive whole number"}),
    ({"task_ids": [7, 8, 7]}, {"task_ids": "each task may be listed only once"}),
    ({"task_ids": [1], "data": [1]}, {"data": "must be an object"}),
    ({"task_ids": [1], "decision": "approve"}, {"decision": "unknown member"}),
])
def test_the_body_is_checked_before_any_task(api, body: dict, fields: dict) -> None:
    resp = bulk(api("support1"), body)
    assert resp.status_code == 422 and resp.get_json()["fields"] == fields


def test_not_json_is_refused(api) -> None:
    support = api("support1")
    resp = support.client.post("/api/v1/tasks/bulk-complete", headers=support.headers, data="[1, 2]",
                               content_type="application/json")
    assert resp.status_code == 422 and resp.get_json()["fields"] == {"body": "must be an object"}
