"""The shortcuts that make `flask audit verify` fast must decide exactly what the plain computation decides.

A history row read by verify is hashed from its stored time and changes text without decoding them
when it can; the heads of a checkpoint are packed arrays loaded without recomputing the root; a
verified checkpoint keeps its Merkle levels so the next one updates only what moved; the checkpoint
log is read from its end. Each is compared here with the computation it replaces.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import user
from tests.helpers_audit import cli, counter_step_cases
from tests.processes.ownership.steps import open_task
from workflows.cases import audit, checkpoints, integrity, merkle, verify_scan
from workflows.cases import commands as cases
from workflows.cases.checkpoints import HeadTable
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.db import db

KEY = b"test-audit-secret-0001"


def _row(stored_at: object, stored_changes: object, **fields: object) -> tuple:
    base: dict[str, object] = {"id": 1, "instance_id": 7, "seq": 3, "actor_id": 12, "actor_name": "张三",
                               "type": "task_completed", "task_spec": "Task_X", "task_name": "Review",
                               "human_task_id": 99, "comment": None, "via": "web", "prev_hash": "0" * 64,
                               "hash": "", "key_id": "test-k1", "state_digest": "f" * 64}
    base.update(fields, stored_at=stored_at, stored_changes=stored_changes)
    return tuple(base[name] for name in verify_scan._FIELDS)


TIMES = ["2026-01-02 03:04:05.000006", "2026-01-02 03:04:05", "2026-01-02T03:04:05.000006",
         "2026-W01-5 03:04:05.000006", "2026-02-30 03:04:05.000006", "not a time", "2026-01-02 03:04:05.000006+00:00",
         dt.datetime(2026, 1, 2, 3, 4, 5, 6), dt.datetime(2026, 1, 2, 3, 4, 5)]
CHANGES = ['{"decision": [null, "approve"], "comment": [null, "ok"]}',
           '{"comment":[null,"ok"],"decision":[null,"approve"]}',
           '{"name": [null, "\\u5f20\\u4e09"]}', '{"name":[null,"张三"]}', ' {"a": 1}', '{"a": 1} ', '{"a": 1} x',
           "null", "[]", "0", '""', "{", '{"n": [1.5, 1e16, NaN, 100000000000000000000]}', '{"a": {"b": {"c": []}}}',
           '{"u": [{"attachment_id": 3, "sha256": "ab"}]}']


def test_a_row_is_hashed_as_decoding_it_would() -> None:
    """Every stored form of time and changes: the shortcut's hash is the one of the decoded event, twice
    (the second time from the cache of canonical texts)."""
    for stored_at in TIMES:
        for stored_changes in CHANGES:
            for extra in ({}, {"comment": 'say "hi"\n', "actor_id": None, "state_digest": None}, {"seq": True}):
                ev = verify_scan._Event(_row(stored_at, stored_changes, **extra))
                expected = integrity.event_hash(ev, KEY)  # through the decoded time and changes
                assert integrity._hash_of(ev, KEY) == expected, (stored_at, stored_changes, extra)
                assert integrity._hash_of(ev, KEY) == expected


def test_a_row_signed_by_the_writer_verifies() -> None:
    """A row as SQLite stores what ``audit.record`` wrote: the shortcut gives the writer's hash."""
    at = dt.datetime(2026, 1, 2, 3, 4, 5, 6)
    changes = {"z": [None, "引号 \"q\""], "a": {"n": [1.5, True, None]}}
    orm = AuditEvent(instance_id=7, seq=3, at=at, actor_id=12, actor_name="张三", type="task_completed",
                     task_spec="Task_X", task_name="Review", human_task_id=99, changes=changes, comment=None,
                     via="web", prev_hash="0" * 64, key_id="test-k1", state_digest="f" * 64)
    signed = audit.keyed_hash(orm, KEY)
    ev = verify_scan._Event(_row(str(at), json.dumps(changes)))  # SQLite's text for both
    assert integrity._hash_of(ev, KEY) == signed
    assert verify_scan._Event(_row(str(at), json.dumps({"z": [None, "other"]}))).changes == {"z": [None, "other"]}
    tampered = verify_scan._Event(_row(str(at), json.dumps({**changes, "z": [None, "引号 \"q\" "]})))
    assert integrity._hash_of(tampered, KEY) != signed


