"""The append-only, keyed and sealed case history, and the security log.

Threat: someone who can write to the database but holds neither the audit key
(configuration, never in the database) nor the checkpoint store (files, see
``checkpoints``). So each event's hash is an HMAC under the audit key and
covers the previous event's hash; the last event of every transaction also
carries a digest of the case's state, status and outcome (the *seal*, set by a
``before_commit`` hook, so every write path is covered); checkpoints of every
case's head, kept outside the database, pin what existed at that time.
Verification (``integrity.check``) compares all three, and the tables with the
history. Writes of different cases stay independent: nothing global is locked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from workflows.branch.models import User
from workflows.cases.models import AuditEvent, ProcessInstance, SecurityEvent
from workflows.db import db
from workflows.engine.clock import now

GENESIS = "0" * 64
SEALED_FIELDS = ("definition_id", "status", "outcome", "state")
log = logging.getLogger(__name__)


class AuditKeyMissing(RuntimeError):
    """No audit key is configured: case histories cannot be written or checked."""


# --- keys -----------------------------------------------------------------------


@dataclass(frozen=True)
class Keyring:
    """The current signing key and every key that may still verify old events."""

    current_id: str | None
    keys: dict[str, bytes]

    def current(self) -> tuple[str, bytes]:
        if self.current_id is None:
            raise AuditKeyMissing("no audit key is configured (set AUDIT_KEY or create var/audit_key)")
        return self.current_id, self.keys[self.current_id]


def parse_key(entry: str) -> tuple[str, bytes]:
    """``id:secret``, or a bare secret whose id is derived from it (never the secret itself)."""
    entry = entry.strip()
    if ":" in entry:
        key_id, secret = entry.split(":", 1)
    else:
        key_id, secret = "k" + hashlib.sha256(b"audit-key-id:" + entry.encode()).hexdigest()[:10], entry
    key_id, secret = key_id.strip(), secret.strip()
    if not key_id or len(key_id) > 40 or len(secret) < 16:
        raise AuditKeyMissing("an audit key needs an id of at most 40 characters and a secret of 16 or more")
    return key_id, secret.encode("utf-8")


def keyring_from(current: str | None, old: str | None) -> Keyring:
    keys: dict[str, bytes] = {}
    for entry in (old or "").split(","):
        if entry.strip():
            key_id, secret = parse_key(entry)
            keys[key_id] = secret
    current_id = None
    if current and current.strip():
        current_id, secret = parse_key(current)
        keys[current_id] = secret
    return Keyring(current_id, keys)


def keyring() -> Keyring:
    """The keyring of the running app: AUDIT_KEY signs, AUDIT_KEYS_OLD only verifies."""
    config = current_app.config
    cached = config.get("_AUDIT_KEYRING")
    source = (config.get("AUDIT_KEY"), config.get("AUDIT_KEYS_OLD"))
    if cached is None or cached[0] != source:
        cached = (source, keyring_from(*source))
        config["_AUDIT_KEYRING"] = cached
    return cached[1]


def sign(key: bytes, payload: dict[str, Any]) -> str:
    return hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()


# json.dumps with these options, built once: dumps builds a new encoder on every call (verify hashes millions)
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _canonical(fields: dict[str, Any]) -> bytes:
    return _ENCODER.encode(fields).encode("utf-8")


# --- events -----------------------------------------------------------------------


def _digest(fields: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(fields)).hexdigest()


def _hash_fields(ev: AuditEvent) -> dict[str, Any]:
    return {
        "instance_id": ev.instance_id, "seq": ev.seq, "at": ev.at.isoformat(timespec="microseconds"),
        "actor_id": ev.actor_id, "actor_name": ev.actor_name, "type": ev.type,
        "task_spec": ev.task_spec, "task_name": ev.task_name, "human_task_id": ev.human_task_id,
        "changes": ev.changes or {}, "comment": ev.comment, "via": ev.via, "prev_hash": ev.prev_hash,
    }


def legacy_hash(ev: AuditEvent) -> str:
    """The plain SHA-256 of events written before keyed chains (anyone can recompute it)."""
    return _digest(_hash_fields(ev))


def keyed_hash(ev: AuditEvent, key: bytes) -> str:
    return sign(key, {**_hash_fields(ev), "key_id": ev.key_id, "state_digest": ev.state_digest})


def state_digest(instance: ProcessInstance) -> str:
    """What the seal covers: the case's definition, status, outcome and engine state."""
    state = hashlib.sha256((instance.state or "").encode("utf-8")).hexdigest()
    return _digest({"definition_id": instance.definition_id, "status": instance.status,
                    "outcome": instance.outcome, "state": state})


