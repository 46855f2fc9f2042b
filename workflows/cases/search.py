"""The auditor's case search: one filter for the search page, its CSV export and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import or_, select

from workflows.branch.models import User
from workflows.cases import access
from workflows.cases.models import ProcessInstance
from workflows.db import db


@dataclass(frozen=True)
class CaseFilter:
    """What the search form asks for; empty fields do not filter."""

    process: str | None = None
    status: str | None = None
    outcome: str | None = None
    person: str | None = None  # part of the starter's name or username
    client: str | None = None  # part of the case title or business key
    start: dt.datetime | None = None  # started on or after
    end: dt.datetime | None = None  # started on or before this day

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseFilter:
        """From the search form's fields, cut to the columns' sizes; a malformed date does not filter."""
        return cls(process=(args.get("process") or "")[:80] or None, status=(args.get("status") or "")[:20] or None,
                   outcome=(args.get("outcome") or "")[:40] or None, person=(args.get("person") or "")[:50] or None,
                   client=(args.get("client") or "")[:50] or None, start=_date(args.get("from")),
                   end=_date(args.get("to")))


def _date(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def search_cases(f: CaseFilter, limit: int) -> list[ProcessInstance]:
    """Cases matching the filter, newest first (the caller checked the right: ``access.AUDIT``)."""
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc())
    if f.process:
        query = query.where(ProcessInstance.process_key == f.process)
    if f.status:
        query = query.where(ProcessInstance.status == f.status)
    if f.outcome:
        query = query.where(ProcessInstance.outcome == f.outcome)
    if f.person:
        like = f"%{f.person}%"
        people = select(User.id).where(or_(User.full_name.ilike(like), User.username.ilike(like)))
        query = query.where(ProcessInstance.started_by_id.in_(people))
    if f.client:
        like = f"%{f.client}%"
        query = query.where(or_(ProcessInstance.title.ilike(like), ProcessInstance.business_key.ilike(like)))
    if f.start is not None:
        query = query.where(ProcessInstance.started_at >= f.start)
    if f.end is not None:
        query = query.where(ProcessInstance.started_at < f.end + dt.timedelta(days=1))
    return list(db.session.scalars(query.limit(limit)))


def note_export(user: User, count: int, query: str, ip: str | None = None) -> None:
    """Exports leave the system: each is written to the security log (committed)."""
    access.log_event("export", user=user, ip=ip, detail=f"{count} case(s): {query[:300]}")
