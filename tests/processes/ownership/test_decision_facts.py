"""Decisions made with the facts: conflict details and named options for the trading
manager, warnings at pre-registration and confirmation, the whole ID number for the
counter clerk on their step only, and notices that link only to cases their reader may open."""

from __future__ import annotations

import pytest
from lxml import html
from sqlalchemy import select

from tests.api.client import Api
from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import complete, counter_pass, open_specs, open_task, registration
from workflows.cases import commands as cases
from workflows.cases import definitions
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.db import db
from workflows.engine.xml import DefinitionError
from workflows.errors import Unconfirmed
from workflows.processes.ownership.models import ClientOwnership

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _registered(username: str, id_no: str, effective: str = "2026-10-08", name: str = "争议客户") -> ProcessInstance:
    """A client entered in the registry for ``username`` (support1 covers staff01-06)."""
    instance = cases.start_case("client_ownership", user(username), registration(id_no, name))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter1"))
    complete(instance, "Task_Aggregate", user("support1"), {})
    complete(instance, "Task_TradingReview", user("trading"), {"decision": "approve"})
    complete(instance, "Task_FinanceReview", user("finance"), {"decision": "approve"})
    complete(instance, "Task_GMReview", user("gm"), {"decision": "approve"})
    complete(instance, "Task_Register", user("trading"), {"effective_date": effective, "archive_ref": "A-9"})
    return instance


def _to_ruling(instance: ProcessInstance) -> None:
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter2"))
    complete(instance, "Task_Aggregate", user("support1"), {})
    assert open_specs(instance) == ["Task_DecideConflict"]


def _warnings(page: str) -> list[html.HtmlElement]:
    return html.fromstring(page).xpath('//section[@id="warnings"]//li')


def _options(page: str, field: str) -> dict[str, str]:
    return {o.get("value"): o.text_content().strip()
            for o in html.fromstring(page).xpath(f'//select[@name="{field}"]/option') if o.get("value")}


def test_ruling_on_an_owned_client_shows_owner_unit_entry_and_names_both(web) -> None:
    id_no = unique_id_number()
    first = _registered("staff04", id_no)
    entry = db.session.scalars(select(ClientOwnership).where(ClientOwnership.client_id_number == id_no)).one()
    second = cases.start_case("client_ownership", user("staff05"), registration(id_no, "争议客户"))
    _to_ruling(second)
    task = open_task(second, "Task_DecideConflict")
    owner, applicant = user("staff04"), user("staff05")
    web.login("trading")
    page = web.client.get(f"/tasks/{task.id}", headers=EN).get_data(as_text=True)
    [warning] = _warnings(page)
    text = warning.text_content()
    assert owner.full_name in text and owner.unit.name in text and "2026-10-08" in text
    assert f"registry entry #{entry.id}" in text
    assert warning.xpath(".//a/@href") == [f"/cases/{first.id}"]
    assert web.client.get(f"/cases/{first.id}").status_code == 200
    assert _options(page, "owner_decision") == {
        "applicant": f"Assign to the registering staff member ({applicant.full_name})",
        "existing": f"Assign to the existing owner or reserver ({owner.full_name})"}
    zh = _options(web.client.get(f"/tasks/{task.id}", headers=ZH).get_data(as_text=True), "owner_decision")
    assert zh == {"applicant": f"归属本次登记人（{applicant.full_name}）",
                  "existing": f"归属原归属/预约人（{owner.full_name}）"}
    detail = Api(web.client, "trading").get(f"/tasks/{task.id}").get_json()
    [api_warning] = detail["warnings"]
    assert api_warning["kind"] == "ownership_owned" and api_warning["link"] == f"/cases/{first.id}"
    assert api_warning["details"]["staff_name"] == owner.full_name and api_warning["details"]["since"] == "2026-10-08"
    assert api_warning["details"]["registry_entry_id"] == entry.id
    options = {o["id"]: o["label"] for f in detail["form"] if f["id"] == "owner_decision" for o in f["options"]}
    assert options["existing"] == f"Assign to the existing owner or reserver ({owner.full_name})"
    # the ruling and its history read with the names; stored ids stay the same
    web.post(f"/tasks/{task.id}", {"owner_decision": "existing", "conflict_reason": "首次预约在先，归原归属人"})
    ruling = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == second.id,
                                                         AuditEvent.type == "task_completed",
                                                         AuditEvent.task_spec == "Task_DecideConflict")).one()
    assert ruling.changes["owner_decision"] == [None, "existing"]
    case_page = web.client.get(f"/cases/{second.id}", headers=EN).get_data(as_text=True)
    assert f"Assign to the existing owner or reserver ({owner.full_name})" in case_page


