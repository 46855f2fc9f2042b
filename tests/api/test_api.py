"""The JSON API: a case end to end, tokens, ownership of tasks, status codes."""

from __future__ import annotations

import base64
import datetime as dt

from openapi_spec_validator import validate
from sqlalchemy import select

from tests.api.windows import fresh_window
from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import PDF, registration
from workflows.branch import tokens
from workflows.cases.models import Attachment, AuditEvent
from workflows.db import db
from workflows.engine import clock


def test_openapi_document_is_valid_and_complete(app, api) -> None:
    doc = api("staff01").get("/openapi.json").get_json()
    validate(doc)
    documented = {path.replace("{", "<").replace("}", ">") for path in doc["paths"]}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            routes.add(rule.rule.replace("<int:", "<"))
    assert routes - documented == set()
    assert api("staff01").client.get("/api/v1/docs").status_code == 200
    # every operation is named, once: clients (and code generators) call operations by name
    ids = [op.get("operationId") for item in doc["paths"].values() for method, op in item.items()
           if method in ("get", "post", "put", "patch", "delete")]
    assert None not in ids and len(ids) == len(set(ids))


def test_a_case_from_start_to_its_last_task_through_the_api(api) -> None:
    staff = api("staff01")
    processes = staff.get("/processes").get_json()["items"]
    ownership = next(p for p in processes if p["key"] == "client_ownership")
    assert ownership["can_start"] and {f["id"] for f in ownership["start_form"]} >= {"client_name", "outlet"}
    resp = staff.post("/processes/client_ownership/instances", registration(unique_id_number()))
    assert resp.status_code == 201, resp.get_json()
    case = resp.get_json()
    assert case["data"]["client_id_number"].count("*") > 0  # masked for the staff member
    cid = case["id"]

    support = api("support1")
    task = support.open_task(cid, "Task_ConfirmReservation")
    decision = next(f for f in task["form"] if f["id"] == "decision")
    assert {o["id"] for o in decision["options"]} == {"approve", "send_back", "reject"} and decision["required"]
    assert support.post(f"/tasks/{task['id']}/claim").status_code == 200
    assert support.post(f"/tasks/{task['id']}/release").status_code == 200
    assert support.post(f"/tasks/{task['id']}/complete", {"decision": "approve"}).status_code == 200
    scan = {"filename": "form.pdf", "content_type": "application/pdf",
            "content_base64": base64.b64encode(PDF).decode()}
    steps = [("counter1", "Task_CounterOpening", {"account_no": "880012345679", "signed_by_client": True,
                                                   "staff_present": True, "decision": "approve",
                                                   "scanned_form": scan}),
             ("support1", "Task_Aggregate", {}), ("trading", "Task_TradingReview", {"decision": "approve"}),
             ("finance", "Task_FinanceReview", {"decision": "approve"}),
             ("gm", "Task_GMReview", {"decision": "approve"}),
             ("trading", "Task_Register", {"effective_date": "2026-11-21", "archive_ref": "API-1"})]
    for username, key, data in steps:
        person = api(username)
        item = person.open_task(cid, key)
        resp = person.post(f"/tasks/{item['id']}/complete", data)
        assert resp.status_code == 200, (key, resp.get_json())
    final = staff.get(f"/instances/{cid}").get_json()
    assert final["status"] == "completed" and final["outcome"] == "End_Registered"
    history = staff.get(f"/instances/{cid}/history").get_json()["items"]
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    api_events = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == cid,
                                                             AuditEvent.type == "task_completed",
                                                             AuditEvent.via == "api")).all()
    assert len(api_events) == 7
    attachment = db.session.scalars(select(Attachment).where(Attachment.instance_id == cid)).one()
    assert attachment.content == PDF and attachment.uploaded_by.username == "counter1"


def test_a_file_that_is_not_what_it_claims_is_refused(api) -> None:
    cid = api("staff09").post("/processes/client_ownership/instances",
                              registration(unique_id_number())).get_json()["id"]
    api("support2").complete_step(cid, "Task_ConfirmReservation", {"decision": "approve"})
    counter = api("counter2")
    task = counter.open_task(cid, "Task_CounterOpening")
    data = {"account_no": "880012345670", "signed_by_client": True, "staff_present": True, "decision": "approve"}
    fake = {"filename": "form.pdf", "content_base64": base64.b64encode(b"MZ\x90 not a pdf").decode()}
    resp = counter.post(f"/tasks/{task['id']}/complete", {**data, "scanned_form": fake})
    assert resp.status_code == 422 and "scanned_form" in resp.get_json()["fields"]
    broken = counter.post(f"/tasks/{task['id']}/complete", {**data, "scanned_form": {"filename": "f.pdf",
                                                                                     "content_base64": "@@"}})
    assert broken.status_code == 422 and broken.get_json()["fields"] == {"scanned_form": "not a valid file"}


