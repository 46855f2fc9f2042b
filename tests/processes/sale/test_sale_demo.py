"""The demo's sales, on the customers and products the demo's records give (made here directly)."""

from __future__ import annotations

import datetime as dt

from tests.conftest import open_specs, unique_id_number, user
from tests.processes.sale.sale_steps import PDF, qualify, record_of
from workflows.db import db
from workflows.processes.sale.demo import samples_for
from workflows.processes.sale.models import WealthCustomer, WealthDocument, WealthProduct

CUSTOMERS = [("王秀英", dt.date(1960, 3, 15), 3, True), ("陈志强", dt.date(1986, 7, 2), 4, True),
             ("刘洋", dt.date(1992, 11, 30), 2, True), ("张桂兰", dt.date(1958, 1, 9), 5, False),
             ("周子涵", dt.date(2010, 5, 20), 2, True)]
PRODUCTS = [("WM-R1-03", 1, 3), ("WM-R2-06", 2, 6), ("WM-R3-12", 3, 12), ("WM-R4-24", 4, 24), ("WM-R5-36", 5, 36)]


def test_the_demo_has_a_sale_in_every_state() -> None:
    from workflows.engine import clock

    today = clock.today()
    customers = {}
    for name, born, level, valid in CUSTOMERS:
        row = WealthCustomer(name=name, id_number=unique_id_number(), birth_date=born, risk_level=level,
                             assessed_on=today - dt.timedelta(days=400),
                             assessment_expires_on=today + dt.timedelta(days=300 if valid else -30))
        if name == "周子涵":
            row.guardian_name, row.guardian_verified_by_id = "周建国", user("retail").id
        db.session.add(row)
        db.session.flush()
        if name == "周子涵":
            db.session.add(WealthDocument(customer_id=row.id, kind="guardian_id", filename="户口簿.pdf",
                                          content_type="application/pdf", size=len(PDF), sha256="0" * 64,
                                          content=PDF, uploaded_by_id=user("retail").id))
        customers[name] = row
    products = {}
    for code, rating, term in PRODUCTS:  # the demo's codes, unless another test made them already
        found = db.session.query(WealthProduct).filter_by(code=code).first()
        products[code] = found or WealthProduct(code=code, name=f"演示理财{code}", risk_rating=rating,
                                                term_months=term)
        db.session.add(products[code])
    db.session.commit()
    for advisor in ("advisor1", "advisor2"):
        qualify(advisor)

    made = samples_for(customers, products)
    assert all(made.values()), made
    assert record_of(made["normal"]).term_warning and record_of(made["normal"]).status == "completed"
    assert record_of(made["witnessed"]).recording_ref and record_of(made["witnessed"]).witness_id == user("retail").id
    assert open_specs(made["waiting"]) == ["Task_Witness"]
    declared = record_of(made["declared"])
    assert (declared.outcome, declared.witness_id) == ("declaration_witness", user("gm").id)
    refused = record_of(made["refused"])
    assert (refused.status, refused.refusal_reason) == ("refused", "elderly_high_risk")
    assert {"WM-R1-03", "WM-R2-06", "WM-R3-12"} <= set(refused.suitable_products)
    assert record_of(made["minor"]).refusal_reason == "minor_with_guardian"
