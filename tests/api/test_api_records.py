"""Business records over the API: the client registry with superseded owners, notices,
attachments, people and the organisation tree — each under the rules of its page."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

import pytest
from sqlalchemy import select

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import PDF, complete, counter_pass, registration
from workflows.cases import commands
from workflows.cases.models import Notice, ProcessInstance, SecurityEvent
from workflows.db import db


def _register(instance: ProcessInstance, archive_ref: str) -> None:
    for key, username, data in (("Task_TradingReview", "trading", {"decision": "approve"}),
                                ("Task_FinanceReview", "finance", {"decision": "approve"}),
                                ("Task_GMReview", "gm", {"decision": "approve"}),
                                ("Task_Register", "trading", {"effective_date": "2026-11-20",
                                                              "archive_ref": archive_ref})):
        complete(instance, key, user(username), data)


def _up_to_review(instance: ProcessInstance) -> None:
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter2"))
    complete(instance, "Task_Aggregate", user("support1"), {})


@pytest.fixture(scope="module")
def moved_client(app) -> dict:
    """A client registered for staff04, then given to staff05 by the trading manager's decision
    on a later case: staff04's entry is superseded, and both are told."""
    with app.app_context():
        number = unique_id_number()
        first = commands.start_case("client_ownership", user("staff04"), registration(number, "转移客户"))
        _up_to_review(first)
        _register(first, "REG-1")
        second = commands.start_case("client_ownership", user("staff05"), registration(number, "转移客户"))
        _up_to_review(second)
        complete(second, "Task_DecideConflict", user("trading"),
                 {"owner_decision": "applicant", "conflict_reason": "客户本人确认归属"})
        _register(second, "REG-2")
        db.session.commit()
        return {"number": number, "first": first.id, "second": second.id}


def test_the_registry_shows_the_owner_now_and_the_superseded_one(api, moved_client) -> None:
    number = moved_client["number"]
    typed = f"{number[:9]} {number[9:].lower()}"
    body = api("trading").get("/registry", query_string={"client_id_number": typed}).get_json()
    assert body["total"] == 1 and body["next"] is None
    entry = body["items"][0]
    assert entry["staff"]["username"] == "staff05" and entry["status"] == "active"
    assert entry["instance_id"] == moved_client["second"] and entry["archive_ref"] == "REG-2"
    assert entry["client_id_number"] != number and "*" in entry["client_id_number"]  # masked for the manager
    [before] = entry["previous_owners"]
    assert before["staff"]["username"] == "staff04" and before["status"] == "superseded"
    assert before["instance_id"] == moved_client["first"] and f"#{moved_client['second']}" in before["note"]
    both = api("trading").get("/registry", query_string={"client_id_number": number,
                                                         "include_superseded": "true"}).get_json()
    assert [(e["staff"]["username"], e["status"]) for e in both["items"]] == [("staff04", "superseded"),
                                                                              ("staff05", "active")]
    by_staff = api("trading").get("/registry", query_string={"staff": "staff04", "include_superseded": "true"})
    assert moved_client["first"] in {e["instance_id"] for e in by_staff.get_json()["items"]}
    assert api("trading").get("/registry", query_string={"client_id_number": number[-4:]}).get_json()["items"] == []
    audited = api("auditor").get("/registry", query_string={"client_id_number": number}).get_json()["items"][0]
    assert audited["client_id_number"] == number  # whole for the auditor (logged)


def test_staff_see_only_their_own_clients_and_others_are_refused(api, moved_client) -> None:
    number = moved_client["number"]
    owner_now = api("staff05").get("/registry", query_string={"per_page": 200}).get_json()
    assert owner_now["items"] and {e["staff"]["username"] for e in owner_now["items"]} == {"staff05"}
    assert all(e["previous_owners"] is None for e in owner_now["items"])  # earlier owners: readers only
    former = api("staff04").get("/registry", query_string={"client_id_number": number}).get_json()
    assert former["items"] == []  # no longer theirs
    theirs_before = api("staff04").get("/registry", query_string={"client_id_number": number,
                                                                  "include_superseded": "true"}).get_json()
    assert [e["status"] for e in theirs_before["items"]] == ["superseded"]
    assert api("staff04").get("/registry", query_string={"staff": "staff05"}).get_json()["items"] == []
    refused = api("counter1").get("/registry")
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    entry = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "refused")
                               .order_by(SecurityEvent.id.desc()).limit(1)).one()
    assert entry.username == "counter1" and entry.detail == "/api/v1/registry"
    assert api("admin").get("/registry").status_code == 403


def test_the_registry_api_is_the_familys_own_plugged_in_by_its_page(app) -> None:
    from webapp.api import openapi
    from webapp.processes import api_modules, ownership_api

    assert ownership_api in api_modules() and ownership_api not in openapi.MODULES
    assert "/api/v1/registry" in openapi.spec("http://x")["paths"]
    assert "registry" not in open(openapi.__file__, encoding="utf-8").read()  # the platform does not name it


