"""Reading the attendance ledger through the engine layer: totals, the month's picture from the
entries and the branch calendar, and who may see whose attendance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import user
from workflows.branch.models import CalendarDay, OrgUnit
from workflows.cases.models import SecurityEvent
from workflows.db import db
from workflows.errors import Forbidden, Invalid
from workflows.processes.leave import access, ledger

MAR = ledger.Period(2022, 3)


@pytest.fixture
def holiday():
    """Tuesday 15 March 2022 a public holiday and Saturday 19 March a make-up working day, for one test."""
    days = [CalendarDay(day=dt.date(2022, 3, 15), working=False, name="测试假日 Test holiday"),
            CalendarDay(day=dt.date(2022, 3, 19), working=True, name="调休 Make-up day")]
    db.session.add_all(days)
    db.session.commit()
    yield
    db.session.rollback()
    db.session.query(CalendarDay).filter(CalendarDay.day.in_([d.day for d in days])).delete()
    db.session.commit()


def marks(view: ledger.Ledger, person, day: int) -> list[tuple[str, str]]:
    assert view.picture is not None
    (row,) = [r for r in view.picture.rows if r.person.id == person.id]
    return [(m.kind, m.half) for m in row.cells[day - 1]]


def test_the_month_picture_marks_working_days_by_kind_with_half_days(newcomer, entry, holiday) -> None:
    person = newcomer()
    entry(person, "personal", dt.date(2022, 3, 7), half_day="am", days="0.5", pay="0.5", score=-5)
    entry(person, "sick", dt.date(2022, 3, 11), dt.date(2022, 3, 16), days="3")  # Fri .. Wed over a holiday
    entry(person, "absence", dt.date(2022, 3, 19), pay="5")  # the make-up Saturday
    view = ledger.person_ledger(person, person.username, MAR)
    assert view.picture is not None and len(view.picture.days) == 31
    days = {d.day.day: d for d in view.picture.days}
    assert not days[12].working and days[12].weekend and not days[12].exception  # a Saturday
    assert days[15].holiday and not days[15].working and days[15].name == "测试假日 Test holiday"
    assert days[19].make_up and days[19].working and days[19].weekend
    assert marks(view, person, 7) == [("personal", "am")]
    assert marks(view, person, 11) == [("sick", "none")]
    assert marks(view, person, 12) == [] and marks(view, person, 13) == []  # the weekend inside the leave
    assert marks(view, person, 14) == [("sick", "none")]
    assert marks(view, person, 15) == []  # the holiday inside the leave
    assert marks(view, person, 16) == [("sick", "none")]
    assert marks(view, person, 19) == [("absence", "none")]
    assert marks(view, person, 8) == []
    t = view.totals
    assert (t.days["personal"], t.days["sick"], t.days["absence"]) == (Decimal("0.5"), 3, 1)
    assert (t.pay_deduction_days, t.score, t.entries) == (Decimal("5.5"), -5, 3)


def test_a_cancelled_absence_leaves_the_picture(newcomer, entry) -> None:
    from workflows.processes.leave import absences

    person = newcomer()
    row = entry(person, "absence", dt.date(2022, 3, 8), pay="5")
    absences.cancel_absence(user("office"), row.id, "recorded for the wrong person")
    view = ledger.person_ledger(person, person.username, MAR)
    assert marks(view, person, 8) == []
    (listed,) = view.entries
    assert listed.cancellation is not None and listed.cancellation.reason == "recorded for the wrong person"


def test_an_entry_over_a_month_end_counts_its_days_in_each_month(newcomer, entry) -> None:
    person = newcomer()
    entry(person, "personal", dt.date(2022, 3, 30), dt.date(2022, 4, 1), days="3", pay="3", score=-30)
    march = ledger.person_ledger(person, person.username, MAR)
    april = ledger.person_ledger(person, person.username, ledger.Period(2022, 4))
    year = ledger.person_ledger(person, person.username, ledger.Period(2022, None))
    assert (march.totals.days["personal"], march.totals.pay_deduction_days, march.totals.score) == (2, 2, -20)
    assert (april.totals.days["personal"], april.totals.pay_deduction_days, april.totals.score) == (1, 1, -10)
    assert (year.totals.days["personal"], year.totals.score) == (3, -30) and year.picture is None
    assert march.entries[0].days_in_period == 2
    assert marks(april, person, 1) == [("personal", "none")]


def test_a_team_ledger_lists_everyone_in_the_unit_and_below(newcomer, entry) -> None:
    person = newcomer()
    entry(person, "sick", dt.date(2022, 3, 9), days="1")
    region = user("region11").unit.parent.parent  # team → outlet → region
    assert region.kind == "region"
    view = ledger.team_ledger(user("region11"), region.id, MAR)
    people = {p.person.username for p in view.people}
    assert {person.username, "staff01", "region11"} <= people and "staff05" not in people  # staff05: region 12
    assert view.totals.days["sick"] >= 1 and view.unit is not None and view.unit.id == region.id
    assert [row.person.username for row in view.picture.rows] == sorted(people)


@pytest.mark.parametrize(("viewer", "sees"), [
    ("self", True), ("region11", True), ("director1", True), ("gm", True), ("office", True), ("auditor", True),
    ("region12", False), ("director2", False), ("staff01", False), ("support1", False), ("trading", False),
    ("admin", False),
])
def test_who_sees_a_persons_attendance(newcomer, viewer, sees) -> None:
    person = newcomer()
    who = person if viewer == "self" else user(viewer)
    assert access.may_see_person(who, person) is sees
    before = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.kind == "refused"))
    if sees:
        ledger.person_ledger(who, person.username, MAR)
    else:
        with pytest.raises(Forbidden):
            ledger.person_ledger(who, person.username, MAR)
        db.session.rollback()
        after = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.kind == "refused"))
        assert after == before + 1


def test_who_sees_a_team(newcomer) -> None:
    region11 = user("region11").unit.parent.parent
    region12 = db.session.scalars(select(OrgUnit).where(OrgUnit.leader_id == user("region12").id,
                                                        OrgUnit.kind == "region")).one()
    assert access.may_see_unit(user("region11"), region11) and not access.may_see_unit(user("region11"), region12)
    assert access.may_see_unit(user("director1"), region12) and access.may_see_unit(user("office"), region11)
    assert access.visible_units(user("staff01")) == []
    assert {u.id for u in access.visible_units(user("region11"))} >= {region11.id}
    assert region12.id not in {u.id for u in access.visible_units(user("region11"))}
    with pytest.raises(Forbidden):
        ledger.team_ledger(user("staff01"), region11.id, MAR)


@pytest.mark.parametrize(("year", "month", "field", "code"), [
    ("1999", "3", "year", "out_of_range"), ("2101", None, "year", "out_of_range"), ("20x2", None, "year",
                                                                                     "not_a_whole_number"),
    ("2022", "13", "month", "out_of_range"), ("2022", "0", "month", "out_of_range"),
    ("2022", "-1", "month", "not_a_whole_number"), ("2022", "３", "month", "not_a_whole_number"),
])
def test_a_bad_period_names_its_field(year, month, field, code) -> None:
    with pytest.raises(Invalid) as refused:
        ledger.parse_period(year, month, default_month=True)
    assert refused.value.fields[field].code == code


def test_the_period_defaults() -> None:
    from workflows.engine import clock

    today = clock.today()
    assert ledger.parse_period(None, None, default_month=True) == ledger.Period(today.year, today.month)
    assert ledger.parse_period(None, None, default_month=False) == ledger.Period(today.year, None)
    assert ledger.parse_period("2022", None, default_month=True) == ledger.Period(2022, None)
    assert ledger.parse_period("2022", "", default_month=True) == ledger.Period(2022, None)


def test_an_unknown_user_or_unit_is_a_field_error() -> None:
    with pytest.raises(Invalid) as refused:
        ledger.person_ledger(user("office"), "nobody_at_all", MAR)
    assert refused.value.fields["user"].code == "unknown_user"
    for bad in ("999999", "x", "-1", "1" * 30):
        with pytest.raises(Invalid) as refused:
            ledger.team_ledger(user("office"), bad, MAR)
        assert refused.value.fields["unit"].code == "not_found"
