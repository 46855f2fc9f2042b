"""A big, real and verifiable database: years of a busy branch, built in minutes.

    from bench.scale_data import build
    stats = build("sqlite:////tmp/big.db", task_rows=1_000_000)

Running 157k cases through the engine one by one would take hours, so each process family
(see ``FAMILY_BUILDERS``; a family adds its own with :func:`register_builder`) drives a few
*template* cases per shape through the real engine (start, complete, send back, claim), and
the builder then clones them in bulk: new ids, other people of the same roles, new business
data, dates spread over five years. Every clone stays what the engine would have written:
its ``state`` is the template's with the business data replaced, its task rows, candidates and
exclusions follow the template's, and its history is re-chained and re-sealed with the keyed
HMAC of ``workflows.cases.audit`` (each transaction's seal over the clone's own state at that
point), so ``flask audit verify`` passes on the result.

The generic cloner reads the schema: every table that refers to a case (or to a task of one)
is copied, user, case, task and unit references are mapped through the table's foreign keys,
timestamps follow the clone's timeline, and text columns get the clone's business data.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import multiprocessing
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_AUDIT_KEY = "bench:bench-audit-key-not-secret"  # any key will do; pass the same one to the app
BENCH_SECRET_KEY = "bench"
YEARS = 5
BATCH_CASES = 2000  # cases cloned per insert batch (bounded memory)


# --- what a family provides -------------------------------------------------------


@dataclass
class Slot:
    """A part in a template case, played in clones by someone else with the same role.

    ``same_department_as`` names another slot: the person is picked in that slot's
    department (a support member of the initiator's department, say). ``derive(people, cast)``
    names the person from the slots before it instead (a requester's own regional manager)."""

    role: str
    same_department_as: str | None = None
    derive: Callable[[People, dict[str, int]], int] | None = None


@dataclass
class Shape:
    """One way a case goes: ``run(cast, markers)`` drives a case through the engine and returns it.

    ``weight`` is the share among finished (or among open) cases; ``fixed`` clones a set number
    per million task rows instead (at least one): the rare long histories. A shape with neither
    is never cloned: its template case alone stays in the database, as the engine wrote it."""

    name: str
    run: Callable[[Any, dict[str, Any], dict[str, str]], Any]
    open: bool = False
    weight: float = 0.0
    fixed_per_million: float = 0.0


@dataclass
class FamilyBuilder:
    """How to make a family's cases in bulk.

    ``slots``: the cast of its template cases. ``markers(k)``: the business data of template
    ``k``, distinctive strings that appear nowhere else. ``values(i, rng, markers, when)``: the
    business data of clone ``i`` for the same keys. ``id_keys``: JSON keys whose integer
    values are ids of a table the cloner copies (``{"registry_entry": "client_ownership"}``).
    ``share``: the family's weight in the mix, relative to the other families' (of the task
    rows of finished cases, and of the open cases). ``prepare(people)`` runs once before the
    templates, in the app (what slots and values need from the database). ``usernames``: the
    cast's usernames appear in the case's data (an assignee named in it) and are replaced too.
    ``numbers``: marker keys whose values are integers, not text: each is a map of its own (template
    value → clone value) that ``id_keys`` may name (``{"age": "age"}``) and that columns referring to
    the table of that name follow (a customer record the cloner does not copy, ``"wealth_customer"``).
    """

    family_key: str
    process_keys: frozenset[str]
    slots: dict[str, Slot]
    shapes: list[Shape]
    markers: Callable[[int], dict[str, str]]
    values: Callable[[int, random.Random, dict[str, str], dt.datetime], dict[str, str]]
    id_keys: dict[str, str] = field(default_factory=dict)
    share: float = 1.0
    prepare: Callable[[People], None] | None = None
    usernames: bool = False
    numbers: frozenset[str] = frozenset()


FAMILY_BUILDERS: dict[str, FamilyBuilder] = {}


def register_builder(builder: FamilyBuilder) -> FamilyBuilder:
    FAMILY_BUILDERS[builder.family_key] = builder
    return builder


def _load_builders() -> None:
    from bench import scale_leave, scale_ownership, scale_sale  # noqa: F401 - register themselves


# --- results ----------------------------------------------------------------------


@dataclass
class BuildStats:
    url: str
    cases: int = 0
    open_cases: int = 0
    tasks: int = 0
    events: int = 0
    users: int = 0
    seconds: float = 0.0
    templates: int = 0
    long_case_id: int | None = None  # a clone with the longest history (for the history page)
    long_case_events: int = 0
    by_shape: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (f"{self.cases} cases ({self.open_cases} open), {self.tasks} task rows, {self.events} audit events, "
                f"{self.users} users, built in {self.seconds:.0f} s")


# --- people ------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁沈任"
    "姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华婷宇浩欣晨凯瑶琳辉鹏波斌宁俊峰岚颖雪梅慧佳倩怡蕾楠昊"


def person_name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + \
        GIVEN[(i * 7 + 3) % len(GIVEN)]


def add_people(total: int) -> None:
    """The demo branch grown to ``total`` users: more staff in every team, more support
    members, counter clerks and a second trading and finance manager. Unique names, so a
    name in a history points at one person."""
    from sqlalchemy import func, select

    from workflows.branch.models import OrgUnit, User, UserRole
    from workflows.db import db

    have = db.session.scalar(select(func.count(User.id))) or 0
    taken = set(db.session.scalars(select(User.full_name)))
    pw = db.session.scalars(select(User.password_hash).where(User.username == "staff01")).one()
    teams = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.id)))
    departments = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "department").order_by(OrgUnit.id)))
    branch = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "branch")).one()
    extra: list[tuple[str, list[str], OrgUnit]] = []
    for d, dept in enumerate(departments, 1):
        extra += [(f"support{d}x{k}", ["support"], dept) for k in range(1, 3)]
    extra += [(f"counterx{k}", ["counter"], branch) for k in range(1, 5)]
    extra += [("tradingx1", ["trading_manager"], branch), ("financex1", ["finance_manager"], branch)]
    n = 0
    while have + len(extra) < total:
        team = teams[n % len(teams)]
        extra.append((f"staffx{n + 1:03d}", ["staff"], team))
        n += 1
    names = (person_name(i) for i in range(10**6))
    for username, roles, unit in extra[: max(0, total - have)]:
        name = next(names)
        while name in taken:
            name = next(names)
        taken.add(name)
        user = User(username=username, full_name=name, password_hash=pw, unit=unit)
        user.role_rows = [UserRole(role_key=r) for r in roles]
        db.session.add(user)
    db.session.commit()


