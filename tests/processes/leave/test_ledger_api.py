"""The attendance ledger through /api/v1, as the HR system uses it: reading with filters under the
pages' visibility, recording and cancelling absences, clear 4xx codes for bad input."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.conftest import user
from workflows.cases.models import SecurityEvent
from workflows.db import db


def refused_count() -> int:
    return db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.kind == "refused")) or 0


def test_a_persons_month_and_year_with_totals_and_the_picture(api, newcomer, entry) -> None:
    person = newcomer()
    entry(person, "sick", dt.date(2022, 3, 9), half_day="am", days="0.5", score=-3)
    entry(person, "absence", dt.date(2022, 3, 10), pay="5")
    entry(person, "personal", dt.date(2022, 5, 2), days="1", pay="1", score=-10)
    body = api("region11").get(f"/attendance?user={person.username}&year=2022&month=3").get_json()
    assert (body["year"], body["month"], body["user"], body["unit"]) == (2022, 3, person.username, None)
    assert [(i["kind"], i["days"], i["half_day"]) for i in body["items"]] == [("sick", 0.5, "am"),
                                                                               ("absence", 1.0, "none")]
    assert body["totals"]["days"] == {"personal": 0, "sick": 0.5, "work_injury": 0, "absence": 1}
    assert body["totals"]["pay_deduction_days"] == 5 and body["totals"]["score"] == -3
    (row,) = body["picture"]["rows"]
    assert row["absent"] == [{"date": "2022-03-09", "kind": "sick", "half_day": "am",
                              "entry_id": body["items"][0]["id"]},
                             {"date": "2022-03-10", "kind": "absence", "half_day": "none",
                              "entry_id": body["items"][1]["id"]}]
    saturday = next(d for d in body["picture"]["days"] if d["date"] == "2022-03-12")
    assert saturday["working"] is False and saturday["weekend"] is True
    year = api("office").get(f"/attendance?user={person.username}&year=2022").get_json()
    assert year["month"] is None and year["picture"] is None and len(year["items"]) == 3
    assert year["totals"]["score"] == -13 and year["totals"]["days"]["personal"] == 1


def test_without_filters_one_reads_ones_own(api) -> None:
    body = api("staff03").get("/attendance").get_json()
    assert body["user"] == "staff03" and body["month"] is None


def test_a_team_by_unit(api, newcomer, entry) -> None:
    person = newcomer()
    entry(person, "work_injury", dt.date(2022, 3, 14), dt.date(2022, 3, 15), days="2")
    region = user("region11").unit.parent.parent
    body = api("director1").get(f"/attendance?unit={region.id}&year=2022&month=3").get_json()
    assert body["unit"]["id"] == region.id and body["user"] is None
    usernames = {p["username"] for p in body["people"]}
    assert person.username in usernames and "staff01" in usernames
    mine = next(p for p in body["people"] if p["username"] == person.username)
    assert mine["totals"]["days"]["work_injury"] == 2


def test_outsiders_are_refused_and_logged(api, newcomer) -> None:
    person = newcomer()
    region = user("region11").unit.parent.parent
    before = refused_count()
    for who, query in (("region12", f"user={person.username}"), ("staff02", f"user={person.username}"),
                       ("staff02", f"unit={region.id}"), ("trading", f"unit={region.id}")):
        answer = api(who).get(f"/attendance?{query}")
        assert answer.status_code == 403 and answer.get_json()["error"] == "forbidden", (who, query)
    assert refused_count() == before + 4


def test_bad_filters_are_clear_422s(api) -> None:
    office = api("office")
    for query, field, code in (("year=abc", "year", "not_a_whole_number"), ("year=1999", "year", "out_of_range"),
                               ("month=13", "month", "out_of_range"), ("month=0", "month", "out_of_range"),
                               ("user=nobody_here", "user", "unknown_user"), ("unit=999999", "unit", "not_found"),
                               ("unit=x", "unit", "not_found"), ("user=staff01&unit=1", "unit", "invalid"),
                               ("user=" + "a" * 300, "user", "unknown_user"),
                               ("kind=sick", "kind", "unknown_parameter")):
        answer = office.get(f"/attendance?{query}")
        assert answer.status_code == 422, query
        body = answer.get_json()
        assert body["field_codes"][field] == code, (query, body)


def test_recording_an_absence_and_its_refusals(api, newcomer) -> None:
    person = newcomer()
    manager = api("region11")
    done = manager.client.post("/api/v1/attendance/absences", headers=manager.headers,
                               json={"user": person.username, "start_date": "2022-03-07", "end_date": "2022-03-09",
                                     "note": "连续未到岗"})
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    (item,) = body["items"]
    assert (item["kind"], item["days"], item["pay_deduction_days"], item["month_pay"], item["via"]) == (
        "absence", 3, 15, True, "api")
    assert item["recorded_by"] == "region11" and len(body["reviews"]) == 1
    case = body["reviews"][0]["link"].removeprefix("/api/v1")
    assert api("director1").get(case).status_code == 200  # its first reviewer
    assert api(person.username).get(case).status_code == 200  # the person it concerns reads it
    assert manager.get(case).status_code == 403  # the recorder has no part in the review
    for payload, status, code in (
        ({"user": person.username, "start_date": "2022-03-08"}, 422, "refused"),  # already covered
        ({"user": person.username, "start_date": "2022-03-12"}, 422, "refused"),  # a Saturday
        ({"user": person.username, "start_date": "20220314"}, 422, "invalid"),
        ({"user": person.username}, 422, "invalid"),
        ({"user": 5, "start_date": "2022-03-14"}, 422, "invalid"),
    ):
        answer = manager.client.post("/api/v1/attendance/absences", headers=manager.headers, json=payload)
        assert (answer.status_code, answer.get_json()["error"]) == (status, code), payload
    covered = manager.client.post("/api/v1/attendance/absences", headers=manager.headers,
                                  json={"user": person.username, "start_date": "2022-03-08"}).get_json()
    assert covered["field_codes"] == {"start_date": "already_covered"} and covered["figures"]["day"] == "2022-03-08"
    junk = manager.client.post("/api/v1/attendance/absences", headers=manager.headers, data="not json",
                               content_type="application/json")
    assert junk.status_code == 422
    stranger = api("staff02")
    answer = stranger.client.post("/api/v1/attendance/absences", headers=stranger.headers,
                                  json={"user": person.username, "start_date": "2022-03-14"})
    assert answer.status_code == 403


def test_the_office_cancels_through_the_api(api, newcomer, entry) -> None:
    person = newcomer()
    row = entry(person, "absence", dt.date(2022, 3, 8), pay="5")
    office = api("office")
    path = f"/api/v1/attendance/absences/{row.id}/cancel"
    assert office.client.post(path, headers=office.headers, json={}).status_code == 422
    done = office.client.post(path, headers=office.headers, json={"reason": "误记"})
    assert done.status_code == 200 and done.get_json()["cancelled"]["reason"] == "误记"
    again = office.client.post(path, headers=office.headers, json={"reason": "again"})
    assert (again.status_code, again.get_json()["error"]) == (409, "already_cancelled")
    manager = api("region11")
    assert manager.client.post(path, headers=manager.headers, json={"reason": "x"}).status_code == 403
    assert office.client.post("/api/v1/attendance/absences/99999999/cancel", headers=office.headers,
                              json={"reason": "x"}).status_code == 404
