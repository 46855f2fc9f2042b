"""Wealth customers: the record the suitability decision reads (date of birth, the risk assessment
C1–C5 with its dates, a minor's legal guardian and the verified copy of the guardian's identity
document). Every change writes its history row in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from workflows.branch.models import User
from workflows.cases import forms
from workflows.db import db
from workflows.engine import clock
from workflows.engine.dialect import FormField
from workflows.errors import Invalid, Msg, NotFound
from workflows.processes.sale import identity, records_access, records_history
from workflows.processes.sale.models import WealthCustomer, WealthDocument
from workflows.processes.sale.records_fields import Bad, date, invalid, level, phone, text, yes_no

FIELDS = ("name", "id_number", "birth_date", "phone", "risk_level", "assessed_on", "assessment_expires_on",
          "guardian_name", "guardian_id_number", "guardian_relation", "active")
ASSESSMENT = ("risk_level", "assessed_on", "assessment_expires_on")
GUARDIAN = ("guardian_name", "guardian_id_number", "guardian_relation")
RELATIONS = ("father", "mother", "grandparent", "other")
RELATION_WORDS = {"父亲": "father", "母亲": "mother", "祖父母": "grandparent", "外祖父母": "grandparent",
                  "其他监护人": "other", "其他": "other"}  # as people write them in a spreadsheet
ADULT_AGE = 18
EXPIRING_DAYS = 30  # an assessment expiring within this many days is shown as "expiring soon"
GUARDIAN_KIND = "guardian_id"
DOCUMENT_FIELD = FormField(id="file", label="Guardian's identity document", type="file", required=True)

REQUIRED = Msg("this field is required", code="required")
TAKEN = Msg("another customer already has this ID number", code="taken")


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years on ``day`` (a 29 February birthday comes on 1 March in other years)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def is_minor(birth: dt.date, day: dt.date | None = None) -> bool:
    return age_on(birth, day or clock.today()) < ADULT_AGE


def assessment_valid_on(customer: WealthCustomer, day: dt.date) -> bool:
    """Assessed on or before ``day`` and valid up to and including its expiry date."""
    return (customer.risk_level is not None and customer.assessed_on is not None
            and customer.assessment_expires_on is not None
            and customer.assessed_on <= day <= customer.assessment_expires_on)


def assessment_status(customer: WealthCustomer, day: dt.date | None = None) -> str:
    """none / expired / expiring (within EXPIRING_DAYS, the expiry day included) / valid."""
    day = day or clock.today()
    if customer.risk_level is None or customer.assessment_expires_on is None:
        return "none"
    if customer.assessment_expires_on < day:
        return "expired"
    if customer.assessment_expires_on <= day + dt.timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "valid"


def guardian_verified(customer: WealthCustomer) -> bool:
    return customer.guardian_verified_at is not None and customer.guardian_name is not None


def values_of(customer: WealthCustomer | None) -> dict[str, Any]:
    if customer is None:
        return {}
    return {f: getattr(customer, f) for f in FIELDS}


# --- validation --------------------------------------------------------------------------------------


def _read(key: str, value: Any) -> Any:
    if key == "name":
        return text(value, 100, required=True)
    if key in ("id_number", "guardian_id_number"):
        raw = text(value, 40, required=key == "id_number")
        if raw is None:
            return None
        number = identity.normalise_id(raw)
        problem = identity.check(number)
        if problem is not None:
            raise Bad(problem)
        return number
    if key in ("birth_date", "assessed_on", "assessment_expires_on"):
        return date(value)
    if key == "phone":
        return phone(value)
    if key == "risk_level":
        return level(value, "C")
    if key == "guardian_name":
        return text(value, 100)
    if key == "guardian_relation":
        raw = text(value, 40)
        raw = RELATION_WORDS.get(raw, raw.lower()) if raw is not None else None
        if raw is not None and raw not in RELATIONS:
            raise Bad(Msg("not one of the allowed options", code="not_an_option"))
        return raw
    if key == "active":
        return yes_no(value, True)
    raise KeyError(key)


def clean(raw: Mapping[str, Any], current: dict[str, Any] | None = None,
          today: dt.date | None = None) -> tuple[dict[str, Any], dict[str, Msg]]:
    """The record's values after ``raw`` (every field when creating; the fields given when changing
    ``current``) and the message of each field that is wrong. The database is not read here."""
    today = today or clock.today()
    creating = current is None
    errors: dict[str, Msg] = {}
    given = {k: raw[k] for k in FIELDS if k in raw} if not creating else {k: raw.get(k) for k in FIELDS}
    parsed: dict[str, Any] = {}
    for key, value in given.items():
        try:
            parsed[key] = _read(key, value)
        except Bad as bad:
            errors[key] = bad.message
    merged = {**(current or {}), **parsed}
    if merged.get("active") is None:
        merged["active"] = True
    number = merged.get("id_number")
    birth_given = parsed.get("birth_date")
    if "birth_date" not in errors and number and identity.is_prc_id(number):
        born = identity.prc_birth_date(number)
        if birth_given is None and ("id_number" in parsed or creating):
            merged["birth_date"] = born  # left out: read from the resident ID card
        elif merged.get("birth_date") is not None and merged["birth_date"] != born:
            errors["birth_date"] = Msg("the date of birth differs from the one in the ID number (%(born)s)",
                                       code="birth_date_mismatch", born=born.isoformat() if born else "")
    if "birth_date" not in errors and not ("id_number" in errors and merged.get("birth_date") is None):
        if merged.get("birth_date") is None:
            errors["birth_date"] = REQUIRED
        elif merged["birth_date"] > today:
            errors["birth_date"] = Msg("a date that has not come yet", code="future_date")
    _check_assessment(merged, errors, today)
    _check_guardian(merged, errors, today)
    return merged, errors


def _check_assessment(merged: dict[str, Any], errors: dict[str, Msg], today: dt.date) -> None:
    present = [k for k in ASSESSMENT if merged.get(k) is not None or k in errors]
    if present and len(present) < len(ASSESSMENT):
        for key in ASSESSMENT:
            if merged.get(key) is None and key not in errors:
                errors[key] = Msg("the risk level, the assessment date and its expiry go together",
                                  code="assessment_incomplete")
        return
    assessed, expires = merged.get("assessed_on"), merged.get("assessment_expires_on")
    if assessed is not None and "assessed_on" not in errors and assessed > today:
        errors["assessed_on"] = Msg("a date that has not come yet", code="future_date")
    if (assessed is not None and expires is not None and expires < assessed
            and "assessment_expires_on" not in errors):
        errors["assessment_expires_on"] = Msg("the assessment expires before it was made (%(assessed)s)",
                                              code="expiry_before_assessment", assessed=assessed.isoformat())


def _check_guardian(merged: dict[str, Any], errors: dict[str, Msg], today: dt.date) -> None:
    present = [k for k in GUARDIAN if merged.get(k) is not None]
    birth = merged.get("birth_date")
    if not present:
        if birth is not None and "birth_date" not in errors and is_minor(birth, today):
            for key in GUARDIAN:
                errors.setdefault(key, Msg("a customer under 18 needs a legal guardian (name, ID number and "
                                           "relation)", code="guardian_required"))
        return
    if len(present) < len(GUARDIAN):
        for key in GUARDIAN:
            if merged.get(key) is None:
                errors.setdefault(key, Msg("the guardian's name, ID number and relation go together",
                                           code="guardian_incomplete"))
    number = merged.get("guardian_id_number")
    if number and "guardian_id_number" not in errors:
        if number == merged.get("id_number"):
            errors["guardian_id_number"] = Msg("the guardian's ID number is the customer's own",
                                               code="guardian_is_customer")
        elif identity.is_prc_id(number):
            born = identity.prc_birth_date(number)
            if born is not None and is_minor(born, today):
                errors["guardian_id_number"] = Msg("the guardian's ID number says they are under 18",
                                                   code="guardian_is_minor")


def holders(numbers: list[str]) -> dict[str, WealthCustomer]:
    """The customers holding these ID numbers, read in a few statements."""
    found: dict[str, WealthCustomer] = {}
    unique = sorted(set(numbers))
    for at in range(0, len(unique), 500):
        chunk = unique[at:at + 500]
        found.update((c.id_number, c) for c in db.session.scalars(
            select(WealthCustomer).where(WealthCustomer.id_number.in_(chunk))))
    return found


# --- writing -----------------------------------------------------------------------------------------


def apply(customer: WealthCustomer, values: dict[str, Any], actor: User | None, via: str,
          action: str) -> dict[str, list[Any]]:
    """Set the values and write the history row; a changed guardian is no longer verified."""
    before = values_of(customer)
    after = {k: values.get(k) for k in FIELDS}
    changes = records_history.diff(before, after)
    if customer.guardian_verified_at is not None and any(k in changes for k in GUARDIAN):
        changes["guardian_verified_at"] = [records_history.plain(customer.guardian_verified_at), None]
        changes["guardian_verified_by"] = [customer.guardian_verified_by.username
                                           if customer.guardian_verified_by else None, None]
        customer.guardian_verified_at = None
        customer.guardian_verified_by_id = None
    if not changes:
        return changes
    for key, value in after.items():
        setattr(customer, key, value)
    customer.updated_at = clock.now()
    if customer.id is None:
        db.session.add(customer)
        db.session.flush()
    records_history.write("customer", customer.id, action, changes, actor, via)
    return changes


def commit_unique(message: Msg = TAKEN, field: str = "id_number") -> None:
    """Commit; two people saving the same number at once: the second is told, nothing half-written."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Invalid("please correct the highlighted fields", {field: message}) from None