@dataclass
class People:
    """Who may play which slot: user ids by role, and each user's department, name and unit."""

    by_role: dict[str, list[int]]
    department: dict[int, int | None]
    names: dict[int, str]
    unit_names: dict[int, str]
    usernames: dict[int, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # what a family's prepare() keeps for its slots

    @classmethod
    def load(cls) -> People:
        from sqlalchemy import select

        from workflows.branch.models import OrgUnit, User
        from workflows.branch.org import department_of
        from workflows.db import db

        by_role: dict[str, list[int]] = {}
        department: dict[int, int | None] = {}
        names: dict[int, str] = {}
        usernames: dict[int, str] = {}
        for user in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
            names[user.id] = user.full_name
            usernames[user.id] = user.username
            dept = department_of(user)
            department[user.id] = dept.id if dept is not None else None
            roles = user.roles
            for role in roles:
                # someone with several roles (a regional manager who also registers clients) is kept
                # out of the staff pool so the casts of clones stay as simple as the templates'
                if role == "staff" and roles - {"staff"}:
                    continue
                by_role.setdefault(role, []).append(user.id)
        units = {u.id: u.name for u in db.session.scalars(select(OrgUnit))}
        return cls(by_role, department, names, units, usernames)

    def pick(self, slots: dict[str, Slot], rng: random.Random) -> dict[str, int]:
        cast: dict[str, int] = {}
        for name, slot in slots.items():  # slots naming another come after it (dict order)
            if slot.derive is not None:
                cast[name] = slot.derive(self, cast)
                continue
            pool = self.by_role[slot.role]
            if slot.same_department_as is not None:
                dept = self.department[cast[slot.same_department_as]]
                pool = [u for u in pool if self.department[u] == dept] or pool
            cast[name] = rng.choice(pool)
        return cast


# --- templates -----------------------------------------------------------------------


@dataclass
class Template:
    """A case run through the engine, with what the cloner needs to copy it."""

    shape: Shape
    builder: FamilyBuilder
    instance_id: int
    cast: dict[str, int]
    markers: dict[str, str]
    snapshots: dict[int, tuple[str, str, str | None, int]]  # seq → (state, status, outcome, definition_id)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table → template rows
    events: list[dict[str, Any]] = field(default_factory=list)
    tx_of_event: list[int] = field(default_factory=list)
    tx_start: list[dt.datetime] = field(default_factory=list)  # first event of each transaction
    tx_bounds: list[dt.datetime] = field(default_factory=list)  # what happened after this belongs to tx j
    task_count: int = 0


class Recorder:
    """Drives one template case through ``workflows.cases.commands`` and keeps the case's
    sealed state after every transaction (the clone's seals are computed over the same
    state with the clone's data)."""

    def __init__(self) -> None:
        self.instance_id: int | None = None
        self.snapshots: dict[int, tuple[str, str, str | None, int]] = {}

    def snap(self) -> None:
        from sqlalchemy import select

        from workflows.cases.models import ProcessInstance
        from workflows.db import db

        row = db.session.execute(select(ProcessInstance.audit_seq, ProcessInstance.state, ProcessInstance.status,
                                        ProcessInstance.outcome, ProcessInstance.definition_id)
                                 .where(ProcessInstance.id == self.instance_id)).one()
        self.snapshots[row[0]] = (row[1], row[2], row[3], row[4])

    def start(self, process_key: str, user: Any, data: dict[str, Any], uploads: dict[str, Any] | None = None) -> Any:
        from workflows.cases import commands

        instance = commands.start_case(process_key, user, data, uploads=uploads, via="seed")
        self.adopt(instance.id)
        return instance

    def adopt(self, instance_id: int) -> None:
        """Follow a case the engine started on its own (a review the ledger started)."""
        self.instance_id = instance_id
        self.snap()

    def open_task(self, spec_id: str) -> Any:
        from sqlalchemy import select

        from workflows.cases.models import HumanTask
        from workflows.db import db

        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == self.instance_id,
                                                          HumanTask.spec_id == spec_id,
                                                          HumanTask.state == "open")).first()
        if task is None:
            raise RuntimeError(f"template case {self.instance_id}: no open {spec_id}")
        return task

    def complete(self, spec_id: str, user: Any, data: dict[str, Any], uploads: dict[str, Any] | None = None) -> None:
        from workflows.cases import commands

        commands.complete_task(self.open_task(spec_id).id, user, data, uploads=uploads, via="web")
        self.snap()

    def claim(self, spec_id: str, user: Any) -> None:
        from workflows.cases import commands

        commands.claim(self.open_task(spec_id).id, user)
        self.snap()


