"""Least privilege (SPEC §1): the administrator runs users, roles, organisation and the
security log but sees no case, task, attachment, history or audit search, on the web and
the API; nobody changes their own roles; every role change is in the security log."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import unique_id_number, unique_username, user
from tests.processes.ownership.steps import complete, counter_pass, open_task, registration
from workflows.branch import people, tokens
from workflows.branch.models import User
from workflows.cases import commands as cases
from workflows.cases.models import Attachment, Notice, ProcessInstance, SecurityEvent
from workflows.db import db


def _username(prefix: str) -> str:
    return unique_username(prefix)


def _case_with_file() -> tuple[ProcessInstance, Attachment, int]:
    """A case past the counter (so it has a scanned form) with an open task."""
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number(), "保密客户"))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter1"))
    att = db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)).first()
    assert att is not None
    open_id = open_task(instance, "Task_Aggregate").id
    db.session.commit()
    return instance, att, open_id


def _refusals(username: str) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(SecurityEvent.detail).where(SecurityEvent.kind == "refused",
                                                                      SecurityEvent.username == username)
                                   .order_by(SecurityEvent.id)))


def _events(kind: str) -> list[SecurityEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)))


def test_admin_gets_403_on_case_content_in_the_pages_and_each_refusal_is_logged(web) -> None:
    instance, att, task_id = _case_with_file()
    web.login("admin")
    before = len(_refusals("admin"))
    for path in (f"/cases/{instance.id}", f"/cases/{instance.id}/diagram.bpmn", f"/tasks/{task_id}",
                 f"/attachments/{att.id}", "/audit/", "/audit/?process=client_ownership", "/audit/export.csv",
                 "/registry"):
        resp = web.client.get(path)
        assert resp.status_code == 403, (path, resp.status_code)
        assert "保密客户" not in resp.get_data(as_text=True) and att.content not in resp.data
    assert web.post("/audit/verify").status_code == 403
    assert web.post(f"/tasks/{task_id}/claim").status_code == 403
    refused = _refusals("admin")[before:]
    assert f"view case {instance.id}" in refused
    assert f"view attachment {att.id} of case {instance.id}" in refused
    assert f"view task {task_id}" in refused
    assert {"/audit/", "/audit/export.csv", "/audit/verify", "/registry"} <= set(refused)
    assert len(refused) == 10  # every refusal above, each written once


def test_admin_gets_403_on_case_content_over_the_api(client: FlaskClient) -> None:
    instance, _att, task_id = _case_with_file()
    raw, _row = tokens.issue(user("admin"), "least privilege test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "zh-CN"}
    before = len(_refusals("admin"))
    for path, message in ((f"/api/v1/instances/{instance.id}", "您不是该案件的参与人"),
                          (f"/api/v1/instances/{instance.id}/history", "您不是该案件的参与人"),
                          (f"/api/v1/tasks/{task_id}", "您不是该任务的参与人")):
        resp = client.get(path, headers=headers)
        assert resp.status_code == 403, path
        assert resp.get_json() == {"error": "no_part", "message": message}
        assert "保密客户" not in resp.get_data(as_text=True)
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers).status_code == 403
    started = client.post("/api/v1/processes/client_ownership/instances", headers=headers,
                          json={"data": registration(unique_id_number())})
    assert started.status_code == 403 and started.get_json()["error"] == "may_not_start"
    listed = client.get("/api/v1/tasks?view=groups", headers=headers).get_json()
    assert listed["items"] == []
    refused = _refusals("admin")[before:]
    assert f"view case {instance.id}" in refused and f"view task {task_id}" in refused
    assert "start client_ownership" in refused and len(refused) == 5


def test_the_auditor_keeps_every_case_view(web, client: FlaskClient) -> None:
    instance, att, task_id = _case_with_file()
    web.login("auditor")
    for path in (f"/cases/{instance.id}", f"/tasks/{task_id}", f"/attachments/{att.id}", "/audit/",
                 "/audit/export.csv", "/audit/security"):
        assert web.client.get(path).status_code == 200, path
    raw, _row = tokens.issue(user("auditor"), "least privilege test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(f"/api/v1/instances/{instance.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/instances/{instance.id}/history", headers=headers).status_code == 200


def test_admin_lands_on_users_and_reaches_what_they_administer(web) -> None:
    resp = web.login("admin")
    assert resp.status_code == 302
    landing = web.client.get("/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/admin/users")
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{user('staff01').id}", "/admin/org",
                 "/audit/security", "/designer/", "/notices", "/profile"):
        assert web.client.get(path).status_code == 200, path
    nav = web.client.get("/admin/users").get_data(as_text=True)
    nav = nav[nav.index("<nav>"):nav.index("</nav>")]
    assert 'href="/admin/users"' in nav and 'href="/admin/org"' in nav and 'href="/audit/security"' in nav
    for unusable in ('href="/"', 'href="/processes"', 'href="/cases"', 'href="/registry"', 'href="/audit/"'):
        assert unusable not in nav, unusable
    # the security log shows the admin's own refusals
    web.client.get("/audit/")
    assert "/audit/" in web.client.get("/audit/security").get_data(as_text=True)


def test_people_without_the_right_are_refused_the_security_log(web) -> None:
    web.login("staff01")
    resp = web.client.get("/audit/security", headers={"Accept-Language": "en"})
    assert resp.status_code == 403 and "only auditors and administrators" in resp.get_data(as_text=True)
    assert "/audit/security" in _refusals("staff01")
    nav = web.client.get("/").get_data(as_text=True)
    assert 'href="/audit/security"' not in nav and 'href="/admin/users"' not in nav and 'href="/processes"' in nav


def test_a_notice_links_only_to_a_case_its_reader_may_open(web) -> None:
    instance, _att, _task = _case_with_file()
    db.session.add(Notice(user_id=user("admin").id, instance_id=instance.id, text="a case moved on"))
    db.session.add(Notice(user_id=user("staff01").id, instance_id=instance.id, text="your case moved on"))
    db.session.commit()
    web.login("admin")
    page = web.client.get("/notices").get_data(as_text=True)
    assert "a case moved on" in page and f"/cases/{instance.id}" not in page
    web.logout()
    web.login("staff01")
    assert f'href="/cases/{instance.id}"' in web.client.get("/notices").get_data(as_text=True)


def _new_user(web, roles: list[str], prefix: str = "pl") -> User:
    name = _username(prefix)
    resp = web.post("/admin/users/new", {"username": name, "full_name": "权限测试", "password": "s3cret-pass",
                                         "roles": roles, "active": "on"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    db.session.expire_all()
    return user(name)


def test_nobody_changes_their_own_roles_and_the_attempt_is_logged(web) -> None:
    web.login("admin")
    second = _new_user(web, ["admin"], "admin")
    web.logout()
    web.login(second.username, "s3cret-pass")
    form = {"username": second.username, "full_name": "权限测试", "roles": ["admin", "auditor"], "active": "on"}
    for lang, text in (("zh-CN", "任何人不得修改自己的角色"), ("en", "nobody may change their own roles")):
        resp = web.post(f"/admin/users/{second.id}", {**form, "roles": ["admin", "gm"]},
                        headers={"Accept-Language": lang})
        assert resp.status_code == 403 and text in resp.get_data(as_text=True), lang
        assert 'id="err-roles"' in resp.get_data(as_text=True)
    # dropping one's own admin role is refused too
    assert web.post(f"/admin/users/{second.id}", {**form, "roles": []}).status_code == 403
    db.session.expire_all()
    assert user(second.username).roles == {"admin"}
    refused = [d for d in _refusals(second.username) if d.startswith("change own roles")]
    assert refused == ["change own roles: [admin] -> [admin, gm]"] * 2 + ["change own roles: [admin] -> []"]
    # the page offers no role boxes to tick, and saving one's own name with the same roles works
    page = web.client.get(f"/admin/users/{second.id}").get_data(as_text=True)
    assert 'id="own-roles-hint"' in page and 'value="admin" checked disabled' in page
    resp = web.post(f"/admin/users/{second.id}", {**form, "full_name": "改名", "roles": ["admin"]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert user(second.username).full_name == "改名" and user(second.username).roles == {"admin"}


def test_every_role_change_is_logged_with_who_whose_old_and_new(web) -> None:
    web.login("admin")
    before = len(_events("roles_changed"))
    person = _new_user(web, ["staff"])
    form = {"username": person.username, "full_name": "权限测试", "active": "on"}
    assert web.post(f"/admin/users/{person.id}", {**form, "roles": ["staff", "advisor"]}).status_code == 302
    assert web.post(f"/admin/users/{person.id}", {**form, "roles": ["advisor"]}).status_code == 302
    renamed = web.post(f"/admin/users/{person.id}", {**form, "full_name": "只改名", "roles": ["advisor"]})
    assert renamed.status_code == 302  # no change of roles, nothing logged
    changes = _events("roles_changed")[before:]
    assert [(e.username, e.user_id) for e in changes] == [("admin", user("admin").id)] * 3
    assert [e.detail for e in changes] == [
        f"user {person.username} (#{person.id}): [] -> [staff]; granted [staff], revoked []",
        f"user {person.username} (#{person.id}): [staff] -> [advisor, staff]; granted [advisor], revoked []",
        f"user {person.username} (#{person.id}): [advisor, staff] -> [advisor]; granted [], revoked [staff]",
    ]
    # another administrator changes the first one's roles: allowed, and logged as theirs
    second = _new_user(web, ["admin"], "admin")
    web.logout()
    web.login(second.username, "s3cret-pass")
    resp = web.post(f"/admin/users/{person.id}", {**form, "roles": ["advisor", "staff"]})
    assert resp.status_code == 302
    last = _events("roles_changed")[-1]
    assert last.username == second.username and last.detail.endswith("[advisor] -> [advisor, staff]; "
                                                                     "granted [staff], revoked []")
    page = web.client.get("/audit/security", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Roles changed" in page and f"user {person.username}" in page


def test_roles_set_by_an_operator_command_are_logged_as_system() -> None:
    person = people.save_user(None, username=_username("cli"), full_name="命令行", roles=["office"], unit_id=None,
                              active=True, password="s3cret-pass", actor=None)
    last = _events("roles_changed")[-1]
    assert last.username == "system" and last.user_id is None
    assert last.detail == f"user {person.username} (#{person.id}): [] -> [office]; granted [office], revoked []"


def test_admin_and_auditor_are_separate_duties(web) -> None:
    web.login("admin")
    name = _username("both")
    before = len(_events("roles_changed"))
    resp = web.post("/admin/users/new", {"username": name, "full_name": "兼任", "password": "s3cret-pass",
                                         "roles": ["admin", "auditor"], "active": "on"},
                    headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 422 and "不相容职责" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == name)) == 0
    auditor = user("auditor")
    resp = web.post(f"/admin/users/{auditor.id}", {"username": "auditor", "full_name": auditor.full_name,
                                                   "roles": ["auditor", "admin"], "active": "on"})
    assert resp.status_code == 422
    db.session.expire_all()
    assert user("auditor").roles == {"auditor"} and len(_events("roles_changed")) == before


def test_an_admin_who_also_works_cases_sees_only_their_own(web) -> None:
    """Rights come from business roles: an admin who is also staff sees the cases they take part in."""
    web.login("admin")
    both = _new_user(web, ["admin", "staff"], "adminstaff")
    instance, _att, _task = _case_with_file()
    own = cases.start_case("client_ownership", both, registration(unique_id_number()))
    db.session.commit()
    web.logout()
    web.login(both.username, "s3cret-pass")
    assert web.client.get("/").status_code == 200  # an inbox: they have work
    assert web.client.get(f"/cases/{own.id}").status_code == 200
    assert web.client.get(f"/cases/{instance.id}").status_code == 403
