"""Process A end to end in a real Chromium (Playwright), every actor through the pages.

Each actor gets a fresh browser context, logs in on the login page, reaches the task
from the inbox link (claiming group tasks with the Claim button), fills in the form,
clicks the decision button and logs out with the Log out button.

Needs Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium); without it the
tests fail, they never skip.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import PDF, complete, counter_pass, open_task, registration
from workflows.branch import org
from workflows.branch.models import User, UserRole
from workflows.cases import commands as cases
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.processes.ownership.models import ClientOwnership

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000  # any one wait; a whole test stays well under a minute

TASK_NAMES = {  # English halves of the diagram's bilingual task names (the pages run in English)
    "Task_ConfirmReservation": "Confirm reservation",
    "Task_CounterOpening": "Counter opening and first review",
    "Task_Aggregate": "Aggregate and submit",
    "Task_DecideConflict": "Decide conflicting ownership",
    "Task_TradingReview": "Trading manager review",
    "Task_FinanceReview": "Finance manager review",
    "Task_GMReview": "General manager review",
    "Task_Register": "Enter in registry and archive",
}


# --- the browser --------------------------------------------------------------------------------


class Chromium:
    """Launched on first use, inside a test, so a missing binary FAILS that test (no skip)."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser = None

    def get(self):
        if self._browser is not None:
            return self._browser
        if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
            pytest.fail(f"Chromium not found or not executable at {CHROMIUM!r}: install Debian's chromium "
                        "package or point CHROMIUM_PATH at a Chromium binary. Browser tests never skip.",
                        pytrace=False)
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - turned into a clear failure
            self.close()
            pytest.fail(f"Chromium at {CHROMIUM!r} did not start: {exc}", pytrace=False)
        return self._browser

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


@pytest.fixture
def pdf_file(tmp_path: Path) -> Path:
    path = tmp_path / "confirmation-form.pdf"
    path.write_bytes(PDF)
    return path


# --- the database, read between page actions ---------------------------------------------------


def _fresh() -> None:
    """End the test's read transaction so the next query sees what the server committed
    (and the test never sits idle in a transaction while the server writes)."""
    db.session.rollback()


def _case_title(instance_id: int) -> str:
    _fresh()
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance is not None
    return instance.title


def _task_id(instance_id: int, spec_id: str) -> int:
    _fresh()
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance is not None
    task_id = open_task(instance, spec_id).id
    _fresh()
    return task_id


def _instance(instance_id: int) -> ProcessInstance:
    _fresh()
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance is not None
    return instance


def _department_support(username: str) -> str:
    """The first support clerk of the user's project department as the seed lays it out (``support…``: other
    tests add people of that role, with passwords of their own)."""
    dept = org.department_of(user(username))
    assert dept is not None, f"{username} has no project department"
    found = db.session.scalars(select(User.username).join(UserRole).where(
        UserRole.role_key == "support", User.unit_id == dept.id, User.active.is_(True),
        User.username.like("support%")).order_by(User.username)).first()
    assert found, f"no support staff in {dept.name}"
    return found


def _masked_id(id_no: str) -> str:
    return id_no[:3] + "*" * (len(id_no) - 7) + id_no[-4:]


# --- one person at the keyboard ----------------------------------------------------------------