def _make_templates(builder: FamilyBuilder, people: People, rng: random.Random) -> list[Template]:
    from workflows.branch.models import User
    from workflows.db import db

    out = []
    for k, shape in enumerate(builder.shapes):
        cast = people.pick(builder.slots, rng)
        users = {slot: db.session.get(User, uid) for slot, uid in cast.items()}
        markers = builder.markers(k)
        rec = Recorder()
        shape.run(rec, users, markers)
        db.session.commit()
        out.append(Template(shape, builder, rec.instance_id, cast, markers, rec.snapshots))  # type: ignore[arg-type]
    return out


# --- reading the schema ------------------------------------------------------------


@dataclass
class TableInfo:
    name: str
    columns: list[str]
    pk_id: bool  # an integer "id" primary key the cloner allocates
    user_cols: set[str]
    instance_cols: set[str]
    task_cols: set[str]
    unit_cols: set[str]
    own_ref_cols: dict[str, str]  # column → table of the row it names (other cloned tables, a family's numbers)
    datetime_cols: set[str]
    date_cols: set[str]
    text_cols: set[str]
    json_cols: set[str]
    bool_cols: set[str]
    binary_cols: set[str]
    numeric_cols: set[str] = field(default_factory=set)


def _schema() -> list[TableInfo]:
    """Every table holding rows of a case, in an order that satisfies foreign keys."""
    from sqlalchemy import JSON, Boolean, Date, DateTime, LargeBinary, Numeric, String, Text

    from workflows.db import db

    case_tables: list[Any] = []
    for table in db.metadata.sorted_tables:
        targets = {fk.column.table.name for fk in table.foreign_keys}
        if table.name == "process_instance" or targets & {"process_instance", "human_task"}:
            case_tables.append(table)
    infos = []
    for table in case_tables:
        info = TableInfo(table.name, [c.name for c in table.columns],
                         "id" in table.c and table.c.id.primary_key and table.name not in ("task_exclusion",),
                         set(), set(), set(), set(), {}, set(), set(), set(), set(), set(), set())
        for col in table.columns:
            for fk in col.foreign_keys:
                target = fk.column.table.name
                if target == "user":
                    info.user_cols.add(col.name)
                elif target == "process_instance":
                    info.instance_cols.add(col.name)
                elif target == "human_task":
                    info.task_cols.add(col.name)
                elif target == "org_unit":
                    info.unit_cols.add(col.name)
                else:  # a cloned table's row, or a record a family's numbers map (others stay as they are)
                    info.own_ref_cols[col.name] = target
            if table.name == "audit_event" and col.name == "human_task_id":
                info.task_cols.add(col.name)  # kept without a foreign key (tasks may be pruned, history not)
            kind = col.type
            if isinstance(kind, DateTime):
                info.datetime_cols.add(col.name)
            elif isinstance(kind, Date):
                info.date_cols.add(col.name)
            elif isinstance(kind, JSON):
                info.json_cols.add(col.name)
            elif isinstance(kind, Boolean):
                info.bool_cols.add(col.name)
            elif isinstance(kind, LargeBinary):
                info.binary_cols.add(col.name)
            elif isinstance(kind, String | Text):
                info.text_cols.add(col.name)
            elif isinstance(kind, Numeric):
                info.numeric_cols.add(col.name)
        infos.append(info)
    return infos


