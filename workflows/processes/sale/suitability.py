"""The suitability decision's inputs, computed from the customer and product records on the sale date.

The decision itself is ``bpmn/suitability.dmn`` (a DMN table SpiffWorkflow evaluates); this module only
turns records into the plain values its columns read, so the table decides and stays editable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from workflows.db import db
from workflows.errors import Msg, Refused
from workflows.processes.family import StartRequest
from workflows.processes.sale.models import PURPOSES, WealthCustomer, WealthDocument, WealthProduct

DECISION_ID = "suitability"
RULE_TASK = "Rule_Suitability"  # the business rule task of bpmn/high_risk_sale.bpmn
INPUTS = ("age", "assessment_valid", "assessment_level", "product_rating", "purpose", "customer_insists",
          "guardian_verified")
GUARDIAN_DOCUMENT = "guardian_id"


def normalised(text: Any) -> str:
    """An ID number or product code as stored: upper case, no spaces."""
    return "".join(str(text or "").split()).upper()


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years on ``day``: the birthday itself counts (18 on the 18th birthday); someone born on
    29 February turns a year older on 1 March in a year without one."""
    return day.year - birth.year - (1 if (day.month, day.day) < (birth.month, birth.day) else 0)


def assessment_valid(customer: WealthCustomer, day: dt.date) -> bool:
    """An assessment exists, was made on or before ``day`` and expires on or after it."""
    if customer.risk_level is None or customer.assessment_expires_on is None:
        return False
    if customer.assessed_on is not None and customer.assessed_on > day:
        return False
    return customer.assessment_expires_on >= day


def guardian_document_verified(customer: WealthCustomer) -> bool:
    """The record names a guardian whose identity document someone verified and a copy is kept."""
    if not customer.guardian_name or customer.guardian_verified_by_id is None:
        return False
    copy = db.session.scalar(select(WealthDocument.id).where(WealthDocument.customer_id == customer.id,
                                                             WealthDocument.kind == GUARDIAN_DOCUMENT).limit(1))
    return copy is not None


def customer_by_id_number(id_number: Any) -> WealthCustomer | None:
    key = normalised(id_number)
    if not key:
        return None
    return db.session.scalars(select(WealthCustomer).where(WealthCustomer.id_number == key)).first()


def product_by_code(code: Any) -> WealthProduct | None:
    key = normalised(code)
    if not key:
        return None
    return db.session.scalars(select(WealthProduct).where(WealthProduct.code == key)).first()


def active_products() -> list[WealthProduct]:
    return list(db.session.scalars(select(WealthProduct).where(WealthProduct.active.is_(True))
                                   .order_by(WealthProduct.risk_rating, WealthProduct.code)))


UNKNOWN_CUSTOMER = Msg("no active customer has this ID number", code="unknown_customer")
UNKNOWN_PRODUCT = Msg("no active product has this code", code="unknown_product")


def records(data: dict[str, Any]) -> tuple[WealthCustomer, WealthProduct]:
    """The customer and product a sale names; refused (with each field's message) when either is
    unknown or inactive."""
    customer = customer_by_id_number(data.get("customer"))
    product = product_by_code(data.get("product"))
    problems: dict[str, str] = {}
    if customer is None or not customer.active:
        problems["customer"] = UNKNOWN_CUSTOMER
    if product is None or not product.active:
        problems["product"] = UNKNOWN_PRODUCT
    if problems:
        raise Refused(Msg("please correct the highlighted fields"), problems, code="sale_unknown_record")
    assert customer is not None and product is not None
    return customer, product


def start_check(request: StartRequest) -> None:
    """A sale names an active customer and an active product (field errors before any case exists)."""
    records(request.data)


@dataclass(frozen=True)
class Facts:
    """What the table reads (``inputs``), with the records it was computed from."""

    customer: WealthCustomer
    product: WealthProduct
    sale_date: dt.date
    inputs: dict[str, Any]
    horizon_months: int | None = None

    @property
    def short_horizon(self) -> bool:
        """The money's horizon is shorter than the product's term: the advisor must warn first."""
        return self.horizon_months is not None and self.horizon_months < self.product.term_months


def decision_inputs(customer: WealthCustomer, product: WealthProduct, sale_date: dt.date, *, purpose: str,
                    customer_insists: bool, guardian_present: bool) -> dict[str, Any]:
    """The table's seven inputs for one customer, product and sale."""
    if purpose not in PURPOSES:
        raise ValueError(f"not a purpose: {purpose!r}")
    valid = assessment_valid(customer, sale_date)
    return {
        "age": age_on(customer.birth_date, sale_date),
        "assessment_valid": valid,
        "assessment_level": int(customer.risk_level or 0) if customer.risk_level is not None else 0,
        "product_rating": int(product.risk_rating),
        "purpose": purpose,
        "customer_insists": bool(customer_insists),
        "guardian_verified": bool(guardian_present) and guardian_document_verified(customer),
    }


def facts_for(data: dict[str, Any], sale_date: dt.date) -> Facts:
    """The inputs of a sale's start form on its sale date."""
    customer, product = records(data)
    inputs = decision_inputs(customer, product, sale_date, purpose=str(data.get("purpose") or ""),
                             customer_insists=bool(data.get("customer_insists")),
                             guardian_present=bool(data.get("guardian_present")))
    horizon = data.get("horizon_months")
    return Facts(customer, product, sale_date, inputs, int(horizon) if horizon is not None else None)
