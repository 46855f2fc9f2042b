"""Inputs that used to break a worker: SQLite snapshots under load, huge durations and
values, control characters, absurd numbers and nesting, diagrams that cannot run."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.api.client import Api
from tests.conftest import ROOT, TEST_BPMN, unique_id_number, user
from tests.processes.ownership.steps import PDF, registration
from webapp import create_app
from webapp.config import engine_options
from webapp.migrations_cli import upgrade
from workflows.branch import tokens
from workflows.branch.models import User
from workflows.cases import commands as cases
from workflows.cases import definitions, forms
from workflows.cases.models import ProcessDefinition, ProcessInstance, SecurityEvent
from workflows.db import db
from workflows.engine.dialect import FormField
from workflows.engine.sandbox import RestrictedEnvironment, UnsafeExpression, ValueTooLarge
from workflows.engine.xml import DefinitionError
from workflows.errors import Invalid

REWORK = (TEST_BPMN / "rework.bpmn").read_text("utf-8")


@pytest.fixture
def api(web):
    return lambda username=None, raw=None: Api(web.client, username, raw)


def test_half_read_result_does_not_pin_an_old_sqlite_snapshot(tmp_path: Path) -> None:
    """A result left half-read used to keep SQLite's read snapshot: the next write on that
    connection failed at once with "database is locked" and its reads stayed stale."""
    url = f"sqlite:///{tmp_path / 'snap.db'}"
    engine = create_engine(url, **engine_options(url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1), (2), (3)"))
    other = sqlite3.connect(tmp_path / "snap.db")
    with engine.connect() as conn:
        half_read = conn.execute(text("SELECT x FROM t ORDER BY x"))
        assert half_read.fetchone() == (1,)
        other.execute("INSERT INTO t VALUES (4)")  # another worker commits meanwhile
        other.commit()
        conn.execute(text("INSERT INTO t VALUES (5)"))  # the security-log write of a read view
        conn.commit()
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 5  # sees the other's row
        assert [r[0] for r in half_read] == [2, 3]  # and the half-read result still reads on
    other.close()
    engine.dispose()


# --- a busy SQLite database: a clear 503, and the worker goes on -----------------


def test_locked_database_answers_503_and_the_next_request_works(tmp_path: Path) -> None:
    """Always on a SQLite file of its own (the busy case is SQLite's), whatever the suite runs on."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    options = engine_options(url)
    options["connect_args"]["timeout"] = 0.3
    busy_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "t",
                           "WTF_CSRF_ENABLED": False, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with busy_app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.session.remove()
    client = busy_app.test_client()
    holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        for lang, words in (("zh", "系统繁忙"), ("en", "The system is busy")):
            resp = client.post("/login", data={"username": "nobody", "password": "wrong-password"},
                               headers={"Accept-Language": lang})
            assert resp.status_code == 503 and resp.headers["Retry-After"] == "2"
            assert words in resp.get_data(as_text=True)
        api = client.get("/api/v1/processes", headers={"Authorization": "Bearer brk_" + "x" * 40})
        assert api.status_code == 503 and api.get_json()["error"] == "busy"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    resp = client.post("/login", data={"username": "nobody", "password": "wrong-password"})
    assert resp.status_code == 401  # the same worker and pool, writing again
    with busy_app.app_context():
        logged = db.session.scalars(select(SecurityEvent).where(SecurityEvent.username == "nobody")).all()
        assert [e.kind for e in logged] == ["login_failed"]
        db.session.remove()
        db.engine.dispose()


# --- timers: bounded at deploy and at run ------------------------------------------

TIMER = (TEST_BPMN / "timer_escalation.bpmn").read_text("utf-8")


def _refused(xml: str, dmn: dict[str, str] | None = None) -> DefinitionError:
    before = db.session.scalar(select(func.count(ProcessDefinition.id)))
    with pytest.raises(DefinitionError) as info:
        definitions.deploy(xml, dmn or {}, filename="hostile.bpmn")
    db.session.rollback()
    assert db.session.scalar(select(func.count(ProcessDefinition.id))) == before
    return info.value


@pytest.mark.parametrize(("old", "new", "element", "words"), [
    ('"P1D"', '"P99999999Y"', "Timer_Takeover", "longer than 10 years"),
    ('"P1D"', '"PT99999999999H"', "Timer_Takeover", "longer than 10 years"),
    ('"P1D"', '"P1X"', "Timer_Takeover", "not an ISO 8601 duration"),
    ('"P1D"', "P1D", "Timer_Takeover", "quote the timer value"),
    ('camunda:dueDate="PT1H"', 'camunda:dueDate="P99999999Y"', "Task_Approve", "due date"),
    ('camunda:dueDate="PT1H"', 'camunda:dueDate="tomorrow"', "Task_Approve", "due date"),
    ('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P1D"</bpmn:timeDuration>',
     '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">"9999-12-31T00:00:00"</bpmn:timeDate>',
     "Timer_Takeover", "more than 10 years away"),
    ('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P1D"</bpmn:timeDuration>',
     '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R3/P99999999Y"</bpmn:timeCycle>',
     "Timer_Takeover", "longer than 10 years"),
])
def test_timer_out_of_bounds_is_refused_at_deploy_naming_the_element(old: str, new: str, element: str,
                                                                      words: str) -> None:
    xml = TIMER.replace(old, new)
    assert xml != TIMER
    started = time.perf_counter()
    error = _refused(xml)
    assert time.perf_counter() - started < 5  # no month-by-month walk over a hundred million years
    assert error.element is not None and error.element.startswith(element)
    assert words in str(error)


def _timer_with_duration_from(field: str, key: str) -> str:
    start_form = ('<bpmn:startEvent id="StartEvent_1"><bpmn:extensionElements><camunda:formData>'
                  f'<camunda:formField id="{field}" label="Wait" type="string"/>'
                  '</camunda:formData></bpmn:extensionElements>')
    return (TIMER.replace('<bpmn:startEvent id="StartEvent_1">', start_form).replace('"P1D"', field)
            .replace('id="test_timer"', f'id="{key}"'))


def test_timer_computed_from_case_data_is_bounded_when_it_runs(api) -> None:
    definitions.deploy(_timer_with_duration_from("wait", "test_timer_from_data"), {}, filename="t.bpmn")
    db.session.commit()
    staff = api("staff11")
    before = db.session.scalar(select(func.count(ProcessInstance.id)))
    for value, words in (("P99999999Y", "longer than 10 years"), ("PT999999999999H", "longer than 10 years"),
                         ("soon", "not an ISO 8601 duration")):
        resp = staff.post("/processes/test_timer_from_data/instances", {"wait": value})
        body = resp.get_json()
        assert resp.status_code == 422 and body["error"] == "process_failed", body
        assert words in body["message"]
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == before  # nothing half-written
    assert staff.post("/processes/test_timer_from_data/instances", {"wait": "P2D"}).status_code == 201


def test_a_version_deployed_before_the_bound_cannot_spin_a_worker() -> None:
    """A definition stored without today's deploy checks: its timer is refused when it would be
    set, and its due date is shown as none, both at once."""
    xml = TIMER.replace('"P1D"', '"P99999999Y"').replace('id="test_timer"', 'id="test_timer_legacy"')
    db.session.add(ProcessDefinition(key="test_timer_legacy", version=1, name="legacy", bpmn_xml=xml,
                                     sha256="legacy-" + "0" * 57))
    db.session.commit()
    started = time.perf_counter()
    with pytest.raises(Invalid) as info:
        cases.start_case("test_timer_legacy", user("staff12"), {})
    assert "longer than 10 years" in str(info.value)
    assert time.perf_counter() - started < 5


# --- expressions: no value over the bound ------------------------------------------


@pytest.mark.parametrize("expression", [
    "'x' * 100000 * 100000",
    "[[0] * 100000] * 100000",
    "('ab' * 50000) + ('cd' * 50000)",
    "sum([[1] * 1000] * 1000, [])",
    "'%0999999999d' % 1",
    "10 ** 2",  # no power at all (refused by the syntax check)
])
def test_expression_cannot_build_a_huge_value(expression: str) -> None:
    with pytest.raises((ValueTooLarge, UnsafeExpression)):
        RestrictedEnvironment().evaluate(expression, {})


def test_scripts_cannot_grow_a_value_by_repeating_a_line() -> None:
    env = RestrictedEnvironment()
    with pytest.raises(ValueTooLarge):
        env.execute("x = 'ab'\n" + "x = x + x\n" * 40, {})
    with pytest.raises(ValueTooLarge):
        env.execute("n = 3\n" + "n *= n\n" * 30, {})
    with pytest.raises(ValueTooLarge):
        env.execute("items = [1]\n" + "items += items\n" * 40, {})


def test_ordinary_arithmetic_is_unchanged() -> None:
    env = RestrictedEnvironment()
    data = {"amount": Decimal("300000.50"), "count": 3, "name": "张三", "votes": ["yes", "no", "yes"]}
    assert env.evaluate("amount * 2 + 1", data) == Decimal("600002.00")
    assert env.evaluate("count * 'ab' + name", data) == "ababab张三"
    assert env.evaluate("name + '-' + str(count % 2)", data) == "张三-1"
    assert env.evaluate("'%s: %05d' % (name, count)", data) == "张三: 00003"
    assert env.evaluate("sum([1, 2, 3]) + len(votes * 2)", data) == 12
    context = {"total": 1, "tags": ["a"]}
    env.execute("total += 41\ntags += ['b']\ntags = tags * 2", context)
    assert context == {"total": 42, "tags": ["a", "b", "a", "b"]}


def test_a_script_building_a_huge_text_stops_the_case_with_a_message(api) -> None:
    xml = REWORK.replace('id="test_rework"', 'id="test_script_bomb"').replace(
        '<bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_Submit"/>',
        '<bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Script_Big"/>'
        '<bpmn:scriptTask id="Script_Big" name="Big"><bpmn:incoming>F1</bpmn:incoming>'
        '<bpmn:outgoing>F1b</bpmn:outgoing><bpmn:script>big = "x" * times * 100000</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="F1b" sourceRef="Script_Big" targetRef="Task_Submit"/>').replace(
        '<bpmn:incoming>F1</bpmn:incoming><bpmn:incoming>F_Back</bpmn:incoming>',
        '<bpmn:incoming>F1b</bpmn:incoming><bpmn:incoming>F_Back</bpmn:incoming>').replace(
        '<bpmn:startEvent id="StartEvent_1">', '<bpmn:startEvent id="StartEvent_1"><bpmn:extensionElements>'
        '<camunda:formData><camunda:formField id="times" label="Times" type="long"/></camunda:formData>'
        '</bpmn:extensionElements>')
    definitions.deploy(xml, {}, filename="bomb.bpmn")
    db.session.commit()
    staff = api("staff13")
    started = time.perf_counter()
    resp = staff.post("/processes/test_script_bomb/instances", {"times": "100000"})
    assert resp.status_code == 422 and "100,000" in resp.get_json()["message"], resp.get_json()
    assert time.perf_counter() - started < 5
    assert staff.post("/processes/test_script_bomb/instances", {"times": "1"}).status_code == 201


# --- control characters, absurd numbers, deep JSON -------------------------------------


def _zh(api_client: Api) -> Api:
    api_client.headers = {**api_client.headers, "Accept-Language": "zh"}
    return api_client


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "a\nb", "a\u202eb", "a\ud800b"])
def test_control_characters_in_a_text_field_are_refused_over_the_api(api, bad: str) -> None:
    before = db.session.scalar(select(func.count(ProcessInstance.id)))
    resp = api("staff14").post("/processes/client_ownership/instances",
                               {**registration(unique_id_number()), "client_name": bad})
    body = resp.get_json()
    assert resp.status_code == 422 and body["error"] == "invalid"
    assert body["fields"] == {"client_name": "must not contain control characters"}
    zh = _zh(api("staff14")).post("/processes/client_ownership/instances",
                                  {**registration(unique_id_number()), "client_name": bad}).get_json()
    assert zh["fields"]["client_name"] == "不能包含控制字符或不可见的格式字符"
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == before