def create(actor: User, raw: Mapping[str, Any], *, via: str = "web", ip: str | None = None,
           path: str = "customers") -> WealthCustomer:
    records_access.require_keep(actor, path, ip)
    values, errors = clean(raw)
    if "id_number" not in errors and values.get("id_number") in holders([values["id_number"]]):
        errors["id_number"] = TAKEN
    if errors:
        raise invalid(errors)
    customer = WealthCustomer(created_at=clock.now())
    apply(customer, values, actor, via, "created")
    commit_unique()
    return customer


def update(actor: User, customer_id: int, raw: Mapping[str, Any], *, via: str = "web", ip: str | None = None,
           path: str = "customers") -> WealthCustomer:
    records_access.require_keep(actor, path, ip)
    customer = get(customer_id)
    values, errors = clean(raw, values_of(customer))
    if "id_number" not in errors:
        other = holders([values["id_number"]]).get(values["id_number"])
        if other is not None and other.id != customer.id:
            errors["id_number"] = TAKEN
    if errors:
        raise invalid(errors)
    apply(customer, values, actor, via, "updated")
    commit_unique()
    return customer


def verify_guardian(actor: User, customer_id: int, upload: forms.Upload | None, *, via: str = "web",
                    ip: str | None = None, path: str = "customers") -> WealthDocument:
    """The guardian's identity document was checked: its scan is kept (the case attachments' types and
    size) and who checked it, when, is recorded on the customer."""
    records_access.require_keep(actor, path, ip)
    customer = get(customer_id)
    if customer.guardian_name is None:
        raise invalid({"file": Msg("record the guardian (name, ID number, relation) first",
                                   code="guardian_required")})
    _clean, files = forms.validate([DOCUMENT_FIELD], {}, {"file": upload} if upload is not None else {})
    accepted = files["file"]
    previous = latest_document(customer.id)
    doc = WealthDocument(customer_id=customer.id, kind=GUARDIAN_KIND, filename=accepted.filename[:200],
                         content_type=(accepted.content_type or "application/octet-stream")[:100],
                         size=len(accepted.content), sha256=accepted.sha256, content=accepted.content,
                         uploaded_by_id=actor.id, uploaded_at=clock.now())
    db.session.add(doc)
    db.session.flush()
    now = clock.now()
    changes = {"guardian_document": [previous.id if previous else None, doc.id],
               "guardian_verified_by": [customer.guardian_verified_by.username if customer.guardian_verified_by
                                        else None, actor.username],
               "guardian_verified_at": [records_history.plain(customer.guardian_verified_at),
                                        records_history.plain(now)]}
    customer.guardian_verified_by_id = actor.id
    customer.guardian_verified_at = now
    customer.updated_at = now
    records_history.write("customer", customer.id, "verified", changes, actor, via)
    db.session.commit()
    return doc


