"""Wealth-sale records written directly through the models (the customer/product pages are another
module's), and the steps of the high-risk sale used by several tests."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import ROOT, open_task, unique_id_number, user
from workflows.cases import commands as cases
from workflows.cases import definitions
from workflows.cases.forms import Upload
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.processes.sale.models import (
    AdvisorQualification,
    SaleRecord,
    WealthCustomer,
    WealthDocument,
    WealthProduct,
)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
_codes = itertools.count(1)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def make_customer(*, age: int | None = 40, birth: dt.date | None = None, level: int | None = 3,
                  expires: dt.date | None = None, guardian: bool = False, verified: bool = False,
                  name: str = "测试客户", active: bool = True) -> WealthCustomer:
    """A customer ``age`` on today's date (or born ``birth``) with an assessment C``level`` valid for a year
    (``expires`` to set its last day); a minor's guardian recorded, and ``verified`` with the copy kept."""
    today = clock.today()
    born = birth or years_before(today, age or 0) - dt.timedelta(days=30)
    row = WealthCustomer(name=name, id_number=unique_id_number(), birth_date=born, risk_level=level,
                         assessed_on=today - dt.timedelta(days=100) if level else None,
                         assessment_expires_on=(expires or today + dt.timedelta(days=265)) if level else None,
                         active=active)
    if guardian:
        row.guardian_name, row.guardian_id_number, row.guardian_relation = "测试监护人", unique_id_number(), "父亲"
    if verified:
        row.guardian_verified_by_id, row.guardian_verified_at = user("retail").id, clock.now()
    db.session.add(row)
    db.session.flush()
    if verified:
        db.session.add(WealthDocument(customer_id=row.id, kind="guardian_id", filename="hukou.pdf",
                                      content_type="application/pdf", size=len(PDF), sha256="0" * 64, content=PDF,
                                      uploaded_by_id=user("retail").id))
    db.session.commit()
    return row


def make_product(rating: int, term: int = 12, *, active: bool = True, name: str = "测试理财") -> WealthProduct:
    code = f"T{os.getpid() % 1000}-R{rating}-{next(_codes)}"
    row = WealthProduct(code=code, name=f"{name}{code}", risk_rating=rating, term_months=term, active=active)
    db.session.add(row)
    db.session.commit()
    return row


def qualify(username: str) -> None:
    """The advisor holds an unexpired 个人理财业务资格 (the family's start check asks for one)."""
    person = user(username)
    today = clock.today()
    found = db.session.scalars(select(AdvisorQualification).where(
        AdvisorQualification.user_id == person.id, AdvisorQualification.revoked_at.is_(None),
        AdvisorQualification.expires_on >= today + dt.timedelta(days=400))).first()
    if found is None:
        db.session.add(AdvisorQualification(user_id=person.id, certificate_no=f"QC-{username}",
                                            qualified_on=today - dt.timedelta(days=10),
                                            expires_on=today + dt.timedelta(days=3650)))
        db.session.commit()


def sale_form(customer: WealthCustomer, product: WealthProduct, *, amount: str = "100000", purpose: str = "general",
              horizon: int | None = None, insists: bool = False, guardian: bool = False) -> dict[str, Any]:
    return {"customer": customer.id_number, "product": product.code, "amount": amount, "purpose": purpose,
            "horizon_months": str(horizon if horizon is not None else product.term_months),
            "customer_insists": "true" if insists else "false", "guardian_present": "true" if guardian else "false"}


def start_sale(customer: WealthCustomer, product: WealthProduct, advisor: str = "advisor1",
               **kw: Any) -> ProcessInstance:
    qualify(advisor)
    return cases.start_case("high_risk_sale", user(advisor), sale_form(customer, product, **kw))


def complete(instance: ProcessInstance, spec_id: str, actor: Any, data: dict[str, Any], **kw: Any) -> None:
    cases.complete_task(open_task(instance, spec_id).id, actor, data, **kw)
    db.session.refresh(instance)


def disclose(instance: ProcessInstance, advisor: str = "advisor1") -> None:
    complete(instance, "Task_Disclosure", user(advisor), {"disclosure": "已揭示产品风险：本金可能亏损。",
                                                          "customer_confirmed": "confirmed"})


def declare(instance: ProcessInstance, advisor: str = "advisor1") -> None:
    complete(instance, "Task_Declaration", user(advisor),
             {"disclosure": "产品风险等级高于客户评估等级，已推荐合适产品。",
              "declaration_text": "本人坚持购买该产品，已知悉风险超出本人承受能力。"},
             uploads={"declaration_scan": Upload("declaration.pdf", "application/pdf", PDF)})


def witness(instance: ProcessInstance, witness_user: str = "retail") -> None:
    complete(instance, "Task_Witness", user(witness_user),
             {"second_warning": "二次风险提示：该产品可能损失本金。", "customer_confirmation": "客户确认购买。",
              "witness_signature": "signed", "decision": "witness"})


def recording_ref(seq: int = 1) -> str:
    return f"SL-{clock.today():%Y%m%d}-{seq:04d}"


def record_of(instance: ProcessInstance) -> SaleRecord:
    row = db.session.scalars(select(SaleRecord).where(SaleRecord.instance_id == instance.id)).first()
    assert row is not None, f"case {instance.id} has no register row"
    return row


DIAGRAM = (ROOT / "bpmn" / "high_risk_sale.bpmn").read_text("utf-8")
TABLE = (ROOT / "bpmn" / "suitability.dmn").read_text("utf-8")


@pytest.fixture
def restore_table() -> Iterator[None]:
    """A test that deploys a changed suitability table gives later tests of the session the file's back."""
    yield
    db.session.rollback()
    definitions.deploy(DIAGRAM, {"suitability.dmn": TABLE}, filename="high_risk_sale.bpmn")
    db.session.commit()
    assert definitions.latest("high_risk_sale").dmn_xml == {"suitability.dmn": TABLE}