def test_another_users_token_cannot_read_or_act(api) -> None:
    staff = api("staff02")
    cid = staff.post("/processes/client_ownership/instances", registration(unique_id_number())).get_json()["id"]
    task = api("support1").open_task(cid, "Task_ConfirmReservation")
    outsider = api("support2")
    assert outsider.get(f"/tasks/{task['id']}").status_code == 403
    assert outsider.post(f"/tasks/{task['id']}/complete", {"decision": "approve"}).status_code == 403
    assert outsider.post(f"/tasks/{task['id']}/claim").status_code == 403
    assert outsider.get(f"/instances/{cid}").status_code == 403
    assert outsider.get(f"/instances/{cid}/history").status_code == 403
    body = outsider.get(f"/instances/{cid}").get_json()
    assert body["error"] == "no_part" and body["message"]
    # the initiator cannot approve their own case through the API either
    assert staff.post(f"/tasks/{task['id']}/complete", {"decision": "approve"}).status_code == 403
    assert outsider.get("/tasks/99999999").status_code == 404


def test_missing_revoked_and_expired_tokens_get_401(api) -> None:
    client = api("staff03").client
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer brk_nonsense"}).status_code == 401
    revoked, row = tokens.issue(user("staff03"), "to revoke")
    assert api(raw=revoked).get("/tasks").status_code == 200
    tokens.revoke(row.id)
    resp = api(raw=revoked).get("/tasks")
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"
    expiring, _row = tokens.issue(user("staff03"), "short", days=1)
    assert api(raw=expiring).get("/tasks").status_code == 200
    clock.travel(dt.timedelta(days=2))
    assert api(raw=expiring).get("/tasks").status_code == 401


def test_double_completion_gets_409(api) -> None:
    staff = api("staff04")
    cid = staff.post("/processes/client_ownership/instances", registration(unique_id_number())).get_json()["id"]
    support = api("support1")
    task = support.open_task(cid, "Task_ConfirmReservation")
    assert support.post(f"/tasks/{task['id']}/complete", {"decision": "approve"}).status_code == 200
    again = support.post(f"/tasks/{task['id']}/complete", {"decision": "approve"})
    assert again.status_code == 409 and again.get_json()["error"] == "already_completed"


def test_bad_data_gets_422_naming_the_field(api) -> None:
    staff = api("staff05")
    data = registration("bad id!")
    data["estimated_assets"] = "a lot"
    resp = staff.post("/processes/client_ownership/instances", data)
    body = resp.get_json()
    assert resp.status_code == 422 and body["error"] == "invalid"
    assert set(body["fields"]) == {"client_id_number", "estimated_assets"}
    resp = staff.client.post("/api/v1/processes/client_ownership/instances", headers=staff.headers,
                             data="{not json", content_type="application/json")
    assert resp.status_code == 422 and "body" in resp.get_json()["fields"]
    resp = staff.client.post("/api/v1/processes/client_ownership/instances", headers=staff.headers,
                             json={"data": [1, 2]})
    assert resp.status_code == 422 and resp.get_json()["fields"] == {"data": "must be an object"}
    assert staff.get("/tasks?view=everything").status_code == 422
    misspelt = staff.get("/tasks?veiw=groups")
    assert misspelt.status_code == 422 and misspelt.get_json()["fields"] == {"veiw": "unknown parameter"}
    assert staff.post("/processes/nope/instances", {}).status_code == 404


def test_too_many_requests_get_429(app, api) -> None:
    raw, _row = tokens.issue(user("staff06"), "busy")
    limit = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "3 per hour"
    fresh_window(3600)
    try:
        codes = [api(raw=raw).get("/tasks").status_code for _ in range(5)]
        refused = api(raw=raw).get("/tasks")
    finally:
        app.config["API_RATE_LIMIT"] = limit
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert refused.get_json()["error"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600


def test_tokens_from_cli_and_profile_page(app, web) -> None:
    result = app.test_cli_runner().invoke(args=["tokens", "issue", "staff07", "--name", "counter system",
                                                "--days", "30"])
    assert result.exit_code == 0 and "brk_" in result.output
    listed = app.test_cli_runner().invoke(args=["tokens", "list", "staff07"])
    assert "counter system" in listed.output
    web.login("staff07")
    page = web.post("/profile", {"name": "reporting", "days": ""}).get_data(as_text=True)
    assert 'id="new-token"' in page and "brk_" in page
    stored = tokens.for_user(user("staff07"))
    assert all(not t.token_hash.startswith("brk_") for t in stored)  # only hashes are kept
    target = next(t for t in stored if t.name == "reporting")
    assert web.post(f"/profile/tokens/{target.id}/revoke").status_code == 302
    db.session.refresh(target)
    assert target.revoked_at is not None
    other = tokens.issue(user("staff08"), "not yours")[1]
    assert web.post(f"/profile/tokens/{other.id}/revoke").status_code == 404
