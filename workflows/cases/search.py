"""Finding cases: the auditor's search (its page and CSV export) and the API's case list, which
shows each person the cases they may see, with exact filters."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, union, union_all
from sqlalchemy.orm import aliased, joinedload, undefer

from workflows.branch.models import User
from workflows.branch.org import scope_unit_ids
from workflows.cases import access, reading
from workflows.cases.inbox import OPEN
from workflows.cases.models import HumanTask, ProcessInstance, TaskCandidate, TaskExclusion
from workflows.db import db
from workflows.engine.clock import day_start
from workflows.errors import Invalid, Msg


@dataclass(frozen=True)
class CaseFilter:
    """What the search form asks for; empty fields do not filter. Days are branch calendar days."""

    process: str | None = None
    status: str | None = None
    outcome: str | None = None
    person: str | None = None  # part of the starter's name or username (the branch's staff, not clients)
    client: str | None = None  # the client's whole ID number (it has digits), else their name or its start
    start: dt.date | None = None  # started on or after this day
    end: dt.date | None = None  # started on or before this day
    month: dt.date | None = None  # started in this month (its first day)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseFilter:
        """From the search form's fields, cut to the columns' sizes; a malformed date does not filter."""
        return cls(process=(args.get("process") or "")[:80] or None, status=(args.get("status") or "")[:20] or None,
                   outcome=(args.get("outcome") or "")[:40] or None, person=(args.get("person") or "")[:50] or None,
                   client=(args.get("client") or "").strip()[:50] or None, start=_date(args.get("from")),
                   end=_date(args.get("to")), month=_month(args.get("month")))


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _month(text: str | None) -> dt.date | None:
    """``2031-03`` (an ``<input type=month>``) as its first day."""
    return _date(f"{text[:7]}-01") if text and len(text) >= 7 else None


def is_id_number(text: str) -> bool:
    """What a person typed in the client box is an ID number when it has a digit: names have none."""
    return any(ch.isdigit() for ch in text)


def _client(text: str) -> ColumnElement[bool]:
    """The client's cases: by the whole ID number (normalised as stored; a part finds nothing, so
    confidential numbers are never searched by substring), else by the name in the title: names
    containing the text through the trigram index on PostgreSQL (a name of one or two characters:
    names starting with it), names starting with it through the title's index elsewhere."""
    if is_id_number(text):
        return ProcessInstance.business_key == normalise_key(text)
    if db.session.get_bind().dialect.name == "postgresql":
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return ProcessInstance.title.ilike(f"%{pattern}%" if len(text) >= 3 else f"{pattern}%", escape="\\")
    return and_(ProcessInstance.title >= text, ProcessInstance.title < text + "\U0010ffff")


def _exact(process: str | None, status: str | None, outcome: str | None) -> list[ColumnElement[bool]]:
    """The filters the search page and the API's case list share: equal to what was asked, when asked."""
    wanted = ((ProcessInstance.process_key, process), (ProcessInstance.status, status),
              (ProcessInstance.outcome, outcome))
    return [column == value for column, value in wanted if value]


def _filter_conditions(f: CaseFilter) -> list[ColumnElement[bool]]:
    conditions = _exact(f.process, f.status, f.outcome)
    if f.person:
        like = f"%{f.person}%"
        people = select(User.id).where(or_(User.full_name.ilike(like), User.username.ilike(like)))
        conditions.append(ProcessInstance.started_by_id.in_(people))
    if f.client:
        conditions.append(_client(f.client))
    conditions += _day_range(ProcessInstance.started_at, f.start, f.end)
    if f.month is not None:
        following = (f.month + dt.timedelta(days=32)).replace(day=1)
        conditions += _day_range(ProcessInstance.started_at, f.month, following - dt.timedelta(days=1))
    return conditions


SEARCH_SORT = "-started_at"  # the search's order: newest first (by start, then id), along its indexes


def search_cases(f: CaseFilter, limit: int, after: str | None = None) -> list[ProcessInstance]:
    """Cases matching the filter, newest first, from just after the ``after`` cursor (the caller
    checked the right: ``access.AUDIT``). Each row comes with its process version and starter, so
    showing a page costs the same statements however many people started its cases."""
    conditions = _filter_conditions(f)
    if after:
        conditions.append(_beyond(SEARCH_SORT, decode_cursor(after, SEARCH_SORT)))
    query = (select(ProcessInstance).where(*conditions).order_by(*_order(SEARCH_SORT)).limit(limit)
             .options(joinedload(ProcessInstance.definition),
                      joinedload(ProcessInstance.started_by).lazyload(User.role_rows)))
    return list(db.session.scalars(query))