def test_the_hmac_with_hashed_pads_is_hmac() -> None:
    import hmac

    for key in (b"k", b"x" * 64, b"y" * 65, KEY):
        for data in (b"", b"abc", b"z" * 1000):
            assert integrity.Mac(key).hexdigest(data) == hmac.new(key, data, hashlib.sha256).hexdigest()


def _hex(rng: random.Random) -> str:
    return hashlib.sha256(str(rng.random()).encode()).hexdigest()


def test_heads_tables_in_bulk_are_the_tables_built_one_by_one() -> None:
    rng = random.Random(5)
    odd = [[(1, 2, _hex(rng)), (3, None, _hex(rng))], [(1, 2, _hex(rng)), (3, 4, "")], [(1, 2, _hex(rng).upper())],
           [(1, 2, None)], [(1, 2, "zz" * 32)], [(1, 2, _hex(rng)[:62] + " a")], [],
           [(i, rng.randint(0, 90), _hex(rng)) for i in range(1, 3000, 3)]]
    for rows in odd:
        assert list(HeadTable.from_rows(rows)) == list(HeadTable((i, s or 0, h or "") for i, s, h in rows)), rows


def test_merkle_levels_updated_from_a_baseline_give_the_root_computed_afresh() -> None:
    """Moved heads, new cases after the old ones, deleted cases, odd sizes: the updated levels are the levels."""
    rng = random.Random(9)
    for trial in range(300):
        ids = sorted(rng.sample(range(1, 400), rng.randint(0, 60)))
        old = HeadTable((i, rng.randint(0, 9), _hex(rng) if rng.random() > .1 else "") for i in ids)
        tree = merkle.levels(old)
        assert merkle.root(tree) == checkpoints.merkle_root(list(old))  # the historical definition
        rows = [(i, s + 1, _hex(rng)) if rng.random() < .15 else (i, s, h) for i, s, h in old]
        if rows and rng.random() < .2:
            del rows[rng.randrange(len(rows))]
        rows += [((rows[-1][0] if rows else 0) + 1 + j, 1, _hex(rng)) for j in range(rng.randint(0, 9))]
        new = HeadTable(rows)
        assert merkle.updated(new, old, tree) == merkle.levels(new), trial
        assert merkle.root(merkle.updated(new, old, tree)) == checkpoints.merkle_root(rows)


