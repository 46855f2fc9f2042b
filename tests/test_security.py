"""Hostile diagrams, forged requests, login throttling, and the audit chain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text, update

from tests.conftest import TEST_BPMN, unique_id_number, user
from tests.helpers_audit import discard_cases
from tests.processes.ownership.steps import complete, registration
from webapp import create_app
from workflows.cases import commands as cases
from workflows.cases import definitions
from workflows.cases.models import AuditEvent, ProcessDefinition, SecurityEvent
from workflows.db import db
from workflows.engine import clock
from workflows.engine.xml import DefinitionError

REWORK = (TEST_BPMN / "rework.bpmn").read_text("utf-8")


def _refused(xml: str, dmn: dict[str, str] | None = None) -> str:
    before = db.session.scalar(select(db.func.count(ProcessDefinition.id)))
    with pytest.raises(DefinitionError) as info:
        definitions.deploy(xml, dmn or {}, filename="hostile.bpmn")
    db.session.rollback()
    assert db.session.scalar(select(db.func.count(ProcessDefinition.id))) == before
    return str(info.value)


def test_condition_calling_import_is_refused_naming_the_element() -> None:
    xml = REWORK.replace("decision == 'send_back'", "__import__('os').system('touch /tmp/pwned')")
    message = _refused(xml)
    assert "F_Back" in message and "refused" in message


@pytest.mark.parametrize("expression", [
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd')",
    "eval('1')",
    "[x for x in range(10)]",
    "lambda: 1",
    "'a' * 10000000",
])
def test_other_escapes_are_refused(expression: str) -> None:
    xml = REWORK.replace("decision == 'send_back'", expression.replace("<", "&lt;"))
    assert "F_Back" in _refused(xml)


def test_script_task_with_import_is_refused() -> None:
    xml = (TEST_BPMN / "mi_vote.bpmn").read_text("utf-8").replace(
        "voters = members_of('committee')", "import os\nvoters = os.listdir('/')")
    assert "Script_Voters" in _refused(xml)


def test_external_entity_is_refused() -> None:
    xml = REWORK.replace('<?xml version="1.0" encoding="UTF-8"?>',
                         '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    xml = xml.replace('name="Review"', 'name="&x;"')
    assert "DOCTYPE" in _refused(xml)


def test_entity_expansion_is_refused() -> None:
    bomb = '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' \
           '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    xml = REWORK.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?>' + bomb)
    assert "DOCTYPE" in _refused(xml.replace('name="Review"', 'name="&c;"'))


def test_malformed_xml_is_refused() -> None:
    assert "not well-formed" in _refused(REWORK[:-40])


def test_unknown_role_and_gateway_without_condition_name_the_element() -> None:
    assert "Task_Review" in _refused(REWORK.replace('camunda:candidateGroups="gm"', 'camunda:candidateGroups="nobody"'))
    assert "F_Ok" in _refused(REWORK.replace(' default="F_Ok"', ""))


def test_dmn_entry_with_import_is_refused() -> None:
    dmn = (TEST_BPMN / "suitability_test.dmn").read_text("utf-8").replace("&gt;= 65", "__import__('os')", 1)
    message = _refused((TEST_BPMN / "dmn_route.bpmn").read_text("utf-8"), {"suitability_test.dmn": dmn})
    assert "E1" in message or "Rule_old_high" in message


def test_edited_audit_row_is_reported_by_cli(app) -> None:
    instance = cases.start_case("client_ownership", user("staff10"), registration(unique_id_number()))
    complete(instance, "Task_ConfirmReservation", user("support2"), {"decision": "approve"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify", "--case", str(instance.id)])
    assert result.exit_code == 0 and "intact" in result.output
    target = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                         AuditEvent.type == "task_completed")).first()
    db.session.execute(update(AuditEvent).where(AuditEvent.id == target.id)
                       .values(changes={"decision": [None, "reject"]}))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--case", str(instance.id)])
    assert result.exit_code == 1 and f"event {target.seq} (task_completed) was altered" in result.output
    discard_cases([instance.id])


def test_deleted_audit_row_is_reported() -> None:
    from workflows.cases import audit

    instance = cases.start_case("client_ownership", user("staff11"), registration(unique_id_number()))
    last = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                              .order_by(AuditEvent.seq.desc())).first()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": last.id})
    db.session.commit()
    problems = audit.verify(instance.id)
    assert problems and "missing" in problems[0].message
    discard_cases([instance.id])


def test_forged_request_without_csrf_token_is_refused_and_logged(web) -> None:
    web.login("staff12")
    resp = web.client.post("/processes/client_ownership/start", data=registration(unique_id_number()))
    assert resp.status_code == 400
    logged = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "csrf_refused",
                                                            SecurityEvent.user_id == user("staff12").id)).all()
    assert logged


def test_session_cookie_is_httponly_and_samesite(web) -> None:
    resp = web.login("staff13")
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_repeated_failed_logins_are_slowed_down(web) -> None:
    for _ in range(3):
        assert web.login("staff14", "wrong-password").status_code == 401
    resp = web.login("staff14")  # right password, but too soon after three failures
    assert resp.status_code == 429
    kinds = [e.kind for e in db.session.scalars(select(SecurityEvent).where(SecurityEvent.username == "staff14"))]
    assert kinds.count("login_failed") == 3 and "login_throttled" in kinds
    clock.travel(dt.timedelta(seconds=5))
    assert web.login("staff14").status_code == 302


def test_passwords_are_argon2id() -> None:
    assert user("staff15").password_hash.startswith("$argon2id$")


def test_production_settings_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/other.db")
    import importlib

    from webapp import config

    importlib.reload(config)
    try:
        assert config.Config.SQLALCHEMY_DATABASE_URI == "sqlite:////tmp/other.db"
    finally:
        monkeypatch.delenv("DATABASE_URL")
        importlib.reload(config)
    assert create_app is not None


@pytest.mark.parametrize("payload", [
    '<bpmn:documentation><html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>'
    '</bpmn:documentation>',
    '<bpmn:documentation><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/></bpmn:documentation>',
    '<bpmn:extensionElements><script>alert(1)</script></bpmn:extensionElements>',
])
def test_scripts_in_diagrams_are_refused(payload: str) -> None:
    xml = REWORK.replace('<bpmn:userTask id="Task_Review" name="Review" camunda:candidateGroups="gm">',
                         '<bpmn:userTask id="Task_Review" name="Review" camunda:candidateGroups="gm">' + payload)
    assert "not allowed" in _refused(xml)


def test_event_handler_attribute_is_refused() -> None:
    assert "onclick" in _refused(REWORK.replace('name="Review"', 'name="Review" onclick="alert(1)"'))


def test_diagram_source_is_served_inert(web) -> None:
    instance = cases.start_case("client_ownership", user("staff17"), registration(unique_id_number()))
    web.login("staff17")
    resp = web.client.get(f"/cases/{instance.id}/diagram.bpmn")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert resp.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in resp.headers["Content-Security-Policy"]


def test_auditor_export_is_masked_and_logged(web) -> None:
    id_no = unique_id_number()
    instance = cases.start_case("client_ownership", user("staff18"), registration(id_no, "=HYPERLINK(1)"))
    web.login("auditor")
    resp = web.client.get("/audit/export.csv?process=client_ownership&person=staff18")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert f"{instance.id}," in text and id_no not in text and id_no[-4:] in text
    assert "'=HYPERLINK(1)" in text  # not a formula when opened in a spreadsheet
    assert db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "export",
                                                          SecurityEvent.user_id == user("auditor").id)).first()
    web.logout()
    web.login("staff18")
    assert web.client.get("/audit/export.csv").status_code == 403