def test_ruling_on_a_reserved_client_links_the_running_registration(web) -> None:
    id_no = unique_id_number()
    first = cases.start_case("client_ownership", user("staff02"), registration(id_no))  # still waiting
    second = cases.start_case("client_ownership", user("staff03"), registration(id_no))
    _to_ruling(second)
    task = open_task(second, "Task_DecideConflict")
    web.login("trading")
    [warning] = _warnings(web.client.get(f"/tasks/{task.id}", headers=EN).get_data(as_text=True))
    text = warning.text_content()
    assert user("staff02").full_name in text and f"case #{first.id}" in text
    assert first.started_at.date().isoformat() in text
    assert warning.xpath(".//a/@href") == [f"/cases/{first.id}"]
    assert web.client.get(f"/cases/{first.id}").status_code == 200  # deciding with it, may open it
    web.logout()
    web.login("staff03")  # the other registrant is not shown the rival's case
    assert web.client.get(f"/cases/{first.id}").status_code == 403
    web.logout()
    web.login("trading")
    web.post(f"/tasks/{task.id}", {"owner_decision": "applicant", "conflict_reason": "客户本人指定本次登记人"})
    assert web.client.get(f"/cases/{first.id}").status_code == 403  # decided: no longer a reason to open it


def test_staff_is_warned_at_pre_registration_and_confirms(web) -> None:
    id_no = unique_id_number()
    _registered("staff04", id_no, effective="2026-09-30")
    web.login("staff05")
    resp = web.post("/processes/client_ownership/start", registration(id_no), headers=EN)
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    [warning] = _warnings(page)
    assert user("staff04").full_name in warning.text_content() and "2026-09-30" in warning.text_content()
    assert warning.xpath(".//a") == []  # staff05 may not open staff04's case: no link
    assert db.session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == id_no,
                                                            ProcessInstance.started_by_id == user("staff05").id)
                              ).first() is None  # nothing started yet
    doc = html.fromstring(page)
    fingerprint = doc.xpath('//button[@id="start-confirm"]/@value')[0]
    assert doc.xpath('//input[@name="client_id_number"]/@value') == [id_no]  # the form is kept
    resp = web.post("/processes/client_ownership/start", {**registration(id_no), "confirm_warnings": "forged"})
    assert resp.status_code == 409  # a confirmation must name the warnings shown
    resp = web.post("/processes/client_ownership/start", {**registration(id_no), "confirm_warnings": fingerprint})
    assert resp.status_code == 302
    started = db.session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == id_no,
                                                               ProcessInstance.started_by_id == user("staff05").id)
                                 ).one()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == started.id,
                                                        AuditEvent.type == "case_started")).one()
    [kept] = event.changes["warnings"][1]
    assert kept["kind"] == "ownership_owned" and kept["params"]["name"] == user("staff04").full_name
    history = web.client.get(f"/cases/{started.id}", headers=ZH).get_data(as_text=True)
    assert "已阅知并确认的提示" in history and "该客户已归属" in history
    # a client nobody holds: no warning, started at once
    assert web.post("/processes/client_ownership/start", registration(unique_id_number())).status_code == 302


def test_support_is_warned_when_confirming(web) -> None:
    id_no = unique_id_number()
    first = cases.start_case("client_ownership", user("staff01"), registration(id_no))
    second = cases.start_case("client_ownership", user("staff06"), registration(id_no))
    web.login("support1")
    first_page = web.client.get(f"/tasks/{open_task(first, 'Task_ConfirmReservation').id}", headers=EN)
    assert _warnings(first_page.get_data(as_text=True)) == []  # the earlier registration is not in conflict
    task = open_task(second, "Task_ConfirmReservation")
    [warning] = _warnings(web.client.get(f"/tasks/{task.id}", headers=ZH).get_data(as_text=True))
    assert "该客户已由" in warning.text_content() and user("staff01").full_name in warning.text_content()
    assert f"#{first.id}" in warning.text_content()
    [api_warning] = Api(web.client, "support1").get(f"/tasks/{task.id}").get_json()["warnings"]
    assert api_warning["kind"] == "ownership_reserved" and api_warning["details"]["case_id"] == first.id


