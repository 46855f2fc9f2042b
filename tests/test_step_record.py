"""Each step's words and decisions are its own: what a form starts with, what a
completion records, how the history labels it, and the absent-staff outcome."""

from __future__ import annotations

from typing import Any

from lxml import html
from sqlalchemy import select

from tests.api.client import Api
from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import PDF, complete, counter_pass, open_task, registration
from workflows.branch.models import Violation
from workflows.cases import commands as cases
from workflows.cases import step_values
from workflows.cases.forms import Upload
from workflows.cases.models import AuditEvent, HumanTask, ProcessInstance
from workflows.db import db

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _completions(instance: ProcessInstance) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                            AuditEvent.type == "task_completed")
                                   .order_by(AuditEvent.seq)))


def _to_finance(id_no: str, staff: str = "staff06") -> ProcessInstance:
    instance = cases.start_case("client_ownership", user(staff), registration(id_no))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve", "comment": "预约无误"})
    counter_pass(instance, user("counter1"))
    complete(instance, "Task_Aggregate", user("support1"), {"batch_ref": "B-7"})
    complete(instance, "Task_TradingReview", user("trading"), {"decision": "approve", "comment": "交易部：资料齐全"})
    return instance


def _history(page: str) -> list[dict[str, Any]]:
    """The history table's task completions: step, changes (label -> text), comment."""
    rows = []
    for tr in html.fromstring(page).xpath('//table[@id="history"]//tr[contains(@class, "ev-task_completed")]'):
        cells = tr.xpath("./td")
        changes = {}
        for div in cells[5].xpath("./div"):
            label = div.xpath("./b")[0].text_content().strip()
            changes[label] = div.text_content().split(":", 1)[1].strip()
        rows.append({"step": cells[4].text_content().strip(), "changes": changes,
                     "comment": cells[6].text_content().strip()})
    return rows


def _textarea(page: str, field: str) -> str:
    found = html.fromstring(page).xpath(f'//textarea[@name="{field}"]')
    assert found, f"no {field} box"
    return found[0].text_content()


def test_each_completion_records_its_own_decision_and_comment() -> None:
    instance = _to_finance(unique_id_number())
    complete(instance, "Task_FinanceReview", user("finance"), {"decision": "approve"})
    complete(instance, "Task_GMReview", user("gm"), {"decision": "approve", "comment": ""})
    events = {e.task_spec: e for e in _completions(instance)}
    trading, finance, gm = (events[k] for k in ("Task_TradingReview", "Task_FinanceReview", "Task_GMReview"))
    assert trading.comment == "交易部：资料齐全" and trading.changes["decision"] == [None, "approve"]
    # equal to the trading manager's decision, and still each step's own record
    assert finance.changes["decision"] == [None, "approve"] and gm.changes["decision"] == [None, "approve"]
    # left empty: empty, not the trading manager's words
    assert finance.comment is None and finance.changes["comment"] == [None, None]
    assert gm.comment is None and gm.changes["comment"] == [None, None]
    assert events["Task_ConfirmReservation"].changes["decision"] == [None, "approve"]
    assert events["Task_CounterOpening"].changes["decision"] == [None, "approve"]


def test_an_approval_repeating_an_earlier_round_is_in_the_history() -> None:
    instance = _to_finance(unique_id_number())
    complete(instance, "Task_FinanceReview", user("finance"), {"decision": "send_back", "comment": "请补充资产证明"})
    # the trading manager's second round: their own first answer is the previous value, never
    # finance's; the form's decision and comment start afresh
    task = open_task(instance, "Task_TradingReview")
    meta, data = cases.task_meta(task), cases.instance_data(instance)
    assert step_values.previous_values(task, meta, data) == {"decision": "approve", "comment": "交易部：资料齐全"}
    assert step_values.starting_values(task, meta, data) == {"decision": None, "comment": None}
    complete(instance, "Task_TradingReview", user("trading"), {"decision": "approve", "comment": "已补充"})
    task = open_task(instance, "Task_FinanceReview")
    previous = step_values.previous_values(task, cases.task_meta(task), cases.instance_data(instance))
    assert previous == {"decision": "send_back", "comment": "请补充资产证明"}  # finance's own earlier round
    complete(instance, "Task_FinanceReview", user("finance"), {"decision": "approve", "comment": ""})
    trading = [e for e in _completions(instance) if e.task_spec == "Task_TradingReview"]
    assert [e.changes["decision"] for e in trading] == [[None, "approve"], ["approve", "approve"]]
    assert [e.comment for e in trading] == ["交易部：资料齐全", "已补充"]
    finance = [e for e in _completions(instance) if e.task_spec == "Task_FinanceReview"]
    assert [e.changes["decision"] for e in finance] == [[None, "send_back"], ["send_back", "approve"]]
    assert finance[1].comment is None


