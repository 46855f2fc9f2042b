"""Wealth products: a unique code, the name, the risk rating R1–R5 the suitability decision compares
with the customer's level, and the term (months) a short horizon is warned against."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select

from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Msg, NotFound
from workflows.processes.sale import records_access, records_history
from workflows.processes.sale.customers import commit_unique
from workflows.processes.sale.models import WealthProduct
from workflows.processes.sale.records_fields import Bad, invalid, level, text, whole, yes_no

FIELDS = ("code", "name", "risk_rating", "term_months", "active")
MAX_TERM = 600
_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,39}")
TAKEN = Msg("another product already has this code", code="taken")


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def values_of(product: WealthProduct | None) -> dict[str, Any]:
    return {f: getattr(product, f) for f in FIELDS} if product is not None else {}


def _read(key: str, value: Any) -> Any:
    if key == "code":
        raw = text(value, 40, required=True)
        code = normalise_code(raw or "")
        if not _CODE.fullmatch(code):
            raise Bad(Msg("letters, digits, '.', '_' and '-' only", code="pattern"))
        return code
    if key == "name":
        return text(value, 200, required=True)
    if key == "risk_rating":
        return level(value, "R", required=True)
    if key == "term_months":
        return whole(value, 1, MAX_TERM, required=True)
    if key == "active":
        return yes_no(value, True)
    raise KeyError(key)


def clean(raw: Mapping[str, Any], current: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Msg]]:
    """The product's values after ``raw`` and each wrong field's message (the database is not read)."""
    given = {k: raw.get(k) for k in FIELDS} if current is None else {k: raw[k] for k in FIELDS if k in raw}
    errors: dict[str, Msg] = {}
    parsed: dict[str, Any] = {}
    for key, value in given.items():
        try:
            parsed[key] = _read(key, value)
        except Bad as bad:
            errors[key] = bad.message
    merged = {**(current or {}), **parsed}
    if merged.get("active") is None:
        merged["active"] = True
    return merged, errors


def by_code(codes: list[str]) -> dict[str, WealthProduct]:
    unique = sorted(set(codes))
    found: dict[str, WealthProduct] = {}
    for at in range(0, len(unique), 500):
        found.update((p.code, p) for p in db.session.scalars(
            select(WealthProduct).where(WealthProduct.code.in_(unique[at:at + 500]))))
    return found


def apply(product: WealthProduct, values: dict[str, Any], actor: User | None, via: str,
          action: str) -> dict[str, list[Any]]:
    changes = records_history.diff(values_of(product), {k: values.get(k) for k in FIELDS})
    if not changes:
        return changes
    for key in FIELDS:
        setattr(product, key, values.get(key))
    product.updated_at = clock.now()
    if product.id is None:
        db.session.add(product)
        db.session.flush()
    records_history.write("product", product.id, action, changes, actor, via)
    return changes


def create(actor: User, raw: Mapping[str, Any], *, via: str = "web", ip: str | None = None,
           path: str = "products") -> WealthProduct:
    records_access.require_keep(actor, path, ip)
    values, errors = clean(raw)
    if "code" not in errors and values["code"] in by_code([values["code"]]):
        errors["code"] = TAKEN
    if errors:
        raise invalid(errors)
    product = WealthProduct(created_at=clock.now())
    apply(product, values, actor, via, "created")
    commit_unique(TAKEN, "code")
    return product


def update(actor: User, product_id: int, raw: Mapping[str, Any], *, via: str = "web", ip: str | None = None,
           path: str = "products") -> WealthProduct:
    records_access.require_keep(actor, path, ip)
    product = get(product_id)
    values, errors = clean(raw, values_of(product))
    if "code" not in errors:
        other = by_code([values["code"]]).get(values["code"])
        if other is not None and other.id != product.id:
            errors["code"] = TAKEN
    if errors:
        raise invalid(errors)
    apply(product, values, actor, via, "updated")
    commit_unique(TAKEN, "code")
    return product


def get(product_id: int) -> WealthProduct:
    product = db.session.get(WealthProduct, product_id)
    if product is None:
        raise NotFound("no such product")
    return product


def read(actor: User, product_id: int, *, ip: str | None, path: str) -> WealthProduct:
    records_access.require_read(actor, path, ip)
    return get(product_id)


def listing(actor: User, query: str | None, *, active_only: bool = False, rating: int | None = None,
            page: int = 1, per_page: int = 50, ip: str | None = None,
            path: str = "products") -> tuple[list[WealthProduct], int]:
    """Products by code, filtered by a part of the code or name, the rating, and whether on sale."""
    records_access.require_read(actor, path, ip)
    conditions = []
    q = (query or "").strip()[:100]
    if q:
        pattern = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(or_(WealthProduct.code.ilike(f"%{pattern}%", escape="\\"),
                              WealthProduct.name.ilike(f"%{pattern}%", escape="\\")))
    if active_only:
        conditions.append(WealthProduct.active.is_(True))
    if rating is not None:
        conditions.append(WealthProduct.risk_rating == rating)
    total = db.session.scalar(select(func.count(WealthProduct.id)).where(*conditions)) or 0
    rows = list(db.session.scalars(select(WealthProduct).where(*conditions).order_by(WealthProduct.code)
                                   .offset((page - 1) * per_page).limit(per_page)))
    return rows, total
