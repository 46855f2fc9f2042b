"""The Engine / Instance façade on the test diagrams: specs cached per version, a case
run through new → run_task → save → load, loops folded, timers, and the functions a
case's diagrams may call passed in (the engine imports none)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import TEST_BPMN
from workflows.engine import clock
from workflows.engine.instance import Engine, EngineError, Instance

REWORK = (TEST_BPMN / "rework.bpmn").read_text("utf-8")
TIMERS = (TEST_BPMN / "timer_escalation.bpmn").read_text("utf-8")

SCRIPT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="t">
  <bpmn:process id="p_script" name="Script" isExecutable="true">
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Script_Double" name="Double" scriptFormat="python">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>doubled = double(amount)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="E_Done"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Script_Double"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Script_Double" targetRef="E_Done"/>
  </bpmn:process>
</bpmn:definitions>"""


def ready(inst: Instance) -> list[str]:
    return [t.spec_id for t in inst.ready_tasks()]


def test_specs_are_built_once_per_version_and_rebuilt_when_the_source_differs() -> None:
    engine = Engine()
    assert engine.cached(1, "a") is None
    built = engine.spec(1, "a", REWORK, {})
    assert engine.cached(1, "a") is built and engine.spec(1, "a", REWORK, {}) is built
    assert engine.cached(1, "b") is None and engine.spec(1, "b", REWORK, {}) is not built


def test_a_case_runs_saves_loads_and_ends_at_its_end_event() -> None:
    engine = Engine()
    built = engine.spec(1, "a", REWORK, {})
    seen: list[str] = []
    inst = engine.new(built, {"note": "hello"}, on_task=lambda t: seen.append(t.task_spec.bpmn_id))
    assert inst.run() == ["StartEvent_1"] and ready(inst) == ["Task_Submit"]
    submit = inst.ready_tasks()[0]
    inst.run_task(submit, {"amount": 5})
    assert "Task_Submit" in seen  # told before the user task runs: functions act on its data
    inst.run()
    state = inst.save()

    loaded = engine.load(built, state)
    assert ready(loaded) == ["Task_Review"] and not loaded.completed
    assert loaded.data() == {"note": "hello", "amount": 5}
    done, active = loaded.path()
    assert {"StartEvent_1", "Task_Submit"} <= done and active == {"Task_Review"}
    review = loaded.task(loaded.ready_tasks()[0].id)
    assert review is not None and review.ready and review.spec_id == "Task_Review"
    assert loaded.task(submit.id) is not None and not loaded.task(submit.id).ready
    assert loaded.task("00000000-0000-0000-0000-000000000000") is None and loaded.task("nonsense") is None
    loaded.run_task(review, {"decision": "approve"})
    assert loaded.run() == ["Gw", "End_Done"]
    assert loaded.completed and loaded.outcome() == "End_Done" and loaded.ready_tasks() == []


def test_a_send_back_loop_is_folded_so_the_saved_tree_never_grows() -> None:
    engine = Engine()
    built = engine.spec(1, "a", REWORK, {})
    inst = engine.new(built, {})
    inst.run()
    sizes = []
    for round_no in range(5):
        inst.run_task(inst.ready_tasks()[0], {"amount": round_no})
        inst.run()
        inst.run_task(inst.ready_tasks()[0], {"decision": "send_back"})
        inst.run()
        assert ready(inst) == ["Task_Submit"]
        inst = engine.load(built, inst.save())
        sizes.append(len(json.loads(inst.save())["tasks"]))
    assert len(set(sizes)) == 1, sizes
    assert inst.data()["amount"] == 4  # the data of the latest round carried into the next


def test_the_functions_a_diagram_calls_are_passed_in() -> None:
    engine = Engine()
    built = engine.spec(2, "s", SCRIPT, {})
    inst = engine.new(built, {"amount": 21}, functions={"double": lambda n: n * 2})
    inst.run()
    assert inst.completed and inst.data()["doubled"] == 42
    without = engine.new(built, {"amount": 21})
    with pytest.raises(EngineError, match="double"):
        without.run()


def test_loaded_instances_run_in_the_restricted_engine() -> None:
    engine = Engine()
    built = engine.spec(1, "a", REWORK, {})
    first = engine.new(built, {})
    first.run()
    loaded = engine.load(built, first.save())
    with pytest.raises(Exception, match="not allowed"):
        loaded.workflow.script_engine.environment.evaluate("__import__('os')", {})


def test_timers_report_when_they_are_due_and_which_fired() -> None:
    engine = Engine()
    built = engine.spec(3, "t", TIMERS, {})
    escalated: list[str] = []
    inst = engine.new(built, {}, functions={"escalate": lambda task_id: escalated.append(task_id) or True})
    inst.run()
    due = inst.next_timer_at()
    assert due is not None and dt.timedelta(minutes=59) < due - clock.now() <= dt.timedelta(hours=1)
    assert inst.refresh_timers() == []  # nothing due yet
    clock.travel(dt.timedelta(hours=2))
    inst = engine.load(built, inst.save(), functions={"escalate": lambda task_id: escalated.append(task_id) or True})
    assert inst.refresh_timers() == [("Timer_Remind", "1 hour")]
    inst.run()
    assert escalated == ["Task_Approve"] and ready(inst) == ["Task_Approve"]
    clock.travel(dt.timedelta(days=1))
    assert inst.refresh_timers() == [("Timer_Takeover", "1 day")]
    inst.run()
    assert ready(inst) == ["Task_SuperiorDecides"] and inst.next_timer_at() is None
