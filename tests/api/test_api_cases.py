"""Finding cases over the API (GET /api/v1/instances): exact business key, paging, visibility
exactly as on the pages, every filter, sorting."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from tests.conftest import TEST_BPMN, unique_id_number, unique_username, user
from tests.processes.ownership.steps import complete, counter_pass, registration
from workflows.branch import people
from workflows.cases import access, commands, definitions
from workflows.cases.models import ProcessInstance, SecurityEvent
from workflows.db import db


def _staff_member(prefix: str = "finder", unit_id: int | None = None):
    """A new staff member (in staff01's team unless another unit is given): their cases are theirs alone."""
    return people.save_user(None, username=unique_username(prefix), full_name="查询员工", roles=["staff"],
                            unit_id=unit_id or user("staff01").unit_id, active=True, password="password-123",
                            actor=None)


def _department_without_support() -> int:
    """A new department nobody supports: the cases of its staff wait in no one's inbox, so a
    test starting hundreds of them leaves the other tests' inboxes as they were."""
    branch = people.tree()[0][1]
    return people.save_unit(None, kind="department", name=unique_username("查询部"), parent_id=branch.id,
                            leader_id=None).id


def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_json()
    return [item["id"] for item in resp.get_json()["items"]]


def test_a_case_is_found_by_the_clients_whole_id_number_never_by_part_of_it(api) -> None:
    number = unique_id_number()
    case = commands.start_case("client_ownership", user("staff01"), registration(number))
    other = commands.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    db.session.commit()
    staff = api("staff01")
    spaced = f" {number[:6]} {number[6:14]} {number[14:].lower()} "  # as a person types it
    assert _ids(staff.get("/instances", query_string={"business_key": number})) == [case.id]
    assert _ids(staff.get("/instances", query_string={"business_key": spaced})) == [case.id]
    assert other.id not in _ids(staff.get("/instances", query_string={"business_key": spaced}))
    for part in (number[-4:], number[6:10], number[:-1]):  # four of its digits, or all but one: nothing
        assert _ids(staff.get("/instances", query_string={"business_key": part})) == []
    item = staff.get("/instances", query_string={"business_key": number}).get_json()["items"][0]
    assert item["data"]["client_id_number"] != number and "*" in item["data"]["client_id_number"]  # masked
    whole = api("auditor").get("/instances", query_string={"business_key": number}).get_json()["items"][0]
    assert whole["data"]["client_id_number"] == number  # the auditor reads it whole, and the look is logged
    logged = db.session.scalars(select(SecurityEvent.detail).where(SecurityEvent.kind == "record_viewed")
                                .order_by(SecurityEvent.id.desc()).limit(1)).one()
    assert f"#{case.id}" in logged


def test_paging_through_250_cases_by_next_links(api) -> None:
    owner = _staff_member("pager", _department_without_support())
    created = {commands.start_case("client_ownership", owner, registration(unique_id_number())).id
               for _ in range(250)}
    db.session.commit()
    seen: list[dict] = []
    link: str | None = f"/api/v1/instances?started_by={owner.username}&per_page=100"
    pages = 0
    while link is not None:
        assert link.startswith("/api/v1/instances?")
        resp = api(owner.username).get(link.removeprefix("/api/v1"))
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert body["per_page"] == 100
        # counted on the first page; the pages a cursor leads to cost the same however long the list
        assert (body["total"], body["page"]) == ((250, 1) if pages == 0 else (None, None))
        assert pages == 0 or "after=" in link and "page=" not in link.replace("per_page=", "")
        seen += body["items"]
        link, pages = body["next"], pages + 1
    assert pages == 3
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)) == 250 and set(ids) == created
    keys = [(item["started_at"], item["id"]) for item in seen]
    assert keys == sorted(keys, reverse=True)  # newest first by default
    oldest = api(owner.username).get(f"/instances?started_by={owner.username}&sort=id&per_page=200").get_json()
    assert [i["id"] for i in oldest["items"]] == sorted(created)[:200] and oldest["next"] is not None
    last = api(owner.username).get(f"/instances?started_by={owner.username}&sort=id&per_page=200&page=2")
    assert _ids(last) == sorted(created)[200:] and last.get_json()["next"] is None  # a page number still works
    after = api(owner.username).get(oldest["next"].removeprefix("/api/v1"))
    assert _ids(after) == sorted(created)[200:] and after.get_json()["next"] is None
    # a cursor is the list's own: another sort's, or a made-up one, is a 422 naming it
    by_id = parse_qs(urlsplit(oldest["next"]).query)["after"][0]
    for bad in (by_id, "bm90IGEgY3Vyc29y", "[1,2]", "%%%"):
        resp = api(owner.username).get("/instances", query_string={"started_by": owner.username, "after": bad})
        assert resp.status_code == 422 and "after" in resp.get_json()["fields"], (bad, resp.get_json())
    # nobody else sees them; the auditor sees them all; a pure administrator is refused (logged)
    assert api("staff02").get(f"/instances?started_by={owner.username}").get_json()["total"] == 0
    assert api("auditor").get(f"/instances?started_by={owner.username}").get_json()["total"] == 250
    refused = api("admin").get(f"/instances?started_by={owner.username}")
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    entry = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "refused")
                               .order_by(SecurityEvent.id.desc()).limit(1)).one()
    assert entry.username == "admin" and entry.detail == "list cases"


