"""Decision events record what the table read and gave; the what-if replay re-evaluates them with
a changed table; deploying the table gives new cases the new outcome while running cases keep theirs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import user
from tests.dmn_helpers import TABLE, Variant, lower_age_limit
from tests.processes.ownership.steps import complete
from workflows.cases import audit, decision_log, definitions, dmn_tables, replay
from workflows.cases import commands as cases
from workflows.cases.models import AuditEvent, DecisionDefinition, ProcessDefinition, ProcessInstance
from workflows.db import db
from workflows.engine.xml import DefinitionError
from workflows.errors import NotFound


def _decision_events(instance: ProcessInstance) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                            AuditEvent.type == "decision")))


def _start(v: Variant, age: int, risk: int, who: str = "advisor1") -> ProcessInstance:
    instance = cases.start_case(v.process, user(who), {"age": str(age), "risk": str(risk)})
    db.session.refresh(instance)
    return instance


def test_a_decision_event_records_the_values_read_the_outputs_and_the_table_version() -> None:
    v = Variant("rec")
    v.deploy()
    instance = _start(v, 66, 3)
    [event] = _decision_events(instance)
    assert event.changes["inputs"] == [None, {"age": 66, "risk": 3}]
    assert event.changes["outputs"] == [None, {"outcome": "witness"}]
    assert event.changes["rules"][1] == [{"id": "Rule_old_mid", "row": 2,
                                          "description": "65+ into R3 needs a witness"}]
    assert event.changes["_decision"] == [None, {"id": v.decision, "document": v.key, "version": 1}]
    inputs, outputs, about = decision_log.read(event.changes)
    assert inputs == {"age": 66, "risk": 3} and outputs == {"outcome": "witness"} and about["version"] == 1
    # an event written before inputs were recorded still reads
    assert decision_log.read({"rules": [None, []]}) == (None, None, {})


def test_values_keep_their_type_through_the_record() -> None:
    values = {"born": dt.date(1960, 5, 1), "amount": Decimal("1000.50"), "at": dt.datetime(2026, 1, 2, 3, 4),
              "tags": ["a", 1], "nested": {"ok": True}, "none": None}
    assert decision_log.decode(decision_log.encode(values)) == values


def test_replay_counts_each_change_of_outcome_and_lists_the_cases() -> None:
    v = Variant("replay")
    v.deploy()
    started = {(age, risk): _start(v, age, risk) for age, risk in
               [(70, 5), (66, 3), (30, 5), (50, 2), (62, 5), (61, 3), (64, 4), (63, 5)]}
    assert {k: i.outcome for k, i in started.items()}[(62, 5)] == "End_Normal"
    # a decision recorded before inputs were: counted, not replayable
    old = started[(30, 5)]
    audit.record(old, "decision", None, task_spec="Rule_Suitability", task_name="Test suitability",
                 changes={"rules": [None, [{"id": "Rule_default", "row": 3, "description": ""}]]})
    db.session.commit()

    report = replay.replay(v.key, v.table(lower_age_limit()))
    assert report.decision_id == v.decision
    assert report.total == 9 and report.unchanged == 4 and report.changed == 4 and report.not_replayable == 1
    assert report.failures == {replay.NOT_RECORDED: 1}
    assert report.change_rows() == [("outcome", "normal", "refused", 3), ("outcome", "normal", "witness", 1)]
    affected = {(a.instance_id, a.old["outcome"], a.new["outcome"], tuple(a.old_rules), tuple(a.new_rules))
                for a in report.affected}
    assert affected == {(started[(62, 5)].id, "normal", "refused", (3,), (1,)),
                        (started[(63, 5)].id, "normal", "refused", (3,), (1,)),
                        (started[(64, 4)].id, "normal", "refused", (3,), (1,)),
                        (started[(61, 3)].id, "normal", "witness", (3,), (2,))}
    assert all(a.title == started[(62, 5)].title for a in report.affected[:1])
    # replay wrote nothing and changed nothing
    assert dmn_tables.document(v.key).latest.version == 1


def test_replay_reports_a_failing_expression_and_a_table_giving_no_result() -> None:
    v = Variant("replayfail")
    v.deploy()
    for age, risk in [(70, 5), (30, 1)]:
        _start(v, age, risk)
    reads_more = v.table().replace("<text>risk</text>", "<text>risk + bonus</text>")  # 'bonus' was never recorded
    report = replay.replay(v.key, reads_more)
    # (30, 1) fails rule 1 on the age before reading the risk, and the last rule reads nothing
    assert report.not_replayable == 1 and report.unchanged == 1 and report.changed == 0
    assert list(report.failures) and "bonus" in next(iter(report.failures))
    no_default = v.table().replace("<text>-</text></inputEntry><inputEntry id=\"E6\"><text>-</text>",
                                   "<text>&lt; 0</text></inputEntry><inputEntry id=\"E6\"><text>-</text>")
    report = replay.replay(v.key, no_default)
    assert report.change_rows() == [("outcome", "normal", None, 1)] and report.unchanged == 1


def test_replay_refuses_an_unknown_document_and_unreadable_xml() -> None:
    with pytest.raises(NotFound):
        replay.replay("nobody.dmn", TABLE)
    v = Variant("replaybad")
    v.deploy()
    with pytest.raises(DefinitionError):
        replay.replay(v.key, "<definitions")


def test_deploying_a_changed_table_gives_new_cases_the_new_outcome_and_running_cases_keep_theirs() -> None:
    v = Variant("dep")
    first = v.deploy(after_task=True).definition
    running = cases.start_case(v.process, user("staff04"), {})
    result = dmn_tables.deploy(v.key, v.table(lower_age_limit()), user("designer"))
    assert result.created and result.decision.version == 2
    assert [p.key for p in result.processes] == [v.process]
    second = result.processes[0]
    assert second.version == first.version + 1 and second.bpmn_xml == first.bpmn_xml
    assert [(d.key, d.version) for d in second.decisions] == [(v.key, 2)]
    assert [(d.key, d.version) for d in db.session.get(ProcessDefinition, first.id).decisions] == [(v.key, 1)]
    assert result.decision.deployed_by_id == user("designer").id
    new = cases.start_case(v.process, user("staff04"), {})
    definitions.ENGINE.forget()  # as after a restart: specs built again from what each version pins
    for case in (running, new):
        complete(case, "Task_Enter", user("staff04"), {"age": "62", "risk": "5"})
        db.session.refresh(case)
    assert running.definition_id == first.id and running.outcome == "End_Normal"  # the table it started with
    assert new.definition_id == second.id and new.outcome == "End_Refused"
    [event] = _decision_events(new)
    assert event.changes["_decision"][1]["version"] == 2
    again = dmn_tables.deploy(v.key, v.table(lower_age_limit()), user("designer"))
    assert not again.created and again.decision.id == result.decision.id and again.processes == []


def test_a_table_with_errors_or_breaking_a_process_deploys_nothing() -> None:
    v = Variant("depbad")
    v.deploy()
    before = db.session.scalar(select(DecisionDefinition.id).where(DecisionDefinition.key == v.key)
                               .order_by(DecisionDefinition.version.desc()))
    with pytest.raises(dmn_tables.TableRefused) as refused:
        dmn_tables.deploy(v.key, v.table().replace('typeRef="integer"><text>age', "><text>age"), user("designer"))
    assert [p.code for p in refused.value.problems] == ["type_missing"]
    renamed = v.table().replace(f'id="{v.decision}"', 'id="something_else"')  # the process names the old id
    problems = dmn_tables.check(v.key, renamed)
    assert [p.code for p in problems] == ["process"] and v.process in str(problems[0].message)
    with pytest.raises(dmn_tables.TableRefused):
        dmn_tables.deploy(v.key, renamed, user("designer"))
    latest = db.session.scalar(select(DecisionDefinition.id).where(DecisionDefinition.key == v.key)
                               .order_by(DecisionDefinition.version.desc()))
    assert latest == before
