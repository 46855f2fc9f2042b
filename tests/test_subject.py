"""subjectField: the person a case concerns, named on the start form, is kept on the
case and kept out of its decisions, even when someone else started it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_BPMN, unique_id_number, user
from tests.processes.ownership.steps import open_task, registration
from workflows.cases import access, assignment, definitions, inbox
from workflows.cases import commands as cases
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.errors import Forbidden, Invalid


@pytest.fixture(autouse=True)
def _deployed() -> None:
    definitions.deploy((TEST_BPMN / "subject_review.bpmn").read_text("utf-8"), {}, filename="subject_review.bpmn")
    db.session.commit()


def test_the_subject_cannot_approve_their_own_case_though_someone_else_started_it() -> None:
    subject, starter, reviewer = user("trading"), user("gm"), user("retail")  # all three sit on the committee
    instance = cases.start_case("test_subject", starter, {"staff": "trading", "reason": "annual review"})
    assert instance.subject_user_id == subject.id and instance.started_by_id == starter.id
    assert instance.title == "Review of trading"

    review = open_task(instance, "Task_Review")
    assert assignment.refusal(review, subject) is not None and assignment.refusal(review, starter) is not None
    assert review.id not in {row.id for row in inbox.tasks(subject, inbox.InboxFilter(view="groups"))[0]}
    with pytest.raises(Forbidden, match="segregation of duties"):
        cases.complete_task(review.id, subject, {"decision": "approve"})
    cases.complete_task(review.id, reviewer, {"decision": "approve"})

    acknowledge = open_task(instance, "Task_Acknowledge")  # camunda:assignee="subject"
    assert acknowledge.assigned_user_id == subject.id
    assert access.may_view_case(subject, instance)  # the case is about them: they may read it
    cases.complete_task(acknowledge.id, subject, {})
    db.session.refresh(instance)
    assert instance.status == "completed" and instance.outcome == "End_Done"


def test_an_unknown_username_is_a_field_error_and_no_case_starts() -> None:
    before = db.session.scalar(select(func.count(ProcessInstance.id)))
    with pytest.raises(Invalid) as refused:
        cases.start_case("test_subject", user("gm"), {"staff": "no_such_person"})
    assert refused.value.fields == {"staff": "no active user has this username"}
    db.session.rollback()
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == before


def test_without_subject_field_the_case_has_no_subject() -> None:
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    assert instance.subject_user_id is None
