"""bench/scale_data.py builds a small database of every family: client registrations, leave requests
and high-risk sales cloned from real engine runs, a few separation reviews; the leave clones' ledger
entries and the sale clones' register rows agree with their cases, `flask audit verify` finds nothing
wrong, the pages open on it, and the engine carries a cloned open sale on to its register row.

The build needs an empty database of its own: a SQLite file, or the PostgreSQL database named by
SCALE_TEST_DATABASE_URL (emptied first; the test database cannot be shared, as the build migrates
and seeds from nothing)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from bench.scale import reset
from bench.scale_data import build, fresh_app
from workflows.branch import calendar
from workflows.branch.demo import DEMO_PASSWORD
from workflows.branch.models import User
from workflows.cases import commands, integrity
from workflows.cases.models import AuditEvent, HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.processes.leave.approvers import route
from workflows.processes.leave.models import AttendanceEntry
from workflows.processes.sale.models import SaleRecord, WealthCustomer
from workflows.processes.sale.register import masked_name
from workflows.processes.sale.suitability import age_on

TASK_ROWS = 1500


@pytest.fixture(scope="module")
def scale_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = os.environ.get("SCALE_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('scale') / 'scale.db'}"
    if url.startswith("postgresql"):
        reset(url)  # emptied: the build migrates and seeds it from nothing
    stats = build(url, TASK_ROWS, users=60, open_cases=30, workers=1, log=lambda line: None)
    assert stats.tasks >= TASK_ROWS
    app = fresh_app(url)
    app.config["AUDIT_CHECKPOINT_DIR"] = str(tmp_path_factory.mktemp("scale-audit"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _count(query) -> int:
    return db.session.scalar(query) or 0


def test_every_family_open_and_finished(scale_app: Flask) -> None:
    with scale_app.app_context():
        by = dict(((key, status), n) for key, status, n in db.session.execute(
            select(ProcessInstance.process_key, ProcessInstance.status, func.count())
            .group_by(ProcessInstance.process_key, ProcessInstance.status)))
        for key in ("client_ownership", "leave_request", "separation_review", "high_risk_sale"):
            assert by.get((key, "running"), 0) > 0 and by.get((key, "completed"), 0) > 0, (key, by)
        outcomes = set(db.session.scalars(select(ProcessInstance.outcome).where(
            ProcessInstance.process_key == "leave_request", ProcessInstance.status == "completed")))
        assert {"End_Approved", "End_Rejected", "End_Withdrawn"} <= outcomes
        sales = set(db.session.execute(select(SaleRecord.outcome, SaleRecord.status)))
        assert {("normal", "completed"), ("witness", "completed"), ("declaration_witness", "completed"),
                ("refused", "refused"), ("witness", "declined")} <= sales, sales
        tasks = dict(db.session.execute(select(ProcessInstance.process_key, func.count(HumanTask.id))
                                        .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
                                        .group_by(ProcessInstance.process_key)).all())
        share = tasks["leave_request"] / sum(tasks.values())
        assert 0.12 < share < 0.35, tasks


def test_one_ledger_entry_per_approved_leave_that_agrees_with_its_case(scale_app: Flask) -> None:
    with scale_app.app_context():
        cases = {c.id: c for c in db.session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_key == "leave_request"))}
        entries = list(db.session.scalars(select(AttendanceEntry).where(AttendanceEntry.instance_id.is_not(None))))
        approved = {i for i, c in cases.items() if c.outcome == "End_Approved"}
        assert len(approved) > 20
        assert sorted(e.instance_id for e in entries) == sorted(approved)  # one each, none elsewhere
        for e in entries:
            case = cases[e.instance_id]
            summary = case.summary
            assert e.user_id == case.started_by_id
            assert (e.kind, e.start_date.isoformat(), e.end_date.isoformat(), e.half_day) == (
                summary["leave_type"], summary["start_date"], summary["end_date"], summary["half_day"])
            assert case.title == f"{summary['start_date']} – {summary['end_date']}"
            assert Decimal(e.days) == calendar.count_days(e.start_date, e.end_date, e.half_day != "none")
            assert e.recorded_at >= case.started_at
        # approval steps go to the requester's own approvers, and the case's data names them
        first_steps = db.session.execute(select(HumanTask.instance_id, HumanTask.assigned_user_id).where(
            HumanTask.spec_id == "Task_FirstApproval", HumanTask.instance_id.in_(list(cases)))).all()
        assert len(first_steps) > 20
        for instance_id, assignee in first_steps:
            requester = db.session.get(User, cases[instance_id].started_by_id)
            first = route(requester).first
            assert first is not None and assignee == first.id
            assert f'"first_approver":"{first.username}"' in cases[instance_id].state


def test_audit_verify_is_clean_and_checks_the_cloned_ledger(scale_app: Flask) -> None:
    with scale_app.app_context():
        report = integrity.check(None, use_checkpoint=False, full=True, workers=1)
        assert report.problem_count == 0, report.problems[:5]
        assert report.cases == _count(select(func.count(ProcessInstance.id)))
        entry = db.session.scalars(select(AttendanceEntry).where(AttendanceEntry.instance_id.is_not(None))
                                   .order_by(AttendanceEntry.id.desc()).limit(1)).one()
        days = entry.days
        entry.days = Decimal(days) + 1  # a cloned entry altered behind the history's back
        db.session.commit()
        tampered = integrity.check(entry.instance_id, use_checkpoint=False)
        entry.days = days
        db.session.commit()
        assert tampered.counts.get("ledger") == 1, tampered.problems


def _login(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert r.status_code == 302


def test_pages_open_on_it(scale_app: Flask) -> None:
    with scale_app.app_context():
        case = db.session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_key == "leave_request", ProcessInstance.outcome == "End_Approved")
            .order_by(ProcessInstance.id.desc()).limit(1)).one()
        requester = case.started_by.username
        year, month = case.summary["start_date"][:4], case.summary["start_date"][5:7]
        review = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_key == "separation_review")
                                   .order_by(ProcessInstance.id.desc()).limit(1))
    pages = {requester: ["/", f"/cases/{case.id}", f"/attendance?year={year}"],
             "gm": ["/?view=groups", f"/cases/{case.id}", f"/attendance/team?year={year}",
                    f"/attendance?user={requester}&year={year}"],
             "auditor": [f"/cases/{review}", "/audit/?status=completed"]}
    for username, paths in pages.items():
        client = scale_app.test_client()
        _login(client, username)
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, (username, path, r.status_code)
        if username == requester:
            month_page = client.get(f"/attendance?year={year}&month={int(month)}").get_data(as_text=True)
            assert f"/cases/{case.id}\"" in month_page  # the entry, linked to its case



def _facts(instance_id: int) -> dict[str, dict]:
    """The case's history by event type (the last of each), its values as [old, new]."""
    return {e.type: e.changes for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq))}


