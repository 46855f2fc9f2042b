"""Every Camunda property the product reads, parsed once into typed fields; and the
deploy checks that guard them (subjectField, relations, constraint numbers)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import TEST_BPMN
from workflows.cases import definitions
from workflows.engine.dialect import extract_meta
from workflows.engine.xml import DefinitionError, parse_xml

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="t">
  <bpmn:process id="p_dialect" name="Dialect" isExecutable="true">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="startRoles" value=" staff , gm "/>
      <camunda:property name="businessKey" value="client_id"/>
      <camunda:property name="titleTemplate" value="Leave of {who}"/>
      <camunda:property name="summaryFields" value="who,days"/>
      <camunda:property name="startWarnings" value="ownership_conflict"/>
      <camunda:property name="subjectField" value="who"/>
    </camunda:properties></bpmn:extensionElements>
    <bpmn:startEvent id="S">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="who" label="Who" type="string">
          <camunda:validation><camunda:constraint name="required"/><camunda:constraint name="minlength" config="2"/>
            <camunda:constraint name="maxlength" config="60"/><camunda:constraint name="pattern" config="[a-z0-9]+"/>
          </camunda:validation>
        </camunda:formField>
        <camunda:formField id="days" label="Days" type="decimal">
          <camunda:validation><camunda:constraint name="min" config="0.5"/><camunda:constraint name="max" config="20"/>
          </camunda:validation>
        </camunda:formField>
        <camunda:formField id="client_id" label="ID" type="string">
          <camunda:properties><camunda:property id="sensitive" value="id"/></camunda:properties>
        </camunda:formField>
        <camunda:formField id="proof" label="Proof" type="file">
          <camunda:validation><camunda:constraint name="requiredWhen" config="days &gt; 3"/>
            <camunda:constraint name="accept" config=".PDF, .png"/><camunda:constraint name="maxsize" config="1024"/>
          </camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>F1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="Task_A" name="A" camunda:candidateGroups="support@initiator.department, gm"
                   camunda:dueDate="P1D">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="bulk" value="TRUE"/>
          <camunda:property name="notSameAs" value="Task_X, Task_Y Task_Z"/>
          <camunda:property name="reveal" value="client_id"/>
          <camunda:property name="warnings" value="ownership_conflict"/>
          <camunda:property name="prefill" value="*"/>
        </camunda:properties>
        <camunda:formData><camunda:formField id="days" label="Days" type="decimal"/>
          <camunda:formField id="note" label="Note" type="text"/></camunda:formData>
      </bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="Task_B" name="B" camunda:assignee="subject.regional_manager">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="voters" camunda:elementVariable="voter"/>
    </bpmn:userTask>
    <bpmn:userTask id="Task_C" name="C" camunda:assignee="=voter">
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Task_A"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="Task_B"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Task_B" targetRef="Task_C"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Task_C" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_process_task_and_field_properties_are_typed() -> None:
    meta = extract_meta(parse_xml(DIAGRAM, "d.bpmn"))
    assert meta.start_roles == ("staff", "gm") and meta.starter_roles == ("staff", "gm")
    assert meta.business_key == "client_id" and meta.title_template == "Leave of {who}"
    assert meta.summary_fields == ("who", "days") and meta.start_warnings == ("ownership_conflict",)
    assert meta.subject_field == "who"

    who, days, client_id, proof = meta.start_form
    assert who.required and (who.min_length, who.max_length, who.pattern) == (2, 60, "[a-z0-9]+")
    assert (days.minimum, days.maximum) == (Decimal("0.5"), Decimal(20))
    assert client_id.sensitive == "id" and who.sensitive is None
    assert proof.required_when == "days > 3" and proof.accept == {".pdf", ".png"} and proof.max_size == 1024

    a, b, c = meta.tasks["Task_A"], meta.tasks["Task_B"], meta.tasks["Task_C"]
    assert a.bulk and not b.bulk
    assert a.not_same_as == ("Task_X", "Task_Y", "Task_Z")
    assert a.reveal == {"client_id"} and a.warnings == ("ownership_conflict",)
    assert a.prefill == {"days", "note"}  # "*": the whole form of the step
    assert a.due == "P1D" and not a.multi and b.multi
    support, gm = a.groups
    assert (support.role, support.person, support.relation) == ("support", "initiator", "department")
    assert (gm.role, gm.scope) == ("gm", None)
    assert b.assignee is not None and (b.assignee.person, b.assignee.relation) == ("subject", "regional_manager")
    assert c.assignee is not None and c.assignee.field == "voter" and c.assignee.person is None


def test_without_properties_the_defaults_are_empty() -> None:
    meta = extract_meta(parse_xml((TEST_BPMN / "rework.bpmn").read_text("utf-8"), "rework.bpmn"))
    assert meta.start_roles == () and meta.subject_field is None and meta.business_key is None
    review = meta.tasks["Task_Review"]
    assert not review.bulk and review.not_same_as == () and review.reveal == frozenset()
    assert [g.role for g in review.groups] == ["gm"]


def _variant(old: str, new: str) -> str:
    assert old in DIAGRAM
    return DIAGRAM.replace(old, new)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('name="subjectField" value="who"', 'name="subjectField" value="nobody"',
     "subjectField 'nobody' names no field of the start form"),
    ('name="subjectField" value="who"', 'name="subjectField" value="days"',
     "subjectField 'days' must be a text or enum field"),
    ('config="60"', 'config="sixty"', "form field 'who': maxlength must be a whole number"),
    ('config="0.5"', 'config="half"', "form field 'days': min must be a number"),
    ('camunda:assignee="subject.regional_manager"', 'camunda:assignee="subject.department"',
     "unknown assignee 'subject.department'"),
    ('camunda:assignee="subject.regional_manager"', 'camunda:assignee="subject.best_friend"',
     "unknown assignee 'subject.best_friend'"),
])
def test_deploy_checks_refuse_what_the_dialect_cannot_mean(old: str, new: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        definitions.validate(_variant(old, new), {}, "d.bpmn")


def test_the_example_diagram_passes_the_deploy_checks() -> None:
    # Its warnings are client ownership's: deployed as that family's process, it passes.
    built = definitions.validate(_variant('id="p_dialect"', 'id="client_ownership"'), {}, "d.bpmn")
    assert built.meta.subject_field == "who"