class Actor:
    def __init__(self, page, username: str) -> None:
        self.page = page
        self.username = username

    def login(self, password: str = "demo1234") -> None:
        page = self.page
        page.goto("/login")
        page.fill("#username", self.username)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("#login-submit")
        self.expect(page.locator("#who")).to_contain_text(f"({self.username})")

    def logout(self) -> None:
        page = self.page
        with page.expect_navigation(url=re.compile(r"/login(\?.*)?$")):
            page.click("#logout")
        self.expect(page.locator("#login-submit")).to_be_visible()

    @staticmethod
    def expect(locator):
        from playwright.sync_api import expect

        return expect(locator)

    def inbox(self, tab: str = "mine") -> None:
        page = self.page
        with page.expect_navigation():
            page.click('a[data-nav="inbox"]')
        if tab != "mine":
            with page.expect_navigation(url=re.compile(rf"[?&]view={tab}\b")):
                page.click(f"#tab-{tab}")

    def open_task(self, instance_id: int, spec_id: str, group: bool = True) -> int:
        """From the inbox, follow the task's link; claim it first when it is a group task."""
        page = self.page
        task_id = _task_id(instance_id, spec_id)
        self.inbox("groups" if group else "mine")
        # a long inbox has more than one page: look the case up by its title, as a person would
        page.fill("#filter-q", _case_title(instance_id))
        with page.expect_navigation(url=re.compile(r"[?&]q=")):
            page.press("#filter-q", "Enter")
        row = page.locator("tr[data-task-id]").filter(has_text=f"#{instance_id} ").filter(
            has=page.get_by_role("link", name=TASK_NAMES[spec_id], exact=True))
        self.expect(row).to_have_count(1)
        assert row.get_attribute("data-task-id") == str(task_id), "inbox row is not the open task"
        with page.expect_navigation(url=re.compile(rf"/tasks/{task_id}$")):
            row.locator(".task-link").click()
        if group:
            with page.expect_navigation(url=re.compile(rf"/tasks/{task_id}$")):
                page.click("#claim")
            self.expect(page.locator("#release")).to_be_visible()  # claimed by me now
        self.expect(page.locator("#task-title")).to_have_text(TASK_NAMES[spec_id])
        self.expect(page.locator("#task-form")).to_be_visible()
        return task_id

    def act(self, action: str) -> None:
        """Click a decision button (or Complete) and expect to land back in the inbox."""
        page = self.page
        with page.expect_navigation():
            page.click(f"#action-{action}")
        if "/tasks/" in page.url:
            problems = page.locator(".field-error, .flash.error").all_inner_texts()
            pytest.fail(f"{self.username}: the task form was refused: {problems}", pytrace=False)
        self.expect(page.locator(".flash.success")).to_contain_text("Task completed")

    def select(self, field: str, value: str) -> None:
        self.page.select_option(f"#f-{field}", value)

    def fill(self, field: str, value: str) -> None:
        self.page.fill(f"#f-{field}", value)