def test_visibility_follows_the_tasks_a_person_has_had_or_may_take(api) -> None:
    owner = _staff_member()
    case = commands.start_case("client_ownership", owner, registration(unique_id_number()))
    db.session.commit()
    query = f"/instances?started_by={owner.username}"
    # the open confirmation is for support of the owner's department: support1, not support2
    assert _ids(api("support1").get(query)) == [case.id]
    assert _ids(api("support2").get(query)) == []
    assert _ids(api("counter1").get(query)) == []  # no task yet
    complete(case, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(case, user("counter1"))
    db.session.commit()
    assert _ids(api("counter1").get(query)) == [case.id]  # completed a task: still sees it
    assert _ids(api("support1").get(query)) == [case.id]
    # everything a person is shown, they may open
    for username in ("support1", "counter1", "staff01", "trading"):
        person = user(username)
        for item in api(username).get("/instances?per_page=200").get_json()["items"]:
            assert access.may_view_case(person, db.session.get(ProcessInstance, item["id"])), (username, item["id"])


def test_someone_who_took_part_widely_gets_the_same_cases_uncounted(api, monkeypatch) -> None:
    """Past PARTICIPATION_CAP rows of taking part, the list probes cases newest first instead of
    collecting every case the person touched, and leaves ``total`` out (null): the same cases."""
    from workflows.cases import search

    owner = _staff_member()
    cases = [commands.start_case("client_ownership", owner, registration(unique_id_number())) for _ in range(3)]
    complete(cases[0], "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    db.session.commit()
    query = f"/instances?started_by={owner.username}&per_page=2"
    counted = api("support1").get(query).get_json()
    monkeypatch.setattr(search, "PARTICIPATION_CAP", 1)
    probed = api("support1").get(query).get_json()
    assert counted["total"] == 3 and probed["total"] is None
    assert [i["id"] for i in probed["items"]] == [i["id"] for i in counted["items"]] == [c.id for c in cases[::-1]][:2]
    following = api("support1").get(probed["next"].split("/api/v1", 1)[1]).get_json()
    assert [i["id"] for i in following["items"]] == [cases[0].id] and following["next"] is None


def test_each_filter_and_the_branch_calendar_days(api) -> None:
    definitions.deploy((TEST_BPMN / "subject_review.bpmn").read_text("utf-8"), {}, filename="subject_review.bpmn")
    db.session.commit()
    owner = _staff_member()
    running = commands.start_case("client_ownership", owner, registration(unique_id_number()))
    ended = commands.start_case("client_ownership", owner, registration(unique_id_number()))
    complete(ended, "Task_ConfirmReservation", user("support1"), {"decision": "reject", "comment": "资料不全"})
    about = commands.start_case("test_subject", user("gm"), {"staff": owner.username, "reason": "annual review"})
    db.session.commit()
    db.session.refresh(ended)
    assert ended.status == "completed" and ended.outcome
    # 17:30 UTC on 1 March is already 2 March in the branch (Asia/Shanghai, UTC+8)
    running.started_at = dt.datetime(2031, 3, 1, 17, 30)
    ended.started_at = dt.datetime(2031, 3, 1, 15, 30)  # 23:30 on 1 March in Shanghai
    ended.ended_at = dt.datetime(2031, 3, 4, 16, 0)  # midnight: 5 March in Shanghai
    db.session.commit()
    auditor = api("auditor")

    def found(**args) -> list[int]:
        return _ids(auditor.get("/instances", query_string={"per_page": 200, **args}))

    mine = {"started_by": owner.username}
    assert set(found(**mine)) == {running.id, ended.id}
    assert found(**mine, status="running") == [running.id]
    assert found(**mine, status="completed") == [ended.id]
    assert found(**mine, outcome=ended.outcome) == [ended.id]
    assert found(**mine, process="test_subject") == []
    assert found(subject=owner.username) == [about.id]
    assert found(subject=owner.username, started_by="gm", process="test_subject") == [about.id]
    assert found(started_by="nobody-by-this-name") == []
    assert found(**mine, started_from="2031-03-02", started_to="2031-03-02") == [running.id]
    assert found(**mine, started_from="2031-03-01", started_to="2031-03-01") == [ended.id]
    assert set(found(**mine, started_from="2031-03-01", started_to="2031-03-02")) == {running.id, ended.id}
    assert found(**mine, ended_from="2031-03-05", ended_to="2031-03-05") == [ended.id]
    assert found(**mine, ended_to="2031-03-04") == []
    # sorting by when a case ended: those still running come last either way
    assert found(**mine, sort="ended_at") == [ended.id, running.id]
    assert found(**mine, sort="-ended_at") == [ended.id, running.id]
    assert found(**mine, sort="started_at") == [ended.id, running.id]
    assert found(**mine, sort="-started_at") == [running.id, ended.id]
    assert found(**mine, sort="-id") == [ended.id, running.id]


def test_bad_filters_are_named_in_the_language_of_the_request(api) -> None:
    staff = api("staff01")
    for args, field in (({"started_from": "2031-02-30"}, "started_from"), ({"ended_to": "tomorrow"}, "ended_to"),
                        ({"sort": "title"}, "sort"), ({"status": "lost"}, "status"), ({"per_page": "500"}, "per_page"),
                        ({"business_key": "1" * 121}, "business_key"), ({"client": "x"}, "client")):
        resp = staff.get("/instances", query_string=args)
        assert resp.status_code == 422 and field in resp.get_json()["fields"], (args, resp.get_json())
    staff.headers["Accept-Language"] = "zh"
    resp = staff.get("/instances", query_string={"started_from": "2031-02-30"})
    assert resp.get_json()["fields"]["started_from"] != "must be a date (YYYY-MM-DD)"
