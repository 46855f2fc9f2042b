"""Only the retail head or the GM witnesses, never the advisor who made the sale: the pages and the API
refuse anyone else, and each refusal is in the security log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.api.client import Api
from tests.conftest import Browserless, Grants, open_task, user
from tests.processes.sale.sale_steps import disclose, make_customer, make_product, start_sale
from workflows.cases import commands
from workflows.cases.models import HumanTask, ProcessInstance, SecurityEvent
from workflows.db import db
from workflows.errors import Forbidden

WITNESS_FORM = {"second_warning": "二次风险提示", "customer_confirmation": "客户确认", "witness_signature": "signed",
                "decision": "witness"}


def _waiting_for_witness(advisor: str = "advisor1") -> tuple[ProcessInstance, HumanTask]:
    case = start_sale(make_customer(age=67, level=3), make_product(3), advisor=advisor)
    disclose(case, advisor)
    return case, open_task(case, "Task_Witness")


@pytest.fixture
def api(web: Browserless):
    """``api(username)``: the API as that user, each request in its own app context like a real server."""
    return lambda username: Api(web.client, username)

def _refusals(username: str) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.username == username,
                                                                      SecurityEvent.kind == "refused")) or 0


def test_the_witness_step_is_for_the_retail_head_and_the_gm_only() -> None:
    _case, task = _waiting_for_witness()
    assert sorted(c.role_key for c in task.candidates) == ["gm", "retail_head"]
    assert user("advisor1").id in task.excluded_user_ids  # the starter never witnesses


def test_the_advisor_may_not_witness_their_own_sale_even_as_retail_head(grant: Grants, web: Browserless,
                                                                          api) -> None:
    grant(user("advisor2"), "retail_head")
    case, task = _waiting_for_witness("advisor2")
    before = _refusals("advisor2")
    with pytest.raises(Forbidden) as refused:
        commands.complete_task(task.id, user("advisor2"), dict(WITNESS_FORM))
    assert refused.value.code == "segregation_of_duties"
    web.login("advisor2")
    page = web.post(f"/tasks/{task.id}", data=dict(WITNESS_FORM))
    assert page.status_code == 403
    answer = api("advisor2").post(f"/tasks/{task.id}/complete", dict(WITNESS_FORM))
    assert answer.status_code == 403 and answer.get_json()["error"] == "segregation_of_duties"
    claim = api("advisor2").post(f"/tasks/{task.id}/claim")
    assert claim.status_code == 403
    assert _refusals("advisor2") >= before + 4
    db.session.refresh(task)
    assert task.state == "open" and task.completed_by_id is None


@pytest.mark.parametrize("outsider", ["finance", "advisor3", "director1"])
def test_someone_without_the_role_may_not_witness(outsider: str, web: Browserless, api) -> None:
    _case, task = _waiting_for_witness()
    before = _refusals(outsider)
    web.login(outsider)
    assert web.post(f"/tasks/{task.id}", data=dict(WITNESS_FORM)).status_code == 403
    assert web.post(f"/tasks/{task.id}/claim").status_code == 403
    answer = api(outsider).post(f"/tasks/{task.id}/complete", dict(WITNESS_FORM))
    assert answer.status_code == 403 and answer.get_json()["error"] == "not_a_candidate"
    assert api(outsider).post(f"/tasks/{task.id}/claim").get_json()["error"] == "not_a_candidate"
    assert _refusals(outsider) == before + 4
    logged = db.session.scalars(select(SecurityEvent).where(SecurityEvent.username == outsider)
                                .order_by(SecurityEvent.id.desc())).first()
    assert f"task {task.id}" in (logged.detail or "")
    db.session.refresh(task)
    assert task.state == "open"


def test_the_retail_head_witnesses_through_the_api(api) -> None:
    case, task = _waiting_for_witness()
    assert api("retail").post(f"/tasks/{task.id}/claim").status_code == 200
    done = api("retail").post(f"/tasks/{task.id}/complete", dict(WITNESS_FORM))
    assert done.status_code == 200, done.get_json()
    db.session.refresh(task)
    assert task.completed_by_id == user("retail").id
    assert open_task(case, "Task_Recording").assigned_user_id == user("advisor1").id
