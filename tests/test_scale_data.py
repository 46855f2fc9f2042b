"""bench/scale_data.py builds a small database of every family: client registrations and leave
requests cloned from real engine runs, a few separation reviews; the leave clones' ledger entries
agree with their cases, `flask audit verify` finds nothing wrong, and the pages open on it.

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
from workflows.cases import integrity
from workflows.cases.models import HumanTask, ProcessInstance
from workflows.db import db
from workflows.processes.leave.approvers import route
from workflows.processes.leave.models import AttendanceEntry

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
        for key in ("client_ownership", "leave_request", "separation_review"):
            assert by.get((key, "running"), 0) > 0 and by.get((key, "completed"), 0) > 0, (key, by)
        outcomes = set(db.session.scalars(select(ProcessInstance.outcome).where(
            ProcessInstance.process_key == "leave_request", ProcessInstance.status == "completed")))
        assert {"End_Approved", "End_Rejected", "End_Withdrawn"} <= outcomes
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

