"""Process A through the engine layer: routing, conflicts, violations, registry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import Grants, unique_id_number, user
from tests.processes.ownership.steps import (
    complete,
    counter_pass,
    open_specs,
    open_task,
    registration,
    through_to_registry,
)
from workflows.branch.models import Violation
from workflows.cases import commands as cases
from workflows.cases.models import AuditEvent, Notice
from workflows.db import db
from workflows.errors import Forbidden
from workflows.processes.ownership.models import ClientOwnership


def test_happy_path_reaches_registry() -> None:
    id_no = unique_id_number()
    instance = cases.start_case("client_ownership", user("staff01"), registration(id_no))
    assert open_specs(instance) == ["Task_ConfirmReservation"]
    through_to_registry(instance)
    db.session.refresh(instance)
    assert instance.status == "completed" and instance.outcome == "End_Registered"
    entry = db.session.scalars(select(ClientOwnership).where(ClientOwnership.client_id_number == id_no)).one()
    assert entry.staff.username == "staff01" and entry.account_no == "880012345678" and entry.archive_ref == "A-1"
    types = [e.type for e in db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                                .order_by(AuditEvent.seq))]
    assert types[0] == "case_started" and "ownership_registered" in types and types[-1] == "case_completed"


def test_support_of_another_department_cannot_confirm() -> None:
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    task = open_task(instance, "Task_ConfirmReservation")
    with pytest.raises(Forbidden):
        cases.complete_task(task.id, user("support2"), {"decision": "approve"})


def test_form_not_signed_by_client_is_a_violation() -> None:
    instance = cases.start_case("client_ownership", user("staff02"), registration(unique_id_number()))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter1"), signed=False)
    db.session.refresh(instance)
    assert instance.outcome == "End_SignatureViolation"
    violation = db.session.scalars(select(Violation).where(Violation.instance_id == instance.id)).one()
    assert violation.kind == "form_not_signed_by_client" and violation.staff.username == "staff02"


def test_gm_and_finance_must_be_different_people(grant: Grants) -> None:
    both = user("finance")
    grant(both, "gm")
    instance = cases.start_case("client_ownership", user("staff03"), registration(unique_id_number()))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter1"))
    complete(instance, "Task_Aggregate", user("support1"), {})
    complete(instance, "Task_TradingReview", user("trading"), {"decision": "approve"})
    complete(instance, "Task_FinanceReview", both, {"decision": "approve"})
    with pytest.raises(Forbidden):
        complete(instance, "Task_GMReview", both, {"decision": "approve"})
    complete(instance, "Task_GMReview", user("gm"), {"decision": "approve"})


def test_conflict_goes_to_trading_manager_and_both_are_told() -> None:
    id_no = unique_id_number()
    first = cases.start_case("client_ownership", user("staff04"), registration(id_no, "争议客户"))
    through_to_registry(first)
    second = cases.start_case("client_ownership", user("staff05"), registration(id_no, "争议客户"))
    complete(second, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(second, user("counter2"))
    complete(second, "Task_Aggregate", user("support1"), {})
    assert open_specs(second) == ["Task_DecideConflict"]
    complete(second, "Task_DecideConflict", user("trading"),
             {"owner_decision": "existing", "conflict_reason": "首次预约在先"})
    db.session.refresh(second)
    assert second.outcome == "End_OwnedByOther"
    told = {n.user_id for n in db.session.scalars(select(Notice).where(Notice.instance_id == second.id))}
    assert told == {user("staff04").id, user("staff05").id}
    owner = db.session.scalars(select(ClientOwnership).where(ClientOwnership.client_id_number == id_no,
                                                             ClientOwnership.status == "active")).one()
    assert owner.staff.username == "staff04"
