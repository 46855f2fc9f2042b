"""Signed checkpoints of every case's head, kept outside the database.

A checkpoint is one line appended to ``checkpoints.jsonl`` in the checkpoint
directory: the time, the number of cases, the Merkle root of all heads
(instance id, seq, hash), the name and SHA-256 of the heads file that lists
them (so verify can name a case), and an HMAC over all of it under the audit
key. Heads files are content-addressed (``heads/<root>.bin``: the ids, seqs
and hashes as packed arrays; older checkpoints have
``heads/<root>.json.gz``) and only the ones referenced by the newest ``keep``
lines are kept; the lines themselves are never rewritten, and only the log's
tail is read (it grows by a line a minute for years). Someone who can write the database but not this
directory cannot make an older head disappear unnoticed.

A *verified* checkpoint (``"verified": true`` in its line) is written by a
``flask audit verify`` that found nothing wrong: it lists exactly the heads
that run read and checked, so the next incremental verify starts from it.
Its heads file is kept however many newer lines there are.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from workflows.cases import merkle
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


def merkle_root(heads: Iterable[Head] | HeadTable) -> str:
    """Root over the heads in instance order; an odd node is carried up unchanged."""
    sha = hashlib.sha256
    if isinstance(heads, HeadTable):  # already in order
        return merkle.root(merkle.levels(heads))
    level = [_leaf(h) for h in sorted(heads)]
    if not level:
        return sha(b"").hexdigest()
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
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
    verified: bool = False
    tree_file: str | None = None  # a verified checkpoint's Merkle levels (``merkle``), and their SHA-256
    tree_sha256: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"at": self.at, "cases": self.cases, "root": self.root, "key_id": self.key_id,
                                "heads_file": self.heads_file, "heads_sha256": self.heads_sha256}
        if self.verified:  # only then, so the lines written before verified checkpoints keep their signature
            body["verified"] = True
        if self.tree_file is not None:
            body["tree_file"], body["tree_sha256"] = self.tree_file, self.tree_sha256
        return body


def write(keep: int | None = None, *, heads: Iterable[Head] | HeadTable | None = None,
          verified: bool = False, previous: tuple[HeadTable, merkle.Levels] | None = None) -> Checkpoint:
    """Append a checkpoint of the database as it is now, or of the given (verified) heads, and prune
    unreferenced heads files. A verified one also keeps its Merkle levels, updated from ``previous``
    (an earlier table and its levels) when given."""
    if heads is None:
        heads = current_heads()
        db.session.rollback()  # end the read snapshot; nothing was written
    table = heads if isinstance(heads, HeadTable) else HeadTable.from_rows(sorted(heads))
    key_id, key = keyring().current()
    tree = (merkle.updated(table, *previous) if previous else merkle.levels(table)) if verified else None
    root = merkle.root(tree) if tree is not None else merkle_root(table)
    folder = directory()
    (folder / "heads").mkdir(parents=True, exist_ok=True)
    payload = _heads_payload(table)
    name = f"heads/{root}.bin"
    _store(folder / name, payload)
    tree_file = tree_sha256 = None
    if tree is not None:
        levels = b"".join(tree)
        tree_file, tree_sha256 = f"heads/{root}.tree", hashlib.sha256(levels).hexdigest()
        _store(folder / tree_file, levels)
    cp = Checkpoint(at=clock.now_utc().isoformat(timespec="seconds"), cases=len(table), root=root,
                    key_id=key_id, heads_file=name, heads_sha256=hashlib.sha256(payload).hexdigest(), sig="",
                    verified=verified, tree_file=tree_file, tree_sha256=tree_sha256)
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


def _store(target: Path, payload: bytes) -> None:
    """Content-addressed: a file already there holds the same bytes."""
    if not target.exists():
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(payload)
        os.replace(tmp, target)


def _prune(folder: Path, keep: int) -> None:
    """Keep the heads files of the newest ``keep`` lines and of the latest verified one (read from the log's
    end: never the whole log)."""
    wanted, seen, verified = set(), 0, None
    for line in _lines_backwards(folder / LOG_NAME):
        if seen < max(keep, 1):
            seen += 1
            try:
                wanted.add(json.loads(line)["heads_file"])
            except (ValueError, KeyError, TypeError):
                pass
        if verified is None and '"verified":true' in line and (cp := _parse(line)) is not None and cp.verified:
            verified = cp  # the newest one
        if verified is not None and seen >= max(keep, 1):
            break
    if verified is not None:
        wanted.update({verified.heads_file, verified.tree_file})  # the next incremental verify starts from it
    for path in (folder / "heads").iterdir():
        if path.name.endswith((".json.gz", ".bin", ".tree")) and f"heads/{path.name}" not in wanted:
            path.unlink(missing_ok=True)


class CheckpointError(Exception):
    """The latest checkpoint cannot be trusted or read."""


class CheckpointKeyUnknown(CheckpointError):
    """The checkpoint is signed with a key that is no longer configured (rotated away)."""


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
    cp = _parse(last)
    if cp is None:
        raise CheckpointError("the latest checkpoint line cannot be read")
    return cp


def _parse(line: str) -> Checkpoint | None:
    try:
        data = json.loads(line)
        return Checkpoint(**{k: data[k] for k in ("at", "cases", "root", "key_id", "heads_file", "heads_sha256",
                                                  "sig")}, verified=data.get("verified") is True,
                          tree_file=data.get("tree_file"), tree_sha256=data.get("tree_sha256"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _lines_backwards(path: Path, block: int = 64 * 1024) -> Iterator[str]:
    """The log's lines, newest first, read in blocks from the end (the log only grows)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        pos, rest = fh.tell(), b""
        while pos > 0:
            step = min(block, pos)
            pos -= step
            fh.seek(pos)
            parts = (fh.read(step) + rest).split(b"\n")
            rest = parts[0]
            for part in reversed(parts[1:]):
                if part.strip():
                    yield part.decode("utf-8", "replace")
        if rest.strip():
            yield rest.decode("utf-8", "replace")