def _load_rows(t: Template, schema: list[TableInfo]) -> None:
    """The template's rows in every case table, with its events' transactions and times."""
    from sqlalchemy import select

    from workflows.db import db

    task_ids: list[int] = []
    for info in schema:
        table = db.metadata.tables[info.name]
        if info.name == "process_instance":
            query = select(table).where(table.c.id == t.instance_id)
        elif info.instance_cols:
            col = sorted(info.instance_cols)[0] if "instance_id" not in info.instance_cols else "instance_id"
            query = select(table).where(table.c[col] == t.instance_id)
        elif info.task_cols and task_ids:
            query = select(table).where(table.c[sorted(info.task_cols)[0]].in_(task_ids))
        else:
            continue
        if "id" in table.c:
            query = query.order_by(table.c.id)
        rows = [dict(r._mapping) for r in db.session.execute(query)]
        if info.name == "audit_event":
            rows.sort(key=lambda r: r["seq"])
        t.rows[info.name] = rows
        if info.name == "human_task":
            task_ids = [r["id"] for r in rows]
    t.events = t.rows.pop("audit_event")
    t.task_count = len(t.rows.get("human_task", []))
    tx, starts, bounds, begin = 0, [], [dt.datetime.min], True
    for ev in t.events:
        if begin:
            starts.append(ev["at"])
            begin = False
        t.tx_of_event.append(tx)
        if ev["state_digest"] is not None:
            tx += 1
            begin = True
            bounds.append(ev["at"])
    t.tx_start, t.tx_bounds = starts, bounds[: len(starts)]


# --- cloning ------------------------------------------------------------------------

_ID_RE_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _id_pattern(keys: Iterable[str]) -> re.Pattern[str]:
    k = tuple(sorted(keys))
    if k not in _ID_RE_CACHE:
        _ID_RE_CACHE[k] = re.compile(r'"(' + "|".join(map(re.escape, k)) + r')":(\s*)(\[null,\s*)?(\d+)')
    return _ID_RE_CACHE[k]


class Substitution:
    """One clone's replacements: business-data markers, people's names, units, ids in JSON."""

    def __init__(self, texts: dict[str, str], id_maps: dict[str, dict[int, int]], id_keys: dict[str, str],
                 plain: dict[str, str] | None = None) -> None:
        """``plain``: replacements that read the same everywhere, the engine's state included (usernames)."""
        plain = {k: v for k, v in (plain or {}).items() if k != v}
        self.texts = {k: v for k, v in texts.items() if k != v}
        self.ascii = {json.dumps(k)[1:-1]: json.dumps(v)[1:-1] for k, v in self.texts.items()} | plain
        self.texts |= plain
        self.id_maps = id_maps
        self.id_keys = id_keys
        self.pattern = _id_pattern(id_keys) if id_keys else None

    def text(self, value: str) -> str:
        for old, new in self.texts.items():
            if old in value:
                value = value.replace(old, new)
        return value

    def _ids(self, value: str) -> str:
        if self.pattern is None:
            return value

        def one(m: re.Match[str]) -> str:
            mapping = self.id_maps.get(self.id_keys[m.group(1)], {})
            old = int(m.group(4))
            return f'"{m.group(1)}":{m.group(2)}{m.group(3) or ""}{mapping.get(old, old)}'

        return self.pattern.sub(one, value)

    def json_text(self, value: str) -> str:
        """JSON written with ensure_ascii=False (markers appear as they are)."""
        return self._ids(self.text(value))

    def state(self, value: str) -> str:
        """The engine's serialized state (ensure_ascii: non-ASCII markers appear escaped)."""
        for old, new in self.ascii.items():
            if old in value:
                value = value.replace(old, new)
        return self._ids(value)


class _Event:
    """What ``audit.keyed_hash`` reads of an event."""

    __slots__ = ("instance_id", "seq", "at", "actor_id", "actor_name", "type", "task_spec", "task_name",
                 "human_task_id", "changes", "comment", "via", "prev_hash", "key_id", "state_digest", "hash")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


class _Snap:
    __slots__ = ("definition_id", "status", "outcome", "state")

    def __init__(self, state: str, status: str, outcome: str | None, definition_id: int) -> None:
        self.state, self.status, self.outcome, self.definition_id = state, status, outcome, definition_id


@dataclass
class Prepared:
    """A template made ready for fast cloning: which texts need rewriting, per column."""

    t: Template
    events_json: list[str]  # changes as JSON text (ensure_ascii=False)
    events_plain: list[bool]  # changes without any marker, name or id key: reused as they are
    template_texts: dict[str, str]  # marker / name / unit text → its slot or marker key
    snap_states: dict[int, tuple[str, str, str | None, int]]


