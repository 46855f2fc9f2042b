"""The process designer in a real Chromium: the modeler opens the library diagram,
Validate answers in the message area, and a refused diagram selects the element named.

The browser runs in a thread of its own: tests/test_browser.py keeps its session-wide
Playwright (sync API) running on the main thread until the end of the run, and a second
sync Playwright cannot start on a thread whose event loop is taken. A module fixture
importing its ``chromium`` would be a second instance on the same thread, so this
module drives its own ``Chromium`` holder (same launch, same never-skip rule) there."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_browser import TIMEOUT_MS, Actor, Chromium

pytestmark = pytest.mark.browser

LIBRARY_XML = (ROOT / "bpmn" / "client_ownership.bpmn").read_text("utf-8")


def test_designer_validates_in_the_modeler(browser_thread: tuple[ThreadPoolExecutor, Chromium], live_server: str,
                                           tmp_path: Path) -> None:
    pool, holder = browser_thread
    pool.submit(_validate_in_the_modeler, holder, live_server, tmp_path).result()


def _validate_in_the_modeler(chromium: Chromium, live_server: str, tmp_path: Path) -> None:
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
        with page.expect_navigation():
            page.click('a[data-nav="designer"]')
        expect(page.locator("#process-client_ownership")).to_be_visible()
        page.goto("/designer/client_ownership/edit")
        expect(page.locator("#designer-canvas .djs-container")).to_be_visible()
        expect(page.locator('#designer-canvas [data-element-id="Task_ConfirmReservation"]')).to_have_count(1)
        expect(page.locator("#designer-properties .bio-properties-panel")).to_have_count(1)
        expect(page.locator("#designer-validate")).to_be_enabled()

        page.click("#designer-validate")
        result = page.locator("#designer-result")
        expect(result).to_have_attribute("data-state", "success")
        expect(result).to_contain_text("The diagram is valid")
        expect(result).to_contain_text("client_ownership")

        # A hostile condition: the refusal names the flow, which is selected and marked on the canvas.
        hostile = LIBRARY_XML.replace("decision == 'reject'</bpmn:conditionExpression>",
                                      "__import__('os').system('id')</bpmn:conditionExpression>", 1)
        page.evaluate("xml => window.designerModeler.importXML(xml)", hostile)
        page.click("#designer-validate")
        expect(result).to_have_attribute("data-state", "error")
        expect(result).to_contain_text("element 'Flow_ResReject")
        expect(result).to_contain_text("refused")
        selected = page.evaluate("window.designerModeler.get('selection').get().map(e => e.id)")
        assert selected == ["Flow_ResReject"]
        expect(page.locator('.djs-element.designer-error[data-element-id="Flow_ResReject"]')).to_have_count(1)
        assert errors == [], errors
        actor.logout()
    except BaseException as exc:
        shot = tmp_path / "designer-failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            exc.add_note(f"[designer] at {page.url}; screenshot {shot}")
        except Exception:  # noqa: BLE001 - the original failure matters more
            exc.add_note(f"[designer] at {page.url}")
        raise
    finally:
        context.close()
