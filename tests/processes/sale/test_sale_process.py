"""Each path of the high-risk sale, through the engine layer, and what it leaves in the sale register."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.conftest import open_specs, user
from tests.processes.sale.sale_steps import (
    complete,
    declare,
    disclose,
    make_customer,
    make_product,
    qualify,
    record_of,
    recording_ref,
    sale_form,
    start_sale,
    witness,
)
from workflows.cases import commands
from workflows.cases.models import Attachment, AuditEvent, ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Invalid, Refused
from workflows.processes.sale.models import SaleRecord


def _events(case: ProcessInstance, kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == case.id,
                                                            AuditEvent.type == kind).order_by(AuditEvent.seq)))


def test_a_normal_sale_records_the_disclosure_and_completes() -> None:
    customer, product = make_customer(age=40, level=3), make_product(2, term=6)
    case = start_sale(customer, product, amount="50000.50")
    assert open_specs(case) == ["Task_Disclosure"] and case.title.endswith(product.code)
    assert "测试客户" not in case.title  # the customer's name is masked in the title
    with pytest.raises(Invalid) as refused:  # the customer's confirmation is required
        complete(case, "Task_Disclosure", user("advisor1"), {"disclosure": "风险揭示"})
    assert "customer_confirmed" in refused.value.fields
    disclose(case)
    assert (case.status, case.outcome) == ("completed", "End_Completed")
    row = record_of(case)
    assert (row.status, row.outcome, row.refusal_reason, row.decision_rule) == (
        "completed", "normal", "within_assessment", "Rule_WithinAssessment")
    assert str(row.amount) == "50000.50" and row.customer_confirmed and row.disclosure.startswith("已揭示")
    assert row.recording_ref is None and row.witness_id is None and row.term_warning is None
    assert row.decision_key == "suitability.dmn" and row.decision_version and row.decision_row == 10
    assert row.decision_inputs == {"age": 40, "assessment_valid": True, "assessment_level": 3, "product_rating": 2,
                                   "purpose": "general", "customer_insists": False, "guardian_verified": False}
    # the rule that fired is the platform's "decision" event, and the register row is noted in the history
    (decision,) = _events(case, "decision")
    assert decision.changes["rules"][1][0]["id"] == row.decision_rule
    (noted,) = _events(case, "sale_registered")
    assert noted.changes["sale_record"] == [None, row.id]


def test_a_witnessed_sale_goes_to_the_retail_head_and_needs_the_recording_reference() -> None:
    customer, product = make_customer(age=66, level=3), make_product(3)
    case = start_sale(customer, product)
    disclose(case)
    assert open_specs(case) == ["Task_Witness"]
    witness(case, "gm")  # the GM may witness too
    assert open_specs(case) == ["Task_Recording"]
    for bad in ("", "SL-2026-1", f"SL-{clock.today() + dt.timedelta(days=1):%Y%m%d}-0001", "SL-20261340-0001",
                f"SL-{clock.today() - dt.timedelta(days=1):%Y%m%d}-0001"):
        with pytest.raises(Invalid) as refused:  # the format, a real date, from the sale day to today
            complete(case, "Task_Recording", user("advisor1"), {"recording_ref": bad})
        assert "recording_ref" in refused.value.fields, bad
        db.session.rollback()
    assert db.session.scalar(select(func.count(SaleRecord.id)).where(SaleRecord.instance_id == case.id)) == 0
    complete(case, "Task_Recording", user("advisor1"), {"recording_ref": recording_ref(7)})
    row = record_of(case)
    assert (row.status, row.outcome, row.decision_rule, row.recording_ref) == (
        "completed", "witness", "Rule_ElderlyWitness", recording_ref(7))
    assert row.witness_id == user("gm").id and row.witnessed_at is not None
    assert row.witness_warning.startswith("二次风险提示") and row.witness_statement == "客户确认购买。"


def test_a_declared_sale_keeps_the_declaration_and_its_scan_then_the_witness() -> None:
    customer, product = make_customer(age=35, level=2), make_product(4, term=24)
    case = start_sale(customer, product, insists=True)
    assert open_specs(case) == ["Task_Declaration"]
    with pytest.raises(Invalid) as refused:  # the signed scan is required
        complete(case, "Task_Declaration", user("advisor1"),
                 {"disclosure": "已说明", "declaration_text": "本人坚持购买该产品，风险自担。"})
    assert "declaration_scan" in refused.value.fields
    declare(case)
    witness(case)
    complete(case, "Task_Recording", user("advisor1"), {"recording_ref": recording_ref(8)})
    row = record_of(case)
    assert (row.outcome, row.refusal_reason, row.decision_rule) == (
        "declaration_witness", "above_assessment_declared", "Rule_Declaration")
    assert row.declaration_text.startswith("本人坚持购买")
    scan = db.session.get(Attachment, row.declaration_attachment_id)
    assert scan.instance_id == case.id and scan.field == "declaration_scan"
    assert row.witness_id == user("retail").id and row.recording_ref == recording_ref(8)


def test_a_refused_sale_ends_with_its_reason_and_the_products_the_customer_may_buy() -> None:
    customer = make_customer(age=66, level=3)
    r1, r3, r4, r5 = make_product(1, 3), make_product(3), make_product(4), make_product(5)
    off = make_product(2, active=False)
    case = start_sale(customer, r4)
    assert (case.status, case.outcome) == ("completed", "End_Refused")
    data = commands.instance_data(case)
    offered = data["suitable_products"].split(", ")
    assert {r1.code, r3.code} <= set(offered) and not {r4.code, r5.code, off.code} & set(offered)
    row = record_of(case)
    assert (row.status, row.outcome, row.refusal_reason) == ("refused", "refused", "elderly_high_risk")
    assert set(row.suitable_products) == set(offered) and row.disclosure is None


def test_a_short_horizon_needs_the_term_warning_before_anything_else() -> None:
    customer, product = make_customer(age=45, level=4), make_product(3, term=12)
    case = start_sale(customer, product, horizon=6)
    assert open_specs(case) == ["Task_TermWarning"]
    complete(case, "Task_TermWarning", user("advisor1"),
             {"term_warning": "资金6个月后需用，产品期限12个月，提前赎回受限。", "term_acknowledged": "acknowledged"})
    assert open_specs(case) == ["Task_Disclosure"]
    disclose(case)
    assert record_of(case).term_warning.startswith("资金6个月")
    refused = start_sale(make_customer(age=45, level=1), product, horizon=6)  # a refusal warns of nothing
    assert refused.status == "completed" and record_of(refused).term_warning is None


def test_a_witness_may_decline_and_the_case_ends_declined() -> None:
    customer, product = make_customer(age=70, level=4), make_product(3)
    case = start_sale(customer, product)
    disclose(case)
    with pytest.raises(Invalid) as refused:  # declining needs the reason
        complete(case, "Task_Witness", user("retail"), {"decision": "decline"})
    assert "comment" in refused.value.fields
    with pytest.raises(Invalid) as unsigned:  # witnessing needs the warning, the confirmation and the signature
        complete(case, "Task_Witness", user("retail"), {"decision": "witness"})
    assert {"second_warning", "customer_confirmation", "witness_signature"} <= set(unsigned.value.fields)
    complete(case, "Task_Witness", user("retail"), {"decision": "decline", "comment": "客户对风险理解不足"})
    assert (case.status, case.outcome) == ("completed", "End_Declined")
    row = record_of(case)
    assert (row.status, row.declined_reason, row.witness_id, row.witnessed_at) == (
        "declined", "客户对风险理解不足", user("retail").id, None)


def test_an_unknown_or_inactive_customer_or_product_is_refused_on_the_start_form() -> None:
    qualify("advisor1")  # or the qualification check refuses first (the seed gives nobody one)
    customer, product = make_customer(), make_product(2)
    gone, old = make_customer(active=False), make_product(2, active=False)
    before = db.session.scalar(select(func.count(ProcessInstance.id)))
    for form, fields in ((sale_form(gone, product), {"customer"}), (sale_form(customer, old), {"product"}),
                         ({**sale_form(customer, product), "customer": "NOSUCH123", "product": "NO-SUCH"},
                          {"customer", "product"})):
        with pytest.raises(Refused) as refused:
            commands.start_case("high_risk_sale", user("advisor1"), form)
        assert (set(refused.value.fields), refused.value.code) == (fields, "sale_unknown_record")
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == before
    lower = {**sale_form(customer, product), "customer": customer.id_number.lower(), "product": product.code.lower()}
    assert commands.start_case("high_risk_sale", user("advisor1"), lower).status == "running"
