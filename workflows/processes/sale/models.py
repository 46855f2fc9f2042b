"""The wealth-sale records (Process D): customers with their risk assessment, products with their rating,
advisors' qualifications, and the sale register."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock

PURPOSES = ("general", "pension", "retirement", "education")
OUTCOMES = ("refused", "normal", "witness", "declaration_witness")


class WealthCustomer(db.Model):
    """A customer of wealth sales with their risk assessment (C1–C5, ``risk_level`` 1–5).

    The assessment is valid up to and including ``assessment_expires_on``. A minor's legal guardian is
    recorded with who verified their identity document; the copy is the customer's latest
    ``WealthDocument`` of kind ``guardian_id``.
    """

    __tablename__ = "wealth_customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(String(40), unique=True)  # normalised: upper case, no spaces
    phone: Mapped[str | None] = mapped_column(String(40))
    birth_date: Mapped[dt.date]
    risk_level: Mapped[int | None]  # 1–5 for C1–C5; None: never assessed
    assessed_on: Mapped[dt.date | None]
    assessment_expires_on: Mapped[dt.date | None]
    guardian_name: Mapped[str | None] = mapped_column(String(100))
    guardian_id_number: Mapped[str | None] = mapped_column(String(40))
    guardian_relation: Mapped[str | None] = mapped_column(String(40))
    guardian_verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    guardian_verified_at: Mapped[dt.datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    guardian_verified_by: Mapped[User | None] = relationship(foreign_keys=[guardian_verified_by_id])


class WealthDocument(db.Model):
    """A scanned document kept with a customer record (a guardian's verified identity document)."""

    __tablename__ = "wealth_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("wealth_customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # "guardian_id"
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class WealthProduct(db.Model):
    """A wealth product with its risk rating (R1–R5, ``risk_rating`` 1–5) and term."""

    __tablename__ = "wealth_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    risk_rating: Mapped[int]
    term_months: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class AdvisorQualification(db.Model):
    """An advisor's 个人理财业务资格: one row per certificate; the advisor may sell while one is unexpired
    (``expires_on`` inclusive) and not revoked."""

    __tablename__ = "advisor_qualification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    certificate_no: Mapped[str] = mapped_column(String(60))
    qualified_on: Mapped[dt.date]
    expires_on: Mapped[dt.date]
    revoked_at: Mapped[dt.datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class WealthRecordChange(db.Model):
    """Append-only history of the customer, product and qualification records: who changed what, when, how."""

    __tablename__ = "wealth_record_change"
    __table_args__ = (Index("ix_wealth_record_change_record", "record_type", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))  # customer / product / qualification
    record_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))  # created / updated / imported / verified / revoked
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field -> [old, new]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    via: Mapped[str] = mapped_column(String(10), default="web")


class SaleRecord(db.Model):
    """The sale register: one row per finished high-risk-sale case, written in the case's last transaction.

    ``decision_rule``/``decision_row`` name the DMN rule that fired in the table version ``decision_version``.
    """

    __tablename__ = "sale_record"
    __table_args__ = (Index("ix_sale_record_finished", "finished_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("wealth_customer.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("wealth_product.id"), index=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    purpose: Mapped[str] = mapped_column(String(20))  # one of PURPOSES
    horizon_months: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(24))  # one of OUTCOMES
    status: Mapped[str] = mapped_column(String(20))  # completed / refused / declined (the witness refused)
    refusal_reason: Mapped[str | None] = mapped_column(String(60))
    decision_key: Mapped[str | None] = mapped_column(String(120))
    decision_version: Mapped[int | None]
    decision_rule: Mapped[str | None] = mapped_column(String(120))
    decision_row: Mapped[int | None]
    decision_inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    suitable_products: Mapped[list[str] | None] = mapped_column(JSON, default=list)  # codes the table did not refuse
    term_warning: Mapped[str | None] = mapped_column(Text)  # the advisor's warning when the horizon is short
    disclosure: Mapped[str | None] = mapped_column(Text)  # the risk disclosure the advisor gave
    customer_confirmed: Mapped[bool | None]  # the customer confirmed the disclosure (normal and witnessed sales)
    declaration_text: Mapped[str | None] = mapped_column(Text)
    declaration_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    witness_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    witness_warning: Mapped[str | None] = mapped_column(Text)  # the witness's second risk warning
    witness_statement: Mapped[str | None] = mapped_column(Text)  # the customer's confirmation after the warning
    witnessed_at: Mapped[dt.datetime | None]
    declined_reason: Mapped[str | None] = mapped_column(Text)  # why the witness declined
    recording_ref: Mapped[str | None] = mapped_column(String(80))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    customer: Mapped[WealthCustomer] = relationship()
    product: Mapped[WealthProduct] = relationship()
    advisor: Mapped[User] = relationship(foreign_keys=[advisor_id])
    witness: Mapped[User | None] = relationship(foreign_keys=[witness_id])