def test_the_api_warns_at_start_and_takes_the_confirmation(api_client) -> None:
    id_no = unique_id_number()
    first = cases.start_case("client_ownership", user("staff01"), registration(id_no))
    staff = api_client("staff02")
    resp = staff.post("/processes/client_ownership/instances", registration(id_no))
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["error"] == "confirmation_required" and body["confirm_warnings"]
    [warning] = body["warnings"]
    assert warning["kind"] == "ownership_reserved" and warning["details"]["case_id"] == first.id
    assert warning["link"] is None and user("staff01").full_name in warning["message"]
    db.session.commit()
    resp = staff.client.post("/api/v1/processes/client_ownership/instances", headers=staff.headers,
                             json={"data": registration(id_no), "confirm_warnings": body["confirm_warnings"]})
    assert resp.status_code == 201, resp.get_json()
    resp = staff.client.post("/api/v1/processes/client_ownership/instances", headers=staff.headers,
                             json={"data": registration(id_no), "confirm_warnings": 7})
    assert resp.status_code == 422 and "confirm_warnings" in resp.get_json()["fields"]


@pytest.fixture
def api_client(web):
    return lambda username: Api(web.client, username)


def _counter_ready() -> tuple[ProcessInstance, str]:
    id_no = unique_id_number()
    instance = cases.start_case("client_ownership", user("staff01"), registration(id_no))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    return instance, id_no


def _shown_id(page: str) -> str:
    return html.fromstring(page).xpath('//dd[@data-key="client_id_number"]')[0].text_content().strip()


def test_counter_clerk_sees_the_whole_id_on_their_step_only(web) -> None:
    instance, id_no = _counter_ready()
    task = open_task(instance, "Task_CounterOpening")
    web.login("counter1")
    page = web.client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert _shown_id(page) == id_no
    assert page.count(id_no) == 1  # the history on the same page stays masked
    detail = Api(web.client, "counter1").get(f"/tasks/{task.id}").get_json()
    assert detail["data"]["client_id_number"] == id_no
    assert "*" in Api(web.client, "counter1").get(f"/instances/{instance.id}").get_json()["data"]["client_id_number"]
    case_page = web.client.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert id_no not in case_page
    web.logout()
    web.login("support1")  # a step that does not need it: masked
    confirm = db.session.scalars(select(AuditEvent.human_task_id).where(
        AuditEvent.instance_id == instance.id, AuditEvent.task_spec == "Task_ConfirmReservation",
        AuditEvent.type == "task_completed")).one()
    assert "*" in _shown_id(web.client.get(f"/tasks/{confirm}").get_data(as_text=True))
    web.logout()
    counter_pass(instance, user("counter1"))
    web.login("counter1")  # the step is done: masked again
    closed = web.client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert id_no not in closed and "*" in _shown_id(closed)


def test_notices_link_only_to_cases_their_reader_may_open(web) -> None:
    id_no = unique_id_number()
    name = f"通知客户{id_no[-5:]}"
    _registered("staff04", id_no, name=name)
    second = cases.start_case("client_ownership", user("staff05"), registration(id_no, name))
    _to_ruling(second)
    complete(second, "Task_DecideConflict", user("trading"),
             {"owner_decision": "existing", "conflict_reason": "首次预约在先"})
    for username, may_open in (("staff04", False), ("staff05", True)):
        web.login(username)
        page = html.fromstring(web.client.get("/notices", headers=EN).get_data(as_text=True))
        [notice] = [li for li in page.xpath('//ul[@id="notices"]/li') if name in li.text_content()]
        assert notice.xpath(".//a/@href") == ([f"/cases/{second.id}"] if may_open else []), username
        assert (web.client.get(f"/cases/{second.id}").status_code == 200) is may_open
        web.logout()


def test_a_diagram_naming_unknown_warnings_is_refused() -> None:
    from pathlib import Path

    xml = (Path(__file__).resolve().parents[3] / "bpmn" / "client_ownership.bpmn").read_text("utf-8")
    broken = xml.replace('name="warnings" value="ownership_conflict"/></camunda:properties>',
                         'name="warnings" value="no_such_check"/></camunda:properties>', 1)
    assert broken != xml
    with pytest.raises(DefinitionError, match="no_such_check"):
        definitions.validate(broken)



def test_the_engine_stops_an_unconfirmed_start_and_starts_nothing() -> None:
    id_no = unique_id_number()
    first = cases.start_case("client_ownership", user("staff01"), registration(id_no))
    before = db.session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc()).limit(1))
    with pytest.raises(Unconfirmed) as stopped:
        cases.start_case("client_ownership", user("staff02"), registration(id_no), confirmed=False)
    [alert] = stopped.value.alerts
    assert alert.case_id == first.id and alert.details["staff_name"] == user("staff01").full_name
    assert db.session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc()).limit(1)) == before
    started = cases.start_case("client_ownership", user("staff02"), registration(id_no),
                               confirmed=stopped.value.fingerprint)
    assert started.id > before
