"""Process D end to end in a real Chromium (issue 11's acceptance):

- a 66-year-old C3 customer buys an R3 product: the advisor fills the start form, the retail head
  gives the second risk warning and signs from the group inbox, the advisor enters the 双录
  reference, and the sale is in the register with the rule that fired and its witness;
- an R4 attempt for the same customer is refused, its reason and the products she may buy shown;
- the auditor reads the sale's case page: the suitability table with the row that fired highlighted;
- the designer lowers the witness age of the suitability table from 65 to 60 in dmn-js, reads the
  what-if replay (a past normal sale to a 62-year-old would now need a witness), and deploys: a new
  sale to a 62-year-old goes to the witness, and the case page shows the fired row.

Needs Debian's Chromium like tests/test_browser.py (it fails, never skips, without it). Playwright
runs on a thread of its own, as tests/test_browser_designer.py explains.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.processes.sale.sale_steps import (  # noqa: F401 - restore_table is a fixture
    disclose,
    make_customer,
    make_product,
    qualify,
    recording_ref,
    restore_table,
    start_sale,
)
from tests.test_browser import Actor, Chromium, _task_id, acting_as
from workflows.cases import commands, decisions, replay
from workflows.cases.models import ProcessInstance
from workflows.db import db

pytestmark = pytest.mark.browser

WITNESS_STEP = "Witness: second risk warning and signature"
OLD_AGE, NEW_AGE = ">= 65", ">= 60"


class Session(NamedTuple):
    page: Any
    actor: Actor


def _in_browser(pool: ThreadPoolExecutor, holder: Chromium, live_server: str, tmp_path: Path, username: str,
                steps: Callable[[Session], Any]) -> Any:
    """One person's steps in a browser context of their own, on the browser's thread (logged in and out,
    a screenshot on failure: ``acting_as``); a script error on their pages fails the test."""
    def run() -> Any:
        with acting_as(holder, live_server, username, tmp_path) as actor:
            errors: list[str] = []
            actor.page.on("pageerror", lambda exc: errors.append(str(exc)))
            result = steps(Session(actor.page, actor))
            assert errors == [], errors
            return result

    return pool.submit(run).result()


def _start_sale(s: Session, id_number: str, product_code: str, horizon: int) -> int:
    page, a = s.page, s.actor
    page.goto("/processes/high_risk_sale/start")
    a.expect(page.locator("#start-info")).to_contain_text(product_code)  # the active products are listed
    a.fill("customer", id_number)
    a.fill("product", product_code)
    a.fill("amount", "50000")
    a.select("purpose", "general")
    a.fill("horizon_months", str(horizon))
    a.select("customer_insists", "false")
    a.select("guardian_present", "false")
    with page.expect_navigation(url=re.compile(r"/(cases|tasks)/\d+$")):
        page.click("#start-submit")
    return int(re.search(r"/cases/(\d+)", page.url).group(1)) if "/cases/" in page.url else 0


def _advisor_sells(s: Session, id_number: str, r3: str, r4: str) -> tuple[int, int]:
    page, a = s.page, s.actor
    sale = _start_sale(s, id_number, r3, 12)
    assert sale, page.url
    a.expect(page.locator('dd[data-key="outcome"]')).to_have_text("Witness required")
    # the advisor's own step first: the risk disclosure and the customer's confirmation, from the case page
    with page.expect_navigation(url=re.compile(r"/tasks/\d+$")):
        page.locator("#case-tasks a", has_text="Risk disclosure").click()
    a.fill("disclosure", "已揭示产品风险：本金可能亏损 Principal may be lost.")
    a.select("customer_confirmed", "confirmed")
    a.act("submit")
    refused = _start_sale(s, id_number, r4, 24)
    a.expect(page.locator("#case-outcome")).to_be_visible()
    a.expect(page.locator('dd[data-key="outcome"]')).to_have_text("Refused")
    a.expect(page.locator('dd[data-key="reason"]')).to_have_text("A customer aged 65 or over may not buy R4–R5")
    a.expect(page.locator('dd[data-key="suitable_products"]')).to_contain_text(r3)
    a.expect(page.locator('dd[data-key="suitable_products"]')).not_to_contain_text(r4)
    return sale, refused


def _retail_head_witnesses(s: Session, instance_id: int, task_id: int, title: str) -> None:
    page, a = s.page, s.actor
    a.inbox("groups")
    page.fill("#filter-q", title)
    with page.expect_navigation(url=re.compile(r"[?&]q=")):
        page.press("#filter-q", "Enter")
    row = page.locator(f'tr[data-task-id="{task_id}"]')
    a.expect(row.locator(".task-link")).to_have_text(WITNESS_STEP)
    with page.expect_navigation(url=re.compile(rf"/tasks/{task_id}$")):
        row.locator(".task-link").click()
    with page.expect_navigation(url=re.compile(rf"/tasks/{task_id}$")):
        page.click("#claim")
    a.fill("second_warning", "二次风险提示：本产品可能亏损本金 Principal may be lost.")
    a.fill("customer_confirmation", "客户确认购买 The customer confirms the purchase.")
    a.select("witness_signature", "signed")
    a.act("witness")


def _advisor_records_and_reads_the_register(s: Session, instance_id: int, task_id: int, id_number: str,
                                            ref: str) -> None:
    page, a = s.page, s.actor
    page.goto(f"/tasks/{task_id}")
    a.fill("recording_ref", ref)
    a.act("submit")
    with page.expect_navigation():
        page.click('a[data-nav="sale-register"]')
    row = page.locator("tr.sale-record").filter(has=page.locator(f'a[href="/cases/{instance_id}"]'))
    a.expect(row).to_have_count(1)
    a.expect(row).to_have_attribute("data-status", "completed")
    a.expect(row).to_contain_text("Rule_ElderlyWitness")
    a.expect(row).to_contain_text("李零售")  # the retail head who signed
    a.expect(row).not_to_contain_text(id_number)  # masked in the list


def _auditor_reads_the_decision(s: Session, instance_id: int) -> None:
    page, a = s.page, s.actor
    page.goto(f"/cases/{instance_id}")
    fired = page.locator("#case-decisions table.dmn-table tr.fired")
    a.expect(fired).to_have_count(1)
    a.expect(fired).to_have_attribute("data-rule", "Rule_ElderlyWitness")
    a.expect(fired.locator(".fired-mark")).to_be_visible()
    a.expect(page.locator("#case-decisions .decision-inputs")).to_contain_text("age = 66")


def _designer_lowers_the_witness_age(s: Session, expected: replay.Replay, changed_case: int) -> None:
    page, a = s.page, s.actor
    page.goto("/designer/")
    with page.expect_navigation():
        page.click("#designer-dmn")
    with page.expect_navigation():
        page.click('[data-key="suitability.dmn"] a.dmn-edit')
    cell = page.locator('#dmn-editor td[data-element-id="Rule_ElderlyWitness_age"] [contenteditable]')
    a.expect(cell).to_have_text(OLD_AGE)
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(NEW_AGE)
    page.locator('#dmn-editor td[data-element-id="Rule_ElderlyWitness_reason"]').click()  # leave the cell
    a.expect(cell).to_have_text(NEW_AGE)

    page.click("#dmn-validate")
    result = page.locator("#dmn-result")
    a.expect(result).to_have_attribute("data-state", "success")
    summary = (f"{expected.total} past decisions: {expected.unchanged} unchanged, {expected.changed} would change, "
               f"{expected.not_replayable} cannot be replayed.")
    a.expect(page.locator("#dmn-replay-summary")).to_have_text(summary)
    change = page.locator('#dmn-replay-changes li[data-old="normal"][data-new="witness"]')
    a.expect(change.locator(".change-count")).to_have_text(str(expected.changes[("outcome", "normal", "witness")]))
    a.expect(page.locator(f'#dmn-replay-cases tbody tr[data-instance="{changed_case}"]')).to_have_count(1)
    a.expect(page.locator("#dmn-running-note")).to_contain_text("running cases keep the version")

    page.click("#dmn-deploy")
    a.expect(result).to_have_attribute("data-state", "success")
    a.expect(result).to_contain_text("high_risk_sale v")


@pytest.mark.usefixtures("restore_table")
def test_a_witnessed_sale_a_refusal_and_a_rule_change(browser_thread: tuple[ThreadPoolExecutor, Chromium],
                                                      live_server: str, tmp_path: Path) -> None:
    pool, holder = browser_thread
    elderly = make_customer(age=66, level=3, name="王秀英")
    r3, r4 = make_product(3, term=12, name="平衡配置"), make_product(4, term=24, name="成长股票")
    qualify("advisor1")
    younger = make_customer(age=62, level=3, name="陈淑华")
    past = start_sale(younger, r3)  # a normal sale before the rule change: it would need a witness after it
    disclose(past)
    assert past.status == "completed"

    # the browser's thread has no app context: it is handed plain values
    id_number, r3_code, r4_code, ref = elderly.id_number, r3.code, r4.code, recording_ref(7)
    sale, refused = _in_browser(pool, holder, live_server, tmp_path, "advisor1",
                                lambda s: _advisor_sells(s, id_number, r3_code, r4_code))
    db.session.expire_all()
    case = db.session.get(ProcessInstance, sale)
    assert case is not None and case.status == "running"
    witness_task = _task_id(sale, "Task_Witness")
    title = case.title
    _in_browser(pool, holder, live_server, tmp_path, "retail",
                lambda s: _retail_head_witnesses(s, sale, witness_task, title))
    recording_task = _task_id(sale, "Task_Recording")
    _in_browser(pool, holder, live_server, tmp_path, "advisor1",
                lambda s: _advisor_records_and_reads_the_register(s, sale, recording_task, id_number, ref))
    db.session.expire_all()
    assert db.session.get(ProcessInstance, sale).status == "completed"
    assert db.session.get(ProcessInstance, refused).outcome == "End_Refused"

    _in_browser(pool, holder, live_server, tmp_path, "auditor", lambda s: _auditor_reads_the_decision(s, sale))

    # what the page must show is what the replay computes over every past decision in this database
    current = decisions.latest("suitability.dmn")
    assert current is not None and "<text>&gt;= 65</text></inputEntry>" in current.dmn_xml
    changed_xml = current.dmn_xml.replace('<inputEntry id="Rule_ElderlyWitness_age"><text>&gt;= 65</text>',
                                          '<inputEntry id="Rule_ElderlyWitness_age"><text>&gt;= 60</text>')
    assert changed_xml != current.dmn_xml
    expected = replay.replay("suitability.dmn", changed_xml)
    assert expected.changes[("outcome", "normal", "witness")] >= 1
    past_id = past.id
    _in_browser(pool, holder, live_server, tmp_path, "designer",
                lambda s: _designer_lowers_the_witness_age(s, expected, past_id))

    db.session.expire_all()
    after = start_sale(make_customer(age=62, level=3, name="陈淑华"), r3)
    assert after.definition.version > case.definition.version  # the version the designer's deploy made
    facts = commands.instance_data(after)
    assert (facts["outcome"], facts["reason"]) == ("witness", "elderly_r3_witness")  # the new row decides