def test_finance_and_gm_forms_start_empty_on_the_page_and_in_the_api(web) -> None:
    instance = _to_finance(unique_id_number())
    finance_task = open_task(instance, "Task_FinanceReview")
    web.login("finance")
    page = web.client.get(f"/tasks/{finance_task.id}", headers=ZH).get_data(as_text=True)
    assert _textarea(page, "comment") == "" and "交易部：资料齐全" in page  # in the history, not the box
    # approving without typing records no comment for finance
    resp = web.post(f"/tasks/{finance_task.id}", {"decision": "approve", "comment": ""})
    assert resp.status_code == 302
    web.logout()
    gm_task = open_task(instance, "Task_GMReview")
    form = {f["id"]: f for f in Api(web.client, "gm").get(f"/tasks/{gm_task.id}").get_json()["form"]}
    assert form["comment"]["value"] is None and form["decision"]["value"] is None
    web.login("gm")
    assert _textarea(web.client.get(f"/tasks/{gm_task.id}").get_data(as_text=True), "comment") == ""
    finance = next(e for e in _completions(instance) if e.task_spec == "Task_FinanceReview")
    assert finance.comment is None and finance.changes["comment"][1] is None


def test_a_sent_back_step_starts_from_its_own_earlier_answers(web) -> None:
    instance = _to_finance(unique_id_number())
    complete(instance, "Task_FinanceReview", user("finance"), {"decision": "send_back", "comment": "请补充资产证明"})
    trading = open_task(instance, "Task_TradingReview")
    web.login("trading")  # neither finance's reason nor the manager's own earlier comment in the box
    assert _textarea(web.client.get(f"/tasks/{trading.id}").get_data(as_text=True), "comment") == ""
    complete(instance, "Task_TradingReview", user("trading"), {"decision": "send_back", "comment": "扫描件不清晰"})
    web.logout()
    counter = open_task(instance, "Task_CounterOpening")
    web.login("counter2")
    doc = html.fromstring(web.client.get(f"/tasks/{counter.id}").get_data(as_text=True))
    assert doc.xpath('//input[@name="account_no"]/@value') == ["880012345678"]  # the counter's own
    assert doc.xpath('//select[@name="signed_by_client"]/option[@selected]/@value') == ["true"]
    assert doc.xpath('//textarea[@name="comment"]')[0].text_content() == ""
    form = {f["id"]: f for f in Api(web.client, "counter2").get(f"/tasks/{counter.id}").get_json()["form"]}
    assert form["account_no"]["value"] == "880012345678" and form["comment"]["value"] is None
    assert form["decision"]["value"] is None


def test_history_labels_each_decision_with_its_own_steps_options(web) -> None:
    instance = _to_finance(unique_id_number())
    complete(instance, "Task_FinanceReview", user("finance"), {"decision": "send_back", "comment": "请补充资产证明"})
    complete(instance, "Task_TradingReview", user("trading"), {"decision": "send_back", "comment": "扫描件不清晰"})
    web.login("trading")
    zh = _history(web.client.get(f"/cases/{instance.id}", headers=ZH).get_data(as_text=True))
    trading = [r for r in zh if r["step"] == "交易部经理审核"]
    assert [r["changes"]["结论"] for r in trading] == ["审核通过", "审核通过 → 退回柜台"]
    assert trading[1]["comment"] == "扫描件不清晰"
    finance = next(r for r in zh if r["step"] == "财务经理复核")
    assert finance["changes"]["结论"] == "退回" and finance["comment"] == "请补充资产证明"
    support = next(r for r in zh if r["step"] == "确认预约")
    assert support["changes"]["结论"] == "确认"
    en = _history(web.client.get(f"/cases/{instance.id}", headers=EN).get_data(as_text=True))
    labels = [r["changes"].get("Decision") for r in en]
    assert "Approve → Send back to the counter" in labels and "Send back" in labels
    assert not any("Confirm →" in (label or "") for label in labels)
    assert not any("退回修改" in (r["changes"].get("结论") or "") for r in zh)
    # the case-data panel leaves the steps' own words to the history (no decision under another step's labels)
    case_data = html.fromstring(web.client.get(f"/cases/{instance.id}").get_data(as_text=True))
    keys = case_data.xpath('//*[@id="case-data"]//dd/@data-key')
    assert "client_name" in keys and "decision" not in keys and "comment" not in keys
    # the API's history reads the same (the text as shown; the stored option id beside it)
    api_items = Api(web.client, "trading").get(f"/instances/{instance.id}/history").get_json()["items"]
    by_step: dict[str, list[str]] = {}
    stored: dict[str, list[str]] = {}
    for item in api_items:
        if item["type"] == "task_completed":
            for change in item["changes"]:
                if change["field"] == "Decision":
                    by_step.setdefault(item["task_key"], []).append(change["new_text"])
                    stored.setdefault(item["task_key"], []).append(change["new"])
    assert stored["Task_TradingReview"] == ["approve", "send_back"]
    assert by_step["Task_TradingReview"] == ["Approve", "Send back to the counter"]
    assert by_step["Task_FinanceReview"] == ["Send back"]
    assert by_step["Task_ConfirmReservation"] == ["Confirm"]
    assert by_step["Task_CounterOpening"] == ["Pass first review"]


