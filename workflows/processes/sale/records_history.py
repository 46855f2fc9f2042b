"""The append-only history of the customer, product and qualification records: one
``WealthRecordChange`` per create, update, import, verification or revocation, written in the
transaction of the change itself (field -> [old, new], who, when, how)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock
from workflows.processes.sale.models import WealthRecordChange

VIAS = ("web", "api", "cli", "seed")


def plain(value: Any) -> Any:
    """A value as JSON keeps it: dates and times in ISO form."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [plain(before.get(k)), plain(after.get(k))] for k in after if before.get(k) != after.get(k)}


def write(record_type: str, record_id: int, action: str, changes: dict[str, list[Any]], actor: User | None,
          via: str) -> WealthRecordChange:
    row = WealthRecordChange(record_type=record_type, record_id=record_id, action=action, changes=changes,
                             user_id=actor.id if actor is not None else None, at=clock.now(),
                             via=via if via in VIAS else "web")
    db.session.add(row)
    return row


def of(record_type: str, record_id: int) -> list[WealthRecordChange]:
    """The record's history, newest first."""
    return list(db.session.scalars(select(WealthRecordChange).where(
        WealthRecordChange.record_type == record_type, WealthRecordChange.record_id == record_id)
        .order_by(WealthRecordChange.id.desc())))


def people(rows: list[WealthRecordChange]) -> dict[int, User]:
    """Who made the changes, read at once."""
    ids = {r.user_id for r in rows if r.user_id is not None}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
