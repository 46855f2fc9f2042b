"""The read functions pages and the API call (workflows.cases.reading, search): what they
return, who may call them, what they log, and that a case page deserializes its workflow once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import complete, counter_pass, open_task, registration
from workflows.cases import assignment, reading
from workflows.cases import commands as cases
from workflows.cases.models import ProcessInstance, SecurityEvent
from workflows.cases.search import CaseFilter, search_cases
from workflows.db import db
from workflows.engine import specs
from workflows.engine.clock import today
from workflows.errors import Conflict, Forbidden


def _case_past_the_counter() -> ProcessInstance:
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number(), "读函数客户"))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter1"))
    db.session.commit()
    return instance


def _logged(kind: str, username: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.kind == kind,
                                                                         SecurityEvent.username == username)) or 0


def test_case_view_gives_the_page_everything_and_the_path_of_the_diagram() -> None:
    instance = _case_past_the_counter()
    view = reading.case_view(instance.id, user("staff01"))
    assert view.instance.id == instance.id and not view.whole
    assert view.data["client_name"] == "读函数客户"
    assert [e.seq for e in view.events] == sorted(e.seq for e in view.events) and view.events[0].type == "case_started"
    assert {t.spec_id for t in view.tasks} >= {"Task_ConfirmReservation", "Task_CounterOpening"}
    assert [a.field for a in view.attachments] == ["scanned_form"]
    open_specs = {t.spec_id for t in view.tasks if t.state == "open"}
    assert open_specs and open_specs <= set(view.active)
    assert {"Task_ConfirmReservation", "Task_CounterOpening"} <= set(view.completed)
    assert not set(view.completed) & set(view.active)


def test_a_case_page_deserializes_the_workflow_once(web, monkeypatch: pytest.MonkeyPatch) -> None:
    instance = _case_past_the_counter()
    calls = []
    real = specs.deserialize

    def counting(*args, **kwargs):
        calls.append(args[1][:20])
        return real(*args, **kwargs)

    monkeypatch.setattr(specs, "deserialize", counting)
    web.login("staff01")
    calls.clear()
    page = web.client.get(f"/cases/{instance.id}")
    assert page.status_code == 200 and "读函数客户" in page.get_data(as_text=True)
    assert len(calls) == 1


def test_an_auditors_whole_view_is_logged_once_by_the_read_function_not_the_presenter() -> None:
    instance = _case_past_the_counter()
    before = _logged("record_viewed", "auditor")
    view = reading.case_view(instance.id, user("auditor"), ip="10.0.0.7")
    assert view.whole and _logged("record_viewed", "auditor") == before + 1
    reading.case_view(instance.id, user("staff01"))  # a participant: nothing to log
    assert _logged("record_viewed", "auditor") == before + 1
    # the history alone (API) shows the auditor whole records without a second entry
    trail = reading.history(instance.id, user("auditor"))
    assert trail.whole and trail.events and _logged("record_viewed", "auditor") == before + 1


def test_case_view_refuses_someone_without_a_part_and_logs_it_once() -> None:
    instance = _case_past_the_counter()
    before = _logged("refused", "admin")
    with pytest.raises(Forbidden):
        reading.case_view(instance.id, user("admin"))
    with pytest.raises(Forbidden):
        reading.history(instance.id, user("admin"))
    assert _logged("refused", "admin") == before + 2


def test_task_view_says_who_may_act_and_reveals_only_to_them() -> None:
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    db.session.commit()
    task = open_task(instance, "Task_ConfirmReservation")
    actor = reading.task_view(task.id, user("support1"))
    assert actor.may_act and actor.meta.id == "Task_ConfirmReservation" and not actor.whole
    assert actor.reveal == cases.revealed_fields(actor.meta)
    assert actor.events and actor.values is not None
    looker = reading.task_view(task.id, user("auditor"), with_history=False)
    assert not looker.may_act and looker.reveal == set() and looker.whole and looker.events == []
    with pytest.raises(Forbidden):
        reading.task_view(task.id, user("admin"))


def test_my_cases_notices_and_openable_follow_the_rules() -> None:
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    db.session.commit()
    assert instance.id in {c.id for c in reading.my_cases(user("staff01")).rows}
    assert instance.id not in {c.id for c in reading.my_cases(user("counter1")).rows}
    assert reading.openable(user("staff01"), [instance.id, None]) == {instance.id}
    assert reading.openable(user("admin"), [instance.id]) == set()
    assert set(reading.cases_by_id([instance.id])) == {instance.id}


def test_the_case_search_filters_by_process_person_client_and_dates() -> None:
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number(), "检索客户甲"))
    db.session.commit()
    found = search_cases(CaseFilter.from_args({"client": "检索客户甲", "process": "client_ownership"}), 50)
    assert [c.id for c in found] == [instance.id]
    assert instance.id in {c.id for c in search_cases(CaseFilter.from_args({"person": "staff01"}), 500)}
    assert search_cases(CaseFilter.from_args({"client": "检索客户甲", "person": "counter1"}), 50) == []
    day = today()  # the search's days are the branch's calendar days, as on the API
    later = CaseFilter.from_args({"client": "检索客户甲", "from": str(day + dt.timedelta(days=2))})
    assert search_cases(later, 50) == []
    kept = CaseFilter.from_args({"client": "检索客户甲", "from": "not a date", "to": str(day)})
    assert kept.start is None and [c.id for c in search_cases(kept, 50)] == [instance.id]


def test_refusals_are_values_a_claimed_task_is_a_conflict_not_a_sentence() -> None:
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    db.session.commit()
    task = open_task(instance, "Task_ConfirmReservation")
    cases.claim(task.id, user("support1"))
    assert assignment.refusal(task, user("support1b")) == assignment.CLAIMED  # same department, same group
    before = _logged("refused", "support1b")
    with pytest.raises(Conflict):  # a race lost (409), told by the refusal's code
        cases.claim(task.id, user("support1b"))
    assert _logged("refused", "support1b") == before + 1
    assert assignment.refusal(task, user("staff01")) == assignment.SEGREGATION
    assert assignment.refusal(task, user("counter1")) == assignment.NOT_YOUR_GROUPS
    assert assignment.refusal(task, user("support1")) is None
    assert str(assignment.NOT_YOUR_GROUPS) == "this task is not for your groups"
    with pytest.raises(Forbidden):
        cases.claim(task.id, user("counter1"))


def test_a_long_history_shows_its_latest_page_and_the_whole_on_request(web, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case page reads only the latest events of a long history (issue 9: a 900-event case), says
    how many it leaves out, and shows them all one click away; the diagram's path is the same."""
    import re

    instance = _case_past_the_counter()
    total = instance.audit_seq
    monkeypatch.setattr(reading, "HISTORY_PAGE", 4)
    latest = reading.case_view(instance.id, user("staff01"))
    whole = reading.case_view(instance.id, user("staff01"), whole_history=True)
    assert total > 4 and latest.event_total == whole.event_total == total
    assert [e.seq for e in latest.events] == list(range(total - 3, total + 1))
    assert [e.seq for e in whole.events] == list(range(1, total + 1))
    assert (latest.completed, latest.active) == (whole.completed, whole.active)

    web.login("staff01")
    page = web.client.get(f"/cases/{instance.id}").get_data(as_text=True)
    shown = re.findall(r'<tr class="ev-', page)
    assert len(shown) == 4 and 'id="history-all"' in page
    assert f"of {total} events" in page or f"共 {total} 条" in page
    everything = web.client.get(f"/cases/{instance.id}?history=all").get_data(as_text=True)
    assert len(re.findall(r'<tr class="ev-', everything)) == total and 'id="history-all"' not in everything
