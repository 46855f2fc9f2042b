"""The attendance pages as a person uses them: their own ledger, a manager's team, the month
picture, CSV export in the user's language, the absence form; outsiders refused and logged."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import func, select

from tests.conftest import user
from workflows.cases.models import ProcessInstance, SecurityEvent
from workflows.db import db

MARCH = "year=2022&month=3"


def refused_count() -> int:
    return db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.kind == "refused")) or 0


def test_everyone_sees_their_own_ledger_with_the_month_picture(web, newcomer, entry) -> None:
    person = newcomer()
    entry(person, "personal", dt.date(2022, 3, 7), half_day="pm", days="0.5", pay="0.5", score=-5)
    entry(person, "sick", dt.date(2022, 3, 9), days="1")
    web.login(person.username)
    page = web.client.get(f"/attendance?{MARCH}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-nav="attendance"' in page and 'id="month-picture"' in page
    assert re.search(r'data-day="2022-03-07"><abbr class="mark k-personal half" data-kind="personal" '
                     r'data-half="pm" title="Personal leave, Afternoon">P<sub>pm</sub></abbr>', page)
    assert 'data-kind="sick" data-half="none"' in page
    assert 'class="off" data-day="2022-03-12"' in page  # a Saturday, shaded
    assert 'id="legend"' in page and "Sick leave" in page
    assert 'id="record-absence"' not in page  # nobody records their own absence
    zh = web.client.get(f"/attendance?{MARCH}").get_data(as_text=True)
    assert "考勤" in zh and "事假" in zh


def test_a_manager_reads_a_team_and_its_people_an_outsider_is_refused_and_logged(web, newcomer, entry) -> None:
    person = newcomer()
    entry(person, "sick", dt.date(2022, 3, 9), days="1")
    web.login("region11")
    team = web.client.get(f"/attendance/team?{MARCH}")
    assert team.status_code == 200
    text = team.get_data(as_text=True)
    assert f'data-person="{person.username}"' in text and 'id="month-picture"' in text
    assert web.client.get(f"/attendance?user={person.username}&{MARCH}").status_code == 200
    web.logout()
    web.login("region12")
    before = refused_count()
    assert web.client.get(f"/attendance?user={person.username}&{MARCH}").status_code == 403
    assert web.client.get(f"/attendance/export.csv?user={person.username}&{MARCH}").status_code == 403
    region11_unit = user("region11").unit.parent.parent.id
    assert web.client.get(f"/attendance/team?unit={region11_unit}").status_code == 403
    assert refused_count() == before + 3
    web.logout()
    web.login("staff02")
    assert web.client.get("/attendance/team").status_code == 403  # leads nothing


def test_bad_filters_answer_a_clear_422_never_a_500(web) -> None:
    web.login("office")
    for query in ("year=abc", "year=1800", "month=13", "user=nobody_here", "unit=999999", "unit=abc",
                  "year=2022&month=3&user=" + "x" * 200):
        path = "/attendance/team" if "unit" in query else "/attendance"
        answer = web.client.get(f"{path}?{query}")
        assert answer.status_code == 422, query


def test_csv_has_a_bom_and_headers_in_the_users_language(web, newcomer, entry) -> None:
    person = newcomer()
    entry(person, "sick", dt.date(2022, 3, 9), days="1", score=-5)
    entry(person, "personal", dt.date(2022, 4, 4), days="1", pay="1", score=-10)
    web.login("office")
    answer = web.client.get(f"/attendance/export.csv?user={person.username}&{MARCH}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    body = answer.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:3] == ["用户名", "姓名", "类型"]
    assert len(rows) == 2 and rows[1][0] == person.username and rows[1][2] == "病假" and rows[1][10] == "-5"
    english = web.client.get(f"/attendance/export.csv?user={person.username}&year=2022",
                             headers={"Accept-Language": "en"}).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(english[1:])))
    assert rows[0][:3] == ["Username", "Full name", "Type"]
    assert [r[2] for r in rows[1:]] == ["Sick leave", "Personal leave"]
    exported = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "export")
                                  .order_by(SecurityEvent.id.desc())).first()
    assert exported is not None and exported.detail.startswith("attendance: 2 entr")


def test_the_regional_manager_records_an_absence_from_the_page(web, newcomer) -> None:
    person = newcomer()
    web.login("region11")
    page = web.client.get(f"/attendance?user={person.username}&{MARCH}").get_data(as_text=True)
    assert 'id="record-absence"' in page
    done = web.post(f"/attendance/absences?{MARCH}", {"user": person.username, "start_date": "2022-03-07",
                                                     "end_date": "2022-03-09", "half_day": "none", "note": "未到岗"})
    assert done.status_code == 302
    page = web.client.get(f"/attendance?user={person.username}&{MARCH}").get_data(as_text=True)
    assert page.count('data-kind="absence" data-half="none"') == 3  # three days in the picture
    assert len(re.findall(r'class="att-entry" data-entry="\d+" data-kind="absence"', page)) == 1 and "未到岗" in page
    review = db.session.scalars(select(ProcessInstance).where(ProcessInstance.subject_user_id == person.id)).one()
    assert review.process_key == "separation_review"


def test_a_refused_absence_comes_back_with_the_message_and_nothing_written(web, newcomer) -> None:
    person = newcomer()
    web.login("region11")
    answer = web.post(f"/attendance/absences?{MARCH}", {"user": person.username, "start_date": "2022-03-12"},
                      headers={"Accept-Language": "en"})
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "2022-03-12 is not a working day" in text and 'value="2022-03-12"' in text
    web.logout()
    web.login("staff02")
    before = refused_count()
    answer = web.post("/attendance/absences", {"user": person.username, "start_date": "2022-03-07"})
    assert answer.status_code == 403 and refused_count() == before + 1


def test_the_office_cancels_an_absence_from_the_page(web, newcomer, entry) -> None:
    person = newcomer()
    row = entry(person, "absence", dt.date(2022, 3, 8), pay="5")
    web.login("office")
    page = web.client.get(f"/attendance?user={person.username}&{MARCH}").get_data(as_text=True)
    assert f'/attendance/absences/{row.id}/cancel' in page
    assert web.post(f"/attendance/absences/{row.id}/cancel", {"reason": "记录错误"}).status_code == 302
    page = web.client.get(f"/attendance?user={person.username}&{MARCH}").get_data(as_text=True)
    assert 'class="att-entry cancelled"' in page and "记录错误" in page


def test_the_ledger_links_to_the_months_working_day_calendar(web) -> None:
    """Anyone reading their ledger reaches the calendar of the same month (read-only for them)."""
    web.login("staff01")
    page = web.client.get("/attendance?year=2026&month=10").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" id="tab-calendar">', page)
    assert link is not None and link.group(1) == "/admin/calendar/2026/10"
    month = web.client.get(link.group(1))
    assert month.status_code == 200
    assert "/admin/calendar/2026/edit" not in month.get_data(as_text=True)  # staff do not keep the calendar