class Allocator:
    def __init__(self, start: dict[str, int]) -> None:
        self.next = dict(start)

    def take(self, table: str, n: int = 1) -> int:
        first = self.next[table]
        self.next[table] = first + n
        return first


class Cloner:
    """Makes the rows of clone ``i`` of a template, ready for bulk insertion."""

    def __init__(self, schema: list[TableInfo], people: People, alloc: Allocator, key_id: str, key: bytes,
                 now: dt.datetime) -> None:
        self.schema = schema
        self.people = people
        self.alloc = alloc
        self.key_id = key_id
        self.key = key
        self.now = now

    # -- the timeline: when each of the template's transactions happens in the clone
    def timeline(self, t: Template, rng: random.Random, open_: bool) -> list[dt.datetime]:
        gaps = [dt.timedelta(0)]
        for _ in range(1, len(t.tx_start)):
            gaps.append(gaps[-1] + dt.timedelta(minutes=rng.randint(20, 60 * 30)))
        span = gaps[-1]
        if open_:
            last = self.now - dt.timedelta(minutes=rng.randint(10, 60 * 24 * 20))
            start = last - span
        else:
            earliest = self.now - dt.timedelta(days=365 * YEARS)
            latest = self.now - dt.timedelta(days=21) - span
            start = earliest + (latest - earliest) * rng.random()
        start = start.replace(microsecond=rng.randint(0, 999_999))
        return [start + g for g in gaps]

    def clone(self, p: Prepared, i: int, rng: random.Random, out: dict[str, list[tuple]]) -> dict[str, Any]:
        from workflows.cases.audit import GENESIS, keyed_hash, state_digest

        t = p.t
        builder = t.builder
        times = self.timeline(t, rng, t.shape.open)
        cast = self.people.pick(builder.slots, rng)
        user_map = {t.cast[slot]: uid for slot, uid in cast.items()}
        unit_map: dict[int, int] = {}
        texts: dict[str, str] = {}
        plain: dict[str, str] = {}
        for slot, old in t.cast.items():
            new = cast[slot]
            texts[f'"{self.people.names[old]}"'] = f'"{self.people.names[new]}"'
            if builder.usernames:
                plain[f'"{self.people.usernames[old]}"'] = f'"{self.people.usernames[new]}"'
            od, nd = self.people.department.get(old), self.people.department.get(new)
            if od is not None and nd is not None and od != nd:
                unit_map[od] = nd
                texts[f'@{self.people.unit_names[od]}"'] = f'@{self.people.unit_names[nd]}"'
        values = builder.values(i, rng, t.markers, times[0])
        id_maps: dict[str, dict[int, int]] = {"user": user_map}
        for key, old in t.markers.items():
            if key in builder.numbers:
                id_maps[key] = {int(old): int(values[key])}
            else:
                texts[old] = values[key]
        new_instance = self.alloc.take("process_instance")
        id_maps["process_instance"] = {t.instance_id: new_instance}
        for info in self.schema:
            rows = t.rows.get(info.name, [])
            if info.pk_id and info.name != "process_instance" and rows:
                first = self.alloc.take(info.name, len(rows))
                id_maps[info.name] = {r["id"]: first + k for k, r in enumerate(rows)}
        id_maps["attachment_id"] = id_maps.get("attachment", {})
        sub = Substitution(texts, id_maps, {"attachment_id": "attachment", **builder.id_keys}, plain)

        t_started = t.rows["process_instance"][0]["started_at"]

        def when(value: dt.datetime | None) -> dt.datetime | None:
            if value is None:
                return None
            if value == t_started:  # the case's start time, copied (a register row's): the clone's
                return times[0]
            j = min(len(times) - 1, max(0, bisect.bisect_right(t.tx_bounds, value) - 1))
            return times[j] + (value - t.tx_start[j])

        # the case's own tables, generically
        for info in self.schema:
            for row in t.rows.get(info.name, []):
                new = dict(row)
                for col in info.user_cols:
                    if new[col] is not None:
                        new[col] = user_map.get(new[col], new[col])
                for col in info.instance_cols:
                    if new[col] is not None:
                        new[col] = new_instance
                for col in info.task_cols:
                    if new[col] is not None:
                        new[col] = id_maps["human_task"][new[col]]
                for col in info.unit_cols:
                    if new[col] is not None:
                        new[col] = unit_map.get(new[col], new[col])
                for col, target in info.own_ref_cols.items():
                    if new[col] is not None:
                        new[col] = id_maps.get(target, {}).get(new[col], new[col])
                if info.pk_id:
                    new["id"] = id_maps[info.name][row["id"]] if info.name != "process_instance" else new_instance
                for col in info.datetime_cols:
                    if col == "due_at" and new[col] is not None and row.get("created_at") is not None:
                        new[col] = when(row["created_at"]) + (row[col] - row["created_at"])  # type: ignore[operator]
                    else:
                        new[col] = when(new[col])
                for col in info.date_cols:
                    if new[col] is not None:
                        new[col] = dt.date.fromisoformat(sub.text(new[col].isoformat()))
                for col in info.text_cols:
                    if isinstance(new[col], str) and col not in ("state", "hash", "prev_hash", "audit_hash",
                                                                  "sha256", "spiff_task_id"):
                        new[col] = sub.text(new[col])
                for col in info.numeric_cols:  # an amount the case's data names
                    if new[col] is not None:
                        new[col] = Decimal(sub.text(str(new[col])))
                for col in info.json_cols:
                    new[col] = sub.json_text(json.dumps(new[col], ensure_ascii=False))
                if info.name == "process_instance":
                    new["state"] = sub.state(row["state"])
                    inst_row = new
                    continue
                out.setdefault(info.name, []).append(tuple(new[c] for c in info.columns))
        # the history, re-chained and re-sealed
        prev = GENESIS
        ev_rows = out.setdefault("audit_event", [])
        ev_first = self.alloc.take("audit_event", len(t.events))
        for k, ev in enumerate(t.events):
            if p.events_plain[k]:
                changes_json, changes = p.events_json[k], ev["changes"]
            else:
                changes_json = sub.json_text(p.events_json[k])
                changes = json.loads(changes_json)
            at = times[t.tx_of_event[k]] + dt.timedelta(microseconds=k)
            digest = None
            if ev["state_digest"] is not None:
                state, status, outcome, definition_id = p.snap_states[ev["seq"]]
                digest = state_digest(_Snap(sub.state(state), status, outcome, definition_id))
            actor = user_map.get(ev["actor_id"], ev["actor_id"]) if ev["actor_id"] is not None else None
            new_ev = _Event(
                instance_id=new_instance, seq=ev["seq"], at=at, actor_id=actor,
                actor_name=self.people.names[actor] if actor is not None else ev["actor_name"],
                type=ev["type"], task_spec=ev["task_spec"], task_name=ev["task_name"],
                human_task_id=id_maps["human_task"][ev["human_task_id"]] if ev["human_task_id"] else None,
                changes=changes, comment=sub.text(ev["comment"]) if ev["comment"] else ev["comment"],
                via=ev["via"], prev_hash=prev, key_id=self.key_id, state_digest=digest)
            new_ev.hash = keyed_hash(new_ev, self.key)  # type: ignore[attr-defined]
            prev = new_ev.hash  # type: ignore[attr-defined]
            ev_rows.append((ev_first + k, new_instance, ev["seq"], at, actor, new_ev.actor_name, ev["type"],
                            ev["task_spec"], ev["task_name"], new_ev.human_task_id, changes_json, new_ev.comment,
                            ev["via"], new_ev.prev_hash, prev, self.key_id, digest))
        inst_row["audit_seq"] = t.events[-1]["seq"]
        inst_row["audit_hash"] = prev
        inst_row["started_at"] = times[0]
        columns = next(i.columns for i in self.schema if i.name == "process_instance")
        out.setdefault("process_instance", []).append(tuple(inst_row[c] for c in columns))
        return inst_row