def test_multi_line_text_keeps_line_breaks_and_tabs_but_not_nul() -> None:
    text_field = FormField(id="comment", label="Comment", type="text")
    line_field = FormField(id="name", label="Name", type="string")
    clean, _ = forms.validate([text_field], {"comment": "第一行\n\t第二行"})
    assert clean["comment"] == "第一行\n\t第二行"
    for field, value in ((text_field, "a\x00b"), (text_field, "a\x7fb"), (line_field, "a\tb"), (line_field, "a\rb")):
        with pytest.raises(Invalid) as info:
            forms.validate([field], {field.id: value})
        assert info.value.fields == {field.id: "must not contain control characters"}


def test_control_characters_on_the_web_form_get_a_field_message(web) -> None:
    web.login("staff15")
    resp = web.post("/processes/client_ownership/start", {**registration(unique_id_number()), "client_name": "a\x00b"})
    assert resp.status_code == 422
    assert "不能包含控制字符" in resp.get_data(as_text=True)


def test_control_characters_in_a_file_name_are_refused(api) -> None:
    case_id = api("staff10").post("/processes/client_ownership/instances",
                                  registration(unique_id_number())).get_json()["id"]
    api("support2").complete_step(case_id, "Task_ConfirmReservation", {"decision": "approve"})
    counter = api("counter2")
    task = counter.open_task(case_id, "Task_CounterOpening")
    upload = {"filename": "form\x00.pdf", "content_type": "application/pdf",
              "content_base64": base64.b64encode(PDF).decode()}
    resp = counter.post(f"/tasks/{task['id']}/complete", {"account_no": "880012345671", "signed_by_client": True,
                                                          "staff_present": True, "decision": "approve",
                                                          "scanned_form": upload})
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["fields"] == {"scanned_form": "must not contain control characters"}


