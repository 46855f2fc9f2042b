"""`flask audit verify` reads only what moved since the latest verified checkpoint; `--full` reads all.

What the incremental run guarantees (README, "Audit trail"): every case whose head moved since the
baseline, or that is new, is verified in full (its old events too); every other case's head must be
the baseline's and the latest checkpoint's, and no case they knew may be gone. A change to an old
event or a table row of a case whose head did not move is left to the full run (the sweeper's daily
one, or `--full`): the last test here shows both sides of that line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import user
from tests.helpers_audit import cli, counter_step_cases, delete_case, sql
from tests.processes.ownership.steps import open_task
from workflows.cases import audit, checkpoints, integrity, verify_scan
from workflows.cases import commands as cases
from workflows.cases.models import AuditEvent, ProcessInstance, SecurityEvent
from workflows.db import db

Factory = Callable[[], ProcessInstance]


@pytest.fixture
def new_case() -> Iterator[Factory]:
    """Cases waiting at the counter step (its task can be claimed, which appends events)."""
    yield from counter_step_cases()


def full_run(app: Flask) -> str:
    code, out = cli(app, "audit", "verify", "--full")
    assert code == 0 and "mode: full" in out and "verified checkpoint written" in out, out
    return out


def move(case: ProcessInstance) -> None:
    """New events on the case: its counter task claimed (a transaction of its own, sealed)."""
    cases.claim(open_task(case, "Task_CounterOpening").id, user("counter1"))


def first_event(case: ProcessInstance) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == case.id)
                              .order_by(AuditEvent.seq)).first()


def test_incremental_run_reads_only_the_cases_whose_head_moved(app: Flask, new_case: Factory) -> None:
    quiet, busy = new_case(), new_case()
    full_run(app)
    baseline = checkpoints.latest_verified()
    assert baseline is not None and baseline.verified and quiet.id in checkpoints.load_heads(baseline)
    move(busy)
    code, out = cli(app, "audit", "verify")
    assert code == 0 and "audit trail intact" in out, out
    assert out.splitlines()[0].startswith("checked 1 case(s)")
    assert f"mode: incremental from the verified checkpoint of {baseline.at}: read 1 case(s)" in out
    after = checkpoints.latest_verified()
    assert after is not None and after.root != baseline.root  # the next run starts from the moved head
    heads = checkpoints.load_heads(after)
    assert heads[busy.id][0] == db.session.get(ProcessInstance, busy.id).audit_seq
    code, out = cli(app, "audit", "verify")
    assert code == 0 and out.splitlines()[0].startswith("checked 0 case(s)"), out


def test_a_case_that_moved_is_read_whole_so_an_old_edit_is_caught(app: Flask, new_case: Factory) -> None:
    case = new_case()
    full_run(app)
    sql("UPDATE audit_event SET comment = 'edited' WHERE id = :i", i=first_event(case).id)
    move(case)
    code, out = cli(app, "audit", "verify")
    assert code == 1 and "mode: incremental" in out and "event 1 (case_started) was altered" in out, out
    before = checkpoints.latest_verified()
    code, out = cli(app, "audit", "verify")  # a failed run moves no baseline: the problem is reported again
    assert code == 1 and "event 1 (case_started) was altered" in out, out
    assert checkpoints.latest_verified() == before


def test_a_cut_or_deleted_case_is_caught_though_nothing_new_was_written(app: Flask, new_case: Factory) -> None:
    cut, gone = new_case(), new_case()
    move(cut)
    full_run(app)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == cut.id)
                                .order_by(AuditEvent.seq)).all()
    (last_id, last_seq), (before_seq, before_hash) = (events[-1].id, events[-1].seq), (events[-2].seq, events[-2].hash)
    sql("DELETE FROM audit_event WHERE id = :i", i=last_id)
    sql("UPDATE process_instance SET audit_seq = :s, audit_hash = :h WHERE id = :i", s=before_seq, h=before_hash,
        i=cut.id)
    gone_id, gone_seq = gone.id, gone.audit_seq
    delete_case(gone_id)
    code, out = cli(app, "audit", "checkpoint")  # the sweeper's next checkpoint sees the cut database
    code, out = cli(app, "audit", "verify")
    assert code == 1 and "mode: incremental" in out, out
    assert f"ends before event {last_seq}" in out  # the verified checkpoint saw the cut event
    report = integrity.check(full=False)
    assert report.mode == "incremental" and report.cases == 1  # only the cut case moved
    assert any(p.instance_id == gone_id and f"had {gone_seq} event(s) at the checkpoint" in p.message
               and "missing from the database" in p.message for p in report.problems)


def test_what_the_incremental_run_does_not_read_the_full_run_does(app: Flask, new_case: Factory) -> None:
    """An old event and a stored state of a case whose head did not move: only `--full` reads them."""
    case = new_case()
    full_run(app)
    sql("UPDATE audit_event SET comment = 'edited' WHERE id = :i", i=first_event(case).id)
    sql("UPDATE process_instance SET status = 'completed' WHERE id = :i", i=case.id)
    code, out = cli(app, "audit", "verify")
    assert code == 0 and "mode: incremental" in out and "were not re-read (run with --full" in out, out
    code, out = cli(app, "audit", "verify", "--full")
    assert code == 1 and "mode: full" in out, out
    assert "event 1 (case_started) was altered" in out and "history never completed it" in out


def test_two_processes_report_what_one_does(app: Flask, new_case: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = new_case(), new_case()
    sql("UPDATE audit_event SET comment = 'edited' WHERE id = :i", i=first_event(first).id)
    sql("UPDATE process_instance SET status = 'completed' WHERE id = :i", i=second.id)
    monkeypatch.setattr(verify_scan, "BATCH", 1)  # a batch per case, so both processes get some
    one = integrity.check(full=True, workers=1)
    two = integrity.check(full=True, workers=2)
    assert two.workers == 2 and one.workers == 1
    assert [(p.instance_id, p.seq, p.kind, p.message) for p in two.problems] == \
        [(p.instance_id, p.seq, p.kind, p.message) for p in one.problems]
    assert (two.cases, two.events, two.tasks, two.registry, two.attachments, two.counts) == \
        (one.cases, one.events, one.tasks, one.registry, one.attachments, one.counts)
    assert {p.instance_id for p in two.problems} == {first.id, second.id}


def test_the_report_keeps_the_first_problems_of_a_kind_and_counts_all(new_case: Factory,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cases_ = [new_case(), new_case(), new_case()]
    for case in cases_:
        sql("UPDATE process_instance SET status = 'completed' WHERE id = :i", i=case.id)
    monkeypatch.setattr(integrity, "KEPT_PER_KIND", 2)
    report = integrity.check(full=True, workers=1)
    assert report.counts["seal"] == 3 and [p.instance_id for p in report.problems if p.kind == "seal"] == \
        [cases_[0].id, cases_[1].id]


def test_the_sweepers_daily_run_reads_everything_and_logs_what_it_found(app: Flask, new_case: Factory) -> None:
    case = new_case()
    report = integrity.scheduled_full_run()
    assert report.mode == "full" and not report.problem_count and report.recorded is not None
    sql("UPDATE process_instance SET status = 'completed' WHERE id = :i", i=case.id)
    report = integrity.scheduled_full_run()
    assert report.problem_count and report.recorded is None
    logged = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "audit_verify_failed")
                                .order_by(SecurityEvent.id.desc())).first()
    assert logged is not None and f"case {case.id}" in (logged.detail or "")


def test_verified_checkpoints_are_found_behind_newer_ones_and_their_heads_kept(new_case: Factory) -> None:
    new_case()
    verified = checkpoints.write(verified=True)
    new_case()  # the newer checkpoints have other heads, in other heads files
    for _ in range(3):
        assert checkpoints.write(keep=1).heads_file != verified.heads_file
    assert checkpoints.latest_verified() == verified
    assert checkpoints.load_heads(verified)  # its heads file outlived the pruning
    table = checkpoints.load_table(verified)
    assert list(table) == sorted((i, s, h) for i, (s, h) in checkpoints.load_heads(verified).items())


def test_the_verifiers_event_hash_is_the_writers() -> None:
    """integrity.event_hash writes the canonical JSON out by hand: it must be audit.keyed_hash, byte for byte."""
    key = b"test-audit-secret-0001"
    odd = ['引号 "quoted" \\ back', "tab\tnew\nline \x01 \u2028", "", "emoji 🙂", "</script>"]
    for i, text in enumerate(odd):
        ev = AuditEvent(instance_id=7 + i, seq=i + 1, at=dt.datetime(2026, 1, 2, 3, 4, 5, i), actor_id=None if i % 2
                        else 12, actor_name=text, type="task_completed", task_spec=None if i == 2 else "Task_X",
                        task_name=text, human_task_id=None if i else 99,
                        changes={"z": [None, text], "a": {"n": [1.5, True, None, 10**20]}, "u": [{"attachment_id": 3,
                                 "sha256": "ab"}], text: i}, comment=None if i == 3 else text, via="api",
                        prev_hash="0" * 64, key_id="test-k1", state_digest=None if i % 2 else "f" * 64)
        assert integrity.event_hash(ev, key) == audit.keyed_hash(ev, key)
