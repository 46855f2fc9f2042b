"""Someone with write access to the database, but not to the audit key or the
checkpoint store, changes the evidence directly; `flask audit verify` must say so.

Each test makes its own case(s), takes a checkpoint, tampers with plain SQL and
runs the real CLI. Its cases are then deleted and a new checkpoint written, so
the tests do not depend on each other and the database verifies intact after.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import TEST_AUDIT_KEY, unique_id_number, user
from tests.helpers_audit import cli, delete_case, discard_cases, sql
from tests.processes.ownership.steps import complete, counter_pass, open_task, registration
from workflows.cases import audit, checkpoints
from workflows.cases import commands as cases
from workflows.cases.models import Attachment, AuditEvent, HumanTask, ProcessInstance
from workflows.db import db
from workflows.processes.ownership.models import ClientOwnership

Factory = Callable[..., ProcessInstance]


@pytest.fixture
def new_case(app: Flask) -> Iterator[Factory]:
    """Makes cases for one test: ``new_case()`` stops at the counter step, ``new_case(done=True)`` is registered."""
    made: list[int] = []

    def make(done: bool = False) -> ProcessInstance:
        instance = cases.start_case("client_ownership", user("staff05"), registration(unique_id_number()))
        made.append(instance.id)
        complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
        if done:
            counter_pass(instance, user("counter1"))
            complete(instance, "Task_Aggregate", user("support1"), {"batch_ref": "B-1"})
            complete(instance, "Task_TradingReview", user("trading"), {"decision": "approve"})
            complete(instance, "Task_FinanceReview", user("finance"), {"decision": "approve"})
            complete(instance, "Task_GMReview", user("gm"), {"decision": "approve"})
            complete(instance, "Task_Register", user("trading"), {"effective_date": "2026-11-20",
                                                                  "archive_ref": "A-1"})
        db.session.refresh(instance)
        return instance

    yield make
    discard_cases(made)


def events(case_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == case_id)
                                   .order_by(AuditEvent.seq)))


def verify(app: Flask, case_id: int) -> str:
    """The CLI's report for one case; it must fail."""
    code, out = cli(app, "audit", "verify", "--case", str(case_id))
    assert code == 1, out
    return out


def checkpoint(app: Flask, case: ProcessInstance) -> None:
    code, out = cli(app, "audit", "verify", "--case", str(case.id))
    assert code == 0 and "audit trail intact" in out, out
    code, out = cli(app, "audit", "checkpoint")
    assert code == 0 and "checkpoint" in out, out


def set_head(case_id: int, seq: int, hash_: str | None) -> None:
    sql("UPDATE process_instance SET audit_seq = :s, audit_hash = :h WHERE id = :i", s=seq, h=hash_, i=case_id)


def unkeyed(ev: AuditEvent) -> str:
    """The hash an intruder can compute: the plain SHA-256 of the event."""
    return audit.legacy_hash(ev)


# --- the untouched database -------------------------------------------------------------


def test_untouched_database_verifies_intact_and_says_what_it_checked(app: Flask, new_case: Factory) -> None:
    new_case(done=True)
    code, out = cli(app, "audit", "checkpoint")
    assert code == 0
    cp = checkpoints.latest()
    code, out = cli(app, "audit", "verify", "--full")
    assert code == 0, out
    assert "audit trail intact" in out
    checked = out.splitlines()[0]
    for what in ("case(s)", "event(s)", "task(s)", "registry entr", "attachment(s)"):
        assert what in checked
    assert " 0 attachment(s)" not in checked and " 0 registry" not in checked
    assert cp is not None and f"checkpoint: {cp.at}, {cp.cases} case(s), root {cp.root}" in out
    cp = checkpoints.latest()  # the verified checkpoint the clean run wrote
    assert cp is not None and cp.verified and f"verified checkpoint written: {cp.at}" in out and cp.root in out
    code, root = cli(app, "audit", "root")
    assert code == 0 and root.split() == [cp.at, str(cp.cases), cp.root]


def test_events_are_keyed_and_the_last_of_each_transaction_sealed(new_case: Factory) -> None:
    case = new_case()
    evs = events(case.id)
    assert {e.key_id for e in evs} == {"test-k1"}
    assert evs[-1].state_digest == audit.state_digest(db.session.get(ProcessInstance, case.id))
    assert evs[0].state_digest is None  # case_started is followed by the engine's events of the same commit
    assert case.audit_hash == evs[-1].hash


# --- the history itself -----------------------------------------------------------------