def test_control_characters_in_an_uploaded_file_name_are_refused() -> None:
    field = FormField(id="scan", label="Scan", type="file")
    with pytest.raises(Invalid) as info:
        forms.validate([field], {}, {"scan": forms.Upload("form\x00.pdf", "application/pdf", PDF)})
    assert info.value.fields == {"scan": "the file name contains characters that are not allowed"}


def test_control_characters_in_urls_are_refused_and_logged(api, web) -> None:
    resp = api("staff17").get("/tasks?q=a%00b")
    assert resp.status_code == 422 and resp.get_json()["fields"] == {"q": "must not contain control characters"}
    assert api("staff17").get("/processes/a%00b/instances").status_code == 422
    web.login("auditor")
    page = web.client.get("/audit/?client=%E2%80%AEabc")  # a right-to-left override
    assert page.status_code == 422 and "不能包含控制字符" in page.get_data(as_text=True)
    assert web.client.get("/designer/x%00y/edit").status_code == 422  # a route's text parameter
    assert web.client.get("/designer/x%00y").status_code == 404  # no route takes it: not found, and logged
    logged = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "refused_input")
                                .order_by(SecurityEvent.id.desc())).first()
    assert logged is not None and "\\x00" in logged.detail and "\x00" not in logged.detail


def test_control_characters_at_login_are_refused_and_logged(web) -> None:
    token = web.csrf("/login")
    resp = web.client.post("/login", data={"username": "gm\x00", "password": "demo1234", "csrf_token": token})
    assert resp.status_code == 400 and "用户名或密码包含不允许的字符" in resp.get_data(as_text=True)
    logged = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "login_refused")
                                .order_by(SecurityEvent.id.desc())).first()
    assert logged is not None and logged.username == "gm\\x00"


