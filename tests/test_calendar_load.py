"""The bundled holiday schedules and `flask calendar load`: the files hold the State Council's 2026
schedule (weekday holidays and make-up days only) and a provisional 2027; loading goes through the
same checks as the page and the API and is recorded via cli. Loads go to 2032, put back empty."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from workflows.branch import calendar_admin
from workflows.branch.models import CalendarChange, CalendarDay
from workflows.db import db

YEAR = 2032


@pytest.fixture
def empty_2032() -> Iterator[None]:
    def clear() -> None:
        db.session.execute(delete(CalendarDay).where(CalendarDay.day >= dt.date(YEAR, 1, 1),
                                                     CalendarDay.day <= dt.date(YEAR, 12, 31)))
        db.session.commit()

    clear()
    yield
    db.session.rollback()
    clear()


def test_the_bundled_2026_schedule_is_the_state_councils() -> None:
    entries = calendar_admin.parse(2026, calendar_admin.read_schedule(2026))  # every entry passes the checks
    holidays = [e.day.isoformat() for e in entries if not e.working]
    make_up = [e.day.isoformat() for e in entries if e.working]
    assert holidays == [
        "2026-01-01", "2026-01-02",  # New Year 1–3 Jan (Sat 3 off anyway)
        "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-23",  # Spring Festival 15–23 Feb
        "2026-04-06",  # Qingming 4–6 Apr
        "2026-05-01", "2026-05-04", "2026-05-05",  # Labour Day 1–5 May
        "2026-06-19",  # Dragon Boat 19–21 Jun
        "2026-09-25",  # Mid-Autumn 25–27 Sep
        "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07",  # National Day 1–7 Oct
    ]
    assert make_up == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    assert all(e.name for e in entries)


def test_the_bundled_2027_schedule_passes_and_says_it_is_provisional() -> None:
    assert json.loads((calendar_admin.DATA_DIR / "2027.json").read_text("utf-8"))["provisional"] is True
    assert json.loads((calendar_admin.DATA_DIR / "2026.json").read_text("utf-8"))["provisional"] is False
    assert calendar_admin.parse(2027, calendar_admin.read_schedule(2027))
    assert calendar_admin.bundled_years() == [2026, 2027]


def test_the_demo_loaded_the_bundled_years_once() -> None:
    for year in (2026, 2027):
        stored = [e.as_json() for e in calendar_admin.year_entries(year)]
        assert stored == calendar_admin.read_schedule(year)
    assert calendar_admin.load_bundled_if_empty() == []  # seeding again changes nothing


def test_cli_loads_a_file_through_the_same_checks_and_records_it(app, tmp_path: Path, empty_2032) -> None:
    good = tmp_path / "2032.json"
    good.write_text(json.dumps({"year": YEAR, "days": [
        {"date": "2032-10-01", "working": False, "name": "国庆节 National Day"},
        {"date": "2032-10-09", "working": True, "name": "国庆节调休"}]}, ensure_ascii=False), "utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["calendar", "load", str(YEAR), "--file", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 weekday holidays, 1 make-up working days" in result.output
    db.session.expire_all()
    assert [e.day.isoformat() for e in calendar_admin.year_entries(YEAR)] == ["2032-10-01", "2032-10-09"]
    change = db.session.scalars(select(CalendarChange).where(CalendarChange.year == YEAR)
                                .order_by(CalendarChange.id.desc())).first()
    assert change.via == "cli" and change.changed_by_id is None
    again = runner.invoke(args=["calendar", "load", str(YEAR), "--file", str(good)])
    assert again.exit_code == 0 and "nothing changed" in again.output


@pytest.mark.parametrize(("content", "words"), [
    ({"year": YEAR, "days": [{"date": "2032-10-02", "working": False, "name": "周六"}]},
     "days[0].date: a public holiday must fall on a weekday"),
    ({"year": 2031, "days": []}, "the schedule file is for 2031, not 2032"),
    ({"year": YEAR, "days": "none"}, "days: must be a list of days"),
    ("{not json", "not valid JSON"),
])
def test_cli_refuses_a_bad_file_and_writes_nothing(app, tmp_path: Path, empty_2032, content, words: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False), "utf-8")
    result = app.test_cli_runner().invoke(args=["calendar", "load", str(YEAR), "--file", str(bad)])
    assert result.exit_code != 0 and words in result.output
    db.session.expire_all()
    assert calendar_admin.year_entries(YEAR) == []


def test_cli_without_a_bundled_file_says_so(app) -> None:
    result = app.test_cli_runner().invoke(args=["calendar", "load", "2040"])
    assert result.exit_code != 0 and "no schedule file for 2040" in result.output
