"""The history as a machine feed: stable event types, usernames, field ids and stored values
beside the labels, notice recipients by username; masked exactly where the page masks."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from lxml import html

from tests.conftest import TEST_BPMN, unique_id_number, user
from tests.processes.ownership.steps import complete, counter_pass, open_task, registration
from webapp.template_helpers import mask
from workflows import processes
from workflows.branch.org import relation
from workflows.cases import commands, definitions, timers
from workflows.cases.feed import EVENT_TYPES
from workflows.db import db
from workflows.engine import clock

PROCESS = "client_ownership"


def feed(api, username: str, cid: int) -> list[dict[str, Any]]:
    resp = api(username).get(f"/instances/{cid}/history")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def change(event: dict[str, Any], field_id: str) -> dict[str, Any]:
    return next(c for c in event["changes"] if c["field_id"] == field_id)


def _sent_back_and_revised(api, id_no: str, phone: str) -> int:
    staff = api("staff01")
    cid = staff.post(f"/processes/{PROCESS}/instances", registration(id_no, "原名客户")).get_json()["id"]
    api("support1").complete_step(cid, "Task_ConfirmReservation", {"decision": "send_back", "comment": "电话有误"})
    revised = {**registration(id_no, "改名客户"), "client_phone": phone}
    del revised["institutional"]  # not on the revising step's form: the API refuses keys a step has not
    assert staff.complete_step(cid, "Task_Revise", revised).status_code == 200
    return cid


def test_events_carry_types_usernames_field_ids_and_stored_values(api) -> None:
    id_no, phone = unique_id_number(), "13912345678"
    cid = _sent_back_and_revised(api, id_no, phone)
    items = feed(api, "staff01", cid)
    known = set(EVENT_TYPES) | set(processes.labels())
    assert {e["type"] for e in items} <= known and all(e["type_label"] for e in items)
    started = next(e for e in items if e["type"] == "case_started")
    assert (started["actor"], started["actor_username"], started["via"]) == (user("staff01").full_name, "staff01",
                                                                            "api")
    assert change(started, "client_name")["new"] == "原名客户"
    assert change(started, "client_name")["label"] == "Client name"
    assert change(started, "estimated_assets")["new"] == "300000"
    assert change(started, "accompany") == {"field_id": "accompany", "field": "I will accompany the client",
                                            "label": "I will accompany the client", "old": None, "new": True,
                                            "old_text": None, "new_text": "Yes"}
    # a decision: the stored option id beside the label the page shows, and the decider's username
    decided = next(e for e in items if e["type"] == "task_completed" and e["task_key"] == "Task_ConfirmReservation")
    assert decided["actor_username"] == "support1" and decided["human_task_id"]
    assert change(decided, "decision") == {"field_id": "decision", "field": "Decision", "label": "Decision",
                                           "old": None, "new": "send_back", "old_text": None,
                                           "new_text": "Send back"}
    assert decided["comment"] == "电话有误"
    revise = next(e for e in items if e["type"] == "task_completed" and e["task_key"] == "Task_Revise")
    assert (change(revise, "client_name")["old"], change(revise, "client_name")["new"]) == ("原名客户", "改名客户")
    # the engine's own events: no username, and only documented types
    system = [e for e in items if e["actor_username"] is None]
    assert system and all(e["actor"] == "system" for e in system)
    assert {"engine_steps", "task_created"} <= {e["type"] for e in system}
    assert all(e["recipients"] is None for e in items)  # no notice in this case


def test_masked_values_stay_masked_for_a_participant_and_whole_for_the_auditor(api, web) -> None:
    id_no, phone = unique_id_number(), "13987654321"
    cid = _sent_back_and_revised(api, id_no, phone)
    body = api("staff01").get(f"/instances/{cid}/history").get_data(as_text=True)
    assert id_no not in body and phone not in body  # not in any value, text or comment
    items = json.loads(body)["items"]
    revise = next(e for e in items if e["type"] == "task_completed" and e["task_key"] == "Task_Revise")
    phone_change = change(revise, "client_phone")
    assert phone_change["old"] == mask("13800000000", "phone") and phone_change["new"] == mask(phone, "phone")
    assert phone_change["new_text"] == phone_change["new"]
    # exactly what the history page shows this reader
    web.login("staff01")
    page = html.fromstring(web.client.get(f"/cases/{cid}", headers={"Accept-Language": "en"}).get_data(as_text=True))
    cells = " ".join(td.text_content() for td in page.xpath('//table[@id="history"]//td'))
    assert mask(phone, "phone") in cells and phone not in cells
    started = next(e for e in items if e["type"] == "case_started")
    assert change(started, "client_id_number")["new"] == mask(id_no, "id") in cells
    audited = feed(api, "auditor", cid)
    whole = next(e for e in audited if e["type"] == "case_started")
    assert change(whole, "client_id_number")["new"] == id_no
    assert change(next(e for e in audited if e.get("task_key") == "Task_Revise" and e["type"] == "task_completed"),
                  "client_phone")["new"] == phone


def test_notices_name_their_recipients_by_username(api) -> None:
    """The trading manager's ruling on a conflict tells both staff members (recorded by user id)."""
    id_no = unique_id_number()
    first = commands.start_case(PROCESS, user("staff04"), registration(id_no))  # still waiting: a reservation
    second = commands.start_case(PROCESS, user("staff05"), registration(id_no))
    complete(second, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(second, user("counter2"))
    complete(second, "Task_Aggregate", user("support1"), {})
    db.session.commit()
    ruling = api("trading").complete_step(second.id, "Task_DecideConflict",
                                          {"owner_decision": "existing", "conflict_reason": "首次预约在先"})
    assert ruling.status_code == 200, ruling.get_json()
    items = feed(api, "trading", second.id)
    notices = [e for e in items if e["type"] == "notice_sent"]
    assert sorted(u for e in notices for u in e["recipients"]) == ["staff04", "staff05"]
    assert all(len(e["recipients"]) == 1 and e["actor_username"] == "trading" for e in notices)
    assert {change(e, "to_user_id")["new"] for e in notices} == {user("staff04").id, user("staff05").id}
    assert first.id != second.id


def test_notices_written_by_name_and_escalations_name_their_recipients(api) -> None:
    """``notify`` records the recipient's name, ``escalate`` the superior's: the feed finds their usernames."""
    definitions.deploy((TEST_BPMN / "notify_people.bpmn").read_text("utf-8"), {}, filename="notify_people.bpmn")
    definitions.deploy((TEST_BPMN / "timer_escalation.bpmn").read_text("utf-8"), {},
                       filename="timer_escalation.bpmn")
    db.session.commit()
    told = commands.start_case("test_notify", user("staff03"), {})
    db.session.commit()
    items = feed(api, "staff03", told.id)
    notices = [e for e in items if e["type"] == "notice_sent"]
    boss = relation(user("staff03"), "superior")
    assert [e["recipients"] for e in notices] == [[boss.username], ["staff03"]]
    assert [change(e, "to")["new"] for e in notices] == [boss.full_name, user("staff03").full_name]
    late = commands.start_case("test_timer", user("staff03"), {})
    db.session.commit()
    clock.travel(dt.timedelta(hours=2))
    timers.sweep()
    db.session.commit()
    assert open_task(late, "Task_Approve").escalated_to.username == "director1"
    escalated = [e for e in feed(api, "staff03", late.id) if e["type"] == "task_escalated"]
    assert [e["recipients"] for e in escalated] == [["director1"]]
    assert escalated[0]["actor_username"] is None  # the timer did it
