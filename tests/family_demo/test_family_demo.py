"""A small family under tests/ plugs in with its own files and one registration, and
shows each hook the platform gives families working on the real engine and database:
its own functions (and no other family's), a start check refusing with its figure, a
setting changed with its history, a scheduled job firing once with two sweepers, cases
started by the system (by the job, and by another case), and a decision table of its own
pinned by version."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_babel import refresh
from sqlalchemy import func, select

from tests.api.client import Api as _Api
from tests.conftest import ROOT, user
from tests.family_demo import FAMILY, jobs, rules
from tests.family_demo.conftest import HERE, ROUTE, deploy_family
from tests.processes.ownership.steps import complete, open_task
from workflows import processes
from workflows.branch import settings
from workflows.branch.models import SettingChange, StoredSetting
from workflows.cases import commands as cases
from workflows.cases import decisions, definitions, integrity
from workflows.cases import jobs as platform_jobs
from workflows.cases.models import AuditEvent, DecisionDefinition, ProcessInstance, SecurityEvent
from workflows.db import db
from workflows.engine.xml import DefinitionError
from workflows.errors import Refused

pytestmark = pytest.mark.usefixtures("family_demo")


class Api(_Api):
    def put(self, path: str, data: dict):
        db.session.commit()
        return self.client.put(f"/api/v1{path}", json=data, headers=self.headers)


@pytest.fixture
def budget() -> Iterator[None]:
    """Tests that change the budget put the default back (as a change of its own: history is kept)."""
    yield
    db.session.rollback()
    if settings.get(rules.BUDGET) != 1000:
        settings.change(rules.BUDGET, 1000, user("admin"))
        db.session.commit()


def _cases() -> int:
    return db.session.scalar(select(func.count(ProcessInstance.id))) or 0


def _events(instance: ProcessInstance, type_: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                            AuditEvent.type == type_).order_by(AuditEvent.seq)))


# --- plugging in --------------------------------------------------------------------------


def test_the_family_plugs_in_by_its_registration_alone() -> None:
    assert FAMILY in processes.families() and FAMILY not in processes.FAMILIES
    assert processes.family_of(rules.PROCESS_KEY) is FAMILY
    # nothing of the platform names it: not the code, the pages, the library, the README
    for folder in ("workflows", "webapp", "bpmn", "migrations"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".html", ".bpmn", ".dmn", ".po"):
                assert "family_demo" not in path.read_text("utf-8"), path
    assert "family_demo" not in (ROOT / "README.md").read_text("utf-8")
    with pytest.raises(ValueError, match="already registered"):
        processes.register(FAMILY)


def _variant(old: str, new: str, process_id: str | None = None) -> str:
    xml = (HERE / "family_demo_request.bpmn").read_text("utf-8")
    changed = xml.replace(old, new, 1)
    assert changed != xml
    if process_id:
        changed = changed.replace('id="family_demo_request"', f'id="{process_id}"', 1)
    return changed


def test_a_diagram_calls_the_generic_functions_and_its_own_familys_only() -> None:
    own = _variant("left = record_budget(", "voters = members_of('gm')\nleft = record_budget(")
    assert definitions.validate(own).key == rules.PROCESS_KEY
    with pytest.raises(DefinitionError, match="call not allowed: register_ownership"):
        definitions.validate(_variant("left = record_budget(", "entry = register_ownership()\nleft = record_budget("))
    # the same call from a process no family owns: only the generic functions
    with pytest.raises(DefinitionError, match="call not allowed: record_budget"):
        definitions.validate(_variant("follow_up_case =", "x = 1\nfollow_up_case =", process_id="unowned_budget"))
    # and client ownership's diagram may not call this family's function
    ownership = (ROOT / "bpmn" / "client_ownership.bpmn").read_text("utf-8")
    borrowed = ownership.replace("conflict = ownership_conflict(client_id_number)",
                                 "conflict = ownership_conflict(client_id_number)\nleft = record_budget(1)", 1)
    assert borrowed != ownership
    with pytest.raises(DefinitionError, match="call not allowed: record_budget"):
        definitions.validate(borrowed, filename="client_ownership.bpmn")


# --- a start check: refused before a case exists, with its figure -----------------------------


def test_a_request_over_the_budget_is_refused_before_a_case_exists_showing_what_is_left(client) -> None:
    staff = user("staff15")
    left = rules.budget_left(staff.id)
    before = _cases()
    with pytest.raises(Refused) as refused:
        cases.start_case(rules.PROCESS_KEY, staff, {"amount": str(left + 1), "purpose": "laptop"})
    assert refused.value.figures == {"n": left} and "amount" in refused.value.fields
    assert _cases() == before  # nothing was written
    # the API: a stable code, the message in the caller's language, the figure as a number
    for language, text in (("en", f"must be at most {left}"), ("zh", f"不得大于 {left}")):
        api = Api(client, "staff15")
        api.headers["Accept-Language"] = language
        refresh()  # the test's app context is the requests' too: forget the last request's language
        resp = api.post(f"/processes/{rules.PROCESS_KEY}/instances", {"amount": left + 1, "purpose": "laptop"})
        body = resp.get_json()
        assert resp.status_code == 422 and body["error"] == "refused", body
        assert body["figures"] == {"n": left} and body["fields"]["amount"] == text and body["message"] == text
    assert _cases() == before
    # within the budget it starts, and what is left shrinks by it
    instance = cases.start_case(rules.PROCESS_KEY, staff, {"amount": "300", "purpose": "chair"})
    assert instance.started_by_id == staff.id and rules.budget_left(staff.id) == left - 300


def test_the_start_page_shows_the_refusal_in_the_users_language(web) -> None:
    web.login("staff17")
    left = rules.budget_left(user("staff17").id)
    resp = web.post(f"/processes/{rules.PROCESS_KEY}/start", {"amount": str(left + 5), "purpose": "desk"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and f"不得大于 {left}" in page


# --- a setting: admin-editable, default declared by the family, every change kept -----------


def test_a_setting_change_is_kept_with_who_when_and_the_old_and_new_value(web, budget) -> None:
    staff = user("staff18")
    assert settings.get(rules.BUDGET) == 1000  # the family's default
    count = db.session.scalar(select(func.count(SettingChange.id)).where(SettingChange.key == rules.BUDGET))
    stored = db.session.get(StoredSetting, rules.BUDGET)
    before = stored.value if stored is not None else None  # None: no one has set it, the default is in force
    web.login("admin")
    page = web.client.get("/admin/settings").get_data(as_text=True)
    assert rules.BUDGET in page and "Yearly budget per person" in page
    refused = web.post(f"/admin/settings/{rules.BUDGET}", {"value": "lots"})
    assert refused.status_code == 422 and "须为整数" in refused.get_data(as_text=True)
    assert web.post(f"/admin/settings/{rules.BUDGET}", {"value": "2000000"}).status_code == 422  # over its max
    db.session.expire_all()
    assert settings.get(rules.BUDGET) == 1000  # refused values wrote nothing
    assert db.session.scalar(select(func.count(SettingChange.id)).where(SettingChange.key == rules.BUDGET)) == count
    resp = web.post(f"/admin/settings/{rules.BUDGET}", {"value": "2500"}, follow_redirects=True)
    assert resp.status_code == 200 and "2500" in resp.get_data(as_text=True)
    db.session.expire_all()
    change = settings.history(rules.BUDGET, 1)[0]
    assert (change.changed_by.username, change.old_value, change.new_value, change.via) == \
        ("admin", before, "2500", "web")
    assert change.changed_at is not None
    assert db.session.scalar(select(func.count(SettingChange.id)).where(SettingChange.key == rules.BUDGET)) \
        == count + 1
    # the family reads the new value: the start check's figure follows it
    assert rules.budget_left(staff.id) == 2500 - rules.requested(staff.id)
    # the same value again changes nothing and records nothing
    web.post(f"/admin/settings/{rules.BUDGET}", {"value": "2500"})
    assert db.session.scalar(select(func.count(SettingChange.id)).where(SettingChange.key == rules.BUDGET)) \
        == count + 1


def test_settings_are_the_administrators_on_the_pages_and_the_api(web, client, budget) -> None:
    web.login("gm")
    assert web.client.get("/admin/settings").status_code == 403
    assert web.post(f"/admin/settings/{rules.BUDGET}", {"value": "5"}).status_code == 403
    gm_api = Api(client, "gm")
    assert gm_api.get(f"/settings/{rules.BUDGET}").status_code == 403
    assert gm_api.put(f"/settings/{rules.BUDGET}", {"value": 5}).status_code == 403
    assert db.session.scalar(select(func.count(SecurityEvent.id)).where(
        SecurityEvent.username == "gm", SecurityEvent.kind == "refused",
        SecurityEvent.detail.like("%/settings/%"))) >= 2
    assert settings.get(rules.BUDGET) == 1000
    admin_api = Api(client, "admin")
    listed = admin_api.get("/settings").get_json()["items"]
    assert {"key": rules.BUDGET, "family": "family_demo", "value": 1000, "default": 1000} .items() <= \
        next(s for s in listed if s["key"] == rules.BUDGET).items()
    bad = admin_api.put(f"/settings/{rules.BUDGET}", {"value": -3})
    assert bad.status_code == 422 and bad.get_json()["fields"] == {rules.BUDGET: "must be at least 0"}
    done = admin_api.put(f"/settings/{rules.BUDGET}", {"value": 1200})
    body = done.get_json()
    assert done.status_code == 200 and body["value"] == 1200 and body["is_default"] is False
    assert body["history"][0]["by"] == "admin" and body["history"][0]["new"] == "1200"
    assert body["history"][0]["via"] == "api"
    assert admin_api.get("/settings/no.such").status_code == 404


# --- a scheduled job: fires once per period, whatever the number of sweepers ----------------


def test_a_month_end_job_fires_once_with_two_sweepers(app: Flask) -> None:
    last_day = dt.date(2031, 1, 31)
    db.session.commit()
    jobs.runs.clear()
    jobs.entered.clear()
    jobs.gate = threading.Event()
    results: dict[str, object] = {}

    def sweeper(name: str) -> None:
        with app.app_context():
            try:
                results[name] = platform_jobs.run_due(today=last_day)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                results[name] = exc
            finally:
                db.session.remove()

    first = threading.Thread(target=sweeper, args=("first",))
    second = threading.Thread(target=sweeper, args=("second",))
    try:
        first.start()
        assert jobs.entered.wait(30)  # the first sweeper holds the period, its work not yet committed
        second.start()
        second.join(0.5)  # let the second reach the same period (whatever it reaches, the outcome is the same)
        jobs.gate.set()
        first.join(60)
        second.join(60)
    finally:
        jobs.gate.set()
        jobs.gate = None
    fired = [r for r in results.values() if r]
    assert fired == [[("family_demo.month_end", "2031-01", 1)]], results
    assert jobs.runs == ["2031-01"]  # the work ran once
    db.session.expire_all()
    assert len(platform_jobs.runs("family_demo.month_end")) == 1
    # the next days of the next month: still fired for January; the last day of February fires February
    assert platform_jobs.run_due(today=dt.date(2031, 2, 3)) == []
    assert platform_jobs.run_due(today=dt.date(2031, 2, 28)) == [("family_demo.month_end", "2031-02", 1)]
    assert jobs.runs == ["2031-01", "2031-02"]
    # each firing started one case, by the system, and the history says which job
    started = list(db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.origin == "job:family_demo.month_end").order_by(ProcessInstance.id)))
    assert [c.title for c in started][-2:] == ["month-end review 2031-01", "month-end review 2031-02"]
    event = _events(started[-1], "case_started")[0]
    assert (event.actor_id, event.actor_name, event.via) == (None, "system", "job")
    assert event.changes["started_by_system"] == [None, "job:family_demo.month_end"]
    assert started[-1].started_by_id is None
    assert open_task(started[-1], "Task_Review").state == "open"


def test_due_periods() -> None:
    assert platform_jobs.due_period("daily", dt.date(2030, 5, 6)) == "2030-05-06"
    assert platform_jobs.due_period("month_end", dt.date(2030, 5, 31)) == "2030-05"
    assert platform_jobs.due_period("month_end", dt.date(2030, 5, 30)) == "2030-04"
    assert platform_jobs.due_period("month_end", dt.date(2028, 2, 29)) == "2028-02"
    assert platform_jobs.due_period("month_end", dt.date(2030, 1, 1)) == "2029-12"


# --- a case started by another case: no person as its initiator ----------------------------


def test_a_case_starts_another_with_the_system_as_its_initiator(web, client) -> None:
    staff, gm = user("staff16"), user("gm")
    parent = cases.start_case(rules.PROCESS_KEY, staff, {"amount": "10", "purpose": "books", "follow_up": "true"})
    complete(parent, "Task_Review", gm, {"decision": "approve"})
    recorded = _events(parent, "budget_recorded")
    assert len(recorded) == 1 and recorded[0].changes["approved_amount"] == [None, 10]
    follow = db.session.scalars(select(ProcessInstance).where(ProcessInstance.origin == f"case:{parent.id}")).one()
    assert follow.started_by_id is None and follow.status == "running"
    started = _events(follow, "case_started")[0]
    assert (started.actor_name, started.via, started.changes["started_by_system"]) == \
        ("system", "case", [None, f"case:{parent.id}"])
    # both histories hold together under the audit key
    for case_id in (parent.id, follow.id):
        assert integrity.check(case_id, use_checkpoint=False).problems == []
    # people see who started it: the system, and from which case
    web.login("gm")
    page = web.client.get(f"/cases/{follow.id}").get_data(as_text=True)
    assert f"系统（case:{parent.id}）" in page
    inbox = web.client.get("/?view=groups&per_page=200").get_data(as_text=True)
    row = next(r for r in inbox.split("<tr") if f"follow-up of case #{parent.id}" in r)
    assert "<td>系统</td>" in row  # the inbox's starter column
    body = Api(client, "gm").get(f"/instances/{follow.id}").get_json()
    assert body["started_by"] is None and body["origin"] == f"case:{parent.id}"
    # the history shows the family's own labels for its events and facts
    history = Api(client, "gm").get(f"/instances/{parent.id}/history").get_json()["items"]
    budget_event = next(e for e in history if e["type"] == "budget_recorded")
    assert {c["field"] for c in budget_event["changes"]} >= {"Budget left"}
    # the follow-up goes on like any case
    complete(follow, "Task_Review", gm, {"decision": "reject"})
    complete(follow, "Task_Confirm", user("office"), {"comment": "ok"})
    db.session.refresh(follow)
    assert follow.status == "completed" and follow.outcome == "End_Done"
    assert not db.session.scalars(select(ProcessInstance).where(ProcessInstance.origin == f"case:{follow.id}")).all()


def test_deployment_of_the_library_is_unchanged_by_the_family() -> None:
    assert processes.function_names("client_ownership") >= {"register_ownership", "notify"}
    assert "record_budget" not in processes.function_names("client_ownership")
    assert "register_ownership" not in processes.function_names(rules.PROCESS_KEY)


# --- a decision table of its own: versioned, pinned by each process version ------------------


@pytest.fixture
def route_table() -> Iterator[str]:
    """Tests that deploy another route table deploy the family's own again afterwards, so the latest
    version runs the table in the file (as new versions of their own: deployed versions are kept)."""
    own = (HERE / ROUTE).read_text("utf-8")
    yield own
    db.session.rollback()
    if definitions.latest(rules.PROCESS_KEY).dmn_xml != {ROUTE: own}:
        deploy_family()
        db.session.commit()


def _decided(instance: ProcessInstance) -> tuple[str, str]:
    """(the route in the case's data, the rule the history says decided it). The table's hit policy is
    FIRST: both rows may match, but only the first one decides, and only it is in the history."""
    event = _events(instance, "decision")
    assert len(event) == 1 and event[0].task_spec == "Rule_Route"
    fired = event[0].changes["rules"][1]
    assert len(fired) == 1
    return cases.instance_data(instance)["route"], fired[0]["id"]


def test_a_changed_route_table_is_a_new_version_and_a_case_keeps_the_table_it_started_with(route_table) -> None:
    staff, gm = user("staff19"), user("gm")
    first = definitions.versions(rules.PROCESS_KEY)[0]  # the fixture's deployment
    assert [(d.key, d.version, d.dmn_xml) for d in first.decisions] == [(ROUTE, 1, route_table)]
    current = definitions.latest(rules.PROCESS_KEY)
    pinned = current.decisions[0]
    assert pinned.dmn_xml == route_table and pinned.decision_ids == ["family_demo_route"]
    assert decisions.latest(ROUTE).id == pinned.id
    old_case = cases.start_case(rules.PROCESS_KEY, staff, {"amount": "300", "purpose": "lamp"})
    assert not deploy_family().created  # the same texts again: nothing new

    lower = route_table.replace("&gt;= 500", "&gt;= 200", 1)  # the branch lowers the committee's threshold
    assert lower != route_table
    changed = deploy_family(lower)
    db.session.commit()
    assert changed.created and changed.definition.version == current.version + 1
    rows = list(db.session.scalars(select(DecisionDefinition).where(DecisionDefinition.key == ROUTE)
                                   .order_by(DecisionDefinition.version)))
    assert rows[-1].version == pinned.version + 1 and rows[-1].dmn_xml == lower
    assert [d.id for d in changed.definition.decisions] == [rows[-1].id]
    db.session.refresh(current)
    assert [d.id for d in current.decisions] == [pinned.id]  # the earlier version still pins its table
    new_case = cases.start_case(rules.PROCESS_KEY, staff, {"amount": "300", "purpose": "lamp"})
    assert (old_case.definition_id, new_case.definition_id) == (current.id, changed.definition.id)

    definitions.ENGINE.forget()  # as after a restart: the specs are built again from what the database pins
    for case in (old_case, new_case):
        complete(case, "Task_Review", gm, {"decision": "approve"})
        db.session.refresh(case)
        assert open_task(case, "Task_Confirm").state == "open"
    assert _decided(old_case) == ("desk", "Rule_desk")  # 300 < 500: the table it started with
    assert _decided(new_case) == ("committee", "Rule_committee")  # 300 >= 200: the new table
    for case in (old_case, new_case):
        assert integrity.check(case.id, use_checkpoint=False).problems == []