def _sale_agrees(case: ProcessInstance) -> WealthCustomer:
    """The customer the sale's history names is the one its form, title and engine state name, and the
    recorded age is theirs on the sale date; returns the customer."""
    history = _facts(case.id)
    facts = history["sale_facts"]
    customer = db.session.get(WealthCustomer, facts["_customer_record"][1])
    assert customer is not None
    day = clock.local(case.started_at).date()
    assert facts["sale_date"][1] == day.isoformat()
    age = age_on(customer.birth_date, day)
    assert facts["age"][1] == age and history["decision"]["inputs"][1]["age"] == age
    assert facts["assessment_level"][1] == customer.risk_level
    assert history["case_started"]["customer"][1] == customer.id_number
    assert case.summary["customer_name"] == masked_name(customer.name)
    assert case.title == f"{masked_name(customer.name)} · {case.summary['product']}"
    assert f'"customer_record":{customer.id},' in case.state and f'"age":{age},' in case.state
    return customer


def test_one_register_row_per_finished_sale_that_agrees_with_its_case(scale_app: Flask) -> None:
    with scale_app.app_context():
        cases = {c.id: c for c in db.session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_key == "high_risk_sale"))}
        rows = list(db.session.scalars(select(SaleRecord)))
        finished = {i for i, c in cases.items() if c.status == "completed"}
        assert len(finished) > 20
        assert sorted(r.instance_id for r in rows) == sorted(finished)  # one each, none for open ones
        assert len({r.customer_id for r in rows}) > len(rows) // 2  # clones sell to many customers
        for r in rows:
            case = cases[r.instance_id]
            customer = _sale_agrees(case)
            history = _facts(case.id)
            registered = history["sale_registered"]
            assert r.customer_id == customer.id == registered["_customer_record"][1]
            assert r.id == registered["sale_record"][1] and f'"sale_record":{r.id}' in case.state
            assert r.advisor_id == case.started_by_id
            assert r.product.code == case.summary["product"] == history["case_started"]["product"][1]
            assert r.decision_inputs == history["decision"]["inputs"][1]
            assert r.decision_rule == history["decision"]["rules"][1][0]["id"] == registered["_rule"][1]
            assert Decimal(case.summary["amount"]) == r.amount == Decimal(registered["_amount"][1])
            assert r.started_at == case.started_at <= r.finished_at
            witness = db.session.scalars(select(HumanTask).where(
                HumanTask.instance_id == case.id, HumanTask.spec_id == "Task_Witness")).first()
            if r.status == "refused":
                assert witness is None and r.witness_id is None and r.recording_ref is None
            else:
                assert witness is not None or r.outcome == "normal"
            if witness is not None:
                assert r.witness_id is None or r.witness_id == witness.completed_by_id
                assert witness.completed_by_id != case.started_by_id  # never the advisor
            if r.status == "completed" and r.outcome in ("witness", "declaration_witness"):
                assert r.witness_id == witness.completed_by_id and r.started_at <= r.witnessed_at <= r.finished_at
                day = r.recording_ref.split("-")[1]
                assert clock.local(case.started_at).strftime("%Y%m%d") <= day <= clock.today().strftime("%Y%m%d")
                assert registered["recording_ref"][1] == r.recording_ref and r.recording_ref in case.state
        for case in cases.values():
            if case.status == "running":
                _sale_agrees(case)


