"""The rules checked when a leave request is submitted (第二十八条): refused with a clear message, a
stable code and its figures, nothing started; through the real engine and the branch calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.processes.leave.steps import (
    approve_all,
    decide,
    on,
    open_specs,
    person,
    start,
    week,
)
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.errors import Invalid, Refused
from workflows.processes.leave import rules
from workflows.processes.leave.models import AttendanceEntry


def _cases() -> int:
    return db.session.scalar(select(func.count()).select_from(ProcessInstance)) or 0


def refused(code: str, *args, **kw) -> Refused:
    before = _cases()
    with pytest.raises(Refused) as caught:
        start(*args, **kw)
    db.session.rollback()
    assert caught.value.code == code, (caught.value.code, str(caught.value))
    assert _cases() == before  # nothing started
    return caught.value


def test_the_next_working_day_is_accepted_today_is_refused() -> None:
    on(week(0, 4))  # Friday
    someone = person()
    instance = start(someone, "personal", week(1, 0))  # Monday: the next working day
    assert open_specs(instance) == ["Task_FirstApproval", "Task_Withdraw"]
    error = refused("leave_not_in_advance", someone, "personal", week(0, 4))
    assert error.figures == {"first": week(0, 4).isoformat(), "today": week(0, 4).isoformat()}
    assert "at least one working day in advance" in str(error)


def test_a_request_over_a_weekend_starts_on_its_first_working_day() -> None:
    """Saturday–Monday asked on Friday: its first working day is Monday, so it is in advance."""
    on(week(0, 4))
    instance = start(person(), "personal", week(0, 5), week(1, 0))
    assert instance.status == "running"


def test_sick_leave_for_today_or_the_past_needs_the_certificate_and_is_late() -> None:
    on(week(2, 2))  # Wednesday
    someone = person()
    with pytest.raises(Invalid) as caught:  # the form asks for it; the rule also holds after a correction
        start(someone, "sick", week(2, 2), uploads={})
    assert set(caught.value.fields) == {"certificate"}
    late = start(someone, "sick", week(2, 0), week(2, 2))  # Monday to today, certificate attached
    assert open_specs(late) == ["Task_FirstApproval", "Task_Withdraw"]
    approve_all(late)
    entry = db.session.scalars(select(AttendanceEntry).where(AttendanceEntry.instance_id == late.id)).one()
    assert entry.late is True and entry.days == Decimal(3) and entry.kind == "sick"
    error = refused("leave_too_late", someone, "sick", week(2, 2) - dt.timedelta(days=31))
    assert error.figures == {"days": 30, "start": (week(2, 2) - dt.timedelta(days=31)).isoformat()}


def test_sick_leave_from_a_clinic_below_district_level_is_refused() -> None:
    on(week(3, 0))
    refused("leave_hospital_level", person(), "sick", week(3, 1), hospital_level="community")


def test_sick_leave_without_the_hospital_fields_is_a_field_error() -> None:
    on(week(3, 0))
    with pytest.raises(Invalid) as caught:
        start(person(), "sick", week(3, 1), hospital_name="", hospital_level="")
    assert set(caught.value.fields) == {"hospital_name", "hospital_level"}


def test_overlapping_requests_are_refused_pending_or_approved() -> None:
    on(week(4, 0))
    someone = person()
    pending = start(someone, "personal", week(4, 2), week(4, 3))
    error = refused("leave_overlap", someone, "sick", week(4, 3), week(5, 0))
    assert error.figures["case"] == pending.id
    approve_all(pending)
    error = refused("leave_overlap", someone, "personal", week(4, 1), week(4, 2))
    assert error.figures["case"] == pending.id and "approved" in str(error)
    assert start(someone, "personal", week(4, 4)).status == "running"  # the next day is free


def test_morning_and_afternoon_of_one_day_do_not_overlap() -> None:
    on(week(5, 0))
    someone = person()
    start(someone, "personal", week(5, 2), half_day="am")
    start(someone, "personal", week(5, 2), half_day="pm")
    refused("leave_overlap", someone, "personal", week(5, 2), half_day="am")


def test_a_half_day_is_one_day_and_counts_half() -> None:
    on(week(6, 0))
    someone = person()
    refused("leave_half_day_span", someone, "personal", week(6, 1), week(6, 2), half_day="pm")
    half = start(someone, "personal", week(6, 1), half_day="pm")
    approve_all(half)
    entry = db.session.scalars(select(AttendanceEntry).where(AttendanceEntry.instance_id == half.id)).one()
    assert (entry.days, entry.pay_deduction_days, entry.score, entry.half_day) == (
        Decimal("0.5"), Decimal("0.5"), Decimal(-5), "pm")


def test_a_request_without_a_working_day_or_ending_before_it_starts_is_refused(calendar_days) -> None:
    on(week(7, 0))
    someone = person()
    refused("leave_no_working_days", someone, "personal", week(7, 5), week(7, 6))  # a weekend
    calendar_days({week(7, 2): False})  # a holiday on Wednesday
    refused("leave_no_working_days", someone, "personal", week(7, 2))
    refused("leave_dates_order", someone, "personal", week(7, 3), week(7, 1))


def test_a_span_over_a_weekend_a_holiday_and_a_make_up_saturday_counts_its_working_days(calendar_days) -> None:
    """Mon 8 – Mon 15 (weeks 8-9): Wed is a holiday, Sat is a make-up working day, Sun is off:
    Mon Tue Thu Fri Sat Mon = 6 working days (8 calendar days)."""
    calendar_days({week(8, 2): False, week(8, 5): True})
    on(week(7, 4))
    someone = person()
    instance = start(someone, "personal", week(8, 0), week(9, 0))
    assert rules.days_of(rules.LeaveRequest.from_data(instance.summary)) == Decimal(6)
    approve_all(instance)
    entry = db.session.scalars(select(AttendanceEntry).where(AttendanceEntry.instance_id == instance.id)).one()
    assert (entry.days, entry.pay_deduction_days, entry.score) == (Decimal(6), Decimal(6), Decimal(-60))


def _ten_days(first_monday: dt.date) -> tuple[dt.date, dt.date]:
    return first_monday, first_monday + dt.timedelta(days=11)  # Monday to the next Friday: 10 working days


def test_the_21st_personal_day_is_refused_showing_the_balance() -> None:
    on(week(10, 0))
    someone = person()
    approve_all(start(someone, "personal", *_ten_days(week(11, 0))))
    approve_all(start(someone, "personal", *_ten_days(week(13, 0))))
    error = refused("leave_balance_exceeded", someone, "personal", week(15, 1))
    assert error.figures == {"year": 2033, "limit": 20, "approved": 20, "pending": 0, "remaining": 0,
                             "requested": 1}
    assert "20 working days in 2033" in str(error) and "leave 0" in str(error)
    assert start(someone, "sick", week(15, 1)).status == "running"  # sick leave has no yearly limit


def test_the_limit_counts_pending_requests_too() -> None:
    on(week(16, 0))
    someone = person()
    approve_all(start(someone, "personal", *_ten_days(week(17, 0))))  # 10 approved
    start(someone, "personal", week(19, 0), week(20, 3))  # 9 pending
    morning = start(someone, "personal", week(21, 1), half_day="am")  # 0.5 pending
    start(someone, "personal", week(21, 1), half_day="pm")  # 0.5 pending: exactly 20
    error = refused("leave_balance_exceeded", someone, "personal", week(21, 2))
    assert error.figures == {"year": 2033, "limit": 20, "approved": 10, "pending": 10, "remaining": 0,
                             "requested": 1}
    decide(morning, "Task_FirstApproval", "reject", "不批准 no")  # a rejected request frees its half day
    refused("leave_balance_exceeded", someone, "personal", week(21, 2))
    assert start(someone, "personal", week(21, 2), half_day="am").status == "running"


def test_a_request_over_new_year_counts_its_days_in_each_year() -> None:
    on(dt.date(2033, 11, 30))
    someone = person()
    approve_all(start(someone, "personal", dt.date(2033, 12, 1), dt.date(2033, 12, 16)))  # 12 days
    start(someone, "personal", dt.date(2033, 12, 19), dt.date(2033, 12, 28))  # 8 pending: 2033 is used up
    error = refused("leave_balance_exceeded", someone, "personal", dt.date(2033, 12, 29), dt.date(2034, 1, 3))
    assert (error.figures["year"], error.figures["requested"], error.figures["remaining"]) == (2033, 2, 0)
    # Saturday 31 December to Tuesday 3 January: no day in 2033, two in 2034: accepted
    accepted = start(someone, "personal", dt.date(2033, 12, 31), dt.date(2034, 1, 3))
    assert accepted.status == "running"
    assert rules.personal_balance(someone.id, 2034).pending == Decimal(2)
    assert rules.personal_balance(someone.id, 2033).remaining == Decimal(0)
