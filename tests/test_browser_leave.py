"""Process B end to end in a real Chromium: a staff member asks for a day of personal leave, the
regional manager and the GM approve from their inboxes, and the attendance ledger and its month
picture show the day; the balance on the start form has dropped by one.

Needs Debian's Chromium like tests/test_browser.py (it fails, never skips, without it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import user
from tests.processes.leave.steps import person
from tests.test_browser import Actor, Chromium, _task_id, acting_as
from workflows.branch import calendar
from workflows.db import db
from workflows.engine.clock import today

pytestmark = pytest.mark.browser

STEP_NAMES = {"Task_FirstApproval": "Regional manager (or direct superior) approval",
              "Task_BranchApproval": "Branch approval"}


def _balance(actor: Actor) -> str:
    page = actor.page
    page.goto("/processes/leave_request/start")
    info = page.locator('#start-info li[data-kind="leave_balance"]')
    actor.expect(info).to_be_visible()
    return info.inner_text()


def _approve_from_inbox(actor: Actor, instance_id: int, spec_id: str) -> None:
    """The approver's own task (assigned to them by name): from "My tasks", opened by its link."""
    page = actor.page
    task_id = _task_id(instance_id, spec_id)
    actor.inbox("mine")
    row = page.locator(f'tr[data-task-id="{task_id}"]')
    actor.expect(row).to_have_count(1)
    actor.expect(row.locator(".task-link")).to_have_text(STEP_NAMES[spec_id])
    with page.expect_navigation(url=re.compile(rf"/tasks/{task_id}$")):
        row.locator(".task-link").click()
    actor.fill("comment", "同意 agreed")
    actor.act("approve")


def test_leave_from_request_to_the_ledger(chromium: Chromium, live_server: str, tmp_path: Path) -> None:
    requester = person("staff01")  # a new staff member in staff01's team: a full balance, region11 above
    requester.password_hash = user("staff01").password_hash  # logs in with the demo password
    db.session.commit()
    day = calendar.next_working_day(today())  # at least one working day in advance

    with acting_as(chromium, live_server, requester.username, tmp_path) as staff:
        assert f"Personal leave left in {today().year}: 20 of 20 working days" in _balance(staff)
        page = staff.page
        staff.select("leave_type", "personal")
        staff.fill("start_date", day.isoformat())
        staff.fill("end_date", day.isoformat())
        staff.fill("reason", "家里有事 family matters")
        with page.expect_navigation(url=re.compile(r"/cases/\d+$")):
            page.click("#start-submit")
        instance_id = int(re.search(r"/cases/(\d+)$", page.url).group(1))

    with acting_as(chromium, live_server, "region11", tmp_path) as manager:
        _approve_from_inbox(manager, instance_id, "Task_FirstApproval")
    with acting_as(chromium, live_server, "gm", tmp_path) as gm:
        _approve_from_inbox(gm, instance_id, "Task_BranchApproval")

    with acting_as(chromium, live_server, requester.username, tmp_path) as staff:
        page = staff.page
        with page.expect_navigation():
            page.click('a[data-nav="attendance"]')
        with page.expect_navigation():
            page.goto(f"/attendance?year={day.year}&month={day.month}")
        staff.expect(page.locator(f'#entries tr[data-kind="personal"] a[href="/cases/{instance_id}"]')).to_have_count(1)
        cell = page.locator(f'#month-picture tr[data-person="{requester.username}"] td[data-day="{day.isoformat()}"]')
        staff.expect(cell.locator('abbr[data-kind="personal"]')).to_have_count(1)
        staff.expect(page.locator('#totals [data-total="score"]')).to_have_text("-10")
        if today().year == day.year:
            assert "19 of 20 working days (1 approved, 0 pending)" in _balance(staff)
