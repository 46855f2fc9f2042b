"""``flask audit verify``: does the database still tell the story its history signed?

Per case (streamed one at a time, so memory stays bounded by the largest case):
the keyed chain, the seal on its last event, the latest checkpoint's head, and
the tables against the history (status and outcome, who completed and who
holds each task, registry entries, attachment bytes). Then the cases the
checkpoint knew that are gone. Every discrepancy is kept; the report names
the first of each kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from workflows import processes
from workflows.cases import checkpoints
from workflows.cases.audit import GENESIS, Keyring, keyed_hash, keyring, legacy_hash, state_digest
from workflows.cases.models import Attachment, AuditEvent, HumanTask, ProcessInstance
from workflows.db import db

KINDS = ("chain", "key", "legacy", "seal", "empty", "checkpoint", "status", "task", "registry", "attachment")


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

    def add(self, kind: str, instance_id: int | None, seq: int | None, message: str) -> None:
        self.problems.append(VerifyProblem(instance_id, seq, message, kind))

    def merge(self, other: Report) -> None:
        for name in ("cases", "events", "tasks", "registry", "attachments", "legacy_events"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)

    def first_of_each_kind(self) -> list[tuple[VerifyProblem, int]]:
        """(first problem, how many of its kind), in the order of KINDS."""
        out = []
        for kind in KINDS:
            found = [p for p in self.problems if p.kind == kind]
            if found:
                out.append((found[0], len(found)))
        return out


def check(instance_id: int | None = None, *, use_checkpoint: bool = True) -> Report:
    """Verify every case (or one), against the latest checkpoint when there is one."""
    ring = keyring()
    report = Report()
    cp_heads: dict[int, tuple[int, str]] | None = None
    if use_checkpoint:
        try:
            report.checkpoint = checkpoints.latest()
            if report.checkpoint is not None:
                cp_heads = checkpoints.load_heads(report.checkpoint, ring)
            else:
                report.add("checkpoint", None, None, "no checkpoint has been written yet: deleted cases and cut "
                           "histories cannot be detected (run `flask audit checkpoint`)")
        except checkpoints.CheckpointError as exc:
            report.add("checkpoint", None, None, str(exc))
    seen: set[int] = set()
    with Session(db.engine) as s:  # its own session: the caller's objects stay as they were
        for case_id in _case_ids(s, instance_id):
            found = _check_case_steadily(s, case_id, ring, report.checkpoint,
                                         cp_heads.get(case_id) if cp_heads else None)
            if found is not None:
                seen.add(case_id)
                report.merge(found)
    if cp_heads:
        wanted = cp_heads if instance_id is None else {k: v for k, v in cp_heads.items() if k == instance_id}
        for gone in sorted(set(wanted) - seen):
            seq = wanted[gone][0]
            report.add("checkpoint", gone, seq, f"case {gone} had {seq} event(s) at the checkpoint of "
                       f"{report.checkpoint.at if report.checkpoint else '?'} and is missing from the database")
    return report


def _case_ids(s: Session, instance_id: int | None) -> Iterator[int]:
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


def _fingerprint(s: Session, case_id: int) -> tuple[int, int] | None:
    row = s.execute(select(ProcessInstance.version, ProcessInstance.audit_seq)
                    .where(ProcessInstance.id == case_id)).first()
    return (row[0], row[1]) if row is not None else None


def _check_case_steadily(s: Session, case_id: int, ring: Keyring, cp: checkpoints.Checkpoint | None,
                         cp_head: tuple[int, str] | None) -> Report | None:
    """Check one case from reads no commit interleaved with (every write moves its version), or retry.

    A case written while it is being read would otherwise look cut off or
    mis-sealed. After five busy attempts the last one is reported as it is.
    """
    sub = Report(checkpoint=cp)
    for _attempt in range(5):
        before = _fingerprint(s, case_id)
        if before is None:
            return None  # gone (the checkpoint comparison reports it)
        sub = Report(checkpoint=cp, cases=1)
        inst = s.get(ProcessInstance, case_id, options=[undefer(ProcessInstance.state)])
        assert inst is not None
        _check_case(s, inst, ring, sub, cp_head)
        after = _fingerprint(s, case_id)
        s.expunge_all()  # memory bounded by one case; the next attempt reads afresh
        s.rollback()
        if after == before:
            break
    return sub


def _check_case(s: Session, inst: ProcessInstance, ring: Keyring, report: Report,
                cp_head: tuple[int, str] | None) -> None:
    events = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == inst.id)
                       .order_by(AuditEvent.seq, AuditEvent.id)).all()
    report.events += len(events)
    if not events:
        report.add("empty", inst.id, None, f"case {inst.id} has no history at all (wiped)")
    else:
        _check_chain(inst, events, ring, report)
    if cp_head is not None:
        _check_against_checkpoint(inst, events, cp_head, report)
    _check_tables(s, inst, events, report)


def _check_chain(inst: ProcessInstance, events: list[AuditEvent], ring: Keyring, report: Report) -> None:
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
            elif keyed_hash(ev, key) != ev.hash:
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


def _check_against_checkpoint(inst: ProcessInstance, events: list[AuditEvent], cp_head: tuple[int, str],
                              report: Report) -> None:
    seq, hash_ = cp_head
    at = report.checkpoint.at if report.checkpoint else "?"
    by_seq = {ev.seq: ev for ev in events}
    if seq == 0:
        return
    if seq not in by_seq:
        report.add("checkpoint", inst.id, seq, f"the history ends before event {seq}, which the checkpoint of {at} "
                   "saw (truncated)")
    elif by_seq[seq].hash != hash_:
        report.add("checkpoint", inst.id, seq, f"event {seq} differs from the one the checkpoint of {at} saw "
                   "(rewritten)")


def _check_tables(s: Session, inst: ProcessInstance, events: list[AuditEvent], report: Report) -> None:
    _check_status(inst, events, report)
    _check_tasks(s, inst, events, report)
    family = processes.family_of(inst.process_key)
    if family is not None and family.verify_records is not None:
        family.verify_records(s, inst, events, report)
    _check_attachments(s, inst, events, report)


def new_value(pair: Any) -> Any:
    """The new value of a recorded change ``[old, new]`` (or the value itself)."""
    return pair[1] if isinstance(pair, list) and len(pair) == 2 else pair


def _check_status(inst: ProcessInstance, events: list[AuditEvent], report: Report) -> None:
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


def _check_tasks(s: Session, inst: ProcessInstance, events: list[AuditEvent], report: Report) -> None:
    rows = {t.id: t for t in s.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id))}
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


def _uploads(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "attachment_id" in value:
            yield value
        else:
            for item in value.values():
                yield from _uploads(item)
    elif isinstance(value, list):
        for item in value:
            yield from _uploads(item)


def _check_attachments(s: Session, inst: ProcessInstance, events: list[AuditEvent], report: Report) -> None:
    recorded: dict[int, tuple[str, int]] = {}
    for ev in events:
        for ref in _uploads(ev.changes or {}):
            if isinstance(ref.get("attachment_id"), int):
                recorded.setdefault(ref["attachment_id"], (str(ref.get("sha256")), ev.seq))
    ids = list(s.scalars(select(Attachment.id).where(Attachment.instance_id == inst.id)
                                  .order_by(Attachment.id)))
    for att_id in ids:
        att = s.get(Attachment, att_id)
        assert att is not None
        report.attachments += 1
        actual = hashlib.sha256(att.content or b"").hexdigest()
        if actual != att.sha256:
            report.add("attachment", inst.id, None, f"attachment {att_id} ({att.filename}): its bytes do not match "
                       "its recorded SHA-256")
        elif att_id not in recorded:
            report.add("attachment", inst.id, None, f"attachment {att_id} ({att.filename}) is not in the history")
        elif recorded[att_id][0] != att.sha256:
            report.add("attachment", inst.id, recorded[att_id][1], f"attachment {att_id} ({att.filename}) differs "
                       f"from the one recorded in event {recorded[att_id][1]}")
        s.expunge(att)
    for att_id in sorted(set(recorded) - set(ids)):
        report.add("attachment", inst.id, recorded[att_id][1], f"attachment {att_id}, recorded in event "
                   f"{recorded[att_id][1]}, is missing")


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