def test_control_characters_in_admin_and_token_forms_get_field_messages(web) -> None:
    with pytest.raises(Invalid) as info:
        tokens.issue(user("staff18"), "report\x00ing")
    assert info.value.fields == {"name": "must not contain control characters"}
    web.login("staff18")
    page = web.post("/profile", {"name": "report\x00ing", "days": ""})
    assert page.status_code == 422 and "不能包含控制字符" in page.get_data(as_text=True)
    web.logout()
    web.login("admin")
    bad = web.post("/admin/users/new", {"username": "ctrlchar", "full_name": "新\x00同事", "password": "s3cret-pass",
                                        "roles": ["staff"]})
    assert bad.status_code == 422 and "不能包含控制字符" in bad.get_data(as_text=True)
    assert db.session.scalars(select(User).where(User.username == "ctrlchar")).first() is None
    bad = web.post("/admin/org", {"kind": "branch", "name": "分\x00行"})
    assert bad.status_code == 422 and "不能包含控制字符" in bad.get_data(as_text=True)


@pytest.mark.parametrize(("amount", "message", "zh"), [
    ("1e1000000", "number too large", "数值过大"),
    ("-1e1000000", "number too large", "数值过大"),
    ("1E+999999999999", "number too large", "数值过大"),
    ("1" * 5000, "number too large", "数值过大"),
    ("1e-1000000", "at most 10 decimal places", "最多 10 位小数"),
    ("NaN", "must be a number", "须为数字"),
])
def test_absurd_amounts_get_a_field_message(api, web, amount: str, message: str,
                                            zh: str) -> None:
    resp = api("staff19").post("/processes/client_ownership/instances",
                               {**registration(unique_id_number()), "estimated_assets": amount})
    assert resp.status_code == 422 and resp.get_json()["fields"] == {"estimated_assets": message}
    web.login("staff19")
    page = web.post("/processes/client_ownership/start",
                    {**registration(unique_id_number()), "estimated_assets": amount})
    assert page.status_code == 422 and zh in page.get_data(as_text=True)


