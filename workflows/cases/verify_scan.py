"""How ``flask audit verify`` reads the database: in batches, over several processes, and incrementally.

Memory stays bounded by one batch of cases (their rows, histories, tasks and
records; attachment bytes are hashed as they stream) plus the checkpoints'
heads packed in arrays (about 50 bytes a case): never the whole history.
Batches are id ranges handed out to the worker processes one at a time, so
both cores stay busy; the parts are merged in case order, so the report is
the one a single process would write.

Incremental runs (the default of the command) start from the latest
*verified* checkpoint, the heads a clean verify read. Every case whose head
differs from it, or from the latest checkpoint, or that is new, is verified in
full (its whole chain, seal, tables and both checkpoints' heads); every other
case only has its head compared with theirs, in one query. What that does not
see: a change to an old event, a stored state or a table row of a case whose
head did not move since the baseline. The full run (``--full``, and the
sweeper once a day) reads everything.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import multiprocessing
import re
import time
import traceback
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, Text, cast, func, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from workflows import processes
from workflows.cases import checkpoints, merkle
from workflows.cases.audit import Keyring, keyring
from workflows.cases.checkpoints import Checkpoint, CheckpointError, CheckpointKeyUnknown, HeadTable
from workflows.cases.integrity import CaseData, Pin, Report, canonical_json, check_case, sha256_of
from workflows.cases.models import Attachment, AuditEvent, HumanTask, ProcessInstance
from workflows.db import db

BATCH = 250  # cases per batch (an id range, or a list of ids)
PARALLEL_FROM = 100  # fewer cases than this are not worth a second process (a fork costs ~20 ms)
ATTEMPTS = 5  # reads of a case that keeps being written before it is reported as read
Where = tuple[str, Any]  # ("range", (first id, last id)) or ("ids", [ids])

_INSTANCE = (ProcessInstance.id, ProcessInstance.version, ProcessInstance.process_key, ProcessInstance.definition_id,
             ProcessInstance.status, ProcessInstance.outcome, ProcessInstance.state, ProcessInstance.audit_seq,
             ProcessInstance.audit_hash)
# ``at`` comes as the driver gives it (text on SQLite) and ``changes`` as text, both decoded in _Event:
# SQLAlchemy's own SQLite date parsing is a regular expression per row, several times the cost of the rest
# of the row, and the text tells which events may name an upload.
_EVENT = (AuditEvent.id, AuditEvent.instance_id, AuditEvent.seq, type_coerce(AuditEvent.at, String).label("stored_at"),
          AuditEvent.actor_id, AuditEvent.actor_name, AuditEvent.type, AuditEvent.task_spec, AuditEvent.task_name,
          AuditEvent.human_task_id, cast(AuditEvent.changes, Text).label("stored_changes"), AuditEvent.comment,
          AuditEvent.via, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.key_id, AuditEvent.state_digest)


_FIELDS = ("id", "instance_id", "seq", "stored_at", "actor_id", "actor_name", "type", "task_spec", "task_name",
           "human_task_id", "stored_changes", "comment", "via", "prev_hash", "hash", "key_id", "state_digest")
_STORED_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", re.ASCII).fullmatch  # as SQLite keeps it
_scan_json = json.JSONDecoder().scan_once
_UNREAD: Any = object()
CANONICAL_KEPT = 20_000  # stored changes -> canonical JSON, per process (the same few thousand texts recur)
_canonical: dict[Any, str] = {}


class _Event:
    """One history row as plain attributes (a database row's named access costs ten times as much, and
    the checks read every event's fields several times). The time and the changes are decoded only when
    a check asks for them: the hash needs only their canonical text, which a stored text gives directly."""

    __slots__ = (*_FIELDS, "_changes")

    def __init__(self, row: Any) -> None:
        (self.id, self.instance_id, self.seq, self.stored_at, self.actor_id, self.actor_name, self.type,
         self.task_spec, self.task_name, self.human_task_id, self.stored_changes, self.comment, self.via,
         self.prev_hash, self.hash, self.key_id, self.state_digest) = row
        self._changes = _UNREAD

    @property
    def at(self) -> Any:
        at = self.stored_at
        if isinstance(at, str):
            try:
                return dt.datetime.fromisoformat(at)
            except ValueError:
                return _Unreadable(at)
        return at

    @property
    def changes(self) -> Any:
        if self._changes is _UNREAD:
            text = self.stored_changes
            if isinstance(text, str):
                try:
                    self._changes = _decoded(text)
                except ValueError:
                    self._changes = {"unreadable": text}  # its hash cannot match: reported as altered
            else:
                self._changes = text
        return self._changes

    @property
    def may_upload(self) -> bool:
        """False when the stored JSON does not even contain the word ``attachment_id``."""
        text = self.stored_changes
        return not isinstance(text, str) or "attachment_id" in text

    def signed_parts(self) -> tuple[str, str]:
        """The time and the changes as the signed JSON writes them (``integrity.signed_text``): a time
        stored as ``YYYY-MM-DD HH:MM:SS.ffffff`` is that text with a T, which is what parsing and
        writing it out again gives (once it parses); the canonical JSON of a stored changes text is computed once."""
        at = self.stored_at
        if at.__class__ is str and _STORED_TIME(at) and _is_time(at):
            at_text = f"{at[:10]}T{at[11:]}"
        else:
            at_text = self.at.isoformat(timespec="microseconds")
        text = self.stored_changes
        canonical = _canonical.get(text) if text.__class__ is str else None
        if canonical is None:
            canonical = canonical_json(self.changes or {})
            if text.__class__ is str:
                if len(_canonical) >= CANONICAL_KEPT:
                    _canonical.clear()
                _canonical[text] = canonical
        return at_text, canonical


def _is_time(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:  # digits in place, but no such day or hour
        return False
    return True


def _decoded(text: str) -> Any:
    """``json.loads(text)`` (the same value, the same errors) without its wrapper's cost per call."""
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:  # no value right at the start (leading blanks, or no JSON at all)
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


class _Unreadable(str):
    """A stored time that is no time (written behind the app's back): hashed as it is, so it fails the chain."""

    def isoformat(self, timespec: str = "") -> str:
        return str(self)


assert _FIELDS == tuple(column.key for column in _EVENT)  # the order _Event unpacks
_TASK = (HumanTask.id, HumanTask.instance_id, HumanTask.state, HumanTask.completed_by_id, HumanTask.claimed_by_id)


@dataclass
class Pins:
    """The heads the checkpoints saw: the latest one and the verified baseline (when they differ)."""

    tables: list[tuple[HeadTable, Checkpoint]] = field(default_factory=list)

    def of(self, case_id: int) -> list[Pin]:
        out: list[Pin] = []
        for table, cp in self.tables:
            head = table.get(case_id)
            if head is not None and (head[0], head[1]) not in [(p[0], p[1]) for p in out]:
                out.append((head[0], head[1], cp))
        return out


@dataclass
class Part:
    """What one batch found, and the heads of the cases it read."""

    report: Report = field(default_factory=Report)
    heads: HeadTable = field(default_factory=HeadTable)  # packed: a full run keeps every case's


def run(instance_id: int | None, *, use_checkpoint: bool, full: bool, workers: int, record: bool) -> Report:
    """See ``integrity.check``."""
    started = time.monotonic()
    with _quiet_gc():
        report = _run(instance_id, use_checkpoint=use_checkpoint, full=full, workers=workers, record=record)
    report.seconds = time.monotonic() - started
    return report


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Verify makes millions of short-lived, acyclic objects: the cycle collector would rescan the whole
    app's objects every few thousand of them. Freeze what exists (forked workers then also share it
    without copying) and collect rarely. No collection first: a full one over the app's objects costs more
    than an incremental run's reading."""
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(100_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _run(instance_id: int | None, *, use_checkpoint: bool, full: bool, workers: int, record: bool) -> Report:
    ring = keyring()
    report = Report(mode="case" if instance_id is not None else "full" if full else "incremental")
    pins, latest_table, baseline_table = _load_checkpoints(report, ring, use_checkpoint)
    with Session(db.engine) as s:
        if report.mode == "incremental" and baseline_table is None:
            report.mode = "full"
            report.fallback = report.fallback or "no verified checkpoint to start from yet"
        if report.mode == "case":
            assert instance_id is not None
            parts = [_scan(s, ("ids", [instance_id]), ring, pins)]
            current = None
        elif report.mode == "full":
            s.rollback()
            parts = _parallel(_ranges(s), lambda sess, where: _scan(sess, where, ring, pins), workers, report)
            current = None
        else:
            assert baseline_table is not None
            current, changed = _plan(s, baseline_table, latest_table)
            report.unchanged = len(current) - len(changed)
            # batches small enough that every worker gets two: an incremental run's few hundred moved cases
            # would otherwise be one or two batches, all read by one process
            size = min(BATCH, max(25, -(-len(changed) // (2 * max(1, workers)))))
            batches: list[Where] = [("ids", changed[i:i + size]) for i in range(0, len(changed), size)]
            parts = _parallel(batches, lambda sess, where: _scan(sess, where, ring, pins),
                              workers if len(changed) >= PARALLEL_FROM else 1, report)
        s.rollback()
    for part in parts:
        report.merge(part.report)
    checked = HeadTable()
    for part in parts:  # in case order
        checked.extend(part.heads)
        part.heads = HeadTable()
    _report_missing(report, checked if current is None else current, pins, instance_id)
    nothing_moved = current is not None and report.cases == 0 and report.baseline is not None \
        and report.baseline.cases == len(current)  # the baseline still says it all
    if record and report.mode != "case" and use_checkpoint and not report.problem_count and not nothing_moved:
        heads = checked if current is None else _merged(current, checked)
        report.recorded = checkpoints.write(heads=heads, verified=True,
                                              previous=_tree_of(report.baseline, baseline_table))
    return report


def _tree_of(cp: Checkpoint | None, table: HeadTable | None) -> tuple[HeadTable, merkle.Levels] | None:
    """The baseline's heads and Merkle levels, from which the new root is updated rather than recomputed."""
    if cp is None or table is None:
        return None
    try:
        tree = checkpoints.load_tree(cp)
    except CheckpointError:
        return None  # the root is computed in full
    return (table, tree) if tree is not None else None


def _load_checkpoints(report: Report, ring: Keyring, use_checkpoint: bool,
                      ) -> tuple[Pins, HeadTable | None, HeadTable | None]:
    """The latest checkpoint and the verified baseline, checked; problems with them go in the report."""
    pins = Pins()
    if not use_checkpoint:
        report.fallback = "an incremental run needs the checkpoints (--no-checkpoint)"
        return pins, None, None
    latest_table = baseline_table = None
    try:
        report.checkpoint = checkpoints.latest()
        if report.checkpoint is None:
            report.add("checkpoint", None, None, "no checkpoint has been written yet: deleted cases and cut "
                       "histories cannot be detected (run `flask audit checkpoint`)")
        else:
            latest_table = checkpoints.load_table(report.checkpoint, ring)
            pins.tables.append((latest_table, report.checkpoint))
    except CheckpointError as exc:
        report.add("checkpoint", None, None, str(exc))
    try:
        report.baseline = checkpoints.latest_verified()
        if report.baseline is not None:
            same = report.checkpoint is not None and report.checkpoint.heads_sha256 == report.baseline.heads_sha256
            if same and latest_table is not None:
                baseline_table = latest_table
            else:
                baseline_table = checkpoints.load_table(report.baseline, ring)
                pins.tables.append((baseline_table, report.baseline))
    except CheckpointKeyUnknown as exc:  # its key was rotated away: start afresh, nothing was tampered with
        report.baseline, report.fallback = None, f"the verified checkpoint cannot be used: {exc}"
    except CheckpointError as exc:
        report.add("checkpoint", None, None, f"verified checkpoint: {exc}")
        report.baseline, report.fallback = None, "the verified checkpoint cannot be used"
    return pins, latest_table, baseline_table


def _ranges(s: Session) -> list[Where]:
    low, high = s.execute(select(func.min(ProcessInstance.id), func.max(ProcessInstance.id))).one()
    s.rollback()
    if low is None:
        return []
    return [("range", (first, min(first + BATCH - 1, high))) for first in range(low, high + 1, BATCH)]


def _plan(s: Session, baseline: HeadTable, latest: HeadTable | None) -> tuple[HeadTable, list[int]]:
    """Every case's head now (one query, streamed), and the cases whose head is not the checkpoints'."""
    current = HeadTable()
    for page in _heads_now(s):
        current.extend(HeadTable.from_rows(page))
    s.rollback()
    changed = set(_moved(current, baseline))
    if latest is not None and latest is not baseline:
        changed.update(_moved(current, latest))
    return current, sorted(changed)


def _moved(current: HeadTable, old: HeadTable, block: int = 1024) -> Iterator[int]:
    """The cases of ``current`` whose head is not ``old``'s (or that ``old`` lacks). The usual shape, the
    same cases and then new ones, is compared a block of heads at a time (in C): only the blocks that
    differ are looked at case by case."""
    n = len(old)
    if n > len(current) or current.ids[:n] != old.ids:  # cases went missing: case by case
        at_old = _Walker(old)
        for case_id, seq, hash_ in current:
            if at_old.get(case_id) != (seq, hash_):
                yield case_id
        return
    for i in merkle.changed_positions(current, old, block):
        yield current.ids[i]
    yield from current.ids[n:]  # new since


def _heads_now(s: Session, page: int = 20_000) -> Iterator[list[tuple[int, int | None, str | None]]]:
    """Every case's head, in pages of ids (SQLite reads a statement's rows at once: see workflows.db)."""
    last = 0
    conn = s.connection()
    while True:
        rows = _driver_rows(conn, select(ProcessInstance.id, ProcessInstance.audit_seq, ProcessInstance.audit_hash)
                            .where(ProcessInstance.id > last).order_by(ProcessInstance.id).limit(page))
        if not rows:
            return
        yield rows
        last = rows[-1][0]


class _Walker:
    """Looks heads up in a table for ids that only increase (a merge, not a search per case)."""

    def __init__(self, table: HeadTable) -> None:
        self.table, self.i = table, 0

    def get(self, case_id: int) -> tuple[int, str] | None:
        ids = self.table.ids
        while self.i < len(ids) and ids[self.i] < case_id:
            self.i += 1
        if self.i < len(ids) and ids[self.i] == case_id:
            return self.table.seqs[self.i], self.table.hashes[self.i * 33 + 1:(self.i + 1) * 33].hex() \
                if self.table.hashes[self.i * 33] else ""
        return None


def _report_missing(report: Report, present: HeadTable, pins: Pins, only: int | None) -> None:
    """The cases a checkpoint vouched for (or the one asked for) that the database no longer has."""
    gone: dict[int, tuple[int, Checkpoint]] = {}
    there = set(present.ids)
    for table, cp in reversed(pins.tables):  # the latest checkpoint's words win
        for case_id in set(table.ids).difference(there) if only is None else {only} & set(table.ids) - there:
            head = table.get(case_id)
            assert head is not None
            gone[case_id] = (head[0], cp)
    for case_id in sorted(gone):
        seq, cp = gone[case_id]
        report.add("checkpoint", case_id, seq, f"case {case_id} had {seq} event(s) at the checkpoint of {cp.at} "
                   "and is missing from the database")


def _merged(current: HeadTable, checked: HeadTable) -> HeadTable:
    """The heads a clean incremental run vouches for: the unchanged ones and the ones it read."""
    out = HeadTable()
    out.ids, out.seqs, out.hashes = array("q", current.ids), array("q", current.seqs), bytearray(current.hashes)
    for n, case_id in enumerate(checked.ids):
        i = bisect_left(out.ids, case_id)
        if i < len(out.ids) and out.ids[i] == case_id:
            out.seqs[i] = checked.seqs[n]
            out.hashes[i * 33:i * 33 + 33] = checked.hashes[n * 33:n * 33 + 33]
    return out


# --- one batch ------------------------------------------------------------------------------------


def _scan(s: Session, where: Where, ring: Keyring, pins: Pins) -> Part:
    """Check a batch from reads no commit interleaved with (every write moves a case's version), or retry.

    A case written while it is being read would otherwise look cut off or
    mis-sealed; it is read again on its own, and after ``ATTEMPTS`` busy reads
    reported as it was last read.
    """
    found: dict[int, tuple[Report, checkpoints.Head]] = {}
    for attempt in range(ATTEMPTS):
        cases, before = _read(s, where)
        after = _fingerprints(s, where)
        busy = []
        for case_id, data in cases.items():
            if after.get(case_id) != before[case_id] and attempt < ATTEMPTS - 1:
                busy.append(case_id)
                continue
            sub = Report(checkpoint=None)
            check_case(s, data, ring, pins.of(case_id), sub)
            found[case_id] = (sub, (case_id, data.inst.audit_seq or 0, data.inst.audit_hash or ""))
        s.expunge_all()
        s.rollback()
        if not busy:
            break
        where = ("ids", busy)
    part = Part()
    for case_id in sorted(found):
        part.report.merge(found[case_id][0])
        part.heads.append(*found[case_id][1])
    return part


def _where(where: Where, column: Any) -> Any:
    kind, value = where
    return column.between(*value) if kind == "range" else column.in_(value)


def _read(s: Session, where: Where) -> tuple[dict[int, CaseData], dict[int, tuple[int, int]]]:
    """A batch of cases with everything their checks need: one query per table, not per case.

    Plain rows through the session's connection (no ORM objects: millions of events)."""
    cases: dict[int, CaseData] = {}
    conn = s.connection()
    for row in conn.execute(select(*_INSTANCE).where(_where(where, ProcessInstance.id)).order_by(ProcessInstance.id)):
        cases[row.id] = CaseData(row)
    if not cases:
        return cases, {}
    for ev in _driver_rows(conn, select(*_EVENT).where(_where(where, AuditEvent.instance_id))
                           .order_by(AuditEvent.instance_id, AuditEvent.seq, AuditEvent.id)):
        case = cases.get(ev[1])  # instance_id
        if case is not None:
            case.events.append(_Event(ev))
    for task in conn.execute(select(*_TASK).where(_where(where, HumanTask.instance_id))):
        if task.instance_id in cases:
            cases[task.instance_id].tasks.append(task)
    attachments = conn.execute(select(Attachment.id, Attachment.instance_id, Attachment.filename, Attachment.sha256,
                                   Attachment.content).where(_where(where, Attachment.instance_id))
                            .order_by(Attachment.id).execution_options(yield_per=20))
    for att in attachments:  # streamed: only the digest of each file's bytes is kept
        if att.instance_id in cases:
            cases[att.instance_id].attachments.append((att.id, att.filename, att.sha256, sha256_of(att.content)))
    _read_records(s, cases)
    return cases, {case_id: (c.inst.version, c.inst.audit_seq) for case_id, c in cases.items()}


def _driver_rows(conn: Connection, statement: Any) -> list[Any]:
    """A statement's rows as the driver's plain tuples, in the connection's transaction: building
    SQLAlchemy rows costs more than checking them, over millions of events. Only case ids (integers)
    are bound, so they are written into the SQL."""
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _read_records(s: Session, cases: dict[int, CaseData]) -> None:
    by_family: dict[str, tuple[Any, list[int]]] = {}
    for case_id, data in cases.items():
        family = processes.family_of(data.inst.process_key)
        if family is not None and family.verify_rows is not None:
            by_family.setdefault(family.key, (family, []))[1].append(case_id)
    for family, ids in by_family.values():
        rows = family.verify_rows(s, ids)
        for case_id in ids:
            cases[case_id].records = list(rows.get(case_id, []))


def _fingerprints(s: Session, where: Where) -> dict[int, tuple[int, int]]:
    rows = s.connection().execute(select(ProcessInstance.id, ProcessInstance.version, ProcessInstance.audit_seq)
                                  .where(_where(where, ProcessInstance.id)))
    return {r.id: (r.version, r.audit_seq) for r in rows}


# --- several processes ------------------------------------------------------------------------------


def _parallel(items: Sequence[Where], work: Callable[[Session, Where], Part], workers: int,
              report: Report) -> list[Part]:
    """``work`` on every item, shared out to ``workers`` processes (this one included), results in item order.

    The workers are forked (they inherit the app and the checkpoints' heads), each with its own
    database connections, and take the next item from a shared counter, so a slow range does not
    leave the other core idle.
    """
    workers = max(1, min(workers, len(items)))
    report.workers = workers
    if workers == 1:
        return [part for _i, part in _take(items, work, None)]
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("q", 0)
    children = []
    for _n in range(workers - 1):
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(items, work, counter, send), daemon=True)
        child.start()
        send.close()
        children.append((child, receive))
    results = dict(_take(items, work, counter))
    failures = []
    for child, receive in children:
        try:
            status, payload = receive.recv()
        except EOFError:
            status, payload = "error", f"verify worker {child.pid} ended without a result"
        child.join()
        if status == "error":
            failures.append(payload)
        else:
            results.update(payload)
    if failures:
        raise RuntimeError("a verify worker failed:\n" + "\n".join(failures))
    return [results[i] for i in range(len(items))]


def _take(items: Sequence[Where], work: Callable[[Session, Where], Part], counter: Any) -> Iterator[tuple[int, Part]]:
    position = 0
    with db.engine.connect() as conn, _lean(conn), Session(bind=conn) as s:  # one connection for all its batches
        while True:
            if counter is None:
                index = position
                position += 1
            else:
                with counter.get_lock():
                    index = counter.value
                    counter.value += 1
            if index >= len(items):
                return
            yield index, work(s, items[index])


@contextmanager
def _lean(conn: Connection) -> Iterator[None]:
    """On SQLite, read the file without memory-mapping it nor a large page cache: verify reads every page once,
    and mapped pages count as this process's memory. The connection gets its settings back after."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA mmap_size=0")
        conn.exec_driver_sql("PRAGMA cache_size=-8192")
        conn.commit()
    try:
        yield
    finally:
        if sqlite:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA mmap_size=268435456")  # as workflows.db sets them
            conn.exec_driver_sql("PRAGMA cache_size=-65536")
            conn.commit()


def _child(items: Sequence[Where], work: Callable[[Session, Where], Part], counter: Any, send: Any) -> None:
    db.engine.dispose(close=False)  # the parent's connections stay the parent's
    try:
        send.send(("ok", dict(_take(items, work, counter))))
    except BaseException:  # noqa: BLE001 - the parent reports it
        send.send(("error", traceback.format_exc()))
    finally:
        send.close()
