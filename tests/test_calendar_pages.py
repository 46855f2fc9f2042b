"""The calendar's pages: every signed-in user reads a year (12 month grids) and a month; the office
and administrators edit a year's exceptions with per-row errors; others are refused and logged.
Edits go to 2032, a year nothing else uses, put back empty afterwards."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import func, select

from workflows.branch.models import CalendarChange, CalendarDay
from workflows.cases.models import SecurityEvent
from workflows.db import db

YEAR = 2032




def _stored() -> list[tuple[str, bool, str]]:
    db.session.expire_all()
    rows = db.session.scalars(select(CalendarDay).where(CalendarDay.day >= dt.date(YEAR, 1, 1),
                                                        CalendarDay.day <= dt.date(YEAR, 12, 31))
                              .order_by(CalendarDay.day))
    return [(r.day.isoformat(), r.working, r.name) for r in rows]


def _cell(page: str, day: str) -> str:
    found = re.search(rf'<td class="cal-day[^"]*" data-date="{day}"[^>]*>.*?</td>', page, re.S)
    assert found, day
    return found.group(0)


def test_everyone_reads_the_year_as_twelve_months_with_marks_names_and_counts(web) -> None:
    web.login("staff01")
    page = web.client.get("/admin/calendar/2026").get_data(as_text=True)
    assert len(re.findall(r'<table class="cal-month"', page)) == 12
    assert 'data-month="2" data-working-days="16"' in page and "248 working days in 2026" not in page  # zh first
    holiday = _cell(page, "2026-10-01")
    assert 'data-kind="holiday"' in holiday and "国庆节" in holiday and "<abbr" in holiday
    assert 'data-kind="makeup"' in _cell(page, "2026-10-10")
    assert 'data-kind="weekend"' in _cell(page, "2026-10-03")  # a Saturday in the holiday: off anyway
    assert 'data-kind="working"' in _cell(page, "2026-10-09")
    assert 'id="calendar-legend"' in page
    assert 'href="/admin/calendar/2025"' in page and 'href="/admin/calendar/2027"' in page
    assert 'id="edit-calendar"' not in page and 'data-nav="calendar"' not in page  # staff may read, not edit
    this_year = web.client.get("/admin/calendar")
    assert this_year.status_code == 302 and re.search(r"/admin/calendar/\d{4}$", this_year.headers["Location"])


def test_the_year_page_in_english(web) -> None:
    web.login("staff19")
    page = web.client.get("/admin/calendar/2026", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "248 working days in 2026" in page and "National Day" in page and "October" in page
    assert "Public holiday" in page and "Make-up working day" in page


def test_a_month_page_lists_its_holidays_and_make_up_days(web) -> None:
    web.login("counter1")
    resp = web.client.get("/admin/calendar/2026/10")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-working-days="18"' in page  # 22 weekdays, 5 holidays, Saturday 10 worked
    listed = re.findall(r'<li data-date="([\d-]+)">', page)
    assert listed == ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-10"]
    assert web.client.get("/admin/calendar/2026/13").status_code == 404
    assert web.client.get("/admin/calendar/1999").status_code == 404


def test_staff_may_not_open_the_edit_form_and_the_refusal_is_logged(web) -> None:
    web.login("staff02")
    before = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.username == "staff02"))
    assert web.client.get(f"/admin/calendar/{YEAR}/edit").status_code == 403
    assert web.post(f"/admin/calendar/{YEAR}/edit", {"date": ["2032-10-01"], "kind": ["holiday"],
                                                     "name": ["x"]}).status_code == 403
    db.session.expire_all()
    after = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.username == "staff02"))
    assert after == before + 2 and _stored() == []


def test_the_office_edits_a_year_with_per_row_errors_then_saves(web, empty_2032) -> None:
    web.login("office")
    nav = web.client.get(f"/admin/calendar/{YEAR}").get_data(as_text=True)
    assert 'data-nav="calendar"' in nav and 'id="edit-calendar"' in nav
    form = web.client.get(f"/admin/calendar/{YEAR}/edit").get_data(as_text=True)
    assert form.count('<tr class="cal-row') == 3  # an empty year: three empty rows
    assert 'for="date-0"' in form and 'id="date-0"' in form
    changes = db.session.scalar(select(func.count(CalendarChange.id)).where(CalendarChange.year == YEAR))
    bad = {"date": ["2032-10-01", "", "2032-10-02", "2032-10-04"], "kind": ["holiday", "holiday", "holiday", "working"],
           "name": ["国庆节 National Day", "", "周六", "周一"]}
    resp = web.post(f"/admin/calendar/{YEAR}/edit", bad)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    # the errors sit on their rows (the form's rows 2 and 3, the empty row 1 skipped), in Chinese
    assert re.search(r'id="date-2-error">法定节假日须在工作日', page)
    assert re.search(r'id="date-3-error">调休上班日须是周六或周日', page)
    assert 'id="date-0-error"' not in page and 'value="2032-10-04"' in page  # what was typed stays
    assert _stored() == []
    assert db.session.scalar(select(func.count(CalendarChange.id)).where(CalendarChange.year == YEAR)) == changes
    good = {"date": ["2032-10-01", "", "2032-10-09"], "kind": ["holiday", "holiday", "working"],
            "name": ["国庆节 National Day", "", "国庆节调休"]}
    resp = web.post(f"/admin/calendar/{YEAR}/edit", good)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/calendar/{YEAR}")
    assert _stored() == [("2032-10-01", False, "国庆节 National Day"), ("2032-10-09", True, "国庆节调休")]
    change = db.session.scalars(select(CalendarChange).where(CalendarChange.year == YEAR)
                                .order_by(CalendarChange.id.desc())).first()
    assert change.via == "web" and json.loads(change.old_days) == [] and len(json.loads(change.new_days)) == 2
    # the form shows the two days and three empty rows; removing one keeps the other
    form = web.client.get(f"/admin/calendar/{YEAR}/edit").get_data(as_text=True)
    assert form.count('<tr class="cal-row') == 5 and 'value="2032-10-09"' in form
    resp = web.post(f"/admin/calendar/{YEAR}/edit", {**good, "remove": ["2"]})
    assert resp.status_code == 302 and _stored() == [("2032-10-01", False, "国庆节 National Day")]


def test_the_administrator_keeps_the_calendar_too(web, empty_2032) -> None:
    web.login("admin")
    resp = web.post(f"/admin/calendar/{YEAR}/edit", {"date": ["2032-05-03"], "kind": ["holiday"],
                                                     "name": ["劳动节 Labour Day"]})
    assert resp.status_code == 302 and _stored() == [("2032-05-03", False, "劳动节 Labour Day")]
    page = web.client.get(f"/admin/calendar/{YEAR}").get_data(as_text=True)
    assert 'data-nav="calendar"' in page and 'id="calendar-changes"' in page


def test_a_form_with_more_rows_than_a_year_needs_is_refused_whole(web, empty_2032) -> None:
    web.login("office")
    dates = [f"2032-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)][:400]
    resp = web.post(f"/admin/calendar/{YEAR}/edit", {"date": dates, "kind": ["holiday"] * 400, "name": [""] * 400},
                    follow_redirects=True)
    assert "一年最多录入366个节假日和调休日" in resp.get_data(as_text=True) and _stored() == []
