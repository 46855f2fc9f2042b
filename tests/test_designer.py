"""The process designer's pages: validate and deploy over JSON, versions, compare, access."""

from __future__ import annotations

import itertools
import json
import os

from sqlalchemy import func, select

from tests.conftest import ROOT, TEST_BPMN, user
from workflows.cases import compare as designs
from workflows.cases.models import ProcessDefinition, SecurityEvent
from workflows.db import db

LIBRARY_XML = (ROOT / "bpmn" / "client_ownership.bpmn").read_text("utf-8")
REWORK = (TEST_BPMN / "rework.bpmn").read_text("utf-8")
HOSTILE = REWORK.replace("decision == 'send_back'", "__import__('os').system('touch /tmp/pwned')")

_keys = itertools.count(1)


def _fresh_key() -> str:
    """A process key no other test deploys, so versions start at 1 and the library stays untouched."""
    return f"designer_test_{os.getpid()}_{next(_keys)}"


def _rework(key: str) -> str:
    return REWORK.replace('id="test_rework"', f'id="{key}"')


def _json(web, path: str, body: object = None, *, raw: bytes | str | None = None,
          content_type: str = "application/json", token: str | None = None):
    token = token or web.csrf("/")
    data = raw if raw is not None else json.dumps(body)
    return web.client.post(path, data=data, headers={"X-CSRFToken": token, "Content-Type": content_type,
                                                     "Accept": "application/json"})


def _events(kind: str, username: str) -> list[SecurityEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind,
                                                               SecurityEvent.username == username)
                                   .order_by(SecurityEvent.id)))


def _definitions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(ProcessDefinition.id))) or 0


# --- validate ----------------------------------------------------------------------------------


