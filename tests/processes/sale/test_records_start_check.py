"""An advisor without a current 个人理财业务资格 cannot start a sale: the family's start check refuses
with `advisor_unqualified`, through the pages and the API alike, and the refusal is in the security
log. The check is the one FAMILY registers for high_risk_sale; the pages and API are driven with a
probe process it also guards (the sale diagram itself is another part's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.api.client import api  # noqa: F401 - the API fixture
from tests.conftest import user
from tests.processes.sale.records_helpers import TODAY, events, on, person
from workflows import processes
from workflows.cases import definitions
from workflows.cases.functions import FunctionTable
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.errors import Refused
from workflows.processes.family import Family, StartRequest
from workflows.processes.sale import FAMILY, SALE_PROCESS, qualifications

PROBE = "records_sale_probe"
PROBE_FAMILY = Family(key="records_probe", process_keys=frozenset({PROBE}), functions=FunctionTable("records_probe"),
                      start_checks=(qualifications.requires_qualification(PROBE),))


@pytest.fixture(scope="module")
def probe(app: Flask) -> Iterator[None]:
    """The probe process, deployed and guarded for the rest of the session (a deployed diagram stays)."""
    if PROBE_FAMILY not in processes.families():
        processes.register(PROBE_FAMILY)
    with app.app_context():
        xml = (Path(__file__).parent / "records_probe.bpmn").read_text("utf-8")
        definitions.deploy(xml, {}, filename="records_probe.bpmn")
        db.session.commit()
    yield


@pytest.fixture(autouse=True)
def _today() -> None:
    on(TODAY)


def qualify(someone, until: dt.date = dt.date(2032, 12, 31)) -> None:
    qualifications.record(user("retail"), {"username": someone.username, "certificate_no": f"P-{someone.id}",
                                           "qualified_on": "2030-01-01", "expires_on": until.isoformat()})


def started(someone) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ProcessInstance.id)).where(
        ProcessInstance.started_by_id == someone.id)) or 0


def test_the_family_guards_high_risk_sale_with_the_check() -> None:
    check = FAMILY.start_checks[0]  # first: an unqualified advisor is refused before the customer is looked at
    advisor = person()
    with pytest.raises(Refused) as refused:
        check(StartRequest(SALE_PROCESS, advisor, {"customer": "1"}))
    assert refused.value.code == "advisor_unqualified" and refused.value.figures["date"] == TODAY.isoformat()
    assert events("refused", advisor.username) == [
        f"start {SALE_PROCESS}: {advisor.username} holds no current wealth-management qualification on {TODAY}"]
    check(StartRequest("leave_request", advisor, {}))  # other processes are not its business
    qualify(advisor, until=TODAY)
    check(StartRequest(SALE_PROCESS, advisor, {}))  # the expiry day still counts
    with pytest.raises(Refused) as later:
        check(StartRequest(SALE_PROCESS, advisor, {"sale_date": (TODAY + dt.timedelta(1)).isoformat()}))
    assert later.value.figures["last_expiry"] == TODAY.isoformat()
    with pytest.raises(Refused):
        check(StartRequest(SALE_PROCESS, None, {}, origin="job:x"))  # nobody qualified starts it


def test_an_unqualified_advisor_is_refused_on_the_page_and_it_is_logged(web, probe) -> None:
    advisor = person()
    web.login(advisor.username)
    resp = web.post(f"/processes/{PROBE}/start", {"note": "卖一单"}, headers={"Accept-Language": "zh-CN"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "没有有效的个人理财业务资格" in text
    assert started(advisor) == 0
    assert len(events("refused", advisor.username)) == 1
    qualify(advisor)
    ok = web.post(f"/processes/{PROBE}/start", {"note": "卖一单"})
    assert ok.status_code == 302 and started(advisor) == 1


def test_an_unqualified_advisor_is_refused_by_the_api_and_it_is_logged(api, probe) -> None:  # noqa: F811
    advisor = person()
    qualify(advisor, until=TODAY - dt.timedelta(1))  # expired yesterday
    resp = api(advisor.username).post(f"/processes/{PROBE}/instances", {"note": "卖一单"})
    body = resp.get_json()
    assert resp.status_code == 422 and body["error"] == "advisor_unqualified"
    assert body["figures"] == {"date": TODAY.isoformat(), "last_expiry": (TODAY - dt.timedelta(1)).isoformat()}
    assert "no current personal wealth-management qualification" in body["message"]
    assert started(advisor) == 0 and len(events("refused", advisor.username)) == 1
    qualify(advisor)
    assert api(advisor.username).post(f"/processes/{PROBE}/instances", {"note": "卖"}).status_code == 201
