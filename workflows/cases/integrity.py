"""``flask audit verify``: does the database still tell the story its history signed?

Per case: the keyed chain, the seal on its last event, the checkpoints' heads,
and the tables against the history (status and outcome, who completed and who
holds each task, registry entries, attachment bytes). Then the cases the
checkpoints knew that are gone. ``verify_scan`` reads the cases in batches
(memory bounded by a batch, not the history) over two processes, and decides
which cases an incremental run reads. The report counts every discrepancy and
keeps the first ones of each kind, in case order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import undefer

from workflows import processes
from workflows.cases import checkpoints
from workflows.cases.audit import GENESIS, Keyring, keyring, legacy_hash, state_digest
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.db import db

KINDS = ("chain", "key", "legacy", "seal", "empty", "checkpoint", "status", "task", "registry", "attachment")
log = logging.getLogger(__name__)
KEPT_PER_KIND = 1000  # problems kept in full per kind; the rest are only counted (memory stays bounded)


@dataclass
class VerifyProblem:
    instance_id: int | None
    seq: int | None
    message: str
    kind: str = "chain"


@dataclass
class Report:
    cases: int = 0
    events: int = 0
    tasks: int = 0
    registry: int = 0
    attachments: int = 0
    legacy_events: int = 0
    checkpoint: checkpoints.Checkpoint | None = None
    problems: list[VerifyProblem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # every problem, by kind
    mode: str = "full"  # "full", "incremental" or "case"
    baseline: checkpoints.Checkpoint | None = None  # the verified checkpoint an incremental run started from
    unchanged: int = 0  # cases an incremental run did not read: their head is the baseline's
    fallback: str | None = None  # why a full run ran when an incremental one was asked for
    recorded: checkpoints.Checkpoint | None = None  # the verified checkpoint this run wrote
    workers: int = 1
    seconds: float = 0.0  # the run itself, without starting the command

    @property
    def problem_count(self) -> int:
        return sum(self.counts.values())

    def add(self, kind: str, instance_id: int | None, seq: int | None, message: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.counts[kind] <= KEPT_PER_KIND:
            self.problems.append(VerifyProblem(instance_id, seq, message, kind))

    def merge(self, other: Report) -> None:
        """Add a later part's counts and problems (parts are merged in case order)."""
        for name in ("cases", "events", "tasks", "registry", "attachments", "legacy_events"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        kept = {kind: min(count, KEPT_PER_KIND) for kind, count in self.counts.items()}
        for p in other.problems:
            if kept.get(p.kind, 0) < KEPT_PER_KIND:
                kept[p.kind] = kept.get(p.kind, 0) + 1
                self.problems.append(p)
        for kind, count in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + count

    def first_of_each_kind(self) -> list[tuple[VerifyProblem, int]]:
        """(first problem, how many of its kind), in the order of KINDS."""
        out = []
        for kind in KINDS:
            found = next((p for p in self.problems if p.kind == kind), None)
            if found is not None:
                out.append((found, self.counts.get(kind, 0)))
        return out


def check(instance_id: int | None = None, *, use_checkpoint: bool = True, full: bool = True, workers: int = 1,
          record: bool = False) -> Report:
    """Verify one case, every case (``full``), or only what moved since the latest verified checkpoint.

    ``workers`` processes share the reading; ``record`` appends a verified checkpoint of the heads
    read when nothing was wrong (what the next incremental run starts from).
    """
    from workflows.cases import verify_scan

    return verify_scan.run(instance_id, use_checkpoint=use_checkpoint, full=full, workers=workers, record=record)


def scheduled_full_run(workers: int = 1) -> Report:
    """The sweeper's daily full verify: a clean run moves the verified checkpoint on, a failed one
    is written to the security log and the application log (the first problem of each kind)."""
    from workflows.cases import audit

    report = check(full=True, workers=workers, record=True)
    if report.problem_count:
        found = "; ".join(f"[{p.kind}] ({count}) " + (f"case {p.instance_id}: " if p.instance_id is not None else "")
                          + p.message for p, count in report.first_of_each_kind())
        log.error("audit verify found %d discrepanc(ies): %s", report.problem_count, found)
        audit.security("audit_verify_failed", detail=f"{report.problem_count} discrepanc(ies): {found}"[:4000])
        db.session.commit()
    else:
        log.info("audit verify: %d case(s), %d event(s) intact", report.cases, report.events)
    return report


@dataclass
class CaseData:
    """One case as a batch read it: its row, its history in order, its tasks, attachments and records."""

    inst: Any  # a row with id, version, process_key, definition_id, status, outcome, state, audit_seq, audit_hash
    events: list[Any] = field(default_factory=list)
    tasks: list[Any] = field(default_factory=list)
    attachments: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, name, stored and actual SHA-256
    records: Any = None  # what the family's verify_rows gave for this case


Pin = tuple[int, str, "checkpoints.Checkpoint | None"]  # a head (seq, hash) a checkpoint saw, and which one


def check_case(s: Any, data: CaseData, ring: Keyring, pins: list[Pin], report: Report) -> None:
    """Every check of one case, from what its batch read."""
    inst, events = data.inst, data.events
    report.cases += 1
    report.events += len(events)
    if not events:
        report.add("empty", inst.id, None, f"case {inst.id} has no history at all (wiped)")
    else:
        _check_chain(inst, events, ring, report)
    for seq, hash_, cp in pins:
        _check_against_checkpoint(inst, events, (seq, hash_), report, cp)
    _check_status(inst, events, report)
    _check_tasks(inst, events, data.tasks, report)
    family = processes.family_of(inst.process_key)
    if family is not None and family.verify_records is not None:
        family.verify_records(s, inst, events, report, data.records)
    _check_attachments(inst, events, data.attachments, report)


def _case_ids(s: Any, instance_id: int | None) -> Iterator[int]:
    last = 0
    while True:  # in pages of ids, so no cursor stays open across the per-case queries
        query = select(ProcessInstance.id).where(ProcessInstance.id > last).order_by(ProcessInstance.id).limit(200)
        if instance_id is not None:
            query = query.where(ProcessInstance.id == instance_id)
        ids = list(s.scalars(query))
        if not ids:
            return
        yield from ids
        last = ids[-1]


_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode
_string = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
# the same, for decoded JSON (never circular, so without the circular check): a third cheaper
_acyclic = _c_encoder(None, str, _string, None, ":", ",", True, False, True) if _c_encoder else None


def canonical_json(value: Any) -> str:
    """The canonical JSON (keys sorted, no blanks, UTF-8 as is) of a value decoded from JSON."""
    if _acyclic is None or type(value) is not dict:
        return _encode(value)
    return "".join(_acyclic(value, 0))


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is str:
        return _string(value)
    if type(value) is int:
        return int.__repr__(value)
    return _encode(value)


def event_hash(ev: Any, key: bytes) -> str:
    """``audit.keyed_hash``, written out: the same canonical JSON (keys in sorted order) without building
    and sorting a dict per event, for the millions a full verify reads. tests/test_audit_incremental.py
    checks that both give the same hash."""
    text = signed_text(ev, ev.at.isoformat(timespec="microseconds"), _encode(ev.changes or {}))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_text(ev: Any, at: str, changes: str) -> str:
    """The canonical JSON an event's HMAC covers, given its time (ISO, microseconds) and its changes
    (already canonical JSON). Each value as ``_json`` writes it; strings, ints and nulls, nearly all of
    them, without a call each (millions of events)."""
    s, j, i = _string, _json, int.__repr__
    return (f'{{"actor_id":{i(v) if (v := ev.actor_id).__class__ is int else j(v)},'
            f'"actor_name":{s(v) if (v := ev.actor_name).__class__ is str else j(v)},'
            f'"at":{s(at)},"changes":{changes},'
            f'"comment":{s(v) if (v := ev.comment).__class__ is str else j(v)},'
            f'"human_task_id":{i(v) if (v := ev.human_task_id).__class__ is int else j(v)},'
            f'"instance_id":{i(v) if (v := ev.instance_id).__class__ is int else j(v)},'
            f'"key_id":{s(v) if (v := ev.key_id).__class__ is str else j(v)},'
            f'"prev_hash":{s(v) if (v := ev.prev_hash).__class__ is str else j(v)},'
            f'"seq":{i(v) if (v := ev.seq).__class__ is int else j(v)},'
            f'"state_digest":{s(v) if (v := ev.state_digest).__class__ is str else j(v)},'
            f'"task_name":{s(v) if (v := ev.task_name).__class__ is str else j(v)},'
            f'"task_spec":{s(v) if (v := ev.task_spec).__class__ is str else j(v)},'
            f'"type":{s(v) if (v := ev.type).__class__ is str else j(v)},'
            f'"via":{s(v) if (v := ev.via).__class__ is str else j(v)}}}')


class Mac:
    """HMAC-SHA256 under one key, its two padded key blocks hashed once (RFC 2104): ``hmac.new`` per event
    costs more than the hashing itself."""

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def hexdigest(self, data: bytes) -> str:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_MACS: dict[bytes, Mac] = {}


def mac_for(key: bytes) -> Mac:
    mac = _MACS.get(key)
    if mac is None:
        mac = _MACS[key] = Mac(key)
    return mac


def _hash_of(ev: Any, key: bytes) -> str:
    """The event's keyed hash; a row read by verify (``verify_scan._Event``) brings its time and changes
    already in canonical form."""
    parts = getattr(ev, "signed_parts", None)
    if parts is None:
        return event_hash(ev, key)
    at, changes = parts()
    return mac_for(key).hexdigest(signed_text(ev, at, changes).encode())


def _check_chain(inst: Any, events: list[Any], ring: Keyring, report: Report) -> None:
    prev, expected, keyed_seen, broken = GENESIS, 1, False, False
    for ev in events:
        if ev.seq != expected:
            what = "is missing" if ev.seq > expected else "is out of order or duplicated"
            report.add("chain", inst.id, expected, f"event {expected} {what}")
            broken = True
            break
        if ev.prev_hash != prev:
            report.add("chain", inst.id, ev.seq, f"event {ev.seq} does not follow event {ev.seq - 1}")
            broken = True
            break
        if ev.key_id is None:
            report.legacy_events += 1
            if keyed_seen:
                report.add("chain", inst.id, ev.seq, f"event {ev.seq} ({ev.type}) is unkeyed after keyed events "
                           "(inserted)")
                broken = True
                break
            if legacy_hash(ev) != ev.hash:
                report.add("chain", inst.id, ev.seq, f"event {ev.seq} ({ev.type}) was altered")
                broken = True
                break
        else:
            keyed_seen = True
            key = ring.keys.get(ev.key_id)
            if key is None:
                report.add("key", inst.id, ev.seq, f"event {ev.seq} is signed with key {ev.key_id}, which is not "
                           "configured: it cannot be checked")
            elif _hash_of(ev, key) != ev.hash:
                report.add("chain", inst.id, ev.seq, f"event {ev.seq} ({ev.type}) was altered")
                broken = True
                break
        prev = ev.hash
        expected += 1
    if broken:
        return
    last = events[-1]
    if (inst.audit_seq or 0) != last.seq:
        report.add("chain", inst.id, last.seq + 1,
                   f"event {last.seq + 1} is missing (history ends early: the case's head says {inst.audit_seq})")
    elif (inst.audit_hash or GENESIS) != last.hash:
        report.add("chain", inst.id, last.seq, "the last event does not match the case's recorded head")
    if last.key_id is None:
        report.add("legacy", inst.id, last.seq, "the history predates keyed chains and is not sealed "
                   "(run `flask audit reseal --legacy` once after upgrading)")
    elif last.state_digest is None:
        report.add("seal", inst.id, last.seq, f"the last event ({last.seq}, {last.type}) carries no seal: "
                   "the end of the history was cut off")
    elif last.state_digest != state_digest(inst):
        report.add("seal", inst.id, last.seq, "the case's stored state, status or outcome does not match the seal "
                   f"of its last event ({last.seq})")


def _check_against_checkpoint(inst: Any, events: list[Any], cp_head: tuple[int, str], report: Report,
                              cp: checkpoints.Checkpoint | None = None) -> None:
    seq, hash_ = cp_head
    cp = cp or report.checkpoint
    at = cp.at if cp else "?"
    if seq == 0:
        return
    by_seq = {ev.seq: ev for ev in events}
    if seq not in by_seq:
        report.add("checkpoint", inst.id, seq, f"the history ends before event {seq}, which the checkpoint of {at} "
                   "saw (truncated)")
    elif by_seq[seq].hash != hash_:
        report.add("checkpoint", inst.id, seq, f"event {seq} differs from the one the checkpoint of {at} saw "
                   "(rewritten)")


def new_value(pair: Any) -> Any:
    """The new value of a recorded change ``[old, new]`` (or the value itself)."""
    return pair[1] if isinstance(pair, list) and len(pair) == 2 else pair


def _check_status(inst: Any, events: list[Any], report: Report) -> None:
    ends = [ev for ev in events if ev.type == "case_completed"]
    if inst.status == "completed":
        if not ends:
            report.add("status", inst.id, None, f"the case is stored as completed ({inst.outcome}) but its history "
                       "never completed it")
        elif new_value((ends[-1].changes or {}).get("outcome")) != inst.outcome:
            report.add("status", inst.id, ends[-1].seq, f"the case's stored outcome {inst.outcome!r} differs from "
                       f"the history's {new_value((ends[-1].changes or {}).get('outcome'))!r}")
    elif ends:
        report.add("status", inst.id, ends[-1].seq, f"the history completed the case but its stored status is "
                   f"{inst.status!r}")


def _check_tasks(inst: Any, events: list[Any], tasks: list[Any], report: Report) -> None:
    rows = {t.id: t for t in tasks}
    report.tasks += len(rows)
    completions: dict[int, Any] = {}
    holder: dict[int, int | None] = {}
    for ev in events:
        if ev.human_task_id is None:
            continue
        if ev.type == "task_completed":
            completions[ev.human_task_id] = ev
        elif ev.type == "task_claimed":
            holder[ev.human_task_id] = ev.actor_id
        elif ev.type == "task_released":
            holder[ev.human_task_id] = None
    for task_id, ev in completions.items():
        row = rows.get(task_id)
        if row is None:
            report.add("task", inst.id, ev.seq, f"task {task_id}, completed in event {ev.seq}, is missing")
        elif row.state != "completed":
            report.add("task", inst.id, ev.seq, f"task {task_id} was completed in event {ev.seq} but is stored as "
                       f"{row.state!r}")
        elif row.completed_by_id != ev.actor_id:
            report.add("task", inst.id, ev.seq, f"task {task_id} is stored as completed by user "
                       f"{row.completed_by_id}, but event {ev.seq} says user {ev.actor_id}")
    for row in rows.values():
        if row.state == "completed" and row.id not in completions:
            report.add("task", inst.id, None, f"task {row.id} is stored as completed but its history never "
                       "completed it")
        if row.state == "open" and row.claimed_by_id != holder.get(row.id):
            report.add("task", inst.id, None, f"task {row.id} is stored as held by user {row.claimed_by_id}, "
                       f"but its history says {holder.get(row.id)}")


def _uploads(value: Any) -> list[dict[str, Any]]:
    """The upload references (dicts with an ``attachment_id``) anywhere in a recorded change, in order."""
    found, stack = [], [value]
    while stack:  # a loop that only keeps containers: verify walks every event's changes
        item = stack.pop()
        if type(item) is dict:
            if "attachment_id" in item:
                found.append(item)
            else:
                stack += [v for v in reversed(item.values()) if type(v) is dict or type(v) is list]
        elif type(item) is list:
            stack += [v for v in reversed(item) if type(v) is dict or type(v) is list]
    return found


def _check_attachments(inst: Any, events: list[Any], attachments: list[tuple[int, str, str, str]],
                       report: Report) -> None:
    recorded: dict[int, tuple[str, int]] = {}
    for ev in events:
        if not getattr(ev, "may_upload", True):  # its stored JSON does not even contain the word
            continue
        for ref in _uploads(ev.changes or {}):
            if isinstance(ref.get("attachment_id"), int):
                recorded.setdefault(ref["attachment_id"], (str(ref.get("sha256")), ev.seq))
    for att_id, filename, stored, actual in attachments:
        report.attachments += 1
        if actual != stored:
            report.add("attachment", inst.id, None, f"attachment {att_id} ({filename}): its bytes do not match "
                       "its recorded SHA-256")
        elif att_id not in recorded:
            report.add("attachment", inst.id, None, f"attachment {att_id} ({filename}) is not in the history")
        elif recorded[att_id][0] != stored:
            report.add("attachment", inst.id, recorded[att_id][1], f"attachment {att_id} ({filename}) differs "
                       f"from the one recorded in event {recorded[att_id][1]}")
    for att_id in sorted(set(recorded) - {a[0] for a in attachments}):
        report.add("attachment", inst.id, recorded[att_id][1], f"attachment {att_id}, recorded in event "
                   f"{recorded[att_id][1]}, is missing")


def sha256_of(content: bytes | None) -> str:
    return hashlib.sha256(content or b"").hexdigest()


def reseal_legacy() -> tuple[int, list[VerifyProblem]]:
    """Pin every legacy (unkeyed) history under the audit key by appending a keyed ``audit_sealed`` event.

    The new event's HMAC covers the last legacy hash, hence the whole legacy
    chain, and its seal covers the case's current state. It vouches only for
    what the database holds now: run it once, right after upgrading. A case
    whose plain chain is already broken is not sealed but reported.
    """
    from workflows.cases import audit

    ring = keyring()
    ring.current()  # no key, no reseal
    sealed, refused = 0, []
    for case_id in list(_case_ids(db.session, None)):
        inst = db.session.get(ProcessInstance, case_id, options=[undefer(ProcessInstance.state)])
        if inst is None:
            continue
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == inst.id)
                                    .order_by(AuditEvent.seq, AuditEvent.id)).all()
        if not events or events[-1].key_id is not None:
            db.session.rollback()
            continue
        sub = Report()
        _check_chain(inst, events, ring, sub)
        broken = [p for p in sub.problems if p.kind != "legacy"]
        if broken:
            refused.extend(broken)
            db.session.rollback()
            continue
        audit.record(inst, "audit_sealed", None, via="system",
                     comment="legacy history sealed under the audit key by `flask audit reseal --legacy`")
        db.session.commit()
        sealed += 1
    audit.security("audit_resealed", detail=f"{sealed} legacy case history(ies) sealed, {len(refused)} refused")
    db.session.commit()
    return sealed, refused