def latest_verified() -> Checkpoint | None:
    """The newest checkpoint a verify wrote after finding nothing wrong (its signature is checked on load)."""
    path = directory() / LOG_NAME
    if not path.exists():
        return None
    for line in _lines_backwards(path):
        cp = _parse(line) if '"verified":true' in line else None
        if cp is not None and cp.verified:
            return cp
    return None


def load_heads(cp: Checkpoint, ring: Keyring | None = None) -> dict[int, tuple[int, str]]:
    """The heads a checkpoint vouches for, after checking its signature and file."""
    return {case_id: (seq, hash_) for case_id, seq, hash_ in load_table(cp, ring)}


def load_table(cp: Checkpoint, ring: Keyring | None = None) -> HeadTable:
    """The heads a checkpoint vouches for, in case order, after checking its signature and its heads file.

    The signed line holds the heads file's SHA-256 next to the root, both written by the holder of the
    key at the same moment: a file with that digest is the one the root was computed from, so the
    root is not recomputed here (a second per case, at a million cases). Heads files written before the
    packed format (``.json.gz``) have their root checked as they always had.
    """
    ring = ring or keyring()
    key = ring.keys.get(cp.key_id)
    if key is None:
        raise CheckpointKeyUnknown(f"the checkpoint of {cp.at} is signed with key {cp.key_id}, which is not "
                                   "configured")
    if sign(key, cp.body()) != cp.sig:
        raise CheckpointError(f"the checkpoint of {cp.at} has a wrong signature (altered)")
    try:
        payload = (directory() / cp.heads_file).read_bytes()
    except OSError:
        raise CheckpointError(f"the heads file of the checkpoint of {cp.at} is missing") from None
    if hashlib.sha256(payload).hexdigest() != cp.heads_sha256:
        raise CheckpointError(f"the heads file of the checkpoint of {cp.at} was altered")
    if cp.heads_file.endswith(".bin"):
        try:
            return _heads_from_payload(payload, cp.cases)
        except ValueError:  # pragma: no cover - a signed digest over a malformed file: the writer's bug
            raise CheckpointError(f"the heads file of the checkpoint of {cp.at} cannot be read") from None
    heads = sorted((int(h[0]), int(h[1]), str(h[2])) for h in json.loads(gzip.decompress(payload)))
    if merkle_root(heads) != cp.root:
        raise CheckpointError(f"the heads of the checkpoint of {cp.at} do not give its root")
    return HeadTable(heads)


def load_tree(cp: Checkpoint, ring: Keyring | None = None) -> merkle.Levels | None:
    """A verified checkpoint's Merkle levels (None when it has none), after checking its signature and
    their digest, and that they end in its root."""
    if cp.tree_file is None or cp.tree_sha256 is None:
        return None
    ring = ring or keyring()
    key = ring.keys.get(cp.key_id)
    if key is None or sign(key, cp.body()) != cp.sig:
        raise CheckpointError(f"the checkpoint of {cp.at} has a wrong signature (altered)")
    try:
        levels = (directory() / cp.tree_file).read_bytes()
    except OSError:
        raise CheckpointError(f"the Merkle levels of the checkpoint of {cp.at} are missing") from None
    if hashlib.sha256(levels).hexdigest() != cp.tree_sha256:
        raise CheckpointError(f"the Merkle levels of the checkpoint of {cp.at} were altered")
    tree, at, count = [], 0, cp.cases
    while True:
        tree.append(levels[at:at + 32 * count])
        at += 32 * count
        if count <= 1:
            break
        count = (count + 1) // 2
    if at != len(levels) or merkle.root(tree) != cp.root:
        raise CheckpointError(f"the Merkle levels of the checkpoint of {cp.at} do not give its root")
    return tree


