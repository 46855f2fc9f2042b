"""The inbox costs a fixed number of SQL statements whatever the history (issue 9).

A statement counter on the engine counts what one request sends to the database: the
inbox page in every view (with and without filters), the API task list in every view, and
a page that only shows the header's inbox counts. Then years are simulated the real way —
cases run through the engine to the end by the same people and roles, an open task
claimed and released again and again (a long history), more open work in the queue — and
the same requests must send exactly as many statements as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.api.client import api  # noqa: F401 - the API fixture
from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import complete, counter_pass, open_task, registration, through_to_registry
from workflows.branch.org import scope_unit_ids
from workflows.cases import commands as cases
from workflows.cases import inbox
from workflows.db import db

VIEWS = ("mine", "groups", "escalated", "done")
PAGES = [f"/?view={v}" for v in VIEWS] + [
    "/?view=groups&process=client_ownership&overdue=1&q=%E5%AE%A2%E6%88%B7", "/?view=groups&page=2",
    "/processes", "/profile"]  # the last two show only the header's counts
API_LISTS = [f"/tasks?view={v}" for v in VIEWS] + ["/tasks?view=groups&process=client_ownership&q=Review&per_page=5"]
PEOPLE = ("gm", "trading")


class StatementCounter:
    """Counts the statements the engine sends while it is on (every connection, every thread)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.statements.append(statement)


@contextmanager
def counting() -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)


def _to_registry(staff: str) -> None:
    """One client registration run to its end: finished tasks for trading, finance and the GM."""
    instance = cases.start_case("client_ownership", user(staff), registration(unique_id_number()))
    through_to_registry(instance)


def _at_trading_review(staff: str):
    """An open case waiting in the trading manager's group queue."""
    instance = cases.start_case("client_ownership", user(staff), registration(unique_id_number()))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter1"))
    complete(instance, "Task_Aggregate", user("support1"), {"batch_ref": "B-2"})
    return instance


def _grow_history(rounds: int) -> None:
    for k in range(rounds):
        _to_registry(f"staff0{1 + k % 5}")
    long = _at_trading_review("staff02")
    review = open_task(long, "Task_TradingReview")
    for _ in range(rounds * 5):  # a long history on one case: claimed and released again and again
        cases.claim(review.id, user("trading"))
        cases.release(review.id, user("trading"))
    for k in range(3):  # and more open work in the queues
        _at_trading_review(f"staff0{3 + k}")
    cases.claim(open_task(_at_trading_review("staff01"), "Task_TradingReview").id, user("trading"))


def _web_costs(web) -> dict[tuple[str, str], int]:
    costs = {}
    for person in PEOPLE:
        web.login(person)
        for path in PAGES:
            assert web.client.get(path).status_code == 200  # warm: caches filled, as on a running server
            with counting() as counter:
                resp = web.client.get(path)
            assert resp.status_code == 200, path
            costs[(person, path)] = len(counter.statements)
        web.logout()
    return costs


def _api_costs(api) -> dict[tuple[str, str], int]:  # noqa: F811
    costs = {}
    for person in PEOPLE:
        client = api(person)
        for path in API_LISTS:
            assert client.get(path).status_code == 200
            with counting() as counter:
                resp = client.get(path)
            assert resp.status_code == 200, (path, resp.get_data(as_text=True)[:300])
            costs[(person, path)] = len(counter.statements)
    return costs


def _counts_cost() -> dict[str, tuple[int, dict[str, int]]]:
    costs = {}
    for person in PEOPLE:
        db.session.commit()
        someone = user(person)
        sorted(someone.roles), scope_unit_ids(someone)  # the person is loaded by the login, not by the counts
        with counting() as counter:
            found = inbox.counts(someone)
        costs[person] = (len(counter.statements), found)
    return costs


@pytest.fixture
def some_open_work() -> None:
    """Every list the test reads has rows before the history grows (an empty page skips a lookup)."""
    _to_registry("staff02")  # done, for both
    _at_trading_review("staff01")  # in the trading manager's group queue
    cases.claim(open_task(_at_trading_review("staff03"), "Task_TradingReview").id, user("trading"))  # his
    at_gm = _at_trading_review("staff04")
    complete(at_gm, "Task_TradingReview", user("trading"), {"decision": "approve"})
    complete(at_gm, "Task_FinanceReview", user("finance"), {"decision": "approve"})
    cases.claim(open_task(at_gm, "Task_GMReview").id, user("gm"))  # the GM's own
    at_gm = _at_trading_review("staff05")
    complete(at_gm, "Task_TradingReview", user("trading"), {"decision": "approve"})
    complete(at_gm, "Task_FinanceReview", user("finance"), {"decision": "approve"})  # in the GM's group queue


def test_inbox_pages_cost_the_same_whatever_the_history(web, some_open_work) -> None:
    before = _web_costs(web)
    _grow_history(rounds=4)
    after = _web_costs(web)
    assert after == before
    assert max(before.values()) <= 25, before  # a small fixed number, not one per row


