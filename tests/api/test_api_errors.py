"""Errors a program can branch on: a stable code for each refusal of a task or case action,
a code beside each field's message, an idempotent claim, and unknown `data` keys refused."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import PDF, registration
from webapp.api.schema import error_codes, field_codes
from workflows.cases import commands, forms
from workflows.cases.models import AuditEvent, HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine.dialect import FormField
from workflows.errors import Forbidden, Invalid, field_code

ROOT = Path(__file__).resolve().parents[2]


def _start(api: Any, username: str = "staff06") -> int:
    resp = api(username).post("/processes/client_ownership/instances", registration(unique_id_number()))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _refused(resp: Any, status: int, code: str) -> dict[str, Any]:
    body = resp.get_json()
    assert (resp.status_code, body["error"]) == (status, code), body
    assert body["message"]  # people still read why
    return body


def _events(instance_id: int, kind: str) -> list[AuditEvent]:
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                            AuditEvent.type == kind)))


def test_each_refusal_of_a_task_action_has_its_own_code(api) -> None:
    cid = _start(api, "staff06")
    support, colleague, outsider, starter = api("support1"), api("support1b"), api("support2"), api("staff06")
    task = support.open_task(cid, "Task_ConfirmReservation")
    path = f"/tasks/{task['id']}"
    _refused(outsider.get(path), 403, "no_part")
    _refused(outsider.get(f"/instances/{cid}"), 403, "no_part")
    _refused(outsider.post(f"{path}/claim"), 403, "not_a_candidate")  # another department's support
    _refused(starter.post(f"{path}/complete", {"decision": "approve"}), 403, "segregation_of_duties")
    _refused(support.post(f"{path}/release"), 409, "not_held")

    assert support.post(f"{path}/claim").status_code == 200
    _refused(colleague.post(f"{path}/claim"), 409, "claimed_by_other")
    _refused(colleague.post(f"{path}/complete", {"decision": "approve"}), 409, "claimed_by_other")
    _refused(colleague.post(f"{path}/release"), 409, "claimed_by_other")

    done = support.post(f"{path}/complete", {"decision": "send_back", "comment": "请补充电话"})
    assert done.status_code == 200, done.get_json()
    _refused(support.post(f"{path}/complete", {"decision": "approve"}), 409, "already_completed")
    _refused(support.post(f"{path}/claim"), 409, "already_completed")
    _refused(support.post(f"{path}/release"), 409, "already_completed")

    revise = starter.open_task(cid, "Task_Revise", view="mine")  # assigned to the starter by the diagram
    _refused(starter.post(f"/tasks/{revise['id']}/claim"), 409, "assigned_directly")
    _refused(support.post(f"/tasks/{revise['id']}/claim"), 403, "not_a_candidate")  # assigned to someone else


def test_claiming_a_task_one_holds_again_answers_200_and_records_one_claim(api) -> None:
    cid = _start(api, "staff05")
    support = api("support1")
    task = support.open_task(cid, "Task_ConfirmReservation")
    first = support.post(f"/tasks/{task['id']}/claim")
    again = support.post(f"/tasks/{task['id']}/claim")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json()["id"] == task["id"] and again.get_json()["state"] == "open"
    history = support.get(f"/instances/{cid}/history").get_json()["items"]
    assert [e["type"] for e in history].count("task_claimed") == 1
    assert len(_events(cid, "task_claimed")) == 1
    assert db.session.get(HumanTask, task["id"]).claimed_by_id == user("support1").id


@contextmanager
def _someone_acts_first(instance_id: int) -> Iterator[None]:
    """Just before the request's version check, another writer changes the case and commits
    (on its own connection, as a second worker would): the check must lose, deterministically."""
    fired: list[bool] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if fired or not statement.lstrip().upper().startswith("UPDATE PROCESS_INSTANCE SET VERSION"):
            return
        fired.append(True)
        with db.engine.connect() as other:
            other.execute(text("UPDATE process_instance SET version = version + 1 WHERE id = :id"),
                          {"id": instance_id})
            other.commit()

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert fired, "the request never reached its version check"


def test_losing_the_version_check_is_changed_by_other_and_saves_nothing(api) -> None:
    cid = _start(api, "staff04")
    support = api("support1")
    task = support.open_task(cid, "Task_ConfirmReservation")
    db.session.commit()
    with _someone_acts_first(cid):
        resp = support.post(f"/tasks/{task['id']}/claim")
    _refused(resp, 409, "changed_by_other")
    db.session.expire_all()
    assert db.session.get(HumanTask, task["id"]).claimed_by_id is None
    assert _events(cid, "task_claimed") == []
    with _someone_acts_first(cid):
        resp = support.post(f"/tasks/{task['id']}/complete", {"decision": "approve"})
    _refused(resp, 409, "changed_by_other")
    db.session.expire_all()
    assert db.session.get(HumanTask, task["id"]).state == "open" and _events(cid, "task_completed") == []
    assert support.post(f"/tasks/{task['id']}/complete", {"decision": "approve"}).status_code == 200


def test_starting_without_the_role_is_may_not_start(api) -> None:
    _refused(api("counter1").post("/processes/client_ownership/instances", registration(unique_id_number())),
             403, "may_not_start")


def test_a_task_not_marked_bulk_is_refused_in_bulk_as_not_bulk(api) -> None:
    cid = _start(api, "staff03")
    api("support1").complete_step(cid, "Task_ConfirmReservation", {"decision": "approve"})
    task = api("counter1").open_task(cid, "Task_CounterOpening")
    with pytest.raises(Forbidden) as refused:
        commands.complete_task(task["id"], user("counter1"), {"decision": "reject", "comment": "x"}, bulk=True)
    assert (refused.value.status, refused.value.code) == (403, "not_bulk")


def test_data_the_process_cannot_run_with_is_process_failed(api) -> None:
    """A timer whose duration comes from the start form: a duration no timer may wait is refused
    by the engine, and nothing is started."""
    from tests.test_hostile_inputs import _timer_with_duration_from
    from workflows.cases import definitions

    definitions.deploy(_timer_with_duration_from("wait", "test_errors_timer"), {}, filename="t.bpmn")
    db.session.commit()
    staff = api("staff12")
    body = _refused(staff.post("/processes/test_errors_timer/instances", {"wait": "P99999999Y"}), 422,
                    "process_failed")
    assert "fields" not in body
    assert staff.post("/processes/test_errors_timer/instances", {"wait": "P2D"}).status_code == 201


def _field_codes(resp: Any) -> dict[str, str]:
    body = _refused(resp, 422, "invalid")
    assert set(body["field_codes"]) == set(body["fields"])  # every field message has its code
    return body["field_codes"]


def test_start_form_errors_carry_a_code_per_field(api) -> None:
    data = {**registration("bad id!"), "client_name": "名" * 51, "client_phone": "", "estimated_assets": "-1",
            "planned_open_date": "soon", "accompany": "maybe", "outlet": ["a", "b"]}
    codes = _field_codes(api("staff10").post("/processes/client_ownership/instances", data))
    assert codes == {"client_name": "too_long", "client_id_number": "pattern", "client_phone": "required",
                     "estimated_assets": "too_small", "planned_open_date": "not_a_date",
                     "accompany": "not_yes_or_no", "outlet": "single_value"}
    more = {**registration(unique_id_number()), "estimated_assets": "a lot", "planned_open_date": "1800-01-01"}
    codes = _field_codes(api("staff10").post("/processes/client_ownership/instances", more))
    assert codes == {"estimated_assets": "not_a_number", "planned_open_date": "date_out_of_range"}
    bad = {**registration(unique_id_number()), "client_name": "bad\x00name"}  # refused as the JSON is read
    codes = _field_codes(api("staff10").post("/processes/client_ownership/instances", bad))
    assert codes == {"client_name": "control_characters"}


def test_field_codes_are_the_same_in_every_language(api) -> None:
    staff = api("staff10")
    data = {**registration("bad id!"), "client_phone": ""}
    en = staff.post("/processes/client_ownership/instances", data).get_json()
    zh = staff.client.post("/api/v1/processes/client_ownership/instances", json={"data": data},
                           headers={**staff.headers, "Accept-Language": "zh-CN"}).get_json()
    assert en["field_codes"] == zh["field_codes"] == {"client_id_number": "pattern", "client_phone": "required"}
    assert en["fields"] != zh["fields"]  # the messages are for people, in their language


def test_task_form_errors_carry_a_code_per_field(api) -> None:
    cid = _start(api, "staff11")
    support = api("support2")  # staff07-12 work in the second department
    task = support.open_task(cid, "Task_ConfirmReservation")
    path = f"/tasks/{task['id']}/complete"
    assert _field_codes(support.post(path, {"decision": "maybe"})) == {"decision": "not_an_option"}
    assert _field_codes(support.post(path, {})) == {"decision": "required"}
    # the conditional requirement (comment required unless approved) has the same code
    assert _field_codes(support.post(path, {"decision": "reject"})) == {"comment": "required"}
    assert support.post(path, {"decision": "approve"}).status_code == 200

    counter = api("counter1")
    opening = f"/tasks/{counter.open_task(cid, 'Task_CounterOpening')['id']}/complete"
    base = {"account_no": "880012345678", "signed_by_client": True, "staff_present": True, "decision": "approve"}

    def file(name: str, content: bytes) -> dict[str, str]:
        return {"filename": name, "content_type": "application/pdf",
                "content_base64": base64.b64encode(content).decode()}

    cases = [({}, "file_required"), ({"scanned_form": file("form.exe", PDF)}, "file_type"),
             ({"scanned_form": file("form.pdf", b"")}, "file_empty"),
             ({"scanned_form": file("form.pdf", b"MZ\x90 not a pdf")}, "file_content_mismatch"),
             ({"scanned_form": file("form.pdf", PDF + b"0" * forms.DEFAULT_MAX_UPLOAD)}, "file_too_large"),
             ({"scanned_form": {"filename": "f.pdf", "content_base64": "@@"}}, "not_a_file"),
             ({"scanned_form": "form.pdf"}, "not_a_file")]
    for extra, code in cases:
        assert _field_codes(counter.post(opening, {**base, **extra})) == {"scanned_form": code}, code
    wrong = {**base, "account_no": "88-0", "scanned_form": file("form.pdf", PDF)}
    assert _field_codes(counter.post(opening, wrong)) == {"account_no": "pattern"}


def test_query_parameter_errors_carry_codes(api) -> None:
    staff = api("staff12")
    assert _field_codes(staff.get("/tasks?bogus=1")) == {"bogus": "unknown_parameter"}
    assert _field_codes(staff.get("/tasks?view=everything")) == {"view": "not_an_option"}
    assert _field_codes(staff.get("/tasks?per_page=abc")) == {"per_page": "not_a_whole_number"}
    assert _field_codes(staff.get("/tasks?per_page=5000")) == {"per_page": "out_of_range"}
    assert _field_codes(staff.get("/tasks?overdue=perhaps")) == {"overdue": "not_yes_or_no"}


def test_unknown_keys_in_data_are_refused_naming_each(api) -> None:
    staff = api("staff13")
    db.session.commit()
    before = db.session.scalar(select(db.func.count(ProcessInstance.id)))
    data = {**registration(unique_id_number()), "acompany": True, "institutionnal": "false"}
    body = _refused(staff.post("/processes/client_ownership/instances", data), 422, "invalid")
    assert body["field_codes"] == {"acompany": "unknown_field", "institutionnal": "unknown_field"}
    assert set(body["fields"]) == {"acompany", "institutionnal"}
    db.session.commit()
    assert db.session.scalar(select(db.func.count(ProcessInstance.id))) == before  # nothing started

    cid = _start(api, "staff13")
    support = api("support3")  # staff13-18 work in the third department
    task = support.open_task(cid, "Task_ConfirmReservation")
    path = f"/tasks/{task['id']}/complete"
    body = _refused(support.post(path, {"decision": "approve", "comments": "ok"}), 422, "invalid")
    assert body["field_codes"] == {"comments": "unknown_field"}
    # a file sent for a field that takes none is refused too, not dropped
    pdf = {"filename": "a.pdf", "content_base64": base64.b64encode(PDF).decode()}
    body = _refused(support.post(path, {"decision": "approve", "comment": pdf}), 422, "invalid")
    assert body["field_codes"] == {"comment": "single_value"}
    assert _events(cid, "task_completed") == []
    assert support.post(path, {"decision": "approve"}).status_code == 200


def test_the_pages_still_ignore_their_own_keys(web) -> None:
    """A page posts its CSRF token and buttons beside the fields: only the API refuses unknown keys."""
    web.login("staff14")
    page = web.post("/processes/client_ownership/start", {**registration(unique_id_number()), "acompany": "y"})
    assert page.status_code == 302, page.get_data(as_text=True)[:500]


def test_read_only_fields_are_refused_by_the_api_and_ignored_by_the_pages() -> None:
    fields = [FormField(id="note", label="Note"), FormField(id="amount", label="Amount", readonly=True)]
    clean, _files = forms.validate(fields, {"note": "x", "amount": "5"})
    assert clean == {"note": "x"}  # a page shows the value; a posted one changes nothing
    with pytest.raises(Invalid) as refused:
        forms.validate(fields, {"note": "x", "amount": "5"}, known_only=True)
    assert {k: field_code(v) for k, v in refused.value.fields.items()} == {"amount": "read_only"}


def test_every_code_in_the_source_is_documented() -> None:
    """A code a program may receive is listed (with its meaning) in the OpenAPI Error schema."""
    used: set[str] = set()
    for folder in ("workflows", "webapp"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text("utf-8")
            used.update(re.findall(r"\bcode=\"([a-z_]+)\"", source))
            used.update(re.findall(r"^\s+code = \"([a-z_]+)\"", source, flags=re.MULTILINE))
            used.update(re.findall(r"Refusal\(\"([a-z_]+)\"", source))
    used -= {"wrong_credentials", "throttled", "invalid_token", "revoked", "expired", "account_disabled"}  # 401s
    assert used - set(error_codes()) - set(field_codes()) == set()
    doc = (ROOT / "README.md").read_text("utf-8")
    assert [code for code in ("segregation_of_duties", "not_a_candidate", "already_completed", "claimed_by_other",
                              "changed_by_other", "unknown_field", "required", "file_type") if code not in doc] == []


def test_the_error_schema_lists_the_codes(api) -> None:
    schema = api("staff01").get("/openapi.json").get_json()["components"]["schemas"]["Error"]
    assert "field_codes" in schema["properties"]
    for code in ("segregation_of_duties", "not_a_candidate", "already_completed", "claimed_by_other",
                 "changed_by_other", "no_part", "may_not_start", "not_held", "assigned_directly"):
        assert f"`{code}`" in schema["properties"]["error"]["description"]
    for code in ("required", "too_long", "pattern", "not_an_option", "file_type", "unknown_field", "invalid"):
        assert f"`{code}`" in schema["properties"]["field_codes"]["description"]


def test_a_familys_own_codes_are_in_the_error_schema() -> None:
    """A family declares its refusal codes (``Family.error_codes``, ``field_codes``); the platform lists them."""
    from webapp.api.openapi import spec
    from workflows.processes import leave

    error = spec("http://127.0.0.1")["components"]["schemas"]["Error"]["properties"]
    for code in leave.FAMILY.error_codes:
        assert f"`{code}`" in error["error"]["description"], code
    for code in leave.FAMILY.field_codes:
        assert f"`{code}`" in error["field_codes"]["description"], code


def test_an_id_no_route_accepts_is_not_found_for_every_method(api) -> None:
    """Werkzeug checks the method before the converters: a PUT to a year too large for its column had answered
    405 where a GET answers 404. A path that exists still answers 405 to a method it lacks."""
    office = api("office")
    for method in ("get", "put", "patch", "delete"):
        response = office.client.open("/api/v1/calendar/41459322596", method=method.upper(), headers=office.headers,
                                      json={})
        assert (method, response.status_code, response.get_json()["error"]) == (method, 404, "not_found")
    lacking = office.client.open("/api/v1/calendar/2026", method="PATCH", headers=office.headers, json={})
    assert lacking.status_code == 405 and lacking.get_json()["error"] == "method_not_allowed"
    assert "PUT" in lacking.headers["Allow"]
