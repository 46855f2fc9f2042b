"""A person's own lists, "My cases" and the notices (抄送我的), page through years of rows
newest first (issue 9): fifty a page, an "Older" link carrying the last id shown (keyset paging),
every row exactly once, and a late page costing the statements the first one does. A link that
is not one of ours shows the newest page and says so."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import user
from tests.processes.ownership.steps import registration, through_to_registry
from tests.test_query_cost import counting
from tests.test_search_cost import PASSWORD, _staff, unique_id_number
from workflows.cases import commands, reading
from workflows.cases.models import HumanTask, Notice, ProcessInstance
from workflows.db import db

OLDER = re.compile(r'<a href="(/[a-z]+\?before=\d+)" id="next-page" rel="next">')


def _walk(web, path: str, row: re.Pattern[str]) -> tuple[list[int], list[int]]:
    """Every id the pages list, following "Older" from ``path``; and each page's statement count."""
    shown: list[int] = []
    costs: list[int] = []
    link: str | None = path
    while link:
        assert web.client.get(link).status_code == 200  # warm, as a running server is
        with counting() as seen:
            page = web.client.get(link)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, html[:300]
        costs.append(len(seen.statements))
        shown += [int(i) for i in row.findall(html)]
        found = OLDER.search(html)
        link = found.group(1) if found else None
    return shown, costs


def test_my_cases_pages_through_every_case_newest_first(web) -> None:
    owner = _staff("mine")
    started = [commands.start_case("client_ownership", owner, registration(unique_id_number(), "翻页客户")).id
               for _ in range(reading.LIST_PAGE + 7)]
    db.session.commit()
    web.login(owner.username, PASSWORD)
    shown, costs = _walk(web, "/cases", re.compile(r'<td><a href="/cases/(\d+)">'))
    assert shown == sorted(started, reverse=True)  # all of them, once each, newest first
    assert len(costs) == 2 and costs[1] == costs[0], costs
    first = web.client.get("/cases").get_data(as_text=True)
    assert 'id="first-page"' not in first  # the newest page has nowhere newer to go
    last = web.client.get(f"/cases?before={started[7]}").get_data(as_text=True)
    assert 'id="first-page"' in last and 'id="next-page"' not in last


def test_the_notices_page_pages_through_every_notice_newest_first(web) -> None:
    reader = _staff("told")
    for k in range(2 * reading.LIST_PAGE + 3):
        db.session.add(Notice(user_id=reader.id, instance_id=None, text=f"通知 {k}", params={}))
    db.session.commit()
    mine = sorted(db.session.scalars(select(Notice.id).where(Notice.user_id == reader.id)), reverse=True)
    web.login(reader.username, PASSWORD)
    shown, costs = _walk(web, "/notices", re.compile(r"<li[^>]*>.*?通知 (\d+)</li>"))
    assert len(shown) == len(mine) == 2 * reading.LIST_PAGE + 3
    assert shown == sorted(shown, reverse=True) and len(set(shown)) == len(shown)  # 通知 k in the order written
    assert len(costs) == 3 and len(set(costs)) == 1, costs  # a late page costs what the first does


def test_a_page_link_that_is_not_ours_shows_the_newest_page(web) -> None:
    reader = _staff("odd")
    db.session.add(Notice(user_id=reader.id, instance_id=None, text="唯一的通知", params={}))
    db.session.commit()
    web.login(reader.username, PASSWORD)
    web.client.post("/language/zh", data={"csrf_token": web.csrf("/notices")})
    for bad in ("abc", "-1", "0", "99999999999", "１２", "1 OR 1=1", "1e3"):
        for path in ("/notices", "/cases"):
            page = web.client.get(path, query_string={"before": bad})
            html = page.get_data(as_text=True)
            assert page.status_code == 200, (path, bad, html[:300])
            assert "页面链接无效" in html, (path, bad)
    assert "唯一的通知" in web.client.get("/notices?before=abc").get_data(as_text=True)


def test_my_cases_are_the_cases_started_or_worked_on_each_once_newest_first() -> None:
    """Walked page by page, each person's list is exactly the brute-force answer: the cases they
    started and the cases they completed a task of, once each (a case both started and worked on,
    or worked on at several steps, too), newest first."""
    through_to_registry(commands.start_case("client_ownership", user("staff01"), registration(unique_id_number())))
    db.session.commit()
    for name in ("support1", "staff01", "gm", "counter1"):
        person = user(name)
        started = set(db.session.scalars(select(ProcessInstance.id).where(ProcessInstance.started_by_id == person.id)))
        worked = set(db.session.scalars(select(HumanTask.instance_id).where(HumanTask.completed_by_id == person.id)))
        expected = sorted(started | worked, reverse=True)
        assert expected, name  # each of them has some
        shown: list[int] = []
        before = None
        while True:
            page = reading.my_cases(person, before, per_page=7)
            shown += [c.id for c in page.rows]
            if page.before is None:
                break
            assert page.before == page.rows[-1].id
            before = page.before
        assert shown == expected, name
