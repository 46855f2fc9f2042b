"""A person's notices: read them (all, or only the unread), mark them read.

Marking read changes only the reader's own flag, never a case: it is no event of any history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from workflows.branch.models import User
from workflows.cases import reading
from workflows.cases.models import Notice
from workflows.db import db
from workflows.engine.clock import now
from workflows.errors import NotFound


@dataclass
class NoticePage:
    rows: list[Notice]
    total: int
    openable: set[int]  # the cases among them the reader may open (a link only to those)


def page(user: User, unread: bool | None = None, page: int = 1, per_page: int = 50) -> NoticePage:
    """``user``'s notices, newest first; ``unread`` True/False keeps only the unread/read ones."""
    conditions = [Notice.user_id == user.id]
    if unread is not None:
        conditions.append(Notice.read_at.is_(None) if unread else Notice.read_at.is_not(None))
    total = db.session.scalar(select(func.count(Notice.id)).where(*conditions)) or 0
    rows = list(db.session.scalars(select(Notice).where(*conditions).order_by(Notice.id.desc())
                                   .limit(per_page).offset((max(1, page) - 1) * per_page)))
    return NoticePage(rows, int(total), reading.openable(user, (n.instance_id for n in rows)))


@dataclass
class NoticeList:
    """A page of the notices page (抄送我的) and the cases among them the reader may open."""

    page: reading.OlderPage
    openable: set[int]


def newest(user: User, before: int | None = None, per_page: int = reading.LIST_PAGE) -> NoticeList:
    """``user``'s notices, newest first, a page at a time (those before ``before``: keyset paging, so
    a late page costs what the first does), and the cases among them they may open."""
    found = reading.newest_first(select(Notice).where(Notice.user_id == user.id), Notice.id, before, per_page)
    return NoticeList(found, reading.openable(user, (n.instance_id for n in found.rows)))


def mark_read(user: User, notice_id: int) -> Notice:
    """Mark one of ``user``'s own notices read (the first reading's time is kept). Another
    person's notice is answered as unknown: its existence is not theirs to learn."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.user_id != user.id:
        raise NotFound("no such notice")
    if notice.read_at is None:
        notice.read_at = now()
        db.session.commit()
    return notice


def mark_all_read(user: User) -> int:
    """Mark every unread notice of ``user`` read; how many were."""
    result = db.session.execute(update(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
                                .values(read_at=now()))
    db.session.commit()
    return int(result.rowcount or 0)