@contextmanager
def acting_as(chromium: Chromium, base_url: str, username: str, shots: Path) -> Iterator[Actor]:
    """A fresh browser context for one person: log in, yield, log out."""
    context = chromium.get().new_context(base_url=base_url, locale="en-US", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    actor = Actor(page, username)
    try:
        actor.login()
        yield actor
        actor.logout()
    except BaseException as exc:
        shot = shots / f"{username}-failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            exc.add_note(f"[{username}] at {page.url}; screenshot {shot}")
        except Exception:  # noqa: BLE001 - the original failure matters more
            exc.add_note(f"[{username}] at {page.url}")
        raise
    finally:
        context.close()


# --- the flows -----------------------------------------------------------------------------------


def _pre_register(actor: Actor, id_no: str, client_name: str, warned_about: str | None = None) -> int:
    """Fill the start form of Process A; returns the new case's id (from the case page URL).

    With ``warned_about``, the page must first warn that this person holds the client;
    the staff member reads it and confirms."""
    page = actor.page
    page.goto("/processes/client_ownership/start")
    data = registration(id_no, client_name)
    for field in ("client_name", "client_id_number", "client_phone", "estimated_assets", "outlet"):
        actor.fill(field, data[field])
    actor.fill("planned_open_date", data["planned_open_date"])  # <input type=date> takes ISO dates
    actor.select("accompany", "true")
    actor.select("institutional", "false")
    with page.expect_navigation():
        page.click("#start-submit")
    if warned_about is not None:
        actor.expect(page.locator("#warnings")).to_contain_text(warned_about)
        with page.expect_navigation():
            page.click("#start-confirm")
    match = re.search(r"/cases/(\d+)$", page.url)
    if not match:
        problems = page.locator(".field-error, .flash.error").all_inner_texts()
        pytest.fail(f"pre-registration refused: {problems}", pytrace=False)
    actor.expect(page.locator("#case-status")).to_have_text("Running")
    return int(match.group(1))


def _confirm(actor: Actor, instance_id: int) -> None:
    actor.open_task(instance_id, "Task_ConfirmReservation")
    actor.act("approve")


def _counter_first_review(actor: Actor, instance_id: int, pdf: Path, account_no: str) -> None:
    actor.open_task(instance_id, "Task_CounterOpening")
    actor.fill("account_no", account_no)
    actor.select("signed_by_client", "true")
    actor.select("staff_present", "true")
    actor.page.set_input_files("#f-scanned_form", str(pdf))
    actor.act("approve")


def _aggregate(actor: Actor, instance_id: int, batch_ref: str) -> None:
    actor.open_task(instance_id, "Task_Aggregate")
    actor.fill("batch_ref", batch_ref)
    actor.act("submit")


def test_client_from_preregistration_to_registry(chromium: Chromium, live_server: str, pdf_file: Path,
                                                 tmp_path: Path) -> None:
    chromium.get()  # fail at once, clearly, without Chromium
    id_no = unique_id_number()
    client_name = f"浏览器客户{id_no[-6:]}"
    account_no = "8800" + id_no[-9:-1]
    archive_ref = f"ARC-{id_no[-6:]}"
    effective = dt.date.today().isoformat()

    def as_(username: str):
        return acting_as(chromium, live_server, username, tmp_path)

    with as_("staff01") as staff:
        instance_id = _pre_register(staff, id_no, client_name)
    with as_("support1") as support:
        _confirm(support, instance_id)
    with as_("counter1") as counter:
        _counter_first_review(counter, instance_id, pdf_file, account_no)
    with as_("support1") as support:
        _aggregate(support, instance_id, f"B-{id_no[-4:]}")
    with as_("trading") as trading:
        trading.open_task(instance_id, "Task_TradingReview")
        trading.act("approve")
    with as_("finance") as finance:
        finance.open_task(instance_id, "Task_FinanceReview")
        finance.act("approve")
    with as_("gm") as gm:
        gm.open_task(instance_id, "Task_GMReview")
        gm.act("approve")
    with as_("trading") as trading:
        trading.open_task(instance_id, "Task_Register")
        trading.fill("effective_date", effective)
        trading.fill("archive_ref", archive_ref)
        trading.act("submit")

        page = trading.page
        page.goto(f"/cases/{instance_id}")
        trading.expect(page.locator("#case-status")).to_have_text("Completed")
        trading.expect(page.locator("#case-outcome")).to_have_text("Registered and archived")
        steps = page.locator("#history tr.ev-task_completed td:nth-child(5)").all_inner_texts()
        assert [s.strip() for s in steps] == [TASK_NAMES[s] for s in (
            "Task_ConfirmReservation", "Task_CounterOpening", "Task_Aggregate", "Task_TradingReview",
            "Task_FinanceReview", "Task_GMReview", "Task_Register")], steps
        trading.expect(page.locator("#history tr.ev-case_started")).to_have_count(1)
        trading.expect(page.locator("#history tr.ev-ownership_registered")).to_have_count(1)
        trading.expect(page.locator("#history tr.ev-case_completed")).to_have_count(1)

        page.goto("/registry")
        section = page.locator('.registry-staff[data-staff="staff01"]')
        entry = section.locator(".registry-entry").filter(has_text=client_name)
        trading.expect(entry).to_have_count(1)
        trading.expect(entry).to_contain_text(_masked_id(id_no))
        trading.expect(entry).to_contain_text(account_no)
        trading.expect(entry).to_contain_text(archive_ref)
        assert id_no not in section.inner_text(), "the registry shows the whole ID number"

    _fresh()
    row = db.session.scalars(select(ClientOwnership).where(ClientOwnership.client_id_number == id_no)).one()
    assert (row.staff_id, row.account_no, row.archive_ref, row.status, row.instance_id) == (
        user("staff01").id, account_no, archive_ref, "active", instance_id)
    assert row.effective_date.isoformat() == effective
    instance = _instance(instance_id)
    assert (instance.status, instance.outcome) == ("completed", "End_Registered")


def _register_through_engine(username: str, support: str, id_no: str, client_name: str) -> None:
    """A client fully registered for ``username`` without the browser (the setup of test 2)."""
    instance = cases.start_case("client_ownership", user(username), registration(id_no, client_name))
    complete(instance, "Task_ConfirmReservation", user(support), {"decision": "approve"})
    counter_pass(instance, user("counter1"))
    complete(instance, "Task_Aggregate", user(support), {"batch_ref": "B-engine"})
    complete(instance, "Task_TradingReview", user("trading"), {"decision": "approve"})
    complete(instance, "Task_FinanceReview", user("finance"), {"decision": "approve"})
    complete(instance, "Task_GMReview", user("gm"), {"decision": "approve"})
    complete(instance, "Task_Register", user("trading"), {"effective_date": dt.date.today().isoformat(),
                                                           "archive_ref": "A-engine"})
    db.session.refresh(instance)
    assert instance.outcome == "End_Registered"
    _fresh()


def test_conflicting_registration_decided_by_trading_manager(chromium: Chromium, live_server: str,
                                                             pdf_file: Path, tmp_path: Path) -> None:
    chromium.get()  # fail at once, clearly, without Chromium
    id_no = unique_id_number()
    client_name = f"争议客户{id_no[-6:]}"
    support = _department_support("staff05")
    assert _department_support("staff04") == support
    _register_through_engine("staff04", support, id_no, client_name)
    reason = "staff04 registered this client first"

    def as_(username: str):
        return acting_as(chromium, live_server, username, tmp_path)

    with as_("staff05") as staff:
        instance_id = _pre_register(staff, id_no, client_name, warned_about=user("staff04").full_name)
    with as_(support) as clerk:
        _confirm(clerk, instance_id)
    with as_("counter1") as counter:
        _counter_first_review(counter, instance_id, pdf_file, "8800" + id_no[-9:-1])
    with as_(support) as clerk:
        _aggregate(clerk, instance_id, f"B-{id_no[-4:]}")
    with as_("trading") as trading:
        trading.open_task(instance_id, "Task_DecideConflict")
        trading.expect(trading.page.locator("#warnings")).to_contain_text(user("staff04").full_name)
        trading.expect(trading.page.locator("#f-owner_decision option[value=existing]")).to_contain_text(
            user("staff04").full_name)
        trading.select("owner_decision", "existing")
        trading.fill("conflict_reason", reason)
        trading.act("submit")
        page = trading.page
        page.goto(f"/cases/{instance_id}")
        trading.expect(page.locator("#case-status")).to_have_text("Completed")
        trading.expect(page.locator("#case-outcome")).to_have_text("Owned by the other staff member")
        trading.expect(page.locator("#history tr.ev-notice_sent")).to_have_count(2)

    told = {"staff04": f"{client_name} belongs to you. Reason: {reason}",
            "staff05": f"{client_name} does not belong to you. Reason: {reason}"}
    for username, text in told.items():
        with as_(username) as person:
            page = person.page
            with page.expect_navigation(url=re.compile(r"/notices$")):
                page.get_by_role("link", name="Notices", exact=True).click()
            notice = page.locator("#notices li").filter(has_text=client_name)
            person.expect(notice).to_have_count(1)
            person.expect(notice).to_contain_text(text)
            # a link only to a case its reader may open: staff04 has no part in staff05's case
            person.expect(notice.locator(f'a[href="/cases/{instance_id}"]')).to_have_count(
                1 if username == "staff05" else 0)

    _fresh()
    owners = db.session.scalars(select(ClientOwnership).where(ClientOwnership.client_id_number == id_no,
                                                              ClientOwnership.status == "active")).all()
    assert [o.staff_id for o in owners] == [user("staff04").id]
    assert _instance(instance_id).outcome == "End_OwnedByOther"


# --- languages -----------------------------------------------------------------------------------


def test_language_switch_shows_inbox_and_task_form_in_both(chromium: Chromium, live_server: str) -> None:
    """A Chinese browser gets Chinese; the switch gives English and is remembered across logins."""
    instance = cases.start_case("client_ownership", user("staff19"), registration(unique_id_number()))
    task_id = open_task(instance, "Task_ConfirmReservation").id
    db.session.commit()
    reset = user("support1b")
    reset.locale = None
    db.session.commit()
    context = chromium.get().new_context(base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    actor = Actor(page, "support1b")
    expect = Actor.expect
    try:
        actor.login()
        page.goto("/?view=groups")
        expect(page.locator("h1")).to_have_text("待办")
        expect(page.locator("#tab-groups")).to_contain_text("组内待领任务")
        page.goto(f"/tasks/{task_id}")
        expect(page.locator("#task-title")).to_have_text("确认预约")
        expect(page.locator("#claim")).to_have_text("领取")
        with page.expect_navigation():
            page.click("#switch-language")
        expect(page.locator("#task-title")).to_have_text("Confirm reservation")
        expect(page.locator("#claim")).to_have_text("Claim")
        page.goto("/?view=groups")
        expect(page.locator("h1")).to_have_text("Inbox")
        expect(page.locator("#tab-groups")).to_contain_text("My groups' tasks")
        actor.logout()
        actor.login()  # the choice is remembered for the user, not just the browser session
        page.goto(f"/tasks/{task_id}")
        expect(page.locator("#task-title")).to_have_text("Confirm reservation")
        with page.expect_navigation():
            page.click("#switch-language")
        expect(page.locator("#task-title")).to_have_text("确认预约")
        with page.expect_navigation():
            page.click("#claim")
        expect(page.locator("label[for=f-comment]")).to_have_text("意见")
        expect(page.locator("#action-approve")).to_have_text("确认")
    finally:
        context.close()
