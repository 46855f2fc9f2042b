"""Reading the sale register: who may, which rows, one row. Pages and the API call these and render.

The retail head, the GM and auditors read every sale; an advisor reads their own (they made them and
answer for them); anyone else is refused and the refusal is in the security log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from workflows.branch.models import User
from workflows.cases import access
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Invalid, Msg, NotFound
from workflows.processes.sale.models import OUTCOMES, PURPOSES, SaleRecord, WealthProduct
from workflows.processes.sale.register import STATUSES

__all__ = ["OUTCOMES", "PURPOSES", "STATUSES", "RegisterFilter", "may_open_register", "parse_filter", "reads_all",
           "record_for", "register_export", "register_page", "fired_rule_text"]

READERS_OF_ALL = ("retail_head", "gm", "auditor")
MAX_PAGE = 10_000
MAX_EXPORT = 10_000


def reads_all(user: User) -> bool:
    return user.has_role(*READERS_OF_ALL)


def may_open_register(user: User) -> bool:
    """The retail head, the GM and auditors (every sale); advisors (their own)."""
    return reads_all(user) or user.has_role("advisor")


def _require(user: User, detail: str, ip: str | None) -> None:
    if not may_open_register(user):
        access.refuse(user, detail, "only the retail head, the GM, auditors and advisors may open the sale register",
                      ip=ip)


@dataclass(frozen=True)
class RegisterFilter:
    since: dt.date | None = None  # finished on or after (the branch's calendar day)
    until: dt.date | None = None  # finished on or before
    outcome: str | None = None
    status: str | None = None
    advisor: str | None = None  # username
    product: str | None = None  # code
    page: int = 1
    per_page: int = 50

    def args(self) -> dict[str, str]:
        """The filter as query arguments (for links and the export)."""
        pairs = {"from": self.since.isoformat() if self.since else "",
                 "to": self.until.isoformat() if self.until else "",
                 "outcome": self.outcome or "", "status": self.status or "", "advisor": self.advisor or "",
                 "product": self.product or ""}
        return {key: value for key, value in pairs.items() if value}


def _day(args: Mapping[str, Any], name: str, errors: dict[str, str]) -> dt.date | None:
    raw = str(args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        errors[name] = Msg("must be a date (YYYY-MM-DD)", code="not_a_date")
    return day


def _choice(args: Mapping[str, Any], name: str, choices: tuple[str, ...], errors: dict[str, str]) -> str | None:
    raw = str(args.get(name) or "").strip()
    if raw and raw not in choices:
        errors[name] = Msg("not one of the allowed options", code="not_an_option")
        return None
    return raw or None


def _whole(args: Mapping[str, Any], name: str, default: int, top: int, errors: dict[str, str]) -> int:
    raw = str(args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= top:
        errors[name] = Msg("must be a whole number from 1 to %(n)s", code="out_of_range", n=top)
        return default
    return int(raw)


def _text(args: Mapping[str, Any], name: str, size: int, errors: dict[str, str]) -> str | None:
    raw = str(args.get(name) or "").strip()
    if len(raw) > size:
        errors[name] = Msg("at most %(n)s characters", code="too_long", n=size)
        return None
    return raw or None


def parse_filter(args: Mapping[str, Any], per_page_default: int = 50) -> RegisterFilter:
    """The filter from query arguments; refused (each argument's message) when one is wrong."""
    errors: dict[str, str] = {}
    f = RegisterFilter(since=_day(args, "from", errors), until=_day(args, "to", errors),
                       outcome=_choice(args, "outcome", OUTCOMES, errors),
                       status=_choice(args, "status", STATUSES, errors),
                       advisor=_text(args, "advisor", 50, errors), product=_text(args, "product", 40, errors),
                       page=_whole(args, "page", 1, MAX_PAGE, errors),
                       per_page=_whole(args, "per_page", per_page_default, 200, errors))
    if f.since and f.until and f.since > f.until:
        errors["to"] = Msg("the end is before the start", code="dates_order")
    if errors:
        raise Invalid("please correct the highlighted fields", errors)
    return f


def _query(viewer: User, f: RegisterFilter) -> Any:
    query = select(SaleRecord)
    if not reads_all(viewer):
        query = query.where(SaleRecord.advisor_id == viewer.id)
    if f.since:
        query = query.where(SaleRecord.finished_at >= clock.day_start(f.since))
    if f.until:
        query = query.where(SaleRecord.finished_at < clock.day_start(f.until + dt.timedelta(days=1)))
    if f.outcome:
        query = query.where(SaleRecord.outcome == f.outcome)
    if f.status:
        query = query.where(SaleRecord.status == f.status)
    if f.advisor:
        query = query.where(SaleRecord.advisor_id == select(User.id).where(User.username == f.advisor)
                            .scalar_subquery())
    if f.product:
        code = "".join(f.product.split()).upper()
        query = query.where(SaleRecord.product_id == select(WealthProduct.id).where(WealthProduct.code == code)
                            .scalar_subquery())
    return query


_WITH = (joinedload(SaleRecord.customer), joinedload(SaleRecord.product), joinedload(SaleRecord.advisor),
         joinedload(SaleRecord.witness))


def register_page(viewer: User, f: RegisterFilter, ip: str | None = None,
                  path: str = "sale register") -> tuple[list[SaleRecord], int]:
    """One page of the rows the viewer may read, newest first, and how many match on all pages."""
    _require(viewer, f"view {path[:100]}", ip)
    query = _query(viewer, f)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(db.session.scalars(query.options(*_WITH).order_by(SaleRecord.finished_at.desc(), SaleRecord.id.desc())
                                   .limit(f.per_page).offset((f.page - 1) * f.per_page)).unique())
    return rows, total


def register_export(viewer: User, f: RegisterFilter, ip: str | None = None,
                    path: str = "sale register export") -> list[SaleRecord]:
    """Every row of the filter the viewer may read (at most ``MAX_EXPORT``); the export is logged."""
    _require(viewer, f"export {path[:100]}", ip)
    rows = list(db.session.scalars(_query(viewer, f).options(*_WITH).order_by(SaleRecord.finished_at.desc(),
                                                                            SaleRecord.id.desc())
                                   .limit(MAX_EXPORT)).unique())
    access.log_event("export", user=viewer, ip=ip, detail=f"sale register: {len(rows)} row(s): {f.args()}"[:300])
    return rows


def record_for(viewer: User, record_id: int, ip: str | None = None) -> SaleRecord:
    """One register row; another advisor's sale is refused (and logged) like a case the viewer has no part in."""
    _require(viewer, f"view sale record {record_id}", ip)
    row = db.session.get(SaleRecord, record_id, options=_WITH)
    if row is None:
        raise NotFound("no such sale record")
    if not reads_all(viewer) and row.advisor_id != viewer.id:
        access.refuse(viewer, f"view sale record {record_id}", "this sale is another advisor's", ip=ip,
                      code=access.NO_PART)
    return row


def fired_rule_text(row: SaleRecord) -> str:
    """``suitability.dmn v2 · row 4 (Rule_ElderlyWitness)``: the rule that fired, for people and files."""
    parts = [f"{row.decision_key or ''} v{row.decision_version}" if row.decision_version else (row.decision_key or "")]
    if row.decision_row:
        parts.append(f"#{row.decision_row}")
    if row.decision_rule:
        parts.append(row.decision_rule)
    return " · ".join(p for p in parts if p)
