"""Searches and case pages cost the same however many cases and events pile up (issue 9): the
number of SQL statements a page issues is counted before and after adding cases (started by new
people) or history (more rounds of a send-back), through the real commands, and must not change.
Also: the client is found by the whole ID number only, by name, by month, and the keyset pages
of the search and the API never skip or repeat a case."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from tests.api.client import api  # noqa: F401, F811 - the API tests' fixture
from tests.conftest import user
from tests.processes.ownership.steps import complete, counter_pass, registration
from workflows.branch import people
from workflows.branch.demo import DEMO_PASSWORD
from workflows.branch.models import User
from workflows.cases import commands
from workflows.cases.models import ProcessInstance
from workflows.cases.search import CaseFilter, is_id_number, normalise_key, search_cases, search_page
from workflows.db import db
from workflows.errors import Invalid

PASSWORD = "password-123"
_own = itertools.count(1)


def unique_username(prefix: str) -> str:
    """Like ``tests.conftest``'s, from a counter of this file's own: the many names and numbers
    made here leave the shared counter, and so the values later tests draw, as they were."""
    return f"{prefix}{os.getpid() % 10000}h{next(_own)}"


def unique_id_number() -> str:
    """A client ID number no other test uses (the shared counter's never have a 9 in this place)."""
    return f"{os.getpid() % 1000:03d}9{next(_own):05d}{len(str(os.getpid()))}X"[:18].rjust(18, "1")


@contextmanager
def counted() -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs (any connection of the engine)."""
    seen: list[str] = []

    def note(conn, cursor, statement, params, context, executemany) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


_quiet_unit: list[int] = []


def _staff(prefix: str = "cost", unit_id: int | None = None) -> User:
    """A new staff member, by default of a department nobody supports: the many cases these tests
    start then wait in no one's inbox, and the other tests' inboxes stay as they were."""
    if unit_id is None and not _quiet_unit:
        branch = people.tree()[0][1]
        _quiet_unit.append(people.save_unit(None, kind="department", name=unique_username("成本部"),
                                            parent_id=branch.id, leader_id=None).id)
    return people.save_user(None, username=unique_username(prefix), full_name=f"成本{prefix}", roles=["staff"],
                            unit_id=unit_id or _quiet_unit[0], active=True, password=PASSWORD, actor=None)


def _cases_by_new_people(count: int, name: str) -> list[ProcessInstance]:
    """``count`` cases, each started by someone who started none before (a per-starter query shows)."""
    made = [commands.start_case("client_ownership", _staff(), registration(unique_id_number(), name))
            for _ in range(count)]
    db.session.commit()
    return made


def _statements(web, path: str) -> int:
    """How many statements one GET of ``path`` issues (after a first GET warms the caches)."""
    assert web.client.get(path).status_code == 200
    with counted() as seen:
        resp = web.client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return len(seen)


def _api_statements(api_client, path: str) -> int:
    assert api_client.get(path).status_code == 200
    with counted() as seen:
        resp = api_client.get(path)
    assert resp.status_code == 200, resp.get_json()
    return len(seen)


# --- statements per page ------------------------------------------------------------


def test_the_auditors_search_pages_cost_the_same_however_many_cases_and_starters(web) -> None:
    name = unique_username("成本甲")  # a name only these cases carry
    first = _cases_by_new_people(3, name)
    month = first[0].started_at.date().isoformat()[:7]
    pages = ["/audit/", f"/audit/?client={name}", f"/audit/?client={first[0].business_key}",
             f"/audit/?status=running&month={month}", "/audit/?process=client_ownership&person=成本"]
    web.login("auditor")
    before = {path: _statements(web, path) for path in pages}
    _cases_by_new_people(12, name)  # twelve more cases, twelve more starters, all on these pages
    after = {path: _statements(web, path) for path in pages}
    assert after == before
    assert max(before.values()) <= 12, before  # a handful: the person, the header, the page


def test_the_api_case_list_costs_the_same_however_many_cases(api) -> None:  # noqa: F811
    name = unique_username("成本乙")
    _cases_by_new_people(3, name)
    lister = _staff("lister")
    auditor, staff = api("auditor"), api(lister.username)
    commands.start_case("client_ownership", lister, registration(unique_id_number(), name))
    db.session.commit()
    paths = {"auditor": "/instances?per_page=20", "lister": "/instances?per_page=20&status=running"}
    before = {"auditor": _api_statements(auditor, paths["auditor"]),
              "lister": _api_statements(staff, paths["lister"])}
    for _ in range(3):  # more of the lister's own cases, and others' by new people
        commands.start_case("client_ownership", lister, registration(unique_id_number(), name))
    _cases_by_new_people(20, name)
    after = {"auditor": _api_statements(auditor, paths["auditor"]),
             "lister": _api_statements(staff, paths["lister"])}
    assert after == before
    # a page reached by its cursor costs the same too
    link = auditor.get(paths["auditor"]).get_json()["next"]
    assert link is not None
    deeper = _api_statements(auditor, link.removeprefix("/api/v1"))
    assert deeper <= before["auditor"]


def _send_back_rounds(case: ProcessInstance, clerks: list[User]) -> None:
    """The trading manager sends the case back once per clerk; that clerk redoes the counter step
    (more people in the history), support aggregates."""
    for k, clerk in enumerate(clerks):
        complete(case, "Task_TradingReview", user("trading"), {"decision": "send_back", "comment": f"第{k}次退回"})
        counter_pass(case, clerk)
        complete(case, "Task_Aggregate", user("support1"), {})
    db.session.commit()


def _counter_clerk() -> User:
    return people.save_user(None, username=unique_username("clerk"), full_name="新柜员", roles=["counter"],
                            unit_id=user("counter1").unit_id, active=True, password=PASSWORD, actor=None)


def test_a_case_page_costs_the_same_however_long_its_history(web, api) -> None:  # noqa: F811
    owner = _staff("hist", user("staff01").unit_id)  # in staff01's team: support1 confirms it
    case = commands.start_case("client_ownership", owner, registration(unique_id_number(), "长历史客户"))
    complete(case, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(case, user("counter1"))
    complete(case, "Task_Aggregate", user("support1"), {})
    _send_back_rounds(case, [user("counter2")])
    path = f"/cases/{case.id}"

    def costs() -> dict[str, int]:
        out = {}
        for who, password in ((owner.username, PASSWORD), ("trading", None), ("auditor", None)):
            web.login(who, password or DEMO_PASSWORD)
            out[who] = _statements(web, path)
            web.logout()
        out["api history"] = _api_statements(api("auditor"), f"/instances/{case.id}/history")
        out["api case"] = _api_statements(api(owner.username), f"/instances/{case.id}")
        return out

    db.session.refresh(case)
    events_before = case.audit_seq
    before = costs()
    _send_back_rounds(case, [_counter_clerk() for _ in range(4)])  # more events, tasks, files and people
    db.session.refresh(case)
    assert case.audit_seq >= events_before + 20
    after = costs()
    assert after == before
    web.login("auditor")
    page = web.client.get(path)
    assert page.get_data(as_text=True).count('class="ev-') == case.audit_seq



def test_a_case_page_reads_its_reader_and_its_case_once(web) -> None:
    """The starter reading their own case: the case's eager loads leave the reader's roles as the
    sign-in read them (no second read for the page header). An auditor: their look is committed
    first, and the case is then read once by its id (not refreshed, then read again)."""
    owner = _staff("reader")
    case = commands.start_case("client_ownership", owner, registration(unique_id_number(), "读者客户"))
    db.session.commit()
    path = f"/cases/{case.id}"
    for who, password in ((owner.username, PASSWORD), ("auditor", DEMO_PASSWORD)):
        web.login(who, password)
        assert web.client.get(path).status_code == 200
        with counted() as seen:
            page = web.client.get(path)
        web.logout()
        assert page.status_code == 200 and f"#{case.id}" in page.get_data(as_text=True)
        role_reads = [s for s in seen if "FROM user_role" in s]
        case_reads = [s for s in seen if s.lstrip().startswith("SELECT process_instance.id,")
                      and "WHERE process_instance.id =" in s]
        if who == owner.username:
            assert role_reads == [], role_reads  # the sign-in's joined load is the only read of them
            assert len(case_reads) == 2, case_reads  # the right to see it, then the page's eager read
        else:
            assert len(case_reads) == 2, case_reads  # the same two, with the security log between them


# --- what the search finds -------------------------------------------------------------


def test_a_client_is_found_by_the_whole_id_number_never_by_part_of_it() -> None:
    number = unique_id_number()
    case = commands.start_case("client_ownership", _staff(), registration(number, "号码客户"))
    db.session.commit()
    spaced = f" {number[:6]} {number[6:14]} {number[14:].lower()} "

    def found(client: str) -> list[int]:
        return [c.id for c in search_cases(CaseFilter.from_args({"client": client}), 50)]

    assert found(number) == [case.id] and found(spaced) == [case.id]
    for part in (number[-4:], number[:6], number[6:14], number[:-1], number[1:]):
        assert found(part) == [], part
    assert is_id_number(number) and not is_id_number("号码客户")
    for raw in (number, spaced, " a 1 b ", "x" * 130):  # the search normalises as registration stores
        assert normalise_key(raw) == commands._business_key(raw)


def test_a_client_is_found_by_name_through_the_title() -> None:
    tag = unique_username("")  # digits: a name made unique by them would read as an ID number
    name = "名检" + "".join(chr(ord("甲") + int(d)) for d in re.sub(r"\D", "", tag))
    case = commands.start_case("client_ownership", _staff(), registration(unique_id_number(), name))
    db.session.commit()

    def found(client: str) -> list[int]:
        return [c.id for c in search_cases(CaseFilter.from_args({"client": client}), 50)]

    assert found(name) == [case.id]
    assert found(name[:4]) == [case.id]  # the beginning of a name
    assert found(name + "乙乙乙") == []
    middle = name[1:]
    on_postgres = db.session.get_bind().dialect.name == "postgresql"
    assert found(middle) == ([case.id] if on_postgres else [])  # containing: the trigram index's
    assert found("%") == [] and found("_") == []  # LIKE's wildcards are plain characters
    assert found("名_") == []


def test_the_month_and_date_filters_are_branch_calendar_days() -> None:
    person = _staff("month")
    made = [commands.start_case("client_ownership", person, registration(unique_id_number())) for _ in range(3)]
    db.session.commit()
    # 17:30 UTC on 31 March is 1 April in Shanghai; 15:30 UTC is still 31 March there
    made[0].started_at = dt.datetime(2031, 3, 31, 17, 30)
    made[1].started_at = dt.datetime(2031, 3, 31, 15, 30)
    made[2].started_at = dt.datetime(2031, 2, 28, 16, 0)  # midnight: 1 March in Shanghai
    db.session.commit()

    def found(**args: str) -> list[int]:
        return [c.id for c in search_cases(CaseFilter.from_args({"person": person.username, **args}), 50)]

    assert found(month="2031-03") == [made[1].id, made[2].id]
    assert found(month="2031-04") == [made[0].id]
    assert found(month="2031-03", status="running") == [made[1].id, made[2].id]
    assert found(month="2031-03", status="completed") == []
    assert found(**{"from": "2031-03-31", "to": "2031-03-31"}) == [made[1].id]
    assert found(month="2031-13") == found(month="nonsense") == found()  # a malformed month does not filter


def test_the_search_pages_by_cursor_without_gaps_or_repeats(web) -> None:
    person = _staff("pages")
    made = [commands.start_case("client_ownership", person, registration(unique_id_number())) for _ in range(57)]
    db.session.commit()
    same = dt.datetime(2030, 6, 1, 8, 0)
    for case in made[10:30]:  # twenty started at the same moment: the id breaks the tie
        case.started_at = same
    db.session.commit()
    expected = [c.id for c in sorted(made, key=lambda c: (c.started_at, c.id), reverse=True)]
    # the function, in pages of 7
    seen: list[int] = []
    after = None
    while True:
        rows, after = search_page(CaseFilter.from_args({"person": person.username}), 7, after)
        seen += [c.id for c in rows]
        if after is None:
            break
    assert seen == expected
    # the page, by its next links (50 a page)
    web.login("auditor")
    link: str | None = f"/audit/?person={person.username}"
    shown: list[int] = []
    pages = 0
    while link:
        html = web.client.get(link).get_data(as_text=True)
        shown += [int(i) for i in re.findall(r'<td><a href="/cases/(\d+)">', html)]
        found = re.search(r'href="([^"]+)" id="next-page"', html)
        link = found.group(1).replace("&amp;", "&") if found else None
        pages += 1
    assert pages == 2 and shown == expected
    with pytest.raises(Invalid):
        search_page(CaseFilter(), 7, "not-a-cursor")
    assert web.client.get("/audit/?after=not-a-cursor").status_code == 200  # starts over, says why


def test_the_title_has_a_trigram_index_on_postgresql() -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        index = db.session.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_process_instance_title'"))
        assert "title" in index.scalar_one()
        return
    definition = db.session.scalar(text("SELECT indexdef FROM pg_indexes "
                                        "WHERE indexname = 'ix_process_instance_title'"))
    assert definition is not None and "gin" in definition and "gin_trgm_ops" in definition
    assert db.session.scalar(select(text("1")).select_from(text("pg_extension")).where(text("extname = 'pg_trgm'")))