def test_api_task_lists_cost_the_same_whatever_the_history(api, some_open_work) -> None:  # noqa: F811
    before = _api_costs(api)
    _grow_history(rounds=4)
    after = _api_costs(api)
    assert after == before
    assert max(before.values()) <= 12, before


def test_header_counts_are_one_statement_whatever_the_history(some_open_work) -> None:
    before = _counts_cost()
    _grow_history(rounds=3)
    after = _counts_cost()
    assert {p: n for p, (n, _) in before.items()} == {p: n for p, (n, _) in after.items()} == {"gm": 1, "trading": 1}
    # and they did count the new work: three more cases in the queue, one claimed
    assert after["trading"][1]["groups"] == before["trading"][1]["groups"] + 4
    assert after["trading"][1]["mine"] == before["trading"][1]["mine"] + 1


def test_counts_agree_with_the_lists(api, some_open_work) -> None:  # noqa: F811
    """The counts (one statement of subqueries) and the pages (EXISTS over open rows) say the same."""
    _grow_history(rounds=1)
    for person in PEOPLE:
        found = inbox.counts(user(person))
        for view in ("mine", "groups", "escalated"):
            listed = api(person).get(f"/tasks?view={view}&per_page=1").get_json()["total"]
            assert listed == found[view], (person, view)
        overdue = sum(api(person).get(f"/tasks?view={v}&overdue=1&per_page=1").get_json()["total"]
                      for v in ("mine", "groups"))
        assert overdue == found["overdue"]


OPEN_INDEXES = {"ix_human_task_open_unowned", "ix_human_task_open_escalated"}
HISTORY_TABLES = ("human_task", "task_candidate", "task_exclusion")


def _inbox_statements(person: str) -> list[tuple[str, object]]:
    """The SQL (and parameters) of the header counts and the open views' pages of ``person``."""
    someone = user(person)
    sorted(someone.roles), scope_unit_ids(someone)
    sent: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        inbox.counts(someone)
        for view in ("mine", "groups", "escalated"):
            inbox.tasks(someone, inbox.InboxFilter(view=view))
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return sent


def _sqlite_refusals(statement: str, parameters: object) -> list[str]:
    with db.engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    wrong = []
    for line in plan:
        words = line.split()
        if len(words) < 2 or words[1] not in HISTORY_TABLES:
            continue
        by_open_index = any(name in line for name in OPEN_INDEXES)
        if words[1] == "human_task":
            ok = by_open_index or "(state=" in line or "(rowid=" in line
        else:
            ok = words[0] == "SEARCH" and "(task_id=" in line
        if not ok:
            wrong.append(line)
    return wrong


def _postgres_refusals(statement: str, parameters: object) -> list[str]:
    with db.engine.connect() as conn:
        # A test database is tiny: whole-table reads and hashes are its cheapest plans. Ask what the
        # query lets the planner do when tables are big: probe by index (a big database's plan, see bench).
        for method in ("seqscan", "hashjoin", "mergejoin", "hashagg", "sort"):
            conn.exec_driver_sql(f"SET LOCAL enable_{method} = off")
        (plan,), = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).fetchall()
        conn.rollback()
    wrong = []

    def walk(node: dict) -> None:
        table, index, cond = node.get("Relation Name"), node.get("Index Name") or "", node.get("Index Cond") or ""
        if node["Node Type"] == "Seq Scan" and table in HISTORY_TABLES:
            wrong.append(f"Seq Scan on {table}")
        if index.startswith(("ix_human_task", "pk_human_task")):
            # (a tiny table may also be read through one person's escalations, an index as selective there
            # as the open-rows one; on a big database the planner takes the partial index, see bench)
            person_escalations = index == "ix_human_task_escalated_to_id" and "escalated_to_id =" in cond
            if not (index in OPEN_INDEXES or "'open'" in cond or index == "pk_human_task" or person_escalations):
                wrong.append(f"{index}: {cond}")
        # (which side drives the EXISTS on candidates is the planner's choice from the table sizes: on a big
        # database it probes by task, as bench EXPLAIN ANALYZE shows; a tiny one may read the role's few rows)
        if index.startswith(("ix_task_exclusion", "pk_task_exclusion")):
            if "(task_id =" not in cond:
                wrong.append(f"{index}: {cond}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"] if isinstance(plan, list) else plan["Plan"])
    return wrong


def test_the_inbox_reads_open_rows_and_probes_candidates_by_task(some_open_work) -> None:
    """From the plans: human tasks are reached through open rows (a partial index, or the
    state leading an index), exclusion rows (and on SQLite candidate rows) only by their task's
    key — never a whole table, nor every candidate row ever made for a role or every exclusion
    of a person. Main's IN / NOT IN shapes fail this on both databases."""
    refusals = _sqlite_refusals if db.engine.dialect.name == "sqlite" else _postgres_refusals
    for person in PEOPLE:
        statements = _inbox_statements(person)
        assert len(statements) == 1 + 3  # the counts; a page per view, its total counted with it (count(*) over ())
        for statement, parameters in statements:
            found = refusals(statement, parameters)
            assert found == [], (found, statement[:300])