def search_page(f: CaseFilter, per_page: int, after: str | None = None) -> tuple[list[ProcessInstance], str | None]:
    """One page of the search and the cursor of the next (None on the last): keyset paging, so
    the hundredth page costs what the first does."""
    rows = search_cases(f, per_page + 1, after)
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (cursor(rows[-1], SEARCH_SORT) if more and rows else None)


def note_export(user: User, count: int, query: str, ip: str | None = None) -> None:
    """Exports leave the system: each is written to the security log (committed)."""
    access.log_event("export", user=user, ip=ip, detail=f"{count} case(s): {query[:300]}")


# --- the case list of the API: every case a person may see, filtered, sorted, paged ----------

SORTS = ("started_at", "-started_at", "ended_at", "-ended_at", "id", "-id")


@dataclass(frozen=True)
class CaseQuery:
    """Exact filters of the case list; None does not filter. Days are branch calendar days."""

    process: str | None = None
    status: str | None = None
    outcome: str | None = None
    started_by: str | None = None  # username
    subject: str | None = None  # username of the person the case concerns
    business_key: str | None = None  # the client's ID number, matched whole after normalising
    started_from: dt.date | None = None
    started_to: dt.date | None = None  # inclusive
    ended_from: dt.date | None = None
    ended_to: dt.date | None = None  # inclusive
    sort: str = "-started_at"
    page: int = 1  # ignored with ``after``
    per_page: int = 50
    after: str | None = None  # the cursor of the last case of the previous page (keyset paging)


def normalise_key(value: str) -> str:
    """A business key as ``commands`` stores it: no whitespace, upper case."""
    return "".join(value.split()).upper()[:120]


def may_list_cases(user: User) -> bool:
    """Auditors see every case; anyone with a business role their own. A pure administrator has
    no right to any case, so has no list either (least privilege, SPEC §1)."""
    return access.may_audit(user) or access.works_cases(user)


PARTICIPATION_CAP = 2000  # task and case rows of a person beyond which a case list is not counted


def _ways_of_taking_part(user: User) -> list[Select]:
    """One index lookup per way of taking part in a case (``access.is_participant``): started,
    concerned, a task they were given, held, completed or were escalated, or an open task of their
    candidate groups they are not excluded from. Each selects case ids."""
    uid = user.id
    ways = [
        select(ProcessInstance.id).where(ProcessInstance.started_by_id == uid),
        select(ProcessInstance.id).where(ProcessInstance.subject_user_id == uid),
        # given or held: open tasks through the state-led indexes, the others through their partial ones
        # (the state is written as a constant: a partial index serves only a query that states it)
        select(HumanTask.instance_id).where(HumanTask.state == OPEN, HumanTask.assigned_user_id == uid),
        select(HumanTask.instance_id).where(HumanTask.state != OPEN, HumanTask.assigned_user_id == uid),
        select(HumanTask.instance_id).where(HumanTask.state == OPEN, HumanTask.claimed_by_id == uid),
        select(HumanTask.instance_id).where(HumanTask.state != OPEN, HumanTask.claimed_by_id == uid),
        select(HumanTask.instance_id).where(HumanTask.completed_by_id == uid),
        # escalated_at is set with escalated_to_id: naming it reaches the index of escalated rows only
        select(HumanTask.instance_id).where(HumanTask.escalated_at.is_not(None), HumanTask.escalated_to_id == uid),
    ]
    roles = sorted(user.roles)
    if roles:
        candidate, exclusion = aliased(TaskCandidate), aliased(TaskExclusion)
        scopes = scope_unit_ids(user) or [-1]
        ways.append(select(HumanTask.instance_id).where(
            HumanTask.state == "open",
            exists().where(candidate.task_id == HumanTask.id, candidate.role_key.in_(roles),
                           or_(candidate.scope_unit_id.is_(None), candidate.scope_unit_id.in_(scopes))),
            ~exists().where(exclusion.task_id == HumanTask.id, exclusion.user_id == uid)))
    return ways


def visible_to(user: User) -> ColumnElement[bool]:
    """The cases ``user`` takes part in, as ``id IN (a union)`` of :func:`_ways_of_taking_part`:
    the cost follows what this person did, not the number of cases in the database (probing every
    case for each way made a staff member's case list take seconds at 150,000 cases)."""
    return ProcessInstance.id.in_(union(*_ways_of_taking_part(user)))