def test_sale_pages_open_on_it(scale_app: Flask) -> None:
    with scale_app.app_context():
        retail = db.session.scalars(select(User).where(User.username == "retail")).one()
        record = db.session.scalars(select(SaleRecord).where(SaleRecord.outcome == "witness",
                                                             SaleRecord.status == "completed",
                                                             SaleRecord.witness_id == retail.id)
                                    .order_by(SaleRecord.id.desc()).limit(1)).one()
        advisor = record.advisor.username
        waiting = db.session.scalars(select(HumanTask).where(HumanTask.spec_id == "Task_Witness",
                                                             HumanTask.state == "open")
                                     .order_by(HumanTask.id.desc()).limit(1)).one()
    for username in ("retail", advisor):  # the witness and the advisor
        client = scale_app.test_client()
        _login(client, username)
        for path in (f"/cases/{record.instance_id}", "/sales", f"/sales/{record.id}"):
            r = client.get(path)
            assert r.status_code == 200, (username, path, r.status_code)
        listed = client.get(f"/sales?advisor={advisor}&outcome=witness&per_page=100").get_data(as_text=True)
        assert f'/sales/{record.id}"' in listed
        if username == "retail":
            inbox = client.get("/?view=groups")
            assert inbox.status_code == 200
            assert f"/tasks/{waiting.id}\"" in inbox.get_data(as_text=True)  # a sale waiting for its witness


def test_the_engine_carries_a_cloned_open_sale_on(scale_app: Flask) -> None:
    """The newest sale waiting for its witness (a clone: another customer, another advisor) goes on through
    the engine: the witness signs, the advisor enters the recording reference, and the register row names the
    clone's customer; its history verifies."""
    with scale_app.app_context():
        task = db.session.scalars(select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                                  .where(HumanTask.spec_id == "Task_Witness", HumanTask.state == "open",
                                         ProcessInstance.title.not_like("%****%"))  # not a template
                                  .order_by(HumanTask.id.desc()).limit(1)).one()
        case = db.session.get(ProcessInstance, task.instance_id)
        customer = _sale_agrees(case)
        retail = db.session.scalars(select(User).where(User.username == "retail")).one()
        commands.claim(task.id, retail)
        commands.complete_task(task.id, retail, {"second_warning": "再次提示：该产品不保本。",
                                                 "customer_confirmation": "客户确认购买。",
                                                 "witness_signature": "signed", "decision": "witness"})
        recording = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                               HumanTask.spec_id == "Task_Recording",
                                                               HumanTask.state == "open")).one()
        ref = f"SL-{clock.today():%Y%m%d}-0042"
        commands.complete_task(recording.id, case.started_by, {"recording_ref": ref})
        db.session.refresh(case)
        assert case.status == "completed"
        row = db.session.scalars(select(SaleRecord).where(SaleRecord.instance_id == case.id)).one()
        assert (row.customer_id, row.advisor_id, row.witness_id, row.recording_ref, row.status) == (
            customer.id, case.started_by_id, retail.id, ref, "completed")
        assert row.decision_inputs["age"] == age_on(customer.birth_date, clock.local(case.started_at).date())
        report = integrity.check(case.id, use_checkpoint=False)
        assert report.problem_count == 0, report.problems