def test_validate_accepts_the_library_diagram(web) -> None:
    web.login("designer")
    resp = _json(web, "/designer/validate", {"xml": LIBRARY_XML, "filename": "client_ownership.bpmn"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["ok"] is True and body["key"] == "client_ownership" and "Client ownership" in body["name"]


def test_validate_refuses_import_naming_the_element_and_records_it(web) -> None:
    web.login("designer")
    before, logged = _definitions(), len(_events("deploy_refused", "designer"))
    resp = _json(web, "/designer/validate", {"xml": HOSTILE})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "invalid" and body["element"] == "F_Back" and body["element_id"] == "F_Back"
    assert "element 'F_Back'" in body["message"] and "refused" in body["message"]
    events = _events("deploy_refused", "designer")
    assert len(events) == logged + 1 and "F_Back" in (events[-1].detail or "")
    assert events[-1].user_id == user("designer").id
    assert _definitions() == before


def test_validate_names_a_task_by_its_id(web) -> None:
    web.login("designer")
    xml = _rework(_fresh_key()).replace('camunda:candidateGroups="gm"', 'camunda:candidateGroups="nobody"')
    body = _json(web, "/designer/validate", {"xml": xml}).get_json()
    assert body["element"] == "Task_Review (Review)" and body["element_id"] == "Task_Review"
    assert "unknown role 'nobody'" in body["message"]


def test_admin_may_validate(web) -> None:
    web.login("admin")
    assert _json(web, "/designer/validate", {"xml": LIBRARY_XML}).status_code == 200


# --- deploy --------------------------------------------------------------------------------------


def test_deploy_creates_a_version_only_when_the_diagram_changed(web) -> None:
    web.login("designer")
    key = _fresh_key()
    xml = _rework(key)
    first = _json(web, "/designer/deploy", {"xml": xml}).get_json()
    assert first == {"ok": True, "key": key, "version": 1, "created": True, "url": f"/designer/{key}/v1"}
    same = _json(web, "/designer/deploy", {"xml": xml}).get_json()
    assert same["created"] is False and same["version"] == 1
    renamed = xml.replace('name="Review"', 'name="Review by the GM"')
    second = _json(web, "/designer/deploy", {"xml": renamed}).get_json()
    assert second["created"] is True and second["version"] == 2
    assert _json(web, "/designer/deploy", {"xml": renamed}).get_json()["created"] is False
    db.session.rollback()
    stored = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                .order_by(ProcessDefinition.version)).all()
    assert [d.version for d in stored] == [1, 2]
    assert stored[1].deployed_by_id == user("designer").id and 'name="Review by the GM"' in stored[1].bpmn_xml


def test_refused_deploy_is_recorded_and_stores_nothing(web) -> None:
    web.login("designer")
    before = _definitions()
    resp = _json(web, "/designer/deploy", {"xml": HOSTILE})
    assert resp.status_code == 422 and resp.get_json()["element_id"] == "F_Back"
    events = _events("deploy_refused", "designer")
    assert events and events[-1].detail.startswith("deploy") and "__import__" in events[-1].detail
    assert _definitions() == before


def test_deploy_by_staff_is_forbidden_and_logged(web) -> None:
    web.login("staff01")
    before, logged = _definitions(), len(_events("refused", "staff01"))
    resp = _json(web, "/designer/deploy", {"xml": _rework(_fresh_key())})
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    events = _events("refused", "staff01")
    assert len(events) == logged + 1 and "/designer/deploy" in (events[-1].detail or "")
    assert _definitions() == before


def test_admin_may_not_deploy(web) -> None:
    web.login("admin")
    logged = len(_events("refused", "admin"))
    resp = _json(web, "/designer/deploy", {"xml": _rework(_fresh_key())})
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    assert len(_events("refused", "admin")) == logged + 1


def test_bad_bodies_are_422_never_500(web) -> None:
    web.login("designer")
    before = _definitions()
    for path in ("/designer/validate", "/designer/deploy"):
        form = web.post(path, {"xml": LIBRARY_XML}, headers={"Accept": "application/json"})
        assert form.status_code == 422 and form.get_json()["error"] == "invalid"
        assert _json(web, path, raw="{not json").status_code == 422
        assert _json(web, path, raw="[" * 100_000).status_code == 422
        assert _json(web, path, ["xml"]).status_code == 422
        assert _json(web, path, {"xml": 42}).status_code == 422
        assert _json(web, path, {"xml": "   "}).status_code == 422
        assert _json(web, path, {"bpmn": LIBRARY_XML}).status_code == 422
        big = _json(web, path, {"xml": LIBRARY_XML + " " * (2 * 1024 * 1024)})
        assert big.status_code == 422 and "MB" in big.get_json()["message"]
        garbage = _json(web, path, {"xml": "<not-bpmn/>"})
        assert garbage.status_code == 422 and garbage.get_json()["error"] == "invalid"
    assert _definitions() == before


def test_json_post_without_csrf_token_is_refused(web) -> None:
    web.login("designer")
    resp = web.client.post("/designer/validate", data=json.dumps({"xml": LIBRARY_XML}),
                           headers={"Content-Type": "application/json", "Accept": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["error"] == "csrf"


# --- pages ---------------------------------------------------------------------------------------


def test_compare_lists_the_renamed_element_and_form_changes(web) -> None:
    web.login("designer")
    key = _fresh_key()
    xml = _rework(key)
    changed = (xml.replace('name="Review"', 'name="Review by the GM"')
                  .replace('<camunda:formField id="amount" label="Amount" type="long"/>',
                           '<camunda:formField id="reason" label="Reason" type="string"/>'))
    assert _json(web, "/designer/deploy", {"xml": xml}).get_json()["version"] == 1
    assert _json(web, "/designer/deploy", {"xml": changed}).get_json()["version"] == 2
    page = web.client.get(f"/designer/{key}/compare?a=1&b=2")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="change-renamed" data-element="Task_Review"' in text
    assert "Review → Review by the GM" in text
    assert 'class="change-field-added" data-element="Task_Submit" data-field="reason"' in text
    assert 'class="change-field-removed" data-element="Task_Submit" data-field="amount"' in text
    assert f"/designer/{key}/v1.bpmn" in text and f"/designer/{key}/v2.bpmn" in text
    assert 'data-active="Task_Review"' in text
    default = web.client.get(f"/designer/{key}/compare").get_data(as_text=True)  # latest two by default
    assert "Review → Review by the GM" in default
    same = web.client.get(f"/designer/{key}/compare?a=2&b=2").get_data(as_text=True)
    assert 'id="no-changes"' in same


def test_pages_render_for_the_designer(web) -> None:
    web.login("designer")
    index = web.client.get("/designer/")
    text = index.get_data(as_text=True)
    assert index.status_code == 200 and 'data-nav="designer"' in text
    assert 'id="process-client_ownership"' in text and "/designer/client_ownership/edit" in text
    assert "/designer/client_ownership/v1" in text and 'id="designer-new"' in text
    edit = web.client.get("/designer/client_ownership/edit").get_data(as_text=True)
    assert 'id="designer-canvas"' in edit and '<meta name="csrf-token"' in edit and 'id="designer-deploy"' in edit
    assert 'data-xml-src="/designer/client_ownership/v' in edit and "build/modeler.js" in edit
    new = web.client.get("/designer/new").get_data(as_text=True)
    assert 'id="designer-canvas"' in new and 'data-xml-src=""' in new
    version = web.client.get("/designer/client_ownership/v1")
    assert version.status_code == 200 and 'data-viewer-src="/designer/client_ownership/v1.bpmn"' in \
        version.get_data(as_text=True)
    xml = web.client.get("/designer/client_ownership/v1.bpmn")
    assert xml.status_code == 200 and xml.mimetype == "text/plain" and 'id="client_ownership"' in xml.get_data(
        as_text=True)
    assert "attachment" in xml.headers["Content-Disposition"] and "sandbox" in xml.headers["Content-Security-Policy"]
    assert web.client.get("/designer/client_ownership/compare").status_code == 200
    for missing in ("/designer/client_ownership/v999", "/designer/client_ownership/v99999999999999999999.bpmn",
                    "/designer/nope/edit", "/designer/nope/compare", "/designer/client_ownership/edit?version=999",
                    "/designer/client_ownership/compare?a=1&b=999"):
        assert web.client.get(missing).status_code == 404, missing


def test_admin_may_view_but_gets_no_deploy_button(web) -> None:
    web.login("admin")
    assert web.client.get("/designer/").status_code == 200
    edit = web.client.get("/designer/client_ownership/edit").get_data(as_text=True)
    assert 'id="designer-validate"' in edit and 'id="designer-deploy"' not in edit


def test_pages_are_forbidden_to_staff(web) -> None:
    web.login("staff01")
    assert 'data-nav="designer"' not in web.client.get("/").get_data(as_text=True)
    logged = len(_events("refused", "staff01"))
    paths = ["/designer/", "/designer/new", "/designer/client_ownership/edit", "/designer/client_ownership/v1",
             "/designer/client_ownership/v1.bpmn", "/designer/client_ownership/compare"]
    for path in paths:
        assert web.client.get(path).status_code == 403, path
    assert _json(web, "/designer/validate", {"xml": LIBRARY_XML}).status_code == 403
    assert len(_events("refused", "staff01")) == logged + len(paths) + 1


def test_pages_need_a_login(client) -> None:
    resp = client.get("/designer/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- the pure helpers ----------------------------------------------------------------------------


def test_element_id_and_file_names() -> None:
    assert designs.element_id("Task_X (Review (2))") == "Task_X"
    assert designs.element_id("F_Back") == "F_Back"
    assert designs.element_id("start event") is None and designs.element_id(None) is None
    assert designs.safe_filename("client_ownership.bpmn") == "client_ownership.bpmn"
    assert designs.safe_filename("../etc/passwd") == "diagram.bpmn" and designs.safe_filename(3) == "diagram.bpmn"
    assert designs.download_name('a"b\r\nc', 2) == "a_b__c-v2.bpmn"


def test_diff_of_identical_diagrams_is_empty() -> None:
    assert designs.diff_versions(LIBRARY_XML, LIBRARY_XML).empty


def test_diff_lists_added_and_removed_elements() -> None:
    old = _rework("p")
    new = old.replace('<bpmn:endEvent id="End_Done">', '<bpmn:endEvent id="End_Finished" name="Finished">').replace(
        'targetRef="End_Done"', 'targetRef="End_Finished"')
    diff = designs.diff_versions(old, new)
    assert [(e.id, e.kind, e.name) for e in diff.added] == [("End_Finished", "endEvent", "Finished")]
    assert [e.id for e in diff.removed] == ["End_Done"] and not diff.renamed
    assert diff.marked_old() == ["End_Done"] and diff.marked_new() == ["End_Finished"]
