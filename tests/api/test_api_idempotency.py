"""Idempotency-Key on start and complete: a retry gets the first answer and nothing is done
twice; the same key for another request, a key still in use, and malformed keys are refused."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import open_task, registration
from workflows.cases import commands
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.gate import idempotency
from workflows.gate.models import IdempotencyKey

START = "/processes/client_ownership/instances"
# Cases are started by staff of departments 2 and 3: their open tasks stay out of support1's group inbox,
# which other tests expect to fit on one page.


def send(person, path: str, body: dict, key: str | None):
    headers = {**person.headers, **({"Idempotency-Key": key} if key is not None else {})}
    db.session.commit()
    return person.client.post(f"/api/v1{path}", headers=headers, json=body)


def cases_for(id_number: str) -> list[int]:
    db.session.commit()
    return list(db.session.scalars(select(ProcessInstance.id).where(ProcessInstance.business_key == id_number)))


def events(instance_id: int, kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.instance_id == instance_id, AuditEvent.type == kind))


def test_a_retried_start_with_the_same_key_creates_one_case(api) -> None:
    staff, id_number = api("staff11"), unique_id_number()
    body = {"data": registration(id_number)}
    first = send(staff, START, body, "start-7d1c2e")
    again = send(staff, START, body, "start-7d1c2e")  # the client timed out and sends it again
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert cases_for(id_number) == [first.get_json()["id"]]
    assert events(first.get_json()["id"], "case_started") == 1
    history = staff.get(f"/instances/{first.get_json()['id']}/history").get_json()["items"]
    assert [e["type"] for e in history].count("case_started") == 1


def test_a_retried_complete_returns_the_first_answer(api) -> None:
    case = commands.start_case("client_ownership", user("staff02"), registration(unique_id_number()))
    task_id = open_task(case, "Task_ConfirmReservation").id
    support = api("support1")
    path, body = f"/tasks/{task_id}/complete", {"data": {"decision": "approve"}}
    first = send(support, path, body, "c0mplete-1")
    again = send(support, path, body, "c0mplete-1")
    assert first.status_code == again.status_code == 200 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert events(case.id, "task_completed") == 1
    without_key = send(support, path, body, None)  # not a retry: the task is done
    assert without_key.status_code == 409


def test_the_same_key_for_another_request_is_refused(api) -> None:
    staff = api("staff12")
    first = send(staff, START, {"data": registration(unique_id_number())}, "order-42")
    other_id = unique_id_number()
    reused = send(staff, START, {"data": registration(other_id)}, "order-42")
    assert first.status_code == 201 and reused.status_code == 422
    assert reused.get_json()["error"] == "idempotency_key_reused" and "Idempotency-Key" in reused.get_json()["message"]
    assert cases_for(other_id) == []
    elsewhere = send(staff, "/tasks/2147483000/complete", {"data": {}}, "order-42")
    assert elsewhere.status_code == 422 and elsewhere.get_json()["error"] == "idempotency_key_reused"
    # keys are each user's own: another user's "order-42" is a new request
    assert send(api("staff13"), START, {"data": registration(other_id)}, "order-42").status_code == 201


def test_a_refusal_is_the_first_answer_too(api) -> None:
    staff = api("staff05")
    incomplete = {"data": {"client_name": "无证件号"}}
    first = send(staff, START, incomplete, "bad-data-1")
    again = send(staff, START, incomplete, "bad-data-1")
    assert first.status_code == again.status_code == 422
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"


def test_a_server_error_is_not_kept_and_the_retry_runs(api, monkeypatch) -> None:
    staff, id_number = api("staff14"), unique_id_number()
    body = {"data": registration(id_number)}

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(commands, "start_case", broken)
        assert send(staff, START, body, "after-500").status_code == 500
    retried = send(staff, START, body, "after-500")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert cases_for(id_number) == [retried.get_json()["id"]]


def test_a_retry_while_the_first_runs_is_409_and_a_dead_attempt_is_taken_over(app, api) -> None:
    staff, id_number = api("staff07"), unique_id_number()
    body = {"data": registration(id_number)}
    from webapp.api.idempotent import fingerprint

    with app.test_request_context(f"/api/v1{START}", method="POST", json=body):
        held = idempotency.reserve(user("staff07").id, "slow-1", fingerprint())  # an attempt still running
    assert isinstance(held, idempotency.Reservation)
    busy = send(staff, START, body, "slow-1")
    assert busy.status_code == 409 and busy.get_json()["error"] == "idempotency_in_progress"
    assert busy.headers["Retry-After"] == "1" and cases_for(id_number) == []
    clock.travel(idempotency.STALE + dt.timedelta(seconds=1))  # that attempt died: it saved nothing
    taken = send(staff, START, body, "slow-1")
    assert taken.status_code == 201 and cases_for(id_number) == [taken.get_json()["id"]]
    assert send(staff, START, body, "slow-1").get_json() == taken.get_json()


def test_a_key_is_forgotten_after_a_day(api) -> None:
    staff, id_number = api("staff08"), unique_id_number()
    first = send(staff, START, {"data": registration(id_number)}, "daily-1")
    assert first.status_code == 201
    clock.travel(idempotency.TTL + dt.timedelta(minutes=1))
    later = send(staff, START, {"data": registration(id_number), "confirm_warnings": True}, "daily-1")
    assert later.status_code == 201 and later.get_json()["id"] != first.get_json()["id"]


def test_malformed_keys_are_refused_and_nothing_is_started(api) -> None:
    staff, id_number = api("staff09"), unique_id_number()
    for key in ("", "   ", "k" * 201, "naïve-key", "tab\tkey"):
        resp = send(staff, START, {"data": registration(id_number)}, key)
        assert resp.status_code == 422, key
        assert resp.get_json()["fields"] == {"Idempotency-Key": "1 to 200 printable characters"}
    assert cases_for(id_number) == []
    assert send(staff, START, {"data": registration(id_number)}, "k" * 200).status_code == 201


def test_the_sweeper_drops_expired_keys(app, api) -> None:
    staff = api("staff10")
    assert send(staff, START, {"data": registration(unique_id_number())}, "swept-1").status_code == 201
    kept = select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key == "swept-1")
    assert db.session.scalar(kept) == 1
    clock.travel(idempotency.TTL + dt.timedelta(seconds=1))
    result = app.test_cli_runner().invoke(args=["workflows", "sweep"])
    assert result.exit_code == 0 and "expired idempotency key" in result.output
    db.session.commit()
    assert db.session.scalar(kept) == 0
