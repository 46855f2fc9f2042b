"""Advisors' 个人理财业务资格: recorded on the person with its dates; an advisor sells only on a day a
qualification covers (``qualified_on`` ≤ day ≤ ``expires_on``, not revoked). The start check refuses
a sale by anyone else, and writes the refusal to the security log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from workflows.branch.models import User, UserRole
from workflows.cases import access
from workflows.db import db
from workflows.engine import clock
from workflows.errors import Conflict, Msg, NotFound, Refused
from workflows.processes.family import StartCheck, StartRequest
from workflows.processes.sale import records_access, records_history
from workflows.processes.sale.models import AdvisorQualification
from workflows.processes.sale.records_fields import Bad, date, invalid, text

UNQUALIFIED = "advisor_unqualified"
EXPIRING_DAYS = 60


def current(user: User | None, on_date: dt.date | None = None) -> AdvisorQualification | None:
    """The qualification covering ``on_date`` (default today) that lasts longest, or None."""
    if user is None or user.id is None:
        return None
    day = on_date or clock.today()
    return db.session.scalars(select(AdvisorQualification).where(
        AdvisorQualification.user_id == user.id, AdvisorQualification.revoked_at.is_(None),
        AdvisorQualification.qualified_on <= day, AdvisorQualification.expires_on >= day)
        .order_by(AdvisorQualification.expires_on.desc(), AdvisorQualification.id.desc()).limit(1)).first()


def of_person(user_id: int) -> list[AdvisorQualification]:
    return list(db.session.scalars(select(AdvisorQualification).where(AdvisorQualification.user_id == user_id)
                                   .order_by(AdvisorQualification.expires_on.desc(),
                                             AdvisorQualification.id.desc())))


def status(row: AdvisorQualification, day: dt.date | None = None) -> str:
    """revoked / not_yet / expired / expiring (within EXPIRING_DAYS) / valid."""
    day = day or clock.today()
    if row.revoked_at is not None:
        return "revoked"
    if row.qualified_on > day:
        return "not_yet"
    if row.expires_on < day:
        return "expired"
    return "expiring" if row.expires_on <= day + dt.timedelta(days=EXPIRING_DAYS) else "valid"


# --- the start check -----------------------------------------------------------------------------------


def _sale_date(data: dict[str, Any]) -> dt.date:
    try:
        return dt.date.fromisoformat(str(data.get("sale_date"))[:10]) if data.get("sale_date") else clock.today()
    except ValueError:
        return clock.today()


def requires_qualification(*process_keys: str) -> StartCheck:
    """A start check: the person starting one of these processes holds a qualification on the sale date
    (the start form's ``sale_date``, else today); a refusal is in the security log."""
    keys = frozenset(process_keys)

    def check(request: StartRequest) -> None:
        if request.process_key not in keys:
            return
        day = _sale_date(request.data)
        if current(request.user, day) is not None:
            return
        rows = of_person(request.user.id) if request.user is not None else []
        last = max((r.expires_on for r in rows if r.revoked_at is None), default=None)
        if request.user is not None:  # a person's refused attempt; the system's start is refused in its own transaction
            access.log_event("refused", user=request.user,
                             detail=f"start {request.process_key}: {request.user.username} holds no current "
                                    f"wealth-management qualification on {day}")
        raise Refused(Msg("You hold no current personal wealth-management qualification (个人理财业务资格) on "
                          "%(date)s, so you may not sell wealth products. Last expiry: %(last_expiry)s.",
                          date=day.isoformat(), last_expiry=last.isoformat() if last else "—"), code=UNQUALIFIED)

    check.__doc__ = f"Start check: only a qualified advisor starts {', '.join(sorted(keys))}."
    return check


# --- recording ------------------------------------------------------------------------------------------


def _person(username: Any) -> User:
    name = text(username, 60, required=True)
    person = db.session.scalars(select(User).where(User.username == name, User.active.is_(True))).first()
    if person is None:
        raise Bad(Msg("no active user has this username", code="unknown_user"))
    return person


def record(actor: User, raw: Mapping[str, Any], *, via: str = "web", ip: str | None = None,
           path: str = "qualifications") -> AdvisorQualification:
    """A certificate for a person (the person need not hold the advisor role yet)."""
    records_access.require_keep(actor, path, ip)
    errors: dict[str, Msg] = {}
    values: dict[str, Any] = {}
    readers = {"username": _person, "certificate_no": lambda v: text(v, 60, required=True),
               "qualified_on": lambda v: date(v, required=True), "expires_on": lambda v: date(v, required=True)}
    for key, reader in readers.items():
        try:
            values[key] = reader(raw.get(key))
        except Bad as bad:
            errors[key] = bad.message
    today = clock.today()
    if "qualified_on" not in errors and values["qualified_on"] > today:
        errors["qualified_on"] = Msg("a date that has not come yet", code="future_date")
    if not {"qualified_on", "expires_on"} & set(errors) and values["expires_on"] < values["qualified_on"]:
        errors["expires_on"] = Msg("the qualification expires before it was obtained", code="expiry_before_assessment")
    if "certificate_no" not in errors and "username" not in errors:
        held = db.session.scalars(select(AdvisorQualification).where(
            AdvisorQualification.certificate_no == values["certificate_no"],
            AdvisorQualification.revoked_at.is_(None), AdvisorQualification.user_id != values["username"].id)).first()
        if held is not None:
            errors["certificate_no"] = Msg("another person holds this certificate", code="taken")
    if errors:
        raise invalid(errors)
    person: User = values.pop("username")
    row = AdvisorQualification(user_id=person.id, recorded_by_id=actor.id, recorded_at=clock.now(), **values)
    db.session.add(row)
    db.session.flush()
    records_history.write("qualification", row.id, "created",
                          {"user": [None, person.username],
                           **records_history.diff({}, {k: v for k, v in values.items()})}, actor, via)
    db.session.commit()
    return row


def revoke(actor: User, qualification_id: int, reason: Any, *, via: str = "web", ip: str | None = None,
           path: str = "qualifications") -> AdvisorQualification:
    """Withdrawn (the certificate was cancelled, recorded in error): kept, marked, with the reason."""
    records_access.require_keep(actor, path, ip)
    row = db.session.get(AdvisorQualification, qualification_id)
    if row is None:
        raise NotFound("no such qualification")
    try:
        why = text(reason, 500, required=True)
    except Bad as bad:
        raise invalid({"reason": bad.message}) from None
    if row.revoked_at is not None:
        raise Conflict("the qualification was already revoked", code="already_revoked")
    now = clock.now()
    row.revoked_at = now
    records_history.write("qualification", row.id, "revoked",
                          {"revoked_at": [None, now.isoformat()], "reason": [None, why]}, actor, via)
    db.session.commit()
    return row


# --- reading --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advisor:
    person: User
    rows: list[AdvisorQualification]
    now: AdvisorQualification | None  # the one covering today

    @property
    def state(self) -> str:
        if self.now is not None:
            return status(self.now)
        return status(self.rows[0]) if self.rows else "none"


def advisors(actor: User, *, ip: str | None = None, path: str = "qualifications") -> list[Advisor]:
    """Everyone holding the advisor role or a qualification row, with their rows; an advisor who is not a
    keeper or auditor sees their own only."""
    records_access.require_read(actor, path, ip)
    conditions = [User.id.in_(select(UserRole.user_id).where(UserRole.role_key == "advisor")),
                  User.id.in_(select(AdvisorQualification.user_id))]
    query = select(User).where(or_(*conditions)).order_by(User.username)
    if not records_access.may_read_all_qualifications(actor):
        query = query.where(User.id == actor.id)
    people = list(db.session.scalars(query))
    rows: dict[int, list[AdvisorQualification]] = {p.id: [] for p in people}
    if people:
        for row in db.session.scalars(select(AdvisorQualification).where(
                AdvisorQualification.user_id.in_(list(rows)))
                .order_by(AdvisorQualification.expires_on.desc(), AdvisorQualification.id.desc())):
            rows[row.user_id].append(row)
    today = clock.today()
    return [Advisor(p, rows[p.id], next((r for r in rows[p.id] if status(r, today) in ("valid", "expiring")), None))
            for p in people]


def history(qualification_ids: list[int]) -> dict[int, list[Any]]:
    """Each qualification's history rows, oldest first (the reason of a revocation is there)."""
    from workflows.processes.sale.models import WealthRecordChange

    out: dict[int, list[Any]] = {i: [] for i in qualification_ids}
    if qualification_ids:
        for row in db.session.scalars(select(WealthRecordChange).where(
                WealthRecordChange.record_type == "qualification",
                WealthRecordChange.record_id.in_(qualification_ids)).order_by(WealthRecordChange.id)):
            out[row.record_id].append(row)
    return out