def test_notices_in_the_readers_language_marked_read_one_or_all(api, moved_client) -> None:
    loser, winner = api("staff04"), api("staff05")
    unread = loser.get("/notices", query_string={"unread": "true"}).get_json()
    about = [n for n in unread["items"] if "转移客户" in n["text"]]
    assert about and about[0]["read"] is False and "does not belong to you" in about[0]["text"]
    # staff04 takes no part in the case that decided it: no link to it
    assert about[0]["instance_id"] is None and about[0]["link"] is None
    mine = next(n for n in winner.get("/notices").get_json()["items"] if "转移客户" in n["text"])
    assert mine["instance_id"] == moved_client["second"] and mine["link"].endswith(f"/instances/{mine['instance_id']}")
    winner.headers["Accept-Language"] = "zh"
    zh = next(n for n in winner.get("/notices").get_json()["items"] if n["id"] == mine["id"])
    assert "归属" in zh["text"] and zh["text"] != mine["text"]

    assert winner.post(f"/notices/{about[0]['id']}/read").status_code == 404  # not theirs: unknown
    assert db.session.get(Notice, about[0]["id"]).read_at is None
    read = loser.post(f"/notices/{about[0]['id']}/read")
    assert read.status_code == 200 and read.get_json()["read"] is True and read.get_json()["read_at"]
    assert about[0]["id"] not in {n["id"] for n in loser.get("/notices?unread=true&per_page=200").get_json()["items"]}
    assert about[0]["id"] in {n["id"] for n in loser.get("/notices?unread=false&per_page=200").get_json()["items"]}
    assert loser.post("/notices/999999999/read").status_code == 404
    marked = winner.post("/notices/read").get_json()["marked"]
    assert marked >= 1 and winner.get("/notices?unread=true").get_json()["total"] == 0
    assert winner.post("/notices/read").get_json()["marked"] == 0


def test_an_attachment_downloads_with_its_real_name_and_type_for_those_entitled(api) -> None:
    staff = api("staff01")
    case = staff.post("/processes/client_ownership/instances", registration(unique_id_number())).get_json()
    confirmed = api("support1").complete_step(case["id"], "Task_ConfirmReservation", {"decision": "approve"})
    assert confirmed.status_code == 200
    scan = {"filename": "客户开户表 2026.pdf", "content_type": "application/pdf",
            "content_base64": base64.b64encode(PDF).decode()}
    done = api("counter1").complete_step(case["id"], "Task_CounterOpening", {
        "account_no": "880012345670", "signed_by_client": True, "staff_present": True, "decision": "approve",
        "scanned_form": scan})
    assert done.status_code == 200, done.get_json()

    listed = staff.get(f"/instances/{case['id']}/attachments").get_json()["items"]
    [info] = listed
    assert info["filename"] == "客户开户表 2026.pdf" and info["content_type"] == "application/pdf"
    assert info["size"] == len(PDF) and info["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert info["uploaded_by"] == "counter1" and info["field"] == "scanned_form"
    resp = staff.get(info["link"].removeprefix("/api/v1"))
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('客户开户表 2026.pdf')}" in disposition
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    looked = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "attachment_viewed")
                                .order_by(SecurityEvent.id.desc()).limit(1)).one()
    assert looked.username == "staff01" and f"attachment {info['id']}" in looked.detail

    for outsider in ("staff02", "admin"):
        refused = api(outsider).get(f"/attachments/{info['id']}")
        assert refused.status_code == 403 and refused.get_json()["error"] == "no_part"
        assert api(outsider).get(f"/instances/{case['id']}/attachments").status_code == 403
    assert api("auditor").get(f"/attachments/{info['id']}").data == PDF
    assert api("staff01").get("/attachments/999999999").status_code == 404


def test_people_and_the_org_tree_as_far_as_the_caller_may_see_them(api) -> None:
    everyone = api("admin").get("/people").get_json()["items"]
    names = {p["username"] for p in everyone}
    assert {"staff01", "gm", "auditor", "admin"} <= names
    staff01 = next(p for p in everyone if p["username"] == "staff01")
    assert staff01["unit"]["name"] == user("staff01").unit.name and staff01["active"] is True
    assert {r["key"] for r in staff01["roles"]} == user("staff01").roles
    assert [p["username"] for p in api("admin").get("/people?username=gm").get_json()["items"]] == ["gm"]
    # anyone else sees what their profile shows: themselves
    assert [p["username"] for p in api("staff01").get("/people").get_json()["items"]] == ["staff01"]
    assert api("staff01").get("/people?username=gm").get_json()["items"] == []
    assert [p["username"] for p in api("auditor").get("/people").get_json()["items"]] == ["auditor"]

    tree = api("admin").get("/org").get_json()["items"]
    assert tree[0]["kind"] == "branch" and tree[0]["depth"] == 0 and tree[0]["parent_id"] is None
    assert len(tree) > 5 and any(u["leader"] for u in tree)
    by_id = {u["id"]: u for u in tree}
    assert all(u["parent_id"] in by_id for u in tree[1:])
    chain = api("staff01").get("/org").get_json()["items"]
    own = user("staff01").unit
    assert chain[-1]["id"] == own.id and [u["depth"] for u in chain] == list(range(len(chain)))
    assert [u["id"] for u in chain] == [u.id for u in reversed(own.ancestors())]
    assert len(chain) < len(tree)
    for unit in chain:
        leader = by_id[unit["id"]]["leader"]
        assert unit["leader"] == leader  # the same leaders the administrator sees