def _prepare(t: Template, people: People) -> Prepared:
    probes = [f'"{people.names[u]}"' for u in t.cast.values()] + list(t.markers.values()) + \
        [f'"{people.usernames[u]}"' for u in t.cast.values() if t.builder.usernames] + \
        [f'"{k}"' for k in ("attachment_id", *t.builder.id_keys)] + ["@"]
    events_json, plain = [], []
    for ev in t.events:
        text_ = json.dumps(ev["changes"] or {}, ensure_ascii=False)
        events_json.append(text_)
        plain.append(not any(p in text_ for p in probes))
    return Prepared(t, events_json, plain, {}, t.snapshots)


# --- writing -----------------------------------------------------------------------


class Writer:
    """Bulk inserts: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: Any, schema: list[TableInfo]) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.columns = {i.name: i.columns for i in schema}
        self.columns["audit_event"] = ["id", "instance_id", "seq", "at", "actor_id", "actor_name", "type",
                                       "task_spec", "task_name", "human_task_id", "changes", "comment", "via",
                                       "prev_hash", "hash", "key_id", "state_digest"]
        self.infos = {i.name: i for i in schema}
        if not self.pg:
            import sqlite3

            self.conn.execute("PRAGMA synchronous=OFF")
            # as SQLAlchemy stores them: always with microseconds
            sqlite3.register_adapter(dt.datetime, lambda v: v.isoformat(" ", "microseconds"))
            sqlite3.register_adapter(dt.date, lambda v: v.isoformat())
            sqlite3.register_adapter(Decimal, float)  # as SQLAlchemy's Numeric binds them on SQLite


    def write(self, out: dict[str, list[tuple]], order: list[str]) -> None:
        for name in order:
            rows = out.get(name)
            if not rows:
                continue
            cols = self.columns[name]
            info = self.infos.get(name)
            skip_id = info is not None and not info.pk_id and "id" in cols  # let the database number them
            if skip_id:
                idx = cols.index("id")
                cols = cols[:idx] + cols[idx + 1:]
                rows = [r[:idx] + r[idx + 1:] for r in rows]
            quoted = ", ".join(f'"{c}"' for c in cols)
            if self.pg:
                with self.conn.cursor() as cur, cur.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                    for r in rows:
                        copy.write_row(r)
            else:
                marks = ", ".join("?" * len(cols))
                self.conn.executemany(f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})',
                                      rows)
        self.conn.commit()

    def finish(self, tables: list[str]) -> None:
        if self.pg:
            with self.conn.cursor() as cur:
                for name in tables:
                    if "id" in self.columns[name]:
                        cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                    f"(SELECT COALESCE(MAX(id), 1) FROM \"{name}\"))")
                cur.execute("ANALYZE")
            self.conn.commit()
        else:
            self.conn.execute("ANALYZE")
            self.conn.commit()
        self.raw.close()


_WORK: dict[str, Any] = {}  # what the forked cloning workers inherit


def _jobs(plan: list[int], templates: list[Template], schema: list[TableInfo],
          starts: dict[str, int]) -> list[tuple[int, int, list[int], dict[str, int]]]:
    """Chunks of the plan, each with the first ids it may use (so workers need not talk)."""
    jobs = []
    nxt = dict(starts)
    for c in range(0, len(plan), BATCH_CASES):
        chunk = plan[c:c + BATCH_CASES]
        jobs.append((c // BATCH_CASES, c + 1, chunk, dict(nxt)))
        for ti in chunk:
            t = templates[ti]
            nxt["process_instance"] += 1
            nxt["audit_event"] += len(t.events)
            for info in schema:
                if info.pk_id and info.name != "process_instance" and t.rows.get(info.name):
                    nxt[info.name] += len(t.rows[info.name])
    return jobs


def _clone_chunk(job: tuple[int, int, list[int], dict[str, int]]) -> tuple[dict[str, list[tuple]],
                                                                            list[tuple[int, int]]]:
    chunk_no, first, plan, starts = job
    w = _WORK
    cloner = Cloner(w["schema"], w["people"], Allocator(starts), w["key_id"], w["key"], w["now"])
    rng = random.Random(w["seed"] * 1_000_003 + chunk_no)
    out: dict[str, list[tuple]] = {}
    made = []
    for k, ti in enumerate(plan):
        row = cloner.clone(w["prepared"][ti], first + k, rng, out)
        made.append((ti, row["id"]))
    return out, made


# --- the build -------------------------------------------------------------------------


def fresh_app(url: str, audit_key: str = BENCH_AUDIT_KEY) -> Any:
    from webapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": BENCH_SECRET_KEY, "AUDIT_KEY": audit_key})


def _mix(templates: list[Template], per_task: bool) -> list[float]:
    """Each template's weight in the mix of all families: its shape's share within its family, times
    the family's share; with ``per_task``, the family's share is of task rows, not of cases."""
    families: dict[str, list[Template]] = {}
    for t in templates:
        families.setdefault(t.builder.family_key, []).append(t)
    scale: dict[str, float] = {}
    for key, group in families.items():
        total = sum(t.shape.weight for t in group)
        if total <= 0:
            scale[key] = 0.0
            continue
        per_case = sum(t.shape.weight * t.task_count for t in group) / total if per_task else 1.0
        scale[key] = group[0].builder.share / total / max(per_case, 1e-9)
    shares = sum(group[0].builder.share for key, group in families.items() if scale[key])
    return [t.shape.weight * scale[t.builder.family_key] / shares for t in templates]


def _plan(templates: list[Template], task_rows: int, open_cases: int, rng: random.Random) -> Iterator[Template]:
    """Which template each clone copies: the long histories, the open cases, then finished
    cases by weight until the task rows reach ``task_rows`` (families mixed by their shares)."""
    fixed = [t for t in templates if t.shape.fixed_per_million]
    opened = [t for t in templates if t.shape.open and not t.shape.fixed_per_million]
    done = [t for t in templates if not t.shape.open and not t.shape.fixed_per_million]
    tasks = sum(t.task_count for t in templates)
    for t in fixed:
        for _ in range(max(1, round(t.shape.fixed_per_million * task_rows / 1_000_000))):
            tasks += t.task_count
            yield t
    open_weights = _mix(opened, per_task=False)
    for _ in range(open_cases):
        t = rng.choices(opened, open_weights)[0]
        tasks += t.task_count
        yield t
    weights = _mix(done, per_task=True)
    while tasks < task_rows:
        t = rng.choices(done, weights)[0]
        tasks += t.task_count
        yield t


def build(url: str, task_rows: int = 1_000_000, *, users: int = 300, open_cases: int = 400, seed: int = 9,
          audit_key: str = BENCH_AUDIT_KEY, log: Callable[[str], None] = print, workers: int = 2) -> BuildStats:
    """Build the database at ``url`` (empty, or new) to about ``task_rows`` task rows.

    Migrates, deploys ``bpmn/``, seeds the demo branch grown to ``users`` people, runs the
    families' template cases through the engine, then clones them. ``open_cases`` is the open
    work of the branch (it does not grow with the history). ``workers`` processes clone (fork).
    Returns counts and a long case."""
    from sqlalchemy import func, select

    from webapp.migrations_cli import upgrade
    from workflows.branch.demo import seed_demo
    from workflows.cases import definitions
    from workflows.cases.audit import keyring
    from workflows.cases.models import HumanTask, ProcessDefinition, ProcessInstance
    from workflows.db import db
    from workflows.engine.clock import now

    began = time.monotonic()
    rng = random.Random(seed)
    stats = BuildStats(url)
    _load_builders()
    app = fresh_app(url, audit_key)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        definitions.deploy_directory(ROOT / "bpmn")
        db.session.commit()
        seed_demo(with_cases=False)
        add_people(users)
        people = People.load()
        deployed = set(db.session.scalars(select(ProcessDefinition.key).distinct()))
        templates: list[Template] = []
        for builder in FAMILY_BUILDERS.values():
            if builder.process_keys & deployed:
                if builder.prepare is not None:
                    builder.prepare(people)
                templates += _make_templates(builder, people, rng)
        schema = _schema()
        for t in templates:
            _load_rows(t, schema)
        log(f"{len(templates)} template cases through the engine in {time.monotonic() - began:.0f} s")
        key_id, key = keyring().current()
        starts = {}
        for info in schema:
            if info.pk_id:
                table = db.metadata.tables[info.name]
                starts[info.name] = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
        starts["audit_event"] = (db.session.scalar(select(func.max(db.metadata.tables["audit_event"].c.id)))
                                 or 0) + 1
        prepared = [_prepare(t, people) for t in templates]
        order = [i.name for i in schema]
        if "audit_event" not in order:
            order.append("audit_event")
        stats.templates = len(templates)
        plan = [templates.index(t) for t in _plan(templates, task_rows, open_cases, rng)]
        jobs = _jobs(plan, templates, schema, starts)
        _WORK.update(schema=schema, people=people, key_id=key_id, key=key, now=now(), seed=seed, prepared=prepared)
        db.session.remove()
        db.engine.dispose()  # forked workers must not share its connections
        pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
        writer = Writer(db.engine, schema)
        n = 0
        try:
            results = pool.imap(_clone_chunk, jobs) if pool is not None else map(_clone_chunk, jobs)
            for out, made in results:
                for ti, case_id in made:
                    t = templates[ti]
                    stats.by_shape[t.shape.name] = stats.by_shape.get(t.shape.name, 0) + 1
                    if len(t.events) > stats.long_case_events:
                        stats.long_case_events, stats.long_case_id = len(t.events), case_id
                writer.write(out, order)
                n += len(made)
                log(f"  {n} of {len(plan)} cases cloned, {time.monotonic() - began:.0f} s")
        finally:
            if pool is not None:
                pool.close()
                pool.join()
        writer.finish(order)
        stats.cases = db.session.scalar(select(func.count(ProcessInstance.id))) or 0
        stats.open_cases = db.session.scalar(select(func.count(ProcessInstance.id))
                                             .where(ProcessInstance.status == "running")) or 0
        stats.tasks = db.session.scalar(select(func.count(HumanTask.id))) or 0
        stats.events = db.session.scalar(select(func.count(db.metadata.tables["audit_event"].c.id))) or 0
        from workflows.branch.models import User

        stats.users = db.session.scalar(select(func.count(User.id))) or 0
        db.session.remove()
        db.engine.dispose()
    stats.seconds = time.monotonic() - began
    log(stats.line())
    return stats


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Build a big database for the benches (see bench/scale.py).")
    parser.add_argument("url")
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--open", type=int, default=400)
    args = parser.parse_args()
    build(args.url, args.tasks, users=args.users, open_cases=args.open)


if __name__ == "__main__":
    main()