# --- reading -----------------------------------------------------------------------------------------


def get(customer_id: int) -> WealthCustomer:
    customer = db.session.get(WealthCustomer, customer_id)
    if customer is None:
        raise NotFound("no such customer")
    return customer


def read(actor: User, customer_id: int, *, whole: bool, ip: str | None, path: str) -> WealthCustomer:
    """One customer for a reader; asking for the whole record is for the keepers and auditors, and
    each such look is written to the security log before it is shown."""
    records_access.require_read(actor, path, ip)
    customer = get(customer_id)
    if whole:
        if not records_access.may_see_whole(actor):
            records_access.refuse_whole(actor, f"customer {customer_id}", ip)
        records_access.note_whole_view(actor, f"customer {customer_id}", ip)
    return customer


@dataclass(frozen=True)
class Found:
    rows: list[WealthCustomer]
    total: int


def search(actor: User, query: str | None, page: int, per_page: int, *, ip: str | None, path: str) -> Found:
    """Customers by name (a part of it) or by the whole ID number (never a part: numbers are
    confidential), by name then id."""
    records_access.require_read(actor, path, ip)
    conditions = []
    q = (query or "").strip()[:100]
    if q:
        if any(ch.isdigit() for ch in q):
            conditions.append(or_(WealthCustomer.id_number == identity.normalise_id(q),
                                  WealthCustomer.guardian_id_number == identity.normalise_id(q)))
        else:
            pattern = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(WealthCustomer.name.ilike(f"%{pattern}%", escape="\\"))
    total = db.session.scalar(select(func.count(WealthCustomer.id)).where(*conditions)) or 0
    rows = list(db.session.scalars(select(WealthCustomer).where(*conditions)
                                   .order_by(WealthCustomer.name, WealthCustomer.id)
                                   .offset((page - 1) * per_page).limit(per_page)))
    return Found(rows, total)


def latest_document(customer_id: int) -> WealthDocument | None:
    return db.session.scalars(select(WealthDocument).where(WealthDocument.customer_id == customer_id,
                                                           WealthDocument.kind == GUARDIAN_KIND)
                              .order_by(WealthDocument.id.desc()).limit(1)).first()


def documents(customer_id: int) -> list[WealthDocument]:
    """The customer's kept scans, newest first (their metadata; the content is read when opened)."""
    return list(db.session.scalars(select(WealthDocument).where(WealthDocument.customer_id == customer_id)
                                   .order_by(WealthDocument.id.desc())))


def document(actor: User, customer_id: int, document_id: int, *, ip: str | None, path: str) -> WealthDocument:
    """A scan, opened: the keepers and auditors only, and every opening is in the security log."""
    records_access.require_read(actor, path, ip)
    doc = db.session.get(WealthDocument, document_id)
    if doc is None or doc.customer_id != customer_id:
        raise NotFound("no such document")
    if not records_access.may_see_whole(actor):
        records_access.refuse_whole(actor, f"document {document_id} of customer {customer_id}", ip)
    records_access.note_whole_view(actor, f"document {document_id} of customer {customer_id}", ip)
    return doc