def test_edited_event_field(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    target = next(e for e in events(case.id) if e.type == "task_completed")
    sql("UPDATE audit_event SET comment = 'approved by someone else' WHERE id = :i", i=target.id)
    assert f"event {target.seq} (task_completed) was altered" in verify(app, case.id)


def test_edited_stored_hash_only(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    target = events(case.id)[3]
    sql("UPDATE audit_event SET hash = :h WHERE id = :i", h="f" * 64, i=target.id)
    out = verify(app, case.id)
    assert f"event {target.seq} ({target.type}) was altered" in out
    assert "[checkpoint]" in out or target.seq != case.audit_seq


def test_deleted_middle_event(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    target = events(case.id)[4]
    seq = target.seq
    sql("DELETE FROM audit_event WHERE id = :i", i=target.id)
    assert f"event {seq} is missing" in verify(app, case.id)


def test_deleted_last_event_with_head_rewound(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    evs = events(case.id)
    sql("DELETE FROM audit_event WHERE id = :i", i=evs[-1].id)
    set_head(case.id, evs[-2].seq, evs[-2].hash)
    out = verify(app, case.id)
    assert "[seal]" in out and "[checkpoint]" in out and "truncated" in out


def test_deleted_last_transaction_with_state_rewound_is_caught_by_the_checkpoint(app: Flask,
                                                                                new_case: Factory) -> None:
    """The intruder cuts the last transaction and restores the state it sealed: only the checkpoint knows."""
    case = new_case()
    before_claim = events(case.id)
    checkpoint_needed = open_task(case, "Task_CounterOpening")
    cases.claim(checkpoint_needed.id, user("counter1"))
    checkpoint(app, case)
    claim = events(case.id)[-1]
    assert claim.type == "task_claimed"
    claim_seq = claim.seq
    sql("DELETE FROM audit_event WHERE id = :i", i=claim.id)
    sql("UPDATE human_task SET claimed_by_id = NULL WHERE id = :i", i=checkpoint_needed.id)
    set_head(case.id, before_claim[-1].seq, before_claim[-1].hash)
    out = verify(app, case.id)
    assert "[checkpoint]" in out and f"ends before event {claim_seq}" in out
    code, out = cli(app, "audit", "verify", "--case", str(case.id), "--no-checkpoint")
    assert code == 0, out  # without the checkpoint this cut is consistent: the README says so


def test_swapped_sequence_numbers(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    (a, a_seq), (b, b_seq) = [(e.id, e.seq) for e in events(case.id)[2:4]]
    sql("UPDATE audit_event SET seq = -1 WHERE id = :i", i=a)
    sql("UPDATE audit_event SET seq = :s WHERE id = :i", s=a_seq, i=b)
    sql("UPDATE audit_event SET seq = :s WHERE id = :i", s=b_seq, i=a)
    assert f"event {a_seq} does not follow event {a_seq - 1}" in verify(app, case.id)


def test_inserted_forged_event_with_unkeyed_hash(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    last = events(case.id)[-1]
    forged = AuditEvent(instance_id=case.id, seq=last.seq + 1, at=last.at, actor_id=user("gm").id,
                        actor_name="总经理", type="task_completed", changes={"decision": [None, "reject"]},
                        comment="forged", via="web", prev_hash=last.hash, key_id=None)
    forged.hash = unkeyed(forged)
    db.session.add(forged)
    db.session.commit()
    set_head(case.id, forged.seq, forged.hash)
    assert f"event {forged.seq} (task_completed) is unkeyed after keyed events" in verify(app, case.id)


def test_inserted_forged_event_claiming_the_key_id(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    last = events(case.id)[-1]
    forged = AuditEvent(instance_id=case.id, seq=last.seq + 1, at=last.at, actor_id=None, actor_name="system",
                        type="case_completed", changes={}, via="web", prev_hash=last.hash, key_id=last.key_id,
                        state_digest=last.state_digest)
    forged.hash = unkeyed(forged)
    db.session.add(forged)
    db.session.commit()
    set_head(case.id, forged.seq, forged.hash)
    assert f"event {forged.seq} (case_completed) was altered" in verify(app, case.id)


def test_rewritten_middle_event_rechained(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    evs = events(case.id)
    target = next(e for e in evs if e.type == "task_completed" and e.task_spec == "Task_TradingReview")
    prev = target.prev_hash
    for ev in evs[evs.index(target):]:
        if ev is target:
            ev.comment = "不同意"
        ev.prev_hash = prev
        ev.hash = unkeyed(ev)
        prev = ev.hash
    db.session.commit()
    set_head(case.id, evs[-1].seq, prev)
    out = verify(app, case.id)
    assert f"event {target.seq} (task_completed) was altered" in out
    assert "rewritten" in out


def test_deleted_and_renumbered(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    evs = events(case.id)
    gone = evs[5]
    gone_seq, prev = gone.seq, gone.prev_hash
    sql("DELETE FROM audit_event WHERE id = :i", i=gone.id)
    evs = events(case.id)
    assert evs[5].seq == gone_seq + 1
    for ev in evs[5:]:
        ev.seq -= 1
        ev.prev_hash = prev
        ev.hash = unkeyed(ev)
        prev = ev.hash
        db.session.flush()
    db.session.commit()
    set_head(case.id, evs[-1].seq, prev)
    out = verify(app, case.id)
    assert f"event {gone_seq} ({evs[5].type}) was altered" in out and "[checkpoint]" in out


def test_wiped_history(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    sql("DELETE FROM audit_event WHERE instance_id = :i", i=case.id)
    set_head(case.id, 0, None)
    out = verify(app, case.id)
    assert f"case {case.id} has no history at all" in out and "truncated" in out


def test_deleted_whole_case(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    case_id, seq = case.id, case.audit_seq
    checkpoint(app, case)
    delete_case(case_id)
    out = verify(app, case_id)
    assert f"case {case_id} had {seq} event(s) at the checkpoint" in out and "missing from the database" in out
    code, out = cli(app, "audit", "verify")
    assert code == 1 and "missing from the database" in out


# --- the case's stored state against its seal -----------------------------------------


def test_changed_state(app: Flask, new_case: Factory) -> None:
    case = new_case()
    checkpoint(app, case)
    state = db.session.scalar(select(ProcessInstance.state).where(ProcessInstance.id == case.id))
    assert "300000" in state
    sql("UPDATE process_instance SET state = :s WHERE id = :i", s=state.replace("300000", "900000"), i=case.id)
    assert "does not match the seal" in verify(app, case.id)


def test_changed_status(app: Flask, new_case: Factory) -> None:
    case = new_case()
    checkpoint(app, case)
    sql("UPDATE process_instance SET status = 'completed', outcome = 'End_Registered' WHERE id = :i", i=case.id)
    out = verify(app, case.id)
    assert "[seal]" in out and "[status]" in out and "never completed it" in out


def test_changed_outcome(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    sql("UPDATE process_instance SET outcome = 'End_Rejected' WHERE id = :i", i=case.id)
    out = verify(app, case.id)
    assert "[seal]" in out and "stored outcome 'End_Rejected' differs from the history's 'End_Registered'" in out


# --- the tables against the history -------------------------------------------------------


def test_changed_registry_owner(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    entry = db.session.scalars(select(ClientOwnership).where(ClientOwnership.instance_id == case.id)).one()
    sql("UPDATE client_ownership SET staff_id = :s WHERE id = :i", s=user("staff06").id, i=entry.id)
    out = verify(app, case.id)
    assert f"registry entry {entry.id} names staff {user('staff06').id} as owner" in out


def test_changed_registry_client(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    entry = db.session.scalars(select(ClientOwnership).where(ClientOwnership.instance_id == case.id)).one()
    sql("UPDATE client_ownership SET client_id_number = :c WHERE id = :i", c=unique_id_number(), i=entry.id)
    assert f"registry entry {entry.id} is for another client" in verify(app, case.id)


def test_changed_who_completed_a_task(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                      HumanTask.spec_id == "Task_GMReview")).one()
    sql("UPDATE human_task SET completed_by_id = :u WHERE id = :i", u=user("finance").id, i=task.id)
    out = verify(app, case.id)
    assert f"task {task.id} is stored as completed by user {user('finance').id}" in out


def test_changed_who_holds_a_task(app: Flask, new_case: Factory) -> None:
    case = new_case()
    task = open_task(case, "Task_CounterOpening")
    cases.claim(task.id, user("counter1"))
    checkpoint(app, case)
    sql("UPDATE human_task SET claimed_by_id = :u WHERE id = :i", u=user("counter2").id, i=task.id)
    assert f"task {task.id} is stored as held by user {user('counter2').id}" in verify(app, case.id)


def test_changed_attachment_bytes(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    att = db.session.scalars(select(Attachment).where(Attachment.instance_id == case.id)).one()
    sql("UPDATE attachment SET content = :c WHERE id = :i", c=b"%PDF-1.4 another form", i=att.id)
    assert f"attachment {att.id} (form.pdf): its bytes do not match" in verify(app, case.id)


def test_changed_attachment_bytes_and_recorded_sha256(app: Flask, new_case: Factory) -> None:
    case = new_case(done=True)
    checkpoint(app, case)
    att = db.session.scalars(select(Attachment).where(Attachment.instance_id == case.id)).one()
    other = b"%PDF-1.4 another form"
    sql("UPDATE attachment SET content = :c, sha256 = :h WHERE id = :i", c=other,
        h=hashlib.sha256(other).hexdigest(), i=att.id)
    assert f"attachment {att.id} (form.pdf) differs from the one recorded in event" in verify(app, case.id)


# --- the checkpoint store --------------------------------------------------------------


def test_forged_checkpoint_line_is_reported(app: Flask, new_case: Factory) -> None:
    case = new_case()
    checkpoint(app, case)
    cp = checkpoints.latest()
    assert cp is not None
    log = Path(app.config["AUDIT_CHECKPOINT_DIR"]) / checkpoints.LOG_NAME
    forged = {**cp.body(), "cases": cp.cases + 1, "sig": cp.sig}
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(forged) + "\n")
    assert "wrong signature" in verify(app, case.id)
    checkpoints.write()  # the next good checkpoint is the latest again


# --- keys ---------------------------------------------------------------------------------


def test_key_rotation(app: Flask, new_case: Factory) -> None:
    old_case = new_case()
    checkpoint(app, old_case)
    new_key = "test-k2:test-audit-secret-0002"
    try:
        app.config.update(AUDIT_KEY=new_key, AUDIT_KEYS_OLD=TEST_AUDIT_KEY)
        cases.claim(open_task(old_case, "Task_CounterOpening").id, user("counter1"))
        fresh = new_case()
        assert {e.key_id for e in events(fresh.id)} == {"test-k2"}
        assert [e.key_id for e in events(old_case.id)][-1] == "test-k2"
        assert "test-k1" in {e.key_id for e in events(old_case.id)}
        for case in (old_case, fresh):
            code, out = cli(app, "audit", "verify", "--case", str(case.id))
            assert code == 0 and "audit trail intact" in out and "signing test-k2" in out, out
        code, out = cli(app, "audit", "checkpoint")
        assert checkpoints.latest().key_id == "test-k2"
        app.config.update(AUDIT_KEYS_OLD="")  # the old key is gone: its events can no longer be checked
        out = verify(app, old_case.id)
        assert "[key]" in out and "signed with key test-k1, which is not configured" in out
        code, out = cli(app, "audit", "verify", "--case", str(fresh.id))
        assert code == 0, out
    finally:
        app.config.update(AUDIT_KEY=TEST_AUDIT_KEY, AUDIT_KEYS_OLD="")
        # the fixture's teardown deletes both cases and checkpoints under the test key again


def test_writes_are_refused_without_a_key(app: Flask) -> None:
    count = db.session.scalar(select(func.count()).select_from(ProcessInstance))
    try:
        app.config.update(AUDIT_KEY="")
        with pytest.raises(audit.AuditKeyMissing):
            cases.start_case("client_ownership", user("staff05"), registration(unique_id_number()))
        assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == count  # nothing half-written
    finally:
        app.config.update(AUDIT_KEY=TEST_AUDIT_KEY)


# --- a database from before keyed chains ---------------------------------------------------


def test_legacy_history_is_reported_until_resealed(app: Flask, new_case: Factory) -> None:
    """An upgraded database: events with no key id and plain SHA-256 hashes, as older versions wrote them."""
    case = new_case()
    prev = audit.GENESIS
    for ev in events(case.id):
        ev.key_id, ev.state_digest, ev.prev_hash = None, None, prev
        ev.hash = unkeyed(ev)
        prev = ev.hash
    db.session.commit()
    set_head(case.id, case.audit_seq, prev)
    checkpoints.write()
    out = verify(app, case.id)
    assert "[legacy]" in out and "reseal --legacy" in out and "legacy unkeyed events" in out
    code, out = cli(app, "audit", "reseal", "--legacy")
    assert code == 0 and "sealed 1 legacy" in out, out
    last = events(case.id)[-1]
    assert last.type == "audit_sealed" and last.key_id == "test-k1" and last.state_digest
    code, out = cli(app, "audit", "verify", "--case", str(case.id))
    assert code == 0 and "audit trail intact" in out, out
    # after the reseal, rewriting the legacy part is caught: the keyed event pins its last hash
    first = events(case.id)[0]
    sql("UPDATE audit_event SET comment = 'x' WHERE id = :i", i=first.id)
    assert "event 1 (case_started) was altered" in verify(app, case.id)


def test_state_changed_without_an_event_is_sealed_with_one(new_case: Factory) -> None:
    case = new_case()
    instance = db.session.get(ProcessInstance, case.id)
    assert instance is not None
    instance.state = instance.state + " "
    db.session.commit()
    last = events(case.id)[-1]
    assert last.type == "state_sealed" and last.state_digest == audit.state_digest(instance)


def test_verify_page_says_what_it_checked_and_names_the_tampered_case(app: Flask, new_case: Factory, web) -> None:
    case = new_case()
    checkpoint(app, case)
    web.login("auditor")
    page = web.post("/audit/verify").get_data(as_text=True)
    assert 'id="verify-checked"' in page and "verify-ok" in page and 'id="verify-mode"' in page
    sql("UPDATE process_instance SET status = 'completed' WHERE id = :i", i=case.id)
    page = web.post("/audit/verify").get_data(as_text=True)
    assert f"#{case.id}" in page and "does not match the seal" in page
