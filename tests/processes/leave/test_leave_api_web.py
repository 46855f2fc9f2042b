"""The leave request through /api/v1 and through the pages: the balance before starting, a refusal
with its stable code and figures (nothing started), and an approval; in both languages."""

from __future__ import annotations

import base64
import re
from decimal import Decimal

from lxml import html
from sqlalchemy import func, select

from tests.api.client import Api
from tests.conftest import user
from tests.processes.leave.steps import PASSWORD, PDF, approve_all, on, open_task, person, request, start, week
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.processes.leave.models import AttendanceEntry


def _cases_of(who) -> int:
    return db.session.scalar(select(func.count()).select_from(ProcessInstance)
                             .where(ProcessInstance.started_by_id == who.id)) or 0


def test_the_api_shows_the_balance_refuses_with_figures_and_runs_both_approvals(api) -> None:
    on(week(60, 0))
    someone = person()
    approve_all(start(someone, "personal", week(60, 1), week(60, 3)))  # 3 days approved
    mine = api(someone.username)
    process = mine.get("/processes/leave_request").get_json()
    (info,) = process["start_info"]
    assert info["kind"] == "leave_balance"
    assert info["details"] == {"year": week(60, 0).year, "limit": 20, "approved": 3, "pending": 0, "remaining": 17}
    assert "17 of 20 working days" in info["message"]

    refused = mine.post("/processes/leave_request/instances", request("personal", week(60, 0)))
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["error"] == "leave_not_in_advance" and body["figures"]["first"] == week(60, 0).isoformat()
    assert "at least one working day in advance" in body["message"]
    zh = Api(mine.client, someone.username)
    zh.headers["Accept-Language"] = "zh"
    body_zh = zh.post("/processes/leave_request/instances", request("personal", week(60, 0))).get_json()
    assert "至少提前一个工作日" in body_zh["message"] and body_zh["error"] == "leave_not_in_advance"
    assert _cases_of(someone) == 1  # nothing started

    sick = request("sick", week(60, 4))
    sick["certificate"] = {"filename": "证明.pdf", "content_type": "application/pdf",
                           "content_base64": base64.b64encode(PDF).decode()}
    created = mine.post("/processes/leave_request/instances", sick)
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    assert api("region11").complete_step(case_id, "Task_FirstApproval", {"decision": "approve"}).status_code == 200
    assert api("gm").complete_step(case_id, "Task_BranchApproval", {"decision": "approve"}).status_code == 200
    entry = db.session.scalars(select(AttendanceEntry).where(AttendanceEntry.instance_id == case_id)).one()
    assert (entry.kind, entry.days, entry.pay_deduction_days, entry.score, entry.via) == (
        "sick", Decimal(1), Decimal(0), Decimal(-5), "api")


def test_the_api_withdraws_through_the_requesters_step(api) -> None:
    on(week(61, 0))
    someone = person()
    instance = start(someone, "personal", week(61, 2))
    done = api(someone.username).complete_step(instance.id, "Task_Withdraw", {"decision": "withdraw"})
    assert done.status_code == 200, done.get_json()
    db.session.refresh(instance)
    assert instance.outcome == "End_Withdrawn"


def _start_page(web) -> str:
    return web.client.get("/processes/leave_request/start").get_data(as_text=True)


def _info(page: str) -> str:
    return html.fromstring(page).get_element_by_id("start-info").text_content()


def test_the_pages_show_the_balance_refuse_today_and_approve(web) -> None:
    on(week(62, 0))
    someone = person()
    start(someone, "personal", week(62, 2), week(62, 3))  # 2 days pending
    web.login(someone.username, PASSWORD)
    web.post("/language/en")
    assert "18 of 20 working days (0 approved, 2 pending)" in _info(_start_page(web))
    web.post("/language/zh")
    assert "剩余事假：18 天（共 20 个工作日；已批准 0 天，待审批 2 天）" in _info(_start_page(web))

    refused = web.post("/processes/leave_request/start", request("personal", week(62, 0)))
    assert refused.status_code == 422
    assert "请假须至少提前一个工作日申请" in refused.get_data(as_text=True)
    assert _cases_of(someone) == 1  # nothing started

    accepted = web.post("/processes/leave_request/start", request("personal", week(62, 4)))
    assert accepted.status_code == 302
    case_id = int(re.search(r"/cases/(\d+)", accepted.headers["Location"]).group(1))
    instance = db.session.get(ProcessInstance, case_id)
    task = open_task(instance, "Task_FirstApproval")
    web.logout()
    web.login("region11")
    assert web.client.get(f"/tasks/{task.id}").status_code == 200
    done = web.post(f"/tasks/{task.id}", {"decision": "approve", "comment": ""})
    assert done.status_code == 302
    db.session.expire_all()
    assert open_task(instance, "Task_BranchApproval").assigned_user_id == user("gm").id
