"""Absenteeism (旷工, 第二十九条) through the engine layer: what an absence costs, who may record
one, and which days are refused (nothing written)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import user
from workflows.branch.models import CalendarDay
from workflows.cases.models import SecurityEvent
from workflows.db import db
from workflows.errors import Forbidden, Invalid, Refused
from workflows.processes.leave import absences, ledger
from workflows.processes.leave.models import AttendanceEntry

MON = dt.date(2022, 3, 7)  # a Monday; March 2022 has no public holiday on a weekday


def day(n: int) -> str:
    """The n-th day after MON (0 = Monday 7 March 2022), as the form writes it."""
    return (MON + dt.timedelta(n)).isoformat()


def record(person, start: str, end: str | None = None, half: str = "none", by: str = "region11", **kw):
    values = {"user": person.username, "start_date": start, "half_day": half}
    if end:
        values["end_date"] = end
    return absences.record_absence(user(by), values, **kw)


def entries_of(person) -> list[AttendanceEntry]:
    return list(db.session.scalars(select(AttendanceEntry).where(AttendanceEntry.user_id == person.id)
                                   .order_by(AttendanceEntry.id)))


def test_half_a_day_costs_two_days_pay_and_a_day_five(newcomer) -> None:
    half, whole = newcomer(), newcomer()
    (e,) = record(half, day(0), half="am").entries
    assert (e.kind, e.days, e.pay_deduction_days, e.month_pay, e.score) == ("absence", Decimal("0.5"), 2, False, 0)
    assert e.recorded_by_id == user("region11").id and e.via == "web" and e.half_day == "am"
    (e,) = record(whole, day(0)).entries
    assert (e.days, e.pay_deduction_days, e.month_pay) == (Decimal(1), 5, False)
    totals = ledger.person_ledger(user("office"), half.username, ledger.Period(2022, 3)).totals
    assert totals.days["absence"] == Decimal("0.5") and totals.pay_deduction_days == 2
    assert totals.month_pay_months == []


def test_two_days_in_a_month_cost_the_months_fixed_pay(newcomer) -> None:
    at_once, in_two = newcomer(), newcomer()
    (e,) = record(at_once, day(0), day(1)).entries
    assert e.days == 2 and e.month_pay is True
    first = record(in_two, day(0)).entries[0]
    second = record(in_two, day(3), by="office").entries[0]
    assert first.month_pay is False and second.month_pay is True  # the later entry carries the month
    assert second.recorded_by_id == user("office").id
    totals = ledger.person_ledger(user("region11"), in_two.username, ledger.Period(2022, 3)).totals
    assert totals.month_pay_months == ["2022-03"]
    assert totals.pay_deduction_days == 0  # the month's fixed pay stands for the 5 + 5 days
    assert totals.days["absence"] == 2
    april = ledger.person_ledger(user("region11"), in_two.username, ledger.Period(2022, 4)).totals
    assert april.month_pay_months == [] and april.days["absence"] == 0


def test_two_half_days_cost_four_days_pay_and_a_third_half_day_the_month(newcomer) -> None:
    person = newcomer()
    record(person, day(0), half="am")
    record(person, day(1), half="pm")
    totals = ledger.person_ledger(person, person.username, ledger.Period(2022, 3)).totals
    assert totals.pay_deduction_days == 4 and totals.month_pay_months == []
    record(person, day(2))  # 0.5 + 0.5 + 1 = 2 days
    totals = ledger.person_ledger(person, person.username, ledger.Period(2022, 3)).totals
    assert totals.month_pay_months == ["2022-03"]


def test_a_span_over_a_weekend_counts_working_days_and_splits_by_month(newcomer) -> None:
    person = newcomer()
    (e,) = record(person, day(4), day(7)).entries  # Friday to Monday
    assert (e.start_date, e.end_date, e.days) == (MON + dt.timedelta(4), MON + dt.timedelta(7), 2)
    other = newcomer()
    march, april = record(other, "2022-03-31", "2022-04-01").entries
    assert (march.start_date, march.days, april.start_date, april.days) == (
        dt.date(2022, 3, 31), 1, dt.date(2022, 4, 1), 1)
    assert not march.month_pay and not april.month_pay


def test_the_office_and_the_regional_manager_record_others_are_refused_and_logged(newcomer) -> None:
    person = newcomer()
    for outsider in ("region12", "staff02", "director2", "auditor", person.username):
        before = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.kind == "refused"))
        with pytest.raises(Forbidden):
            record(person, day(0), by=outsider)
        db.session.rollback()
        after = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.kind == "refused"))
        assert after == before + 1, outsider
    assert entries_of(person) == []
    record(person, day(0), by="office")
    record(person, day(1), by="region11")
    assert len(entries_of(person)) == 2


def test_without_a_regional_manager_the_direct_superior_records(newcomer) -> None:
    helper = newcomer(beside="support1", roles=("support",))  # a project department's support staff
    with pytest.raises(Forbidden):
        record(helper, day(0), by="region11")
    db.session.rollback()
    (e,) = record(helper, day(0), by="director1").entries
    assert e.recorded_by_id == user("director1").id


@pytest.mark.parametrize(("start", "end", "half", "field", "code"), [
    ("2022-03-12", None, "none", "start_date", "not_a_working_day"),  # a Saturday
    (day(4), "2022-03-13", "none", "end_date", "not_a_working_day"),  # ends on a Sunday
])
def test_a_day_off_is_refused(newcomer, start, end, half, field, code) -> None:
    person = newcomer()
    with pytest.raises(Refused) as refused:
        record(person, start, end, half)
    assert refused.value.fields[field].code == code
    db.session.rollback()
    assert entries_of(person) == []


def test_a_public_holiday_from_the_calendar_is_refused_and_a_make_up_saturday_accepted(newcomer) -> None:
    holiday, saturday = MON + dt.timedelta(8), MON + dt.timedelta(12)  # Tuesday 15th, Saturday 19th
    db.session.add_all([CalendarDay(day=holiday, working=False, name="测试假日 Test holiday"),
                        CalendarDay(day=saturday, working=True, name="调休 Make-up day")])
    db.session.commit()
    try:
        person = newcomer()
        with pytest.raises(Refused) as refused:
            record(person, holiday.isoformat())
        assert refused.value.fields["start_date"].code == "not_a_working_day"
        db.session.rollback()
        (e,) = record(person, saturday.isoformat()).entries
        assert e.days == 1
        (e,) = record(person, day(7), day(9)).entries  # Monday to Wednesday over the holiday
        assert e.days == 2
    finally:
        db.session.rollback()
        db.session.query(CalendarDay).filter(CalendarDay.day.in_([holiday, saturday])).delete()
        db.session.commit()


def test_a_future_day_is_refused(newcomer) -> None:
    from workflows.engine import clock

    person = newcomer()
    tomorrow = clock.today() + dt.timedelta(1)
    with pytest.raises(Refused) as refused:
        record(person, tomorrow.isoformat())
    assert refused.value.fields["start_date"].code == "future_day"


def test_a_day_covered_by_leave_or_an_absence_is_refused_the_other_half_accepted(newcomer, entry) -> None:
    person = newcomer()
    entry(person, "personal", MON, MON + dt.timedelta(1), days="2", pay="2", score=-20)
    entry(person, "sick", MON + dt.timedelta(2), half_day="am", days="0.5")
    for start, half in ((day(0), "none"), (day(1), "pm"), (day(2), "am"), (day(2), "none")):
        with pytest.raises(Refused) as refused:
            record(person, start, half=half)
        assert refused.value.fields["start_date"].code == "already_covered"
        db.session.rollback()
    (e,) = record(person, day(2), half="pm").entries  # the afternoon of the sick half day
    assert e.days == Decimal("0.5")
    with pytest.raises(Refused):
        record(person, day(2), half="pm")


@pytest.mark.parametrize(("values", "field", "code"), [
    ({"start_date": "2022-03-07"}, "user", "required"),
    ({"user": "nobody_here", "start_date": "2022-03-07"}, "user", "unknown_user"),
    ({"user": "staff01"}, "start_date", "required"),
    ({"user": "staff01", "start_date": "7/3/2022"}, "start_date", "not_a_date"),
    ({"user": "staff01", "start_date": "2022-02-30"}, "start_date", "not_a_date"),
    ({"user": "staff01", "start_date": "2022-03-08", "end_date": "2022-03-07"}, "end_date", "out_of_range"),
    ({"user": "staff01", "start_date": "2022-03-01", "end_date": "2022-05-01"}, "end_date", "too_many"),
    ({"user": "staff01", "start_date": "2022-03-07", "end_date": "2022-03-08", "half_day": "am"}, "half_day",
     "invalid"),
    ({"user": "staff01", "start_date": "2022-03-07", "half_day": "evening"}, "half_day", "not_an_option"),
    ({"user": "staff01", "start_date": "2022-03-07", "note": "x" * 501}, "note", "too_long"),
    ({"user": "staff01", "start_date": "2022-03-07", "note": "a\x00b"}, "note", "control_characters"),
    ({"user": ["staff01"], "start_date": "2022-03-07"}, "user", "wrong_type"),
])
def test_bad_input_names_the_field(values, field, code) -> None:
    before = db.session.scalar(select(func.count(AttendanceEntry.id)))
    with pytest.raises(Invalid) as refused:
        absences.record_absence(user("office"), values)
    assert refused.value.fields[field].code == code
    db.session.rollback()
    assert db.session.scalar(select(func.count(AttendanceEntry.id))) == before


def test_the_office_cancels_an_absence_with_a_reason_and_the_totals_forget_it(newcomer) -> None:
    person = newcomer()
    first = record(person, day(0)).entries[0]
    record(person, day(1))
    assert ledger.person_ledger(person, person.username, ledger.Period(2022, 3)).totals.month_pay_months
    with pytest.raises(Forbidden):
        absences.cancel_absence(user("region11"), first.id, "wrong day")
    db.session.rollback()
    with pytest.raises(Invalid):
        absences.cancel_absence(user("office"), first.id, "  ")
    db.session.rollback()
    absences.cancel_absence(user("office"), first.id, "was on a client visit")
    view = ledger.person_ledger(person, person.username, ledger.Period(2022, 3))
    assert view.totals.month_pay_months == [] and view.totals.pay_deduction_days == 5
    assert view.totals.cancelled == 1 and view.totals.days["absence"] == 1
    assert db.session.get(AttendanceEntry, first.id) is not None  # the entry stays as written
    from workflows.errors import Conflict

    with pytest.raises(Conflict):
        absences.cancel_absence(user("office"), first.id, "again")
    db.session.rollback()
    record(person, day(0))  # the day is free again