_MAGIC = b"cpheads1"


def _heads_payload(table: HeadTable) -> bytes:
    """ids and seqs (little-endian int64 arrays), then the packed hashes (33 bytes a case)."""
    ids, seqs = array("q", table.ids), array("q", table.seqs)
    if sys.byteorder != "little":  # pragma: no cover - the file is the same on every machine
        ids.byteswap()
        seqs.byteswap()
    raw = _MAGIC + len(table).to_bytes(8, "little") + ids.tobytes() + seqs.tobytes() + bytes(table.hashes)
    return raw


def _heads_from_payload(payload: bytes, cases: int) -> HeadTable:
    raw = payload
    count = int.from_bytes(raw[8:16], "little")
    if raw[:8] != _MAGIC or count != cases or len(raw) != 16 + count * (8 + 8 + 33):
        raise ValueError("not a heads file")
    table = HeadTable()
    table.ids.frombytes(raw[16:16 + 8 * count])
    table.seqs.frombytes(raw[16 + 8 * count:16 + 16 * count])
    if sys.byteorder != "little":  # pragma: no cover
        table.ids.byteswap()
        table.seqs.byteswap()
    table.hashes = bytearray(raw[16 + 16 * count:])
    return table


class HeadTable:
    """Heads sorted by case id, packed in three arrays (about 50 bytes a case, and no per-case objects,
    so forked verify workers share it without copying it)."""

    def __init__(self, heads: Iterable[Head] = ()) -> None:
        self.ids, self.seqs, self.hashes = array("q"), array("q"), bytearray()
        for case_id, seq, hash_ in heads:
            self.append(case_id, seq, hash_)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[int, int | None, str | None]]) -> HeadTable:
        """A table of (id, seq, hash) rows in id order, as ``append`` would make it: when every seq is set and
        every hash a 64-digit lowercase hex digest (always, unless someone wrote the table by hand), in a
        few C calls rather than a few per case."""
        table, n = cls(), len(rows)
        if not n:
            return table
        hashes = [r[2] for r in rows]
        try:
            if set(map(len, hashes)) != {64}:
                raise ValueError("not all digests")
            joined = "".join(hashes)
            raw = bytes.fromhex(joined)
            if len(raw) != 32 * n or joined != joined.lower():
                raise ValueError("not all digests")
            table.ids, table.seqs = array("q", [r[0] for r in rows]), array("q", [r[1] for r in rows])
        except (TypeError, ValueError):  # an empty head, a seq of None, a hash that is no digest: one by one
            for case_id, seq, hash_ in rows:
                table.append(case_id, seq or 0, hash_ or "")
            return table
        packed = bytearray(33 * n)
        packed[0::33] = b"\x01" * n
        for j in range(32):  # byte j of every digest, in one strided copy
            packed[1 + j::33] = raw[j::32]
        table.hashes = packed
        return table

    def append(self, case_id: int, seq: int, hash_: str) -> None:
        """Add a head; ids must come in increasing order."""
        self.ids.append(case_id)
        self.seqs.append(seq)
        self.hashes += _packed(hash_)

    def extend(self, other: HeadTable) -> None:
        """Add a table whose ids all follow this one's."""
        self.ids.extend(other.ids)
        self.seqs.extend(other.seqs)
        self.hashes += other.hashes

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, case_id: object) -> bool:
        return isinstance(case_id, int) and self.get(case_id) is not None

    def get(self, case_id: int) -> tuple[int, str] | None:
        i = bisect_left(self.ids, case_id)
        if i == len(self.ids) or self.ids[i] != case_id:
            return None
        return self.seqs[i], _unpacked(self.hashes[i * 33:(i + 1) * 33])

    def __iter__(self) -> Iterator[Head]:
        for i, case_id in enumerate(self.ids):
            yield case_id, self.seqs[i], _unpacked(self.hashes[i * 33:(i + 1) * 33])


def _packed(hash_: str) -> bytes:
    """A 64-hex hash as 33 bytes (flag + digest); anything else (an empty head) as a zero flag."""
    try:
        raw = bytes.fromhex(hash_)
    except ValueError:
        raw = b""
    return b"\x01" + raw if len(raw) == 32 and raw.hex() == hash_ else b"\x00" * 33


def _unpacked(packed: bytes | bytearray) -> str:
    return bytes(packed[1:]).hex() if packed[0] else ""
