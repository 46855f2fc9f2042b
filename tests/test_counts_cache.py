"""The header's inbox counts are kept a few seconds per person (issue 9), and what changes tasks
makes them stale at once: a person sees their own claim or completion counted on the next page."""

from __future__ import annotations

import datetime as dt

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import complete, counter_pass, open_task, registration
from workflows.cases import commands as cases
from workflows.cases import counts_cache, inbox
from workflows.db import db
from workflows.engine import clock


def _counted(person: str) -> tuple[dict[str, int], int]:
    """(counts, how many times they were computed) for one ask through the cache."""
    someone = user(person)
    computed = []

    def compute() -> dict[str, int]:
        computed.append(1)
        return inbox.counts(someone)

    return counts_cache.counts_for(someone.id, compute), len(computed)


def _at_trading_review():
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter1"))
    complete(instance, "Task_Aggregate", user("support1"), {"batch_ref": "B-7"})
    db.session.commit()
    return instance


def test_counts_are_kept_until_a_task_changes_or_a_few_seconds_pass() -> None:
    instance = _at_trading_review()
    first, _ = _counted("trading")
    again, computed = _counted("trading")
    assert again == first and computed == 0  # kept

    cases.claim(open_task(instance, "Task_TradingReview").id, user("trading"))
    db.session.commit()  # a task changed: every kept count is stale
    after_claim, computed = _counted("trading")
    assert computed == 1
    assert after_claim["mine"] == first["mine"] + 1 and after_claim["groups"] == first["groups"] - 1

    _, computed = _counted("trading")
    assert computed == 0
    clock.travel(counts_cache.FRESH_FOR + dt.timedelta(seconds=1))  # no change, but time has passed
    try:
        _, computed = _counted("trading")
        assert computed == 1
    finally:
        clock.travel(-(counts_cache.FRESH_FOR + dt.timedelta(seconds=1)))


def test_a_rolled_back_change_leaves_the_counts_kept() -> None:
    _counted("gm")
    _, computed = _counted("gm")
    assert computed == 0
    instance = _at_trading_review()  # committed: stale
    _, computed = _counted("gm")
    assert computed == 1
    task = open_task(instance, "Task_TradingReview")
    task.claimed_by_id = user("trading").id
    db.session.flush()
    db.session.rollback()  # never happened
    _, computed = _counted("gm")
    assert computed == 0


def test_the_header_shows_ones_own_claim_at_once(web) -> None:
    instance = _at_trading_review()
    web.login("trading")
    page = web.client.get("/").get_data(as_text=True)
    before = int(page.split('id="tabcount-mine">')[1].split("<")[0])
    task = open_task(instance, "Task_TradingReview")
    db.session.rollback()
    assert web.post(f"/tasks/{task.id}/claim").status_code == 302
    page = web.client.get("/").get_data(as_text=True)
    assert int(page.split('id="tabcount-mine">')[1].split("<")[0]) == before + 1