def record(
    instance: ProcessInstance,
    type_: str,
    actor: User | None,
    *,
    task_spec: str | None = None,
    task_name: str | None = None,
    human_task_id: int | None = None,
    changes: dict[str, Any] | None = None,
    comment: str | None = None,
    via: str = "web",
) -> AuditEvent:
    """Append one event to the instance's chain (in the caller's transaction, sealed at its commit)."""
    key_id, key = keyring().current()
    seq = (instance.audit_seq or 0) + 1
    ev = AuditEvent(
        instance_id=instance.id, seq=seq, at=now(), actor_id=actor.id if actor else None,
        actor_name=actor.full_name if actor else "system", type=type_, task_spec=task_spec,
        task_name=task_name, human_task_id=human_task_id, changes=_jsonable(changes or {}),
        comment=comment, via=via, prev_hash=instance.audit_hash or GENESIS, key_id=key_id,
    )
    ev.hash = keyed_hash(ev, key)
    instance.audit_seq = seq
    instance.audit_hash = ev.hash
    db.session.add(ev)
    db.session.info.setdefault("audit_unsealed", {})[id(instance)] = (instance, ev)
    return ev


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def diff(before: dict[str, Any], after: dict[str, Any], keys: set[str] | None = None) -> dict[str, list[Any]]:
    """Top-level fields whose value changed: {field: [old, new]}."""
    names = keys if keys is not None else set(before) | set(after)
    out: dict[str, list[Any]] = {}
    for key in sorted(names):
        if key.startswith("_"):
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = [old, new]
    return out


# --- the seal -------------------------------------------------------------------------


def _sealed_fields_changed(instance: ProcessInstance) -> bool:
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in SEALED_FIELDS)


def seal(session: Session) -> None:
    """Seal every case this transaction wrote: its last event gets the state digest and is re-signed.

    A case whose sealed fields changed without any event gets a ``state_sealed``
    event, so its history still accounts for every stored state.
    """
    for obj in list(session.dirty):
        if isinstance(obj, ProcessInstance) and id(obj) not in session.info.get("audit_unsealed", {}) \
                and _sealed_fields_changed(obj):
            log.warning("case %s changed without an audit event; sealing it", obj.id)
            record(obj, "state_sealed", None, via="system")
    unsealed = session.info.pop("audit_unsealed", {})
    if not unsealed:
        return
    _key_id, key = keyring().current()
    for instance, ev in unsealed.values():
        if ev.seq != instance.audit_seq:  # pragma: no cover - record() always moves the head
            continue
        ev.state_digest = state_digest(instance)
        ev.hash = keyed_hash(ev, key)
        instance.audit_hash = ev.hash


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop("audit_unsealed", None)


def install() -> None:
    """Hook the seal into every commit of the app's sessions (once)."""
    if not event.contains(Session, "before_commit", seal):
        event.listen(Session, "before_commit", seal)
        event.listen(Session, "after_rollback", _forget)
        event.listen(Session, "after_soft_rollback", _forget)


def security(kind: str, *, user: User | None = None, username: str | None = None, ip: str | None = None,
             detail: str | None = None) -> SecurityEvent:
    """Append to the security log (logins, refused actions)."""
    ev = SecurityEvent(kind=kind, user_id=user.id if user else None,
                       username=username or (user.username if user else None), ip=ip, detail=detail, at=now())
    db.session.add(ev)
    return ev


# --- verification (kept here for callers; the checks live in integrity) ------------


def verify(instance_id: int | None = None) -> list[Any]:
    """Every discrepancy found (see ``integrity.check``)."""
    from workflows.cases.integrity import check

    return check(instance_id).problems