@pytest.fixture
def store(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """A checkpoint store of its own (the tests' shared one is left as it was)."""
    before = app.config["AUDIT_CHECKPOINT_DIR"]
    app.config["AUDIT_CHECKPOINT_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["AUDIT_CHECKPOINT_DIR"] = before


def _read_bytes() -> int:
    """Bytes this process has read so far (the kernel's count)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


def test_a_long_checkpoint_log_is_read_only_from_its_end(store: Path) -> None:
    """Years of minutely lines: finding the latest and the verified one, and pruning, read the tail only."""
    rng = random.Random(3)
    heads = [(i, 1, _hex(rng)) for i in range(1, 50)]
    checkpoints.write(heads=heads)
    line = (store / checkpoints.LOG_NAME).read_text().strip()
    with open(store / checkpoints.LOG_NAME, "a", encoding="utf-8") as fh:
        fh.write((line + "\n") * 100_000)  # about 40 MB of old lines
    verified = checkpoints.write(heads=heads[:-1] + [(49, 2, _hex(rng))], verified=True)
    for _ in range(5):
        checkpoints.write(heads=heads, keep=3)
    size = (store / checkpoints.LOG_NAME).stat().st_size
    assert size > 30_000_000
    before = _read_bytes()
    latest = checkpoints.latest()
    found = checkpoints.latest_verified()
    newest = checkpoints.write(heads=heads, keep=3)
    read = _read_bytes() - before
    assert latest is not None and latest.root == newest.root
    assert found == verified and checkpoints.load_heads(verified)[49] == (2, verified_head(verified))
    assert read < 1_000_000, read  # the log is 40 MB


def verified_head(cp: checkpoints.Checkpoint) -> str:
    return checkpoints.load_heads(cp)[49][1]


def test_packed_heads_and_levels_are_checked_when_loaded(store: Path) -> None:
    rng = random.Random(4)
    heads = [(i, i % 7, _hex(rng)) for i in range(1, 300)]
    cp = checkpoints.write(heads=heads, verified=True)
    assert cp.heads_file.endswith(".bin") and cp.tree_file is not None
    assert list(checkpoints.load_table(cp)) == heads
    tree = checkpoints.load_tree(cp)
    assert tree is not None and merkle.root(tree) == cp.root == checkpoints.merkle_root(heads)
    moved = heads[:5] + [(6, 9, _hex(rng))] + heads[6:] + [(400, 1, _hex(rng))]
    nxt = checkpoints.write(heads=moved, verified=True, previous=(checkpoints.load_table(cp), tree))
    assert nxt.root == checkpoints.merkle_root(moved)
    levels = store / nxt.tree_file
    levels.write_bytes(b"\0" + levels.read_bytes()[1:])
    with pytest.raises(checkpoints.CheckpointError, match="Merkle levels .* were altered"):
        checkpoints.load_tree(nxt)
    packed = store / nxt.heads_file
    packed.write_bytes(packed.read_bytes()[:-1] + b"\0")
    with pytest.raises(checkpoints.CheckpointError, match="heads file .* was altered"):
        checkpoints.load_table(nxt)


def test_a_heads_file_of_the_earlier_format_still_loads(store: Path) -> None:
    """Checkpoints written before the packed format (``.json.gz``, root checked on load) keep working."""
    rng = random.Random(6)
    heads = [(i, 2, _hex(rng)) for i in range(1, 40)]
    root = checkpoints.merkle_root(heads)
    payload = gzip.compress(json.dumps([list(h) for h in heads], separators=(",", ":")).encode(), mtime=0)
    (store / "heads").mkdir()
    (store / f"heads/{root}.json.gz").write_bytes(payload)
    key_id, key = audit.keyring().current()
    cp = checkpoints.Checkpoint(at="2026-01-01T00:00:00+00:00", cases=len(heads), root=root, key_id=key_id,
                                heads_file=f"heads/{root}.json.gz", heads_sha256=hashlib.sha256(payload).hexdigest(),
                                sig="", verified=True)
    cp.sig = audit.sign(key, cp.body())
    with open(store / checkpoints.LOG_NAME, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({**cp.body(), "sig": cp.sig}, separators=(",", ":")) + "\n")
    assert checkpoints.latest_verified() == cp and checkpoints.load_tree(cp) is None
    assert list(checkpoints.load_table(cp)) == heads


@pytest.fixture
def new_case() -> Iterator[Callable[[], ProcessInstance]]:
    """Cases waiting at the counter step (its task can be claimed, which appends events)."""
    yield from counter_step_cases()


def test_the_incremental_run_reads_exactly_the_moved_cases_and_updates_the_root(
        app: Flask, new_case: Callable[[], ProcessInstance]) -> None:
    quiet, busy, other = new_case(), new_case(), new_case()
    code, out = cli(app, "audit", "verify", "--full")
    assert code == 0 and "verified checkpoint written" in out, out
    for case in (busy, other):
        cases.claim(open_task(case, "Task_CounterOpening").id, user("counter1"))
    read: list[int] = []
    scan = verify_scan._scan

    def spy(s: object, where: verify_scan.Where, *args: object) -> verify_scan.Part:
        part = scan(s, where, *args)  # type: ignore[arg-type]
        read.extend(part.heads.ids)
        return part

    verify_scan._scan = spy  # type: ignore[assignment]
    try:
        code, out = cli(app, "audit", "verify")
    finally:
        verify_scan._scan = scan  # type: ignore[assignment]
    assert code == 0 and "read 2 case(s) whose head moved" in out, out
    assert sorted(read) == sorted([busy.id, other.id]) and quiet.id not in read
    recorded = checkpoints.latest_verified()
    assert recorded is not None and recorded.tree_file is not None
    assert recorded.root == checkpoints.merkle_root(checkpoints.current_heads())  # updated, not recomputed
    assert checkpoints.load_heads(recorded)[busy.id][0] == db.session.get(ProcessInstance, busy.id).audit_seq
