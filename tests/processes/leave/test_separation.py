"""The separation review (第二十九条): 3 consecutive working days of absence in a month or the 5th
day in a year start exactly one review each, run by the real diagram; 4 spread days start none;
the project director then the GM decide, never the person nor the recorder."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.conftest import user
from tests.processes.ownership.steps import open_specs, open_task
from workflows.cases import commands as cases
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.db import db
from workflows.errors import Forbidden, Refused
from workflows.processes.leave import absences, separation
from workflows.processes.leave.ledger_models import SeparationTrigger

MON = dt.date(2022, 3, 7)


def record(person, start: dt.date, end: dt.date | None = None, by: str = "region11", half: str = "none"):
    values = {"user": person.username, "start_date": start.isoformat(), "half_day": half}
    if end:
        values["end_date"] = end.isoformat()
    return absences.record_absence(user(by), values)


def reviews_of(person) -> list[ProcessInstance]:
    return list(db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == "separation_review", ProcessInstance.subject_user_id == person.id)
        .order_by(ProcessInstance.id)))


def test_three_consecutive_working_days_start_exactly_one_review(newcomer) -> None:
    person = newcomer()
    assert record(person, MON, MON + dt.timedelta(1)).reviews == []
    third = record(person, MON + dt.timedelta(2))
    (review,) = third.reviews
    assert review.subject_user_id == person.id and review.started_by_id is None
    assert review.origin == f"attendance:{third.entries[0].id}"
    assert record(person, MON + dt.timedelta(3)).reviews == []  # a fourth day: still the one review
    assert separation.check_triggers(person, third.entries) == []  # a re-run starts nothing
    db.session.commit()
    assert [r.id for r in reviews_of(person)] == [review.id]
    (trigger,) = db.session.scalars(select(SeparationTrigger).where(SeparationTrigger.user_id == person.id))
    assert (trigger.kind, trigger.period, trigger.instance_id) == ("consecutive", "2022-03", review.id)
    started = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == review.id)
                                 .order_by(AuditEvent.seq)).first()
    assert started is not None and started.type == "case_started" and started.actor_id is None
    assert started.changes["started_by_system"][1] == review.origin
    assert started.changes["trigger"][1] == "consecutive" and started.changes["recorded_by"][1] == "region11"


def test_consecutive_days_run_over_the_weekend(newcomer) -> None:
    person = newcomer()
    record(person, MON + dt.timedelta(4))  # Friday
    (review,) = record(person, MON + dt.timedelta(7), MON + dt.timedelta(8)).reviews  # Monday, Tuesday
    assert review.summary["trigger"] == "consecutive"


def test_half_days_do_not_make_a_run_until_the_day_is_whole(newcomer) -> None:
    person = newcomer()
    record(person, MON, half="am")
    record(person, MON + dt.timedelta(1), MON + dt.timedelta(2))
    assert reviews_of(person) == []
    (review,) = record(person, MON, half="pm").reviews
    assert review.summary["trigger"] == "consecutive"


def test_four_spread_days_start_none_and_the_fifth_day_in_the_year_starts_one(newcomer) -> None:
    person = newcomer()
    for start in (dt.date(2022, 3, 7), dt.date(2022, 3, 9), dt.date(2022, 5, 4), dt.date(2022, 6, 1)):
        assert record(person, start).reviews == []
    assert reviews_of(person) == []
    (review,) = record(person, dt.date(2022, 7, 1), by="office").reviews
    assert review.summary["trigger"] == "year" and review.summary["period"] == "2022"
    assert record(person, dt.date(2022, 8, 1)).reviews == []  # the sixth: nothing more
    assert len(reviews_of(person)) == 1
    assert record(person, dt.date(2021, 8, 2)).reviews == []  # another year counts afresh


def test_each_threshold_starts_its_own_review_once(newcomer) -> None:
    person = newcomer()
    (first,) = record(person, MON, MON + dt.timedelta(2)).reviews  # 3 in a row in March
    (second,) = record(person, dt.date(2022, 5, 4), dt.date(2022, 5, 5)).reviews  # the 5th day in 2022
    assert (first.summary["trigger"], second.summary["trigger"]) == ("consecutive", "year")
    (third,) = record(person, dt.date(2022, 6, 6), dt.date(2022, 6, 8)).reviews  # 3 in a row in June
    assert third.summary["period"] == "2022-06"
    assert len(reviews_of(person)) == 3


def test_one_recording_crossing_both_thresholds_starts_one_review(newcomer) -> None:
    person = newcomer()
    (review,) = record(person, MON, MON + dt.timedelta(4)).reviews
    assert review.summary["trigger"] == "both"
    kinds = set(db.session.scalars(select(SeparationTrigger.kind).where(SeparationTrigger.instance_id == review.id)))
    assert kinds == {"consecutive", "year"}


def test_the_project_director_then_the_gm_decide_never_the_person_nor_the_recorder(newcomer) -> None:
    person = newcomer(roles=("staff",))
    (review,) = record(person, MON, MON + dt.timedelta(2)).reviews
    director = open_task(review, "Task_DirectorReview")
    assert director.assigned_user_id == user("director1").id
    for who in (person, user("region11")):
        with pytest.raises(Forbidden):
            cases.complete_task(director.id, who, {"director_decision": "retain", "director_comment": "x"})
        db.session.rollback()
    cases.complete_task(director.id, user("director1"), {"director_decision": "separate",
                                                         "director_comment": "三天未到岗，未请假"})
    final = open_task(review, "Task_GMReview")
    assert final.assigned_user_id == user("gm").id
    for who in (person, user("region11"), user("director1")):
        with pytest.raises(Forbidden):
            cases.complete_task(final.id, who, {"gm_decision": "retain", "gm_comment": "x"})
        db.session.rollback()
    cases.complete_task(final.id, user("gm"), {"gm_decision": "separate", "gm_comment": "按自动离职处理"})
    db.session.refresh(review)
    assert review.status == "completed" and review.outcome == "End_Separated"


def test_a_director_who_recorded_the_absences_leaves_the_gm_to_decide_alone(newcomer) -> None:
    helper = newcomer(beside="support1", roles=("support",))  # no regional manager: the director records
    (review,) = record(helper, MON, MON + dt.timedelta(2), by="director1").reviews
    assert open_specs(review) == ["Task_GMReview"]
    final = open_task(review, "Task_GMReview")
    assert final.assigned_user_id == user("gm").id
    cases.complete_task(final.id, user("gm"), {"gm_decision": "retain", "gm_comment": "家中急事，已补假"})
    db.session.refresh(review)
    assert review.outcome == "End_Retained"


def test_a_comment_is_required_with_each_decision(newcomer) -> None:
    person = newcomer()
    (review,) = record(person, MON, MON + dt.timedelta(2)).reviews
    from workflows.errors import Invalid

    with pytest.raises(Invalid) as refused:
        cases.complete_task(open_task(review, "Task_DirectorReview").id, user("director1"),
                            {"director_decision": "separate"})
    assert "director_comment" in refused.value.fields


def test_nobody_starts_a_review_by_hand() -> None:
    with pytest.raises((Forbidden, Refused)):
        cases.start_case("separation_review", user("gm"), {"staff": "staff01", "trigger": "year", "period": "2022"})
    db.session.rollback()
    administrator = user("admin")  # an administrator works no cases: may not start anything
    with pytest.raises((Forbidden, Refused)):
        cases.start_case("separation_review", administrator, {"staff": "staff01", "trigger": "year", "period": "2022"})


def test_the_start_check_refuses_a_person_even_with_the_start_role(grant) -> None:
    office = user("office")
    grant(office, "admin")  # admin and a business role: the diagram's startRoles let them in
    with pytest.raises(Refused):
        cases.start_case("separation_review", office, {"staff": "staff01", "trigger": "year", "period": "2022"})