def test_a_zero_with_a_huge_exponent_is_plain_zero() -> None:
    field = FormField(id="amount", label="Amount", type="decimal")
    assert forms.validate([field], {"amount": "0e1000000"})[0]["amount"] == Decimal(0)


@pytest.mark.parametrize("body", [
    "[" * 990 + "]" * 990,
    '{"data": ' + '{"a": ' * 990 + "1" + "}" * 990 + "}",
    '{"data": {"client_name": ' + "[" * 20 + "]" * 20 + "}}",
])
def test_deeply_nested_json_is_refused_with_a_message(api, body: str) -> None:
    staff = api("staff20")
    resp = staff.client.post("/api/v1/processes/client_ownership/instances", data=body,
                             headers={**staff.headers, "Content-Type": "application/json"})
    assert resp.status_code == 422, resp.get_data(as_text=True)[:200]
    answer = resp.get_json()
    assert answer["error"] == "invalid" and answer["fields"] == {"body": "nested too deeply"}
    assert "16" in answer["message"]


def test_escaped_nul_and_surrogates_in_json_are_refused(api) -> None:
    staff = api("staff20")
    for raw in ('"a\\u0000b"', '"a\\ud800b"'):
        body = json.dumps({"data": registration(unique_id_number())})[:-2] + f', "client_name": {raw}}}}}'
        resp = staff.client.post("/api/v1/processes/client_ownership/instances", data=body,
                                 headers={**staff.headers, "Content-Type": "application/json"})
        assert resp.status_code == 422 and resp.get_json()["fields"] == {
            "client_name": "must not contain control characters"}


# --- diagrams that validate but could not run --------------------------------------

_PLAIN = '<bpmn:userTask id="Task_Review" name="Review" camunda:candidateGroups="gm">'


def _as(kind: str, attrs: str = "") -> str:
    return REWORK.replace(_PLAIN, f'<bpmn:{kind} id="Task_Review" name="Review"{attrs}>').replace(
        "</bpmn:userTask>\n    <bpmn:exclusiveGateway", f"</bpmn:{kind}>\n    <bpmn:exclusiveGateway")


def _start_lane(name: str) -> str:
    return REWORK.replace('isExecutable="true">', 'isExecutable="true"><bpmn:laneSet id="LaneSet_1">'
                          f'<bpmn:lane id="Lane_Start" name="{name}"><bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>'
                          '</bpmn:lane></bpmn:laneSet>', 1)


@pytest.mark.parametrize(("xml", "element", "words"), [
    (_as("task"), "Task_Review", "plain task"),
    (_as("manualTask"), "Task_Review", "manual task"),
    (_as("receiveTask"), "Task_Review", "receive task"),
    (_as("businessRuleTask"), "Task_Review", "needs camunda:decisionRef"),
    (_as("businessRuleTask", ' camunda:decisionRef=""'), "Task_Review", "needs camunda:decisionRef"),
    (_start_lane("Somebody"), "Lane_Start", "names no role"),
    (REWORK.replace('isExecutable="true">', 'isExecutable="true"><bpmn:extensionElements><camunda:properties>'
                    '<camunda:property name="startRoles" value="staff,wizard"/></camunda:properties>'
                    '</bpmn:extensionElements>', 1), "test_rework", "unknown role 'wizard'"),
])
def test_diagram_that_could_not_run_is_refused_naming_the_element(xml: str, element: str, words: str) -> None:
    assert xml != REWORK
    error = _refused(xml)
    assert error.element is not None and error.element.startswith(element), str(error)
    assert words in str(error) and "KeyError" not in str(error)


def test_start_lane_named_after_a_role_still_deploys() -> None:
    xml = _start_lane("staff").replace('id="test_rework"', 'id="test_start_lane_ok"')
    assert definitions.validate(xml).meta.start_lane == "staff"


def test_designer_validate_names_the_element_that_could_not_run(web) -> None:
    web.login("designer")
    resp = web.client.post("/designer/validate", data=json.dumps({"xml": _as("manualTask")}),
                           headers={"Content-Type": "application/json", "X-CSRFToken": web.csrf("/")})
    assert resp.status_code == 422 and resp.get_json()["element_id"] == "Task_Review"