def takes_part(user: User) -> ColumnElement[bool]:
    """The same cases as :func:`visible_to`, as correlated EXISTS: the database probes each case
    it reads. Cheaper for a few given cases, or to find the newest page of someone who took part
    in most cases (a GM over years), where collecting every case they touched would cost more."""
    task = aliased(HumanTask)
    worked = exists().where(task.instance_id == ProcessInstance.id,
                            or_(task.assigned_user_id == user.id, task.claimed_by_id == user.id,
                                task.completed_by_id == user.id, task.escalated_to_id == user.id))
    conditions = [ProcessInstance.started_by_id == user.id, ProcessInstance.subject_user_id == user.id, worked]
    roles = sorted(user.roles)
    if roles:
        open_task, candidate, exclusion = aliased(HumanTask), aliased(TaskCandidate), aliased(TaskExclusion)
        scopes = scope_unit_ids(user) or [-1]
        conditions.append(exists().where(
            open_task.instance_id == ProcessInstance.id, open_task.state == "open",
            candidate.task_id == open_task.id, candidate.role_key.in_(roles),
            or_(candidate.scope_unit_id.is_(None), candidate.scope_unit_id.in_(scopes)),
            ~exists().where(exclusion.task_id == open_task.id, exclusion.user_id == user.id)))
    return or_(*conditions)


def takes_part_widely(user: User) -> bool:
    """More than :data:`PARTICIPATION_CAP` rows of taking part: read by UNION ALL with a limit,
    which stops at the cap instead of collecting everything."""
    rows = union_all(*_ways_of_taking_part(user)).limit(PARTICIPATION_CAP + 1).subquery()
    return int(db.session.scalar(select(func.count()).select_from(rows)) or 0) > PARTICIPATION_CAP


def _user_id(username: str) -> int:
    """The id of ``username``; -1 (nobody's) for an unknown name, so the filter finds nothing."""
    found = db.session.scalar(select(User.id).where(User.username == username))
    return found if found is not None else -1


@dataclass
class CasePage:
    """A page of the case list: its cases, how many match in all (counted only for a first or
    numbered page: a page reached by cursor costs the same however long the list; and not for
    someone who took part in thousands of cases), and the cursor of the next page (None on the last)."""

    rows: list[ProcessInstance]
    total: int | None
    next: str | None


def list_cases(user: User, q: CaseQuery, ip: str | None = None) -> CasePage:
    """A page of the cases ``user`` may see that match ``q``, from just after ``q.after``.

    Every case returned passes ``access.may_view_case``; an auditor's list is every case.
    A pure administrator is refused (logged)."""
    if not may_list_cases(user):
        access.refuse(user, "list cases", "the administrator role gives no access to cases", ip=ip)
    conditions: list[ColumnElement[bool]] = []
    countable = True
    if not access.may_audit(user):
        # someone who took part in thousands of cases: their newest cases by probing, and no count
        # (it would read every case they touched); anyone else: exactly theirs, counted
        countable = not takes_part_widely(user)
        conditions.append(visible_to(user) if countable else takes_part(user))
    conditions += _exact(q.process, q.status, q.outcome)
    if q.started_by:
        conditions.append(ProcessInstance.started_by_id == _user_id(q.started_by))
    if q.subject:
        conditions.append(ProcessInstance.subject_user_id == _user_id(q.subject))
    if q.business_key:
        conditions.append(ProcessInstance.business_key == normalise_key(q.business_key))
    conditions += _day_range(ProcessInstance.started_at, q.started_from, q.started_to)
    conditions += _day_range(ProcessInstance.ended_at, q.ended_from, q.ended_to)
    total = None
    query = select(ProcessInstance.id, *_key_columns(q.sort)).where(*conditions).order_by(*_order(q.sort))
    if q.after:
        query = query.where(_beyond(q.sort, decode_cursor(q.after, q.sort)))
    elif not countable:
        query = query.offset((max(1, q.page) - 1) * q.per_page)
    else:
        total = int(db.session.scalar(select(func.count(ProcessInstance.id)).where(*conditions)) or 0)
        query = query.offset((max(1, q.page) - 1) * q.per_page)
    keyed = db.session.execute(query.limit(q.per_page + 1)).all()
    more = len(keyed) > q.per_page
    keyed = keyed[:q.per_page]
    ids = [row[0] for row in keyed]
    if access.sees_whole_records(user):
        _note_whole_views(user, ids, ip)  # before reading them: the log entry commits
    found = {c.id: c for c in db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_(ids or [-1]))
        .options(joinedload(ProcessInstance.definition),
                 joinedload(ProcessInstance.started_by).lazyload(User.role_rows),
                 joinedload(ProcessInstance.subject_user).lazyload(User.role_rows),
                 undefer(ProcessInstance.state))).unique()}
    following = _encode(q.sort, list(keyed[-1][1:])) if more and keyed else None
    return CasePage([found[i] for i in ids], total, following)


