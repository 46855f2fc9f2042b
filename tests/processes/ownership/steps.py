"""Steps of Process A used by several tests, through the engine layer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import open_specs, open_task  # noqa: F401 - imported from here by many tests
from workflows.cases import commands as cases
from workflows.cases.forms import Upload
from workflows.cases.models import ProcessInstance

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def registration(id_number: str, name: str = "测试客户") -> dict[str, Any]:
    return {"client_name": name, "client_id_number": id_number, "client_phone": "13800000000",
            "estimated_assets": "300000", "planned_open_date": (dt.date.today() + dt.timedelta(days=2)).isoformat(),
            "outlet": "工商银行一11网点", "accompany": "true", "institutional": "false"}




def complete(instance: ProcessInstance, spec_id: str, actor: Any, data: dict[str, Any], **kw: Any) -> None:
    cases.complete_task(open_task(instance, spec_id).id, actor, data, **kw)


def counter_pass(instance: ProcessInstance, actor: Any, signed: bool = True) -> None:
    complete(instance, "Task_CounterOpening", actor,
             {"account_no": "880012345678", "signed_by_client": "true" if signed else "false",
              "staff_present": "true", "decision": "approve", "comment": "" if signed else "代签"},
             uploads={"scanned_form": Upload("form.pdf", "application/pdf", PDF)})


def through_to_registry(instance: ProcessInstance) -> None:
    """Every step after pre-registration approved by the demo branch's people, to the registry."""
    from tests.conftest import user

    complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(instance, user("counter1"))
    complete(instance, "Task_Aggregate", user("support1"), {"batch_ref": "B-1"})
    complete(instance, "Task_TradingReview", user("trading"), {"decision": "approve"})
    complete(instance, "Task_FinanceReview", user("finance"), {"decision": "approve"})
    complete(instance, "Task_GMReview", user("gm"), {"decision": "approve"})
    complete(instance, "Task_Register", user("trading"), {"effective_date": "2026-11-20", "archive_ref": "A-1"})
