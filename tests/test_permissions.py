"""One permission mechanism: rules as data in workflows.cases.access, applied by
webapp.security.requires / protect, each refusal logged once; refusals are values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask, g
from flask_login import login_user
from sqlalchemy import select

from tests.conftest import unique_username, user
from webapp.security import requires
from workflows.branch import accounts, people, tokens
from workflows.cases import access
from workflows.cases.models import SecurityEvent
from workflows.db import db
from workflows.errors import Forbidden

ROOT = Path(__file__).resolve().parent.parent


def _refusals() -> list[SecurityEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "refused")
                                   .order_by(SecurityEvent.id)))


@requires(access.AUDIT)
def _audit_only() -> str:
    return "the audit page"


def test_requires_lets_the_holder_through_and_logs_nothing(app: Flask) -> None:
    before = len(_refusals())
    with app.test_request_context("/audit/somewhere"):
        login_user(user("auditor"))
        assert _audit_only() == "the audit page"
    assert len(_refusals()) == before
    assert _audit_only.permission is access.AUDIT


def test_requires_refuses_with_the_permissions_message_and_logs_once(app: Flask) -> None:
    before = len(_refusals())
    with app.test_request_context("/audit/somewhere", environ_base={"REMOTE_ADDR": "10.9.8.7"}):
        login_user(user("admin"))
        with pytest.raises(Forbidden) as refused:
            _audit_only()
    assert refused.value.message == access.AUDIT.refusal
    logged = _refusals()[before:]
    assert [(e.username, e.detail, e.ip) for e in logged] == [("admin", "/audit/somewhere", "10.9.8.7")]


def test_requires_checks_the_api_tokens_user_when_there_is_one(app: Flask) -> None:
    before = len(_refusals())
    with app.test_request_context("/api/v1/somewhere"):
        g.api_user = user("auditor")
        assert _audit_only() == "the audit page"
        g.api_user = user("staff01")
        with pytest.raises(Forbidden):
            _audit_only()
    assert [(e.username, e.detail) for e in _refusals()[before:]] == [("staff01", "/api/v1/somewhere")]


def test_each_protected_page_refuses_once_with_its_own_message(web) -> None:
    web.login("staff01")
    before = len(_refusals())
    for path, message in (("/audit/", "only auditors may open this page"),
                          ("/audit/security", "only auditors and administrators may open this page"),
                          ("/admin/users", "only administrators may open this page"),
                          ("/designer/", "Only process designers may open the designer.")):
        resp = web.client.get(path, headers={"Accept-Language": "en"})
        assert resp.status_code == 403 and message in resp.get_data(as_text=True), path
    deploy = _post_json(web, "/designer/deploy")
    assert deploy.status_code == 403 and deploy.get_json() == {"error": "forbidden",
                                                               "message": "只有流程设计人员可以打开流程设计器。"}
    assert [e.detail for e in _refusals()[before:]] == ["/audit/", "/audit/security", "/admin/users", "/designer/",
                                                        "/designer/deploy"]


def test_the_designer_may_open_but_only_a_designer_deploys(web) -> None:
    admin, designer = user("admin"), user("designer")
    assert access.may_design(admin) and not access.may_deploy(admin)
    assert access.may_design(designer) and access.may_deploy(designer)
    web.login("admin")
    page = web.client.get("/designer/new").get_data(as_text=True)
    assert 'id="designer-deploy"' not in page and 'data-nav="designer"' in page
    before = len(_refusals())
    deploy = _post_json(web, "/designer/deploy")  # the modeler reads JSON back, whatever it accepts
    assert deploy.status_code == 403 and deploy.get_json() == {"error": "forbidden",
                                                               "message": "只有流程设计人员可以部署。"}
    assert [(e.username, e.detail) for e in _refusals()[before:]] == [("admin", "/designer/deploy")]


def _post_json(web, path: str):
    return web.client.post(path, data='{"xml": "<x/>"}', headers={"X-CSRFToken": web.csrf("/"),
                                                                 "Content-Type": "application/json",
                                                                 "Accept-Language": "zh-CN"})


def test_no_view_names_a_role() -> None:
    """Who may do what is said in workflows.cases.access; views and templates only ask it."""
    offenders = []
    for path in [*(ROOT / "webapp").rglob("*.py"), *(ROOT / "webapp" / "templates").rglob("*.html")]:
        text = path.read_text("utf-8")
        if "has_role(" in text or "REGISTRY_READERS" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_webapp_reaches_the_database_only_through_workflows() -> None:
    """No model, SQLAlchemy or SpiffWorkflow import in webapp; workflows.db only to wire the app."""
    wiring = {"webapp/__init__.py", "webapp/config.py", "webapp/errors.py", "webapp/migrations_cli.py"}
    offenders = []
    for path in (ROOT / "webapp").rglob("*.py"):
        name = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for module in modules:
                if (module.split(".")[0] in ("sqlalchemy", "SpiffWorkflow") or module.endswith(".models")
                        or (module == "workflows.db" and name not in wiring)):
                    offenders.append(f"{name}: {module}")
    assert offenders == []


def test_login_refusals_are_values_with_a_code() -> None:
    name = unique_username("thr")
    for _ in range(3):
        found, why = accounts.authenticate(name, "wrong", "10.0.0.1")
        assert found is None and why == accounts.WRONG
    found, why = accounts.authenticate(name, "wrong", "10.0.0.1")
    assert found is None and why is not None and why.code == accounts.THROTTLED
    assert "%(seconds)s" in why.message.template
    assert tokens.authenticate("nonsense") == (None, tokens.INVALID)


def test_cli_set_password_keeps_the_password_rule(app: Flask) -> None:
    name = unique_username("cli")
    people.save_user(None, username=name, full_name="命令行", roles=["staff"], unit_id=None, active=True,
                     password="first-pass-1", actor=None)
    runner = app.test_cli_runner()
    short = runner.invoke(args=["users", "set-password", name], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    db.session.expire_all()
    assert accounts.check_password(people.by_username(name), "first-pass-1")
    good = runner.invoke(args=["users", "set-password", name], input="second-pass-2\nsecond-pass-2\n")
    assert good.exit_code == 0 and "password changed" in good.output
    db.session.expire_all()
    assert accounts.check_password(people.by_username(name), "second-pass-2")
    unknown = runner.invoke(args=["users", "set-password", "nobody-here"], input="second-pass-2\nsecond-pass-2\n")
    assert unknown.exit_code != 0 and "no such user" in unknown.output