def _counter(instance: ProcessInstance, *, signed: bool, present: bool, informed: bool, comment: str) -> None:
    complete(instance, "Task_CounterOpening", user("counter1"),
             {"account_no": "880012345600", "signed_by_client": str(signed).lower(),
              "staff_present": str(present).lower(), "support_informed": str(informed).lower(),
              "decision": "approve", "comment": comment},
             uploads={"scanned_form": Upload("form.pdf", "application/pdf", PDF)})


def test_staff_absent_without_notice_ends_with_its_own_outcome(web) -> None:
    instance = cases.start_case("client_ownership", user("staff03"), registration(unique_id_number()))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    _counter(instance, signed=True, present=False, informed=False, comment="营销人员未到场，也未告知后勤")
    db.session.refresh(instance)
    assert (instance.status, instance.outcome) == ("completed", "End_StaffAbsent")
    kinds = [v.kind for v in db.session.scalars(select(Violation).where(Violation.instance_id == instance.id))]
    assert kinds == ["staff_absent_without_notice"]
    web.login("staff03")
    page = web.client.get(f"/cases/{instance.id}", headers=EN).get_data(as_text=True)
    outcome = html.fromstring(page).xpath('//*[@id="case-outcome"]')[0].text_content().strip()
    assert outcome == "Staff member absent without notice"
    zh = web.client.get(f"/cases/{instance.id}", headers=ZH).get_data(as_text=True)
    assert html.fromstring(zh).xpath('//*[@id="case-outcome"]')[0].text_content().strip() == "营销人员未陪同且未告知"
    assert Api(web.client, "staff03").get(f"/instances/{instance.id}").get_json()["outcome"] == "End_StaffAbsent"


def test_absence_needs_a_comment_and_told_support_is_no_violation() -> None:
    import pytest

    from workflows.errors import Invalid

    instance = cases.start_case("client_ownership", user("staff03"), registration(unique_id_number()))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    with pytest.raises(Invalid) as refused:
        _counter(instance, signed=True, present=False, informed=False, comment="")
    assert "comment" in refused.value.fields
    _counter(instance, signed=True, present=False, informed=True, comment="")
    db.session.refresh(instance)
    assert instance.status == "running" and open_task(instance, "Task_Aggregate")
    assert db.session.scalars(select(Violation).where(Violation.instance_id == instance.id)).first() is None


def test_a_form_not_signed_by_the_client_stays_a_signature_violation() -> None:
    instance = cases.start_case("client_ownership", user("staff03"), registration(unique_id_number()))
    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    _counter(instance, signed=False, present=False, informed=False, comment="代签，且营销人员未到场")
    db.session.refresh(instance)
    assert instance.outcome == "End_SignatureViolation"
    kinds = sorted(v.kind for v in db.session.scalars(select(Violation).where(Violation.instance_id == instance.id)))
    assert kinds == ["form_not_signed_by_client", "staff_absent_without_notice"]


def test_each_voter_of_a_parallel_vote_records_only_their_own_vote() -> None:
    from tests.test_engine import deploy

    deploy("mi_vote.bpmn")
    instance = cases.start_case("test_vote", user("staff08"), {})
    votes = sorted(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                              HumanTask.state == "open")), key=lambda t: t.id)
    first, second = votes[0], votes[1]
    cases.complete_task(first.id, first.assigned_user, {"decision": "reject", "comment": "不同意：业绩未达标"})
    meta = cases.task_meta(second)
    data = cases.instance_data(instance)
    # another member's vote is neither the start of this member's form nor their "previous" answer
    assert step_values.previous_values(second, meta, data) == {"decision": None, "comment": None}
    cases.complete_task(second.id, second.assigned_user, {"decision": "reject"})
    recorded = [e for e in _completions(instance) if e.actor_id == second.assigned_user_id]
    assert recorded[0].changes == {"decision": [None, "reject"], "comment": [None, None]}
    assert recorded[0].comment is None
