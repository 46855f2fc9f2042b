"""Signed checkpoints of every case's head, kept outside the database.

A checkpoint is one line appended to ``checkpoints.jsonl`` in the checkpoint
directory: the time, the number of cases, the Merkle root of all heads
(instance id, seq, hash), the name and SHA-256 of the heads file that lists
them (so verify can name a case), and an HMAC over all of it under the audit
key. Heads files are content-addressed (``heads/<root>.json.gz``) and only the
ones referenced by the newest ``keep`` lines are kept; the lines themselves
are never rewritten. Someone who can write the database but not this
directory cannot make an older head disappear unnoticed.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from workflows.cases.audit import Keyring, keyring, sign
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.engine import clock

LOG_NAME = "checkpoints.jsonl"
Head = tuple[int, int, str]


def directory() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_DIR"])


def _leaf(head: Head) -> bytes:
    return hashlib.sha256(b"\x00" + f"{head[0]}:{head[1]}:{head[2]}".encode()).digest()


def merkle_root(heads: list[Head]) -> str:
    """Root over the heads in instance order; an odd node is carried up unchanged."""
    level = [_leaf(h) for h in sorted(heads)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


def current_heads() -> list[Head]:
    """Every case's recorded head, in one statement (one consistent snapshot)."""
    rows = db.session.execute(
        select(ProcessInstance.id, ProcessInstance.audit_seq, ProcessInstance.audit_hash).order_by(ProcessInstance.id)
    ).all()
    return [(r.id, r.audit_seq or 0, r.audit_hash or "") for r in rows]


@dataclass
class Checkpoint:
    at: str
    cases: int
    root: str
    key_id: str
    heads_file: str
    heads_sha256: str
    sig: str

    def body(self) -> dict[str, Any]:
        return {"at": self.at, "cases": self.cases, "root": self.root, "key_id": self.key_id,
                "heads_file": self.heads_file, "heads_sha256": self.heads_sha256}


def write(keep: int | None = None) -> Checkpoint:
    """Append a checkpoint of the database as it is now (and prune unreferenced heads files)."""
    heads = current_heads()
    db.session.rollback()  # end the read snapshot; nothing was written
    key_id, key = keyring().current()
    root = merkle_root(heads)
    folder = directory()
    (folder / "heads").mkdir(parents=True, exist_ok=True)
    payload = gzip.compress(json.dumps([list(h) for h in heads], separators=(",", ":")).encode(), mtime=0)
    name = f"heads/{root}.json.gz"
    target = folder / name
    if not target.exists():
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(payload)
        os.replace(tmp, target)
    cp = Checkpoint(at=clock.now_utc().isoformat(timespec="seconds"), cases=len(heads), root=root,
                    key_id=key_id, heads_file=name, heads_sha256=hashlib.sha256(payload).hexdigest(), sig="")
    cp.sig = sign(key, cp.body())
    line = json.dumps({**cp.body(), "sig": cp.sig}, separators=(",", ":")) + "\n"
    with open(folder / LOG_NAME, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
            _prune(folder, keep if keep is not None else int(current_app.config.get("AUDIT_CHECKPOINT_KEEP", 60)))
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return cp


def _prune(folder: Path, keep: int) -> None:
    lines = (folder / LOG_NAME).read_text("utf-8").splitlines()
    wanted = set()
    for line in lines[-max(keep, 1):]:
        try:
            wanted.add(json.loads(line)["heads_file"])
        except (ValueError, KeyError, TypeError):
            continue
    for path in (folder / "heads").glob("*.json.gz"):
        if f"heads/{path.name}" not in wanted:
            path.unlink(missing_ok=True)


class CheckpointError(Exception):
    """The latest checkpoint cannot be trusted or read."""


def latest() -> Checkpoint | None:
    """The newest checkpoint line, or None when none was ever written."""
    path = directory() / LOG_NAME
    if not path.exists():
        return None
    last = ""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 64 * 1024))
        tail = fh.read().decode("utf-8", "replace").splitlines()
    last = next((line for line in reversed(tail) if line.strip()), "")
    if not last:
        return None
    try:
        data = json.loads(last)
        return Checkpoint(**{k: data[k] for k in ("at", "cases", "root", "key_id", "heads_file", "heads_sha256",
                                                  "sig")})
    except (ValueError, KeyError, TypeError):
        raise CheckpointError("the latest checkpoint line cannot be read") from None


def load_heads(cp: Checkpoint, ring: Keyring | None = None) -> dict[int, tuple[int, str]]:
    """The heads a checkpoint vouches for, after checking its signature, file and root."""
    ring = ring or keyring()
    key = ring.keys.get(cp.key_id)
    if key is None:
        raise CheckpointError(f"the checkpoint of {cp.at} is signed with key {cp.key_id}, which is not configured")
    if sign(key, cp.body()) != cp.sig:
        raise CheckpointError(f"the checkpoint of {cp.at} has a wrong signature (altered)")
    try:
        payload = (directory() / cp.heads_file).read_bytes()
    except OSError:
        raise CheckpointError(f"the heads file of the checkpoint of {cp.at} is missing") from None
    if hashlib.sha256(payload).hexdigest() != cp.heads_sha256:
        raise CheckpointError(f"the heads file of the checkpoint of {cp.at} was altered")
    heads = [(int(h[0]), int(h[1]), str(h[2])) for h in json.loads(gzip.decompress(payload))]
    if merkle_root(heads) != cp.root:
        raise CheckpointError(f"the heads of the checkpoint of {cp.at} do not give its root")
    return {h[0]: (h[1], h[2]) for h in heads}
