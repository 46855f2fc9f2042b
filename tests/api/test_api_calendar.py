"""The working-day calendar through the API: any token reads a year (the bundled 2026 schedule the
demo loads); the office replaces a year under the page's rules; others get 403, logged. Writes go to
2032, a year nothing else uses, put back empty afterwards."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from tests.conftest import clear_calendar_year, user
from workflows.branch.models import CalendarChange, CalendarDay
from workflows.cases.models import SecurityEvent
from workflows.db import db

YEAR = 2032
HOLIDAY = {"date": "2032-10-01", "working": False, "name": "国庆节 National Day"}  # a Friday
MAKE_UP = {"date": "2032-10-09", "working": True, "name": "国庆节调休"}  # a Saturday




def put(api, username: str, body, lang: str = "en"):
    client = api(username)
    db.session.commit()
    headers = {**client.headers, "Accept-Language": lang}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    # the threaded client (a request in its own thread, like a server) has no put() of its own
    return client.client._call("put", f"/api/v1/calendar/{YEAR}", headers=headers, data=data,
                               content_type="application/json")


def _changes() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(CalendarChange.id)).where(CalendarChange.year == YEAR))


def test_anyone_reads_a_year_with_its_exceptions_and_working_days_per_month(api) -> None:
    body = api("staff01").get("/calendar/2026").get_json()
    assert body["year"] == 2026
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-10-01"] == {"date": "2026-10-01", "working": False, "name": "国庆节 National Day"}
    assert days["2026-02-14"]["working"] is True and "2026-10-03" not in days  # a Saturday off is no exception
    months = [m["working_days"] for m in body["months"]]
    # February: 20 weekdays, 6 of them Spring Festival, plus the make-up Saturdays 14 and 28
    assert months[1] == 16
    # the year: 261 weekdays, 19 weekday holidays, 6 make-up days
    assert body["working_days"] == sum(months) == 248
    assert [m["month"] for m in body["months"]] == list(range(1, 13))


def test_the_office_replaces_a_year_and_the_change_is_kept(api, empty_2032) -> None:
    before = _changes()
    resp = put(api, "office", {"days": [MAKE_UP, HOLIDAY]})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["changed"] is True and body["days"] == [HOLIDAY, MAKE_UP]  # by date
    october = body["months"][9]["working_days"]
    assert october == 21 - 1 + 1  # 21 weekdays in October 2032, a holiday, a make-up Saturday
    assert body["last_change"]["by"] == "office" and body["last_change"]["via"] == "api"
    assert _changes() == before + 1
    change = db.session.scalars(select(CalendarChange).where(CalendarChange.year == YEAR)
                                .order_by(CalendarChange.id.desc())).first()
    assert json.loads(change.old_days) == [] and json.loads(change.new_days) == [HOLIDAY, MAKE_UP]
    assert change.changed_by_id == user("office").id and change.via == "api"
    # the same again changes nothing and records nothing
    again = put(api, "office", {"days": [HOLIDAY, MAKE_UP]})
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert _changes() == before + 1
    # an empty list clears the year, recorded too
    cleared = put(api, "admin", {"days": []}).get_json()
    assert cleared["days"] == [] and cleared["months"][9]["working_days"] == 21 and _changes() == before + 2


def test_staff_may_not_change_the_calendar_and_the_refusal_is_logged(api, empty_2032) -> None:
    before = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.username == "staff01",
                                                                          SecurityEvent.kind == "refused"))
    resp = put(api, "staff01", {"days": [HOLIDAY]})
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    assert "office" in resp.get_json()["message"]
    db.session.expire_all()
    after = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.username == "staff01",
                                                                         SecurityEvent.kind == "refused"))
    assert after == before + 1
    assert api("staff01").get(f"/calendar/{YEAR}").get_json()["days"] == []


def test_every_bad_entry_is_named_with_its_code_and_nothing_is_written(api, empty_2032) -> None:
    before = _changes()
    days = [
        HOLIDAY,  # 0: fine
        {"date": "2033-01-03", "working": False, "name": "next year"},  # 1: out of the year
        {"date": "2032-10-02", "working": False, "name": "a Saturday"},  # 2: holiday on a weekend
        {"date": "2032-10-04", "working": True, "name": "a Monday"},  # 3: make-up on a weekday
        {"date": "2032-10-01", "working": False, "name": "again"},  # 4: duplicate
        {"date": "2032-10-05", "working": False, "name": "长" * 61},  # 5: name too long
        {"date": "1 Oct", "working": "maybe"},  # 6: not a date, not yes/no
        {"working": False, "colour": "red"},  # 7: no date, an unknown member
        "2032-10-06",  # 8: not an object
    ]
    resp = put(api, "office", {"days": days})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "invalid"
    assert body["field_codes"] == {
        "days[1].date": "out_of_range", "days[2].date": "not_a_weekday", "days[3].date": "not_a_weekend",
        "days[4].date": "duplicate", "days[5].name": "too_long", "days[6].date": "not_a_date",
        "days[6].working": "not_yes_or_no", "days[7].date": "required", "days[7].colour": "unknown_field",
        "days[8]": "not_an_object"}
    assert body["fields"]["days[1].date"] == "must be a date in 2032"
    assert _changes() == before and api("office").get(f"/calendar/{YEAR}").get_json()["days"] == []


def test_refusals_are_in_chinese_for_a_chinese_client(api, empty_2032) -> None:
    resp = put(api, "office", {"days": [{"date": "2032-10-02", "working": False, "name": "周六"}]}, lang="zh")
    assert resp.status_code == 422
    assert resp.get_json()["fields"]["days[0].date"] == "法定节假日须在工作日（周六、周日本来就休息）"


@pytest.mark.parametrize(("body", "field", "code"), [
    ({}, "days", "required"),
    ({"days": "2032-10-01"}, "days", "wrong_type"),
    ({"days": [HOLIDAY], "year": 2032}, "year", "unknown_field"),
    ({"days": [HOLIDAY] * 367}, "days", "too_many"),
    ("[1, 2]", "body", "not_an_object"),
    ("not json", "body", "not_json"),
])
def test_a_malformed_body_is_a_422_naming_it(api, empty_2032, body, field: str, code: str) -> None:
    resp = put(api, "office", body)
    assert resp.status_code == 422 and resp.get_json()["field_codes"][field] == code


def test_a_year_out_of_range_is_refused(api) -> None:
    resp = api("staff01").get("/calendar/1999")
    assert resp.status_code == 422 and resp.get_json()["field_codes"] == {"year": "out_of_range"}
    assert api("staff01").get("/calendar/next").status_code == 404


def test_two_edits_of_a_year_at_once_take_turns_and_never_merge(live_server: str, empty_2032) -> None:
    """The office and an administrator replace 2032 with different days at the same moment (two
    server threads): the year ends as one of the two lists, and the history chains (each change's
    old days are what the one before wrote)."""
    import threading

    import requests

    from tests.api.client import token

    lists = [[HOLIDAY], [MAKE_UP, {"date": "2032-10-04", "working": False, "name": "假日"}]]
    keys = [token("office"), token("admin")]
    db.session.commit()
    first = (db.session.scalar(select(func.max(CalendarChange.id))) or 0) + 1
    for _round in range(3):
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def replace(i: int, barrier: threading.Barrier, statuses: list[int], days: list) -> None:
            barrier.wait()
            resp = requests.put(f"{live_server}/api/v1/calendar/{YEAR}", json={"days": days},
                                headers={"Authorization": f"Bearer {keys[i]}"}, timeout=30)
            statuses.append(resp.status_code)

        threads = [threading.Thread(target=replace, args=(i, barrier, statuses, lists[i])) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert 200 in statuses and set(statuses) <= {200, 409, 503}, statuses
        db.session.expire_all()
        stored = [{"date": d.day.isoformat(), "working": d.working, "name": d.name} for d in db.session.scalars(
            select(CalendarDay).where(CalendarDay.day >= dt.date(YEAR, 1, 1), CalendarDay.day <= dt.date(YEAR, 12, 31))
            .order_by(CalendarDay.day))]
        assert stored in (sorted(lists[0], key=lambda d: d["date"]), sorted(lists[1], key=lambda d: d["date"]))
        changes = db.session.scalars(select(CalendarChange).where(CalendarChange.year == YEAR,
                                                                  CalendarChange.id >= first)
                                     .order_by(CalendarChange.id)).all()
        assert json.loads(changes[-1].new_days) == stored
        for earlier, later in zip(changes, changes[1:], strict=False):
            assert json.loads(later.old_days) == json.loads(earlier.new_days)
        clear_calendar_year(YEAR)
        db.session.add(CalendarChange(year=YEAR, old_days=changes[-1].new_days, new_days="[]", via="cli"))
        db.session.commit()  # the clearing is recorded too, so the chain check holds next round
