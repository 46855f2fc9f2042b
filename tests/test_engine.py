"""The engine layer on small diagrams: rework, timers with escalation, DMN, votes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from tests.conftest import ROOT, TEST_BPMN, user
from tests.processes.ownership.steps import complete, open_specs, open_task
from workflows.cases import commands as cases
from workflows.cases import definitions, timers
from workflows.cases.models import AuditEvent, HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.engine.sandbox import RestrictedScriptEngine
from workflows.errors import Forbidden


def deploy(name: str, *dmn: str) -> None:
    dmn_xml = {d: (TEST_BPMN / d).read_text("utf-8") for d in dmn}
    definitions.deploy((TEST_BPMN / name).read_text("utf-8"), dmn_xml, filename=name)
    db.session.commit()


def events(instance: ProcessInstance, type_: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                            AuditEvent.type == type_).order_by(AuditEvent.seq)))


def fired_by_sweep(instance: ProcessInstance) -> int:
    """Run the sweeper; how many timers of this case it fired (cases other tests left running may
    be due as well, so the sweeper's own count says nothing about this one)."""
    before = len(events(instance, "timer_fired"))
    timers.sweep()
    return len(events(instance, "timer_fired")) - before


def test_send_back_300_times_keeps_the_tree_flat() -> None:
    deploy("rework.bpmn")
    instance = cases.start_case("test_rework", user("staff01"), {})
    sizes = []
    for round_no in range(300):
        complete(instance, "Task_Submit", user("staff01"), {"amount": str(round_no)})
        complete(instance, "Task_Review", user("gm"), {"decision": "send_back"})
        if round_no in (0, 99, 299):
            sizes.append(len(json.loads(instance.state)["tasks"]))
    complete(instance, "Task_Submit", user("staff01"), {"amount": "7"})
    complete(instance, "Task_Review", user("gm"), {"decision": "approve"})
    db.session.refresh(instance)
    assert instance.status == "completed" and instance.outcome == "End_Done"
    assert sizes[0] == sizes[1] == sizes[2], sizes
    # the history, not the tree, keeps every round
    assert len(events(instance, "task_completed")) == 602


def test_restricted_engine_is_reattached_after_deserialize() -> None:
    deploy("rework.bpmn")
    instance = cases.start_case("test_rework", user("staff01"), {})
    loaded = cases.snapshot(instance)
    assert isinstance(loaded.workflow.script_engine, RestrictedScriptEngine)
    with pytest.raises(Exception, match="not allowed"):
        loaded.workflow.script_engine.environment.evaluate("__import__('os')", {})


def test_timer_reminds_then_escalates_to_superior() -> None:
    deploy("timer_escalation.bpmn")
    applicant = user("staff03")  # team of region11's region: regional manager region11
    instance = cases.start_case("test_timer", applicant, {})
    approve = open_task(instance, "Task_Approve")
    assert approve.assigned_user.username == "region11" and approve.due_at is not None
    assert instance.next_timer_at is not None
    assert fired_by_sweep(instance) == 0  # nothing due yet
    clock.travel(dt.timedelta(hours=2))
    assert fired_by_sweep(instance) == 1
    db.session.refresh(approve)
    assert approve.state == "open" and approve.escalated_at is not None
    assert approve.escalated_to.username == "director1"  # region11's superior
    assert [e.task_spec for e in events(instance, "timer_fired")] == ["Timer_Remind"]
    clock.travel(dt.timedelta(days=1))
    assert fired_by_sweep(instance) == 1
    db.session.refresh(approve)
    assert approve.state == "cancelled"
    takeover = open_task(instance, "Task_SuperiorDecides")
    assert takeover.assigned_user.username == "director1"
    complete(instance, "Task_SuperiorDecides", user("director1"), {})
    db.session.refresh(instance)
    assert instance.outcome == "End_TakenOver"


@pytest.mark.parametrize(("age", "risk", "outcome", "rule"), [
    ("70", "5", "End_Refused", "Rule_old_high"),
    ("30", "5", "End_Normal", "Rule_default"),
])
def test_dmn_table_routes_and_records_the_rule(age: str, risk: str, outcome: str, rule: str) -> None:
    deploy("dmn_route.bpmn", "suitability_test.dmn")
    instance = cases.start_case("test_dmn", user("advisor1"), {"age": age, "risk": risk})
    db.session.refresh(instance)
    assert instance.outcome == outcome
    decision = events(instance, "decision")
    assert decision and decision[0].changes["rules"][1][0]["id"] == rule


def test_dmn_witness_route_waits_for_retail_head() -> None:
    deploy("dmn_route.bpmn", "suitability_test.dmn")
    instance = cases.start_case("test_dmn", user("advisor2"), {"age": "70", "risk": "3"})
    assert open_specs(instance) == ["Task_Witness"]


def test_parallel_vote_majority_carries() -> None:
    deploy("mi_vote.bpmn")
    instance = cases.start_case("test_vote", user("staff06"), {})
    votes = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.state == "open")).all()
    voters = sorted(t.assigned_user.username for t in votes)
    assert voters == ["director1", "director2", "director3", "gm", "retail", "trading"]
    with pytest.raises(Forbidden):  # one member cannot cast another's vote
        cases.complete_task(votes[0].id, user("staff06"), {"decision": "approve"})
    for i, task in enumerate(sorted(votes, key=lambda t: t.id)):
        cases.complete_task(task.id, task.assigned_user, {"decision": "approve" if i < 4 else "reject"})
    db.session.refresh(instance)
    assert instance.outcome == "End_Carried"


def test_parallel_vote_without_majority_is_lost() -> None:
    deploy("mi_vote.bpmn")
    instance = cases.start_case("test_vote", user("staff07"), {})
    votes = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.state == "open")).all()
    for i, task in enumerate(votes):
        cases.complete_task(task.id, task.assigned_user, {"decision": "approve" if i < 3 else "reject"})
    db.session.refresh(instance)
    assert instance.outcome == "End_Lost"  # 3 of 6 is not a majority


def test_instances_stay_on_their_version() -> None:
    deploy("rework.bpmn")
    old = cases.start_case("test_rework", user("staff08"), {})
    text = (TEST_BPMN / "rework.bpmn").read_text("utf-8").replace('name="Review"', 'name="Review v2"')
    result = definitions.deploy(text, {}, filename="rework.bpmn")
    db.session.commit()
    assert result.created and result.definition.version > old.definition.version
    new = cases.start_case("test_rework", user("staff08"), {})
    assert new.definition_id == result.definition.id and old.definition_id != new.definition_id
    complete(old, "Task_Submit", user("staff08"), {"amount": "1"})
    assert open_task(old, "Task_Review").name == "Review"
    complete(new, "Task_Submit", user("staff08"), {"amount": "1"})
    assert open_task(new, "Task_Review").name == "Review v2"


def test_library_diagrams_deploy() -> None:
    library = sorted((ROOT / "bpmn").glob("*.bpmn"))
    assert library
    for path in library:
        built = definitions.validate(path.read_text("utf-8"), {}, path.name)
        assert built.meta.tasks
