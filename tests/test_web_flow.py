"""Process A through the web pages (Flask test client, real database)."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from tests.conftest import Grants, unique_id_number, user
from tests.processes.ownership.steps import PDF, open_task, registration
from workflows.cases.models import ProcessInstance, SecurityEvent
from workflows.db import db


def _start(web, username: str, id_no: str, name: str = "测试客户") -> ProcessInstance:
    web.login(username)
    resp = web.post("/processes/client_ownership/start", registration(id_no, name))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    instance = db.session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == id_no)).one()
    web.logout()
    return instance


def test_pages_render_for_every_role(web) -> None:
    instance = _start(web, "staff01", unique_id_number())
    for username, paths in {
        "staff01": ["/", "/processes", "/processes/client_ownership/start", "/cases", f"/cases/{instance.id}",
                    "/registry", "/notices"],
        "support1": ["/?view=groups", "/?view=mine", "/?view=done", "/?view=escalated&overdue=1&q=x"],
        "auditor": ["/audit/", "/audit/security", f"/cases/{instance.id}", "/audit/?process=client_ownership"],
        "admin": ["/admin/users", "/admin/users/new", "/admin/org", f"/admin/users/{user('staff01').id}"],
    }.items():
        web.login(username)
        for path in paths:
            resp = web.client.get(path)
            assert resp.status_code == 200, (username, path, resp.get_data(as_text=True)[:300])
        web.logout()


def test_start_form_errors_name_the_field(web) -> None:
    web.login("staff01")
    data = registration("bad id!")
    data["estimated_assets"] = "lots"
    resp = web.post("/processes/client_ownership/start", data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'id="err-client_id_number"' in page and 'id="err-estimated_assets"' in page


def test_claim_complete_and_history(web) -> None:
    id_no = unique_id_number()
    name = "流程客户" + "".join(chr(ord("甲") + int(d)) for d in id_no if d.isdigit())[-6:]
    instance = _start(web, "staff02", id_no, name)
    task = open_task(instance, "Task_ConfirmReservation")
    web.login("support1")
    # found by its client's name: however many tasks other tests left in support's groups
    groups = web.client.get("/", query_string={"view": "groups", "q": name}).get_data(as_text=True)
    assert f'data-task-id="{task.id}"' in groups
    assert web.post(f"/tasks/{task.id}/claim").status_code == 302
    assert f'data-task-id="{task.id}"' in web.client.get("/?view=mine").get_data(as_text=True)
    # send back needs a comment
    resp = web.post(f"/tasks/{task.id}", {"decision": "send_back"})
    assert resp.status_code == 422 and 'id="err-comment"' in resp.get_data(as_text=True)
    resp = web.post(f"/tasks/{task.id}", {"decision": "approve"})
    assert resp.status_code == 302
    counter = open_task(instance, "Task_CounterOpening")
    web.logout()
    web.login("counter1")
    page = web.client.get(f"/tasks/{counter.id}").get_data(as_text=True)
    assert 'id="task-form"' in page and 'id="history"' in page and ">case_started<" not in page
    data = {"account_no": "880000000001", "signed_by_client": "true", "staff_present": "true", "decision": "approve",
            "scanned_form": (io.BytesIO(b"MZ not a pdf"), "form.pdf")}
    resp = web.post(f"/tasks/{counter.id}", data, content_type="multipart/form-data")
    assert resp.status_code == 422 and 'id="err-scanned_form"' in resp.get_data(as_text=True)
    data["scanned_form"] = (io.BytesIO(PDF), "form.pdf")
    resp = web.post(f"/tasks/{counter.id}", data, content_type="multipart/form-data")
    assert resp.status_code == 302
    page = web.client.get(f"/cases/{instance.id}").get_data(as_text=True)
    att = re.search(r"/attachments/(\d+)", page)
    assert att
    resp = web.client.get(f"/attachments/{att.group(1)}")
    assert resp.status_code == 200 and resp.data == PDF
    web.logout()
    web.login("staff09")  # another department's staff: no part in the case
    assert web.client.get(f"/attachments/{att.group(1)}").status_code == 403
    assert web.client.get(f"/cases/{instance.id}").status_code == 403


def test_other_peoples_task_ids_are_refused_and_logged(web) -> None:
    instance = _start(web, "staff03", unique_id_number())
    task = open_task(instance, "Task_ConfirmReservation")
    web.login("support2")  # support of another department
    assert web.client.get(f"/tasks/{task.id}").status_code == 403
    assert web.post(f"/tasks/{task.id}", {"decision": "approve"}).status_code == 403
    assert web.post(f"/tasks/{task.id}/claim").status_code == 403
    assert web.client.get("/tasks/999999").status_code == 404
    refused = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "refused",
                                                             SecurityEvent.user_id == user("support2").id)).all()
    assert len(refused) >= 3
    db.session.refresh(task)
    assert task.state == "open" and task.claimed_by_id is None


def test_initiator_cannot_approve_own_case(web, grant: Grants) -> None:
    # region11 is staff and, in this test, also a support clerk of his own department
    person = user("region11")
    grant(person, "support")
    instance = _start(web, "region11", unique_id_number())
    task = open_task(instance, "Task_ConfirmReservation")
    web.login("region11")
    assert f'data-task-id="{task.id}"' not in web.client.get("/?view=groups").get_data(as_text=True)
    assert web.post(f"/tasks/{task.id}", {"decision": "approve"}).status_code == 403
    db.session.refresh(task)
    assert task.state == "open"
