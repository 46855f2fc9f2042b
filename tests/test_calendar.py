"""The working-day calendar's arithmetic (workflows/branch/calendar.py) on exceptions this module
owns (2031, a year no bundled schedule covers), and a real BPMN timer counting working days
through the real engine and sweeper with the injectable clock moved.

March 2031 here: Sat 1 … Fri 7, Sat 8, Sun 9, Mon 10 … Wed 12 a public holiday … Fri 14,
Sat 15 a make-up working day (调休), Sun 16, Mon 17 – Fri 21 a holiday week, Mon 24.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from tests.conftest import TEST_BPMN, user
from tests.processes.ownership.steps import open_task
from workflows.branch import calendar
from workflows.branch.models import CalendarDay
from workflows.cases import commands as cases
from workflows.cases import definitions, timers
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.db import db
from workflows.engine import clock

D = dt.date
HOLIDAY, MAKE_UP = D(2031, 3, 12), D(2031, 3, 15)
HOLIDAY_WEEK = [D(2031, 3, 17) + dt.timedelta(n) for n in range(5)]


def _delete_2031() -> None:
    db.session.execute(delete(CalendarDay).where(CalendarDay.day >= D(2031, 1, 1), CalendarDay.day <= D(2031, 12, 31)))
    db.session.commit()


@pytest.fixture
def march_2031() -> Iterator[None]:
    _delete_2031()
    db.session.add(CalendarDay(day=HOLIDAY, working=False, name="测试假日 Test holiday"))
    db.session.add(CalendarDay(day=MAKE_UP, working=True, name="调休 Make-up day"))
    db.session.add_all(CalendarDay(day=d, working=False, name="假期周 Holiday week") for d in HOLIDAY_WEEK)
    db.session.commit()
    yield
    db.session.rollback()
    _delete_2031()


def shanghai(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """The stored (naive UTC) moment of a Shanghai wall-clock time."""
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clock.BRANCH_TZ)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def test_the_march_2031_weekdays_are_what_this_module_says() -> None:
    assert [D(2031, 3, n).strftime("%a") for n in (7, 8, 12, 15, 17, 24)] == ["Fri", "Sat", "Wed", "Sat", "Mon", "Mon"]


def test_a_span_over_a_weekend_a_holiday_and_a_make_up_saturday_counts_exactly_the_working_days(march_2031) -> None:
    days = calendar.working_days(D(2031, 3, 6), D(2031, 3, 17))
    assert days == [D(2031, 3, n) for n in (6, 7, 10, 11, 13, 14, 15)]
    assert calendar.count_days(D(2031, 3, 6), D(2031, 3, 17)) == Decimal(7)
    assert calendar.count_days(D(2031, 3, 17), D(2031, 3, 23)) == 0  # a holiday week and its weekend
    assert calendar.count_days(D(2031, 3, 10), D(2031, 3, 9)) == 0  # the end before the start


def test_day_rules(march_2031) -> None:
    assert calendar.is_working_day(D(2031, 3, 7)) and not calendar.is_working_day(D(2031, 3, 8))
    assert not calendar.is_working_day(HOLIDAY) and calendar.is_working_day(MAKE_UP)
    assert not calendar.is_working_day(D(2031, 3, 16))  # the Sunday after the make-up Saturday stays off


def test_a_half_day_counts_half_and_only_on_a_working_day(march_2031) -> None:
    assert calendar.count_days(D(2031, 3, 11), D(2031, 3, 11), half_day=True) == Decimal("0.5")
    assert calendar.count_days(MAKE_UP, MAKE_UP, half_day=True) == Decimal("0.5")
    assert calendar.count_days(HOLIDAY, HOLIDAY, half_day=True) == 0
    assert calendar.count_days(D(2031, 3, 8), D(2031, 3, 8), half_day=True) == 0
    # half_day means nothing over several days: the whole working days count
    assert calendar.count_days(D(2031, 3, 10), D(2031, 3, 11), half_day=True) == 2


@pytest.mark.parametrize(("start", "n", "expected"), [
    (D(2031, 3, 7), 1, D(2031, 3, 10)),  # Friday → Monday
    (D(2031, 3, 8), 1, D(2031, 3, 10)),  # Saturday → Monday
    (D(2031, 3, 11), 1, D(2031, 3, 13)),  # over the Wednesday holiday
    (D(2031, 3, 14), 1, MAKE_UP),  # the make-up Saturday is a working day
    (MAKE_UP, 1, D(2031, 3, 24)),  # over Sunday and the holiday week
    (D(2031, 3, 7), 5, MAKE_UP),  # 10, 11, 13, 14, 15
    (D(2031, 3, 7), 60, D(2031, 6, 6)),  # the search window grows (60 working days: 7 holidays in March)
])
def test_add_working_days(march_2031, start: dt.date, n: int, expected: dt.date) -> None:
    assert calendar.add_working_days(start, n) == expected


def test_add_working_days_refuses_less_than_one() -> None:
    with pytest.raises(ValueError):
        calendar.add_working_days(D(2031, 3, 7), 0)


@pytest.mark.parametrize(("start", "n", "due"), [
    # Friday afternoon → Monday, the same time
    (shanghai(D(2031, 3, 7), 15, 30), 1, shanghai(D(2031, 3, 10), 15, 30)),
    # Saturday → counted from Monday 00:00: Tuesday 00:00 Shanghai (Monday 16:00 UTC)
    (shanghai(D(2031, 3, 8), 10), 1, shanghai(D(2031, 3, 11), 0)),
    # Friday 07:00 Shanghai is Thursday 23:00 UTC: the branch's date counts, not UTC's
    (shanghai(D(2031, 3, 7), 7), 1, shanghai(D(2031, 3, 10), 7)),
    # a make-up Saturday counts; from it, the holiday week is skipped
    (shanghai(D(2031, 3, 14), 17), 1, shanghai(MAKE_UP, 17)),
    (shanghai(MAKE_UP, 10), 1, shanghai(D(2031, 3, 24), 10)),
    # Sunday before the holiday week: from Monday 24 00:00, due Tuesday 25 00:00
    (shanghai(D(2031, 3, 16), 9), 1, shanghai(D(2031, 3, 25), 0)),
    (shanghai(D(2031, 3, 11), 9), 2, shanghai(D(2031, 3, 14), 9)),  # Tue → Thu, Fri over the holiday
])
def test_working_deadline(march_2031, start: dt.datetime, n: int, due: dt.datetime) -> None:
    assert calendar.working_deadline(start, n) == due


def test_deadlines_are_stored_as_naive_utc_of_shanghai_times(march_2031) -> None:
    due = calendar.working_deadline(dt.datetime(2031, 3, 7, 7, 30), 1)  # Fri 15:30 Shanghai
    assert due.tzinfo is None and due == dt.datetime(2031, 3, 10, 7, 30)  # Mon 15:30 Shanghai
    assert clock.local(due).strftime("%a %H:%M") == "Mon 15:30"
    saturday = calendar.working_deadline(dt.datetime(2031, 3, 8, 2), 1)  # Sat 10:00 Shanghai
    assert saturday == dt.datetime(2031, 3, 10, 16, 0)  # Tue 00:00 Shanghai


# -- a real diagram's timer: timeDate working_days_later(1), through the engine and the sweeper


def _set_clock(moment: dt.datetime) -> None:
    clock.travel(moment - clock.now())


def _fired(instance: ProcessInstance) -> int:
    before = _timer_events(instance)
    timers.sweep()
    return _timer_events(instance) - before


def _timer_events(instance: ProcessInstance) -> int:
    return len(db.session.scalars(select(AuditEvent.id).where(AuditEvent.instance_id == instance.id,
                                                              AuditEvent.type == "timer_fired")).all())


@pytest.mark.parametrize(("start", "not_yet", "fires"), [
    # a Friday request escalates on Monday, not on Saturday, and not before Monday at the same time
    (shanghai(D(2031, 3, 7), 15), [shanghai(D(2031, 3, 8), 15), shanghai(D(2031, 3, 10), 14, 59)],
     shanghai(D(2031, 3, 10), 15, 1)),
    # from the make-up Saturday: not on Monday 17 (the holiday week), on Monday 24
    (shanghai(MAKE_UP, 10), [shanghai(D(2031, 3, 17), 10, 1), shanghai(D(2031, 3, 21), 23)],
     shanghai(D(2031, 3, 24), 10, 1)),
])
def test_a_working_day_timer_fires_after_one_working_day(march_2031, start: dt.datetime, not_yet: list[dt.datetime],
                                                         fires: dt.datetime) -> None:
    definitions.deploy((TEST_BPMN / "working_day_timer.bpmn").read_text("utf-8"), {},
                       filename="working_day_timer.bpmn")
    db.session.commit()
    _set_clock(start)
    instance = cases.start_case("test_working_day_timer", user("staff03"), {})
    approve = open_task(instance, "Task_Approve")
    due = calendar.working_deadline(start, 1)
    assert due < fires and all(moment < due for moment in not_yet)
    # the inbox's due date (dueWorkingDays=1) and the timer count the same working day
    assert abs(approve.due_at - due) < dt.timedelta(seconds=5)
    assert abs(instance.next_timer_at - due) < dt.timedelta(seconds=5)
    for moment in not_yet:
        _set_clock(moment)
        assert _fired(instance) == 0
        db.session.refresh(approve)
        assert approve.escalated_at is None
    _set_clock(fires)
    assert _fired(instance) == 1
    db.session.refresh(approve)
    assert approve.state == "open" and approve.escalated_at is not None
    assert approve.escalated_to.username == "director1"  # region11's superior


# -- dueWorkingDays: the inbox's due date and overdue mark in working days

TIMER_XML = (TEST_BPMN / "working_day_timer.bpmn").read_text("utf-8")
PROPERTY = '<camunda:property name="dueWorkingDays" value="1"/>'


def test_the_dialect_reads_due_working_days() -> None:
    from workflows.engine.dialect import extract_meta
    from workflows.engine.xml import parse_xml

    meta = extract_meta(parse_xml(TIMER_XML, "working_day_timer.bpmn"))
    assert meta.tasks["Task_Approve"].due_working_days == 1 and meta.tasks["Task_Approve"].due is None


@pytest.mark.parametrize(("new", "words"), [
    ('<camunda:property name="dueWorkingDays" value="one"/>', "whole number of working days, not 'one'"),
    ('<camunda:property name="dueWorkingDays" value="-1"/>', "whole number of working days"),
    ('<camunda:property name="dueWorkingDays" value="1.5"/>', "whole number of working days"),
    ('<camunda:property name="dueWorkingDays" value="0"/>', "1 to 60 working days, not 0"),
    ('<camunda:property name="dueWorkingDays" value="61"/>', "1 to 60 working days, not 61"),
])
def test_a_bad_due_working_days_is_refused_at_deploy_naming_the_task(new: str, words: str) -> None:
    from workflows.engine.xml import DefinitionError

    xml = TIMER_XML.replace(PROPERTY, new)
    assert xml != TIMER_XML
    with pytest.raises(DefinitionError) as info:
        definitions.deploy(xml, {}, filename="bad_due.bpmn")
    db.session.rollback()
    assert info.value.element is not None and info.value.element.startswith("Task_Approve")
    assert words in str(info.value)


def test_due_date_and_due_working_days_together_are_refused_at_deploy() -> None:
    from workflows.engine.xml import DefinitionError

    xml = TIMER_XML.replace('camunda:assignee="initiator.regional_manager"',
                            'camunda:assignee="initiator.regional_manager" camunda:dueDate="P1D"')
    with pytest.raises(DefinitionError, match="not both"):
        definitions.deploy(xml, {}, filename="bad_due.bpmn")
    db.session.rollback()


def _overdue_ids(username: str) -> set[int]:
    from workflows.cases import inbox

    rows, _total = inbox.tasks(user(username), inbox.InboxFilter(view="mine", overdue=True, per_page=200))
    return {row.id for row in rows}


def test_a_task_due_in_one_working_day_is_overdue_only_after_it(march_2031) -> None:
    """Created on Friday 14 March 2031 at 16:00: due on the make-up Saturday 16:00; one created on that
    Saturday is due on Monday 24 (the holiday week does not count), not overdue on Friday 21."""
    definitions.deploy(TIMER_XML, {}, filename="working_day_timer.bpmn")
    db.session.commit()
    _set_clock(shanghai(D(2031, 3, 14), 16))
    friday = open_task(cases.start_case("test_working_day_timer", user("staff03"), {}), "Task_Approve")
    _set_clock(shanghai(MAKE_UP, 9))
    saturday = open_task(cases.start_case("test_working_day_timer", user("staff03"), {}), "Task_Approve")
    assert clock.local(friday.due_at).strftime("%Y-%m-%d %H") == "2031-03-15 16"
    assert clock.local(saturday.due_at).strftime("%Y-%m-%d %H") == "2031-03-24 09"
    assert not _overdue_ids("region11") & {friday.id, saturday.id}
    _set_clock(shanghai(MAKE_UP, 16, 1))
    assert friday.id in _overdue_ids("region11") and saturday.id not in _overdue_ids("region11")
    _set_clock(shanghai(D(2031, 3, 21), 18))
    assert saturday.id not in _overdue_ids("region11")
    _set_clock(shanghai(D(2031, 3, 24), 9, 1))
    assert saturday.id in _overdue_ids("region11")