def _note_whole_views(user: User, ids: list[int], ip: str | None) -> None:
    """An auditor reads the cases of the page whole: those they take no part in are written to
    the security log, once for the page (``access.note_whole_view`` does it for one case)."""
    if not ids:
        return
    own = set(db.session.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(ids), takes_part(user))))
    outside = [i for i in ids if i not in own]
    if outside:
        listed = ", ".join(f"#{i}" for i in outside)
        access.log_event("record_viewed", user=user, ip=ip, detail=f"case list: {len(outside)} case(s) viewed whole: "
                                                                   f"{listed}")


def _day_range(column: Any, first: dt.date | None, last: dt.date | None) -> list[ColumnElement[bool]]:
    """From the start of ``first`` to the end of ``last``, both branch calendar days."""
    out = []
    if first is not None:
        out.append(column >= day_start(first))
    if last is not None:
        out.append(column < day_start(last + dt.timedelta(days=1)))
    return out


def _keys(sort: str) -> list[tuple[Any, bool]]:
    """The columns a sort orders by, each with its direction (True: descending), the id last so
    the order is total; cases not yet ended come last whichever way ``ended_at`` is sorted."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    tie = (ProcessInstance.id, descending)
    if name == "id":
        return [tie]
    column = getattr(ProcessInstance, name)
    if name == "ended_at":
        return [(case((column.is_(None), 1), else_=0), False), (column, descending), tie]
    return [(column, descending), tie]


def _key_columns(sort: str) -> list[Any]:
    return [column for column, _desc in _keys(sort)]


def _order(sort: str) -> list[Any]:
    """The sort, then the id in the same direction so pages never overlap (the same on SQLite and PostgreSQL)."""
    return [column.desc() if desc else column.asc() for column, desc in _keys(sort)]


def _beyond(sort: str, values: list[Any]) -> ColumnElement[bool]:
    """Rows after the one whose sort keys are ``values``: (k1, k2, …) past (v1, v2, …) in the sort's
    order, with the first key also bounded on its own so the database walks its index from there.
    A NULL key (a case not ended) is one all rows of its group share: it compares equal."""
    keys = _keys(sort)
    condition: ColumnElement[bool] | None = None
    for (column, desc), value in reversed(list(zip(keys, values, strict=True))):
        if value is None:
            continue
        past = column < value if desc else column > value
        condition = past if condition is None else or_(past, and_(column == value, condition))
    assert condition is not None  # the id, last, is never NULL
    first, desc = keys[0]
    if values[0] is not None and first is not keys[-1][0]:
        condition = and_(first <= values[0] if desc else first >= values[0], condition)
    return condition


def cursor(row: ProcessInstance, sort: str) -> str:
    """The opaque cursor of ``row`` in ``sort``: the next page starts just after it."""
    values = []
    for column, _desc in _keys(sort):
        name = getattr(column, "key", None)
        values.append(getattr(row, name) if name else (1 if row.ended_at is None else 0))
    return _encode(sort, values)


def _encode(sort: str, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    raw = json.dumps([sort, *plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSOR = "not a cursor of this list: follow the next link as it was given"


def decode_cursor(text: str, sort: str) -> list[Any]:
    """The sort keys a cursor from :func:`cursor` holds; anything else (or a cursor of another
    sort) is refused as input, naming ``after``."""
    keys = _keys(sort)
    try:
        got = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(got, list) or got[0] != sort or len(got) != len(keys) + 1:
            raise ValueError(text)
        values = []
        for (column, _desc), value in zip(keys, got[1:], strict=True):
            kind = getattr(getattr(column, "type", None), "python_type", int)
            if value is None and kind is dt.datetime:
                values.append(None)
            elif kind is dt.datetime and isinstance(value, str):
                values.append(dt.datetime.fromisoformat(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                values.append(value)
            else:
                raise ValueError(text)
        return values
    except (ValueError, TypeError, IndexError, binascii.Error, UnicodeDecodeError, NotImplementedError):
        raise Invalid("please correct the highlighted fields", {"after": Msg(BAD_CURSOR, code="invalid")}) from None


def summaries(instances: list[ProcessInstance], user: User) -> list[reading.CaseSummary]:
    """What the API shows of each case of a page from :func:`list_cases` (which logged an auditor's
    look): its data and open tasks, the open tasks of the whole page read in one query."""
    ids = [c.id for c in instances]
    open_tasks: dict[int, list[HumanTask]] = {i: [] for i in ids}
    if ids:
        for task in db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids),
                                                               HumanTask.state == "open").order_by(HumanTask.id)):
            open_tasks[task.instance_id].append(task)
    whole = access.sees_whole_records(user)
    return [reading.CaseSummary(c, reading.facts(c).data, whole, open_tasks[c.id]) for c in instances]
