"""The DMN designer in a real Chromium: a designer opens a decision table in dmn-js, changes one
cell, validates, reads the what-if replay of past decisions, and deploys; a new case then takes
the new outcome while a case started before keeps its version.

Runs Playwright on a thread of its own, as tests/test_browser_designer.py explains."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import user
from tests.dmn_helpers import Variant
from tests.processes.ownership.steps import complete
from tests.test_browser import TIMEOUT_MS, Actor, Chromium
from workflows.cases import commands as cases
from workflows.cases.models import ProcessInstance
from workflows.db import db

pytestmark = pytest.mark.browser


def test_designer_changes_a_row_sees_the_replay_and_deploys(browser_thread: tuple[ThreadPoolExecutor, Chromium],
                                                            live_server: str, tmp_path: Path) -> None:
    v = Variant("browserdmn")
    v.deploy(after_task=True)
    past = []
    for age, risk in [(62, 5), (63, 4), (61, 3), (30, 5), (70, 5)]:
        case = cases.start_case(v.process, user("staff04"), {})
        complete(case, "Task_Enter", user("staff04"), {"age": str(age), "risk": str(risk)})
        past.append(case)
    running = cases.start_case(v.process, user("staff04"), {})  # waits at its first step, on v1
    db.session.commit()
    pool, holder = browser_thread
    pool.submit(_change_validate_deploy, holder, live_server, tmp_path, v, {c.id for c in past[:2]}).result()

    db.session.expire_all()
    fresh = cases.start_case(v.process, user("staff04"), {})
    for case in (running, fresh):
        complete(case, "Task_Enter", user("staff04"), {"age": "62", "risk": "5"})
    running_row = db.session.get(ProcessInstance, running.id)
    fresh_row = db.session.get(ProcessInstance, fresh.id)
    assert running_row is not None and fresh_row is not None
    assert running_row.outcome == "End_Normal" and fresh_row.outcome == "End_Refused"
    assert fresh_row.definition.version == running_row.definition.version + 1


def _change_validate_deploy(chromium: Chromium, live_server: str, tmp_path: Path, v: Variant,
                            refused_now: set[int]) -> None:
    context = chromium.get().new_context(base_url=live_server, locale="en-US", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    actor = Actor(page, "designer")
    expect = actor.expect
    try:
        actor.login()
        page.goto("/designer/")
        with page.expect_navigation():
            page.click("#designer-dmn")
        with page.expect_navigation():
            page.click(f'[data-key="{v.key}"] a.dmn-edit')
        expect(page.locator("#dmn-editor .dmn-decision-table-container")).to_be_visible()
        expect(page.locator("#dmn-validate")).to_be_enabled()

        # the first row's age cell: type the new limit into dmn-js's content-editable cell
        cell = page.locator('#dmn-editor td[data-element-id="E1"] [contenteditable]')
        expect(cell).to_have_text(">= 65")
        cell.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(">= 60")
        page.locator("#dmn-editor td[data-element-id=\"O3\"]").click()  # leave the cell
        expect(cell).to_have_text(">= 60")

        page.click("#dmn-validate")
        result = page.locator("#dmn-result")
        expect(result).to_have_attribute("data-state", "success")
        expect(page.locator("#dmn-replay")).to_be_visible()
        expect(page.locator("#dmn-replay-summary")).to_have_text(
            "5 past decisions: 3 unchanged, 2 would change, 0 cannot be replayed.")
        change = page.locator('#dmn-replay-changes li[data-old="normal"][data-new="refused"]')
        expect(change.locator(".change-count")).to_have_text("2")
        rows = page.locator("#dmn-replay-cases tbody tr")
        expect(rows).to_have_count(2)
        assert {int(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.instance)")} == refused_now
        expect(page.locator("#dmn-running-note")).to_contain_text("running cases keep the version")

        # a broken cell: refused, the problem names row and column and the cell is marked
        cell.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(">= 6 0")
        page.locator("#dmn-editor td[data-element-id=\"O3\"]").click()
        page.click("#dmn-validate")
        expect(result).to_have_attribute("data-state", "error")
        problem = page.locator('#dmn-problems li[data-row="1"][data-column="Age"]')
        expect(problem).to_contain_text("rule 1, Age")
        expect(page.locator('#dmn-editor td.dmn-problem[data-element-id="E1"]')).to_have_count(1)
        cell.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(">= 60")
        page.locator("#dmn-editor td[data-element-id=\"O3\"]").click()

        page.click("#dmn-deploy")
        expect(result).to_have_attribute("data-state", "success")
        expect(result).to_contain_text(f"Deployed {v.key} as version 2")
        expect(result).to_contain_text(f"{v.process} v2")
        assert errors == [], errors
        actor.logout()
    except BaseException as exc:
        shot = tmp_path / "dmn-failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            exc.add_note(f"[dmn] at {page.url}; screenshot {shot}")
        except Exception:  # noqa: BLE001 - the original failure matters more
            exc.add_note(f"[dmn] at {page.url}")
        raise
    finally:
        context.close()
