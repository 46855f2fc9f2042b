"""The example integration (tools/api_client_example.py) runs a whole client-ownership case
against the running server, using only the operations its OpenAPI document names."""

from __future__ import annotations

import importlib.util

from sqlalchemy import select

from tests.conftest import ROOT, user
from workflows.branch import tokens
from workflows.cases.models import AuditEvent, ProcessInstance
from workflows.db import db

PEOPLE = ("staff01", "support1", "counter1", "trading", "finance", "gm")


def _example():
    spec = importlib.util.spec_from_file_location("api_client_example", ROOT / "tools" / "api_client_example.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_client_runs_a_whole_case_including_the_batch_step(live_server: str, app) -> None:
    issued = {name: tokens.issue(user(name), "example client")[0] for name in PEOPLE}
    db.session.commit()
    log = _example().run(live_server, issued)
    calls = [line for line in log if "→" in line]
    assert all(line.rstrip().endswith(("→ 200", "→ 201")) for line in calls), log
    assert any("bulkCompleteTasks" in line for line in calls)
    summary = log[-1]
    case_id = int(summary.split()[1].rstrip(":"))
    db.session.expire_all()
    case = db.session.get(ProcessInstance, case_id)
    assert case is not None and case.status == "completed" and case.outcome == "End_Registered"
    assert f"outcome {case.outcome}" in summary
    batch = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == case_id,
                                                        AuditEvent.task_spec == "Task_Aggregate",
                                                        AuditEvent.type == "task_completed")).one()
    assert batch.via == "api" and batch.actor_id == user("support1").id
