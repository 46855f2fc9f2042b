"""SPEC §5's suitability rules, row by row and at their borders, decided by the real DMN table
(``bpmn/suitability.dmn``) through SpiffWorkflow: evaluated from the file, and through a real case start."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.processes.sale.sale_steps import make_customer, make_product, record_of, start_sale, years_before
from workflows.cases import commands
from workflows.engine import clock
from workflows.engine.decide import evaluate
from workflows.engine.specs import build
from workflows.processes.sale import suitability

DIAGRAM = (ROOT / "bpmn" / "high_risk_sale.bpmn").read_text("utf-8")
TABLE = (ROOT / "bpmn" / "suitability.dmn").read_text("utf-8")
BUILT = build(DIAGRAM, {"suitability.dmn": TABLE}, "high_risk_sale.bpmn")


def born(age: str, day: dt.date) -> dt.date:
    """A birth date giving ``age`` on ``day``: '17' the day before the 18th birthday, '18th' the birthday
    itself, '64' the day before the 65th, '65th' the birthday, else that many years and a month."""
    if age == "17":
        return years_before(day, 18) + dt.timedelta(days=1)
    if age == "18th":
        return years_before(day, 18)
    if age == "64":
        return years_before(day, 65) + dt.timedelta(days=1)
    if age == "65th":
        return years_before(day, 65)
    return years_before(day, int(age)) - dt.timedelta(days=31)


@dataclass(frozen=True)
class Row:
    name: str
    age: str
    level: int | None  # C1–C5; None: never assessed
    rating: int  # R1–R5
    outcome: str
    reason: str
    expires: int = 200  # days after the sale day the assessment's last day is (-1: expired yesterday)
    purpose: str = "general"
    insists: bool = False
    guardian_present: bool = False
    guardian_verified: bool = False


ROWS = [
    # line 1: no valid (unexpired) assessment → refused
    Row("assessment expired the day before", "40", 3, 1, "refused", "no_valid_assessment", expires=-1),
    Row("assessment expiring on the sale day", "40", 3, 3, "normal", "within_assessment", expires=0),
    Row("never assessed", "40", None, 1, "refused", "no_valid_assessment"),
    # line 2: purpose-bound money into R4–R5 → refused; into R3 the other lines decide
    Row("pension into R4", "40", 5, 4, "refused", "purpose_bound_high_risk", purpose="pension"),
    Row("education into R5", "40", 5, 5, "refused", "purpose_bound_high_risk", purpose="education", insists=True),
    Row("retirement into R3 within", "40", 3, 3, "normal", "within_assessment", purpose="retirement"),
    Row("pension into R3 above, insisting", "40", 2, 3, "declaration_witness", "above_assessment_declared",
        purpose="pension", insists=True),
    Row("pension into R4 at 66", "66", 5, 4, "refused", "purpose_bound_high_risk", purpose="pension"),
    # line 3: 65 and over into R4/R5 → refused whatever the assessment
    Row("65th birthday into R4", "65th", 5, 4, "refused", "elderly_high_risk"),
    Row("66 into R5, insisting", "66", 5, 5, "refused", "elderly_high_risk", insists=True),
    Row("64 into R4 with C5", "64", 5, 4, "normal", "within_assessment"),
    # line 4: 65 and over, R3, assessment C3 or above → witness
    Row("66, R3 with C3", "66", 3, 3, "witness", "elderly_r3_witness"),
    Row("65th birthday, R3 with C4", "65th", 4, 3, "witness", "elderly_r3_witness"),
    Row("66, R3 with C5, insisting", "66", 5, 3, "witness", "elderly_r3_witness", insists=True),
    # line 5: 65 and over above the assessment → refused
    Row("66, R3 with C2", "66", 2, 3, "refused", "elderly_above_assessment"),
    Row("66, R3 with C2, insisting", "66", 2, 3, "refused", "elderly_above_assessment", insists=True),
    Row("66, R2 with C1", "66", 1, 2, "refused", "elderly_above_assessment"),
    Row("66, R2 with C2 (SPEC silent: normal)", "66", 2, 2, "normal", "elderly_within_assessment"),
    Row("64, R3 with C2", "64", 2, 3, "refused", "above_assessment"),
    # line 6: under 18 only with the guardian present and verified; above the assessment refused
    Row("17 without a guardian", "17", 2, 1, "refused", "minor_without_guardian"),
    Row("17, guardian present, document not verified", "17", 2, 1, "refused", "minor_without_guardian",
        guardian_present=True),
    Row("17, guardian verified but not present", "17", 2, 1, "refused", "minor_without_guardian",
        guardian_verified=True),
    Row("17 with a verified guardian, R2 with C2", "17", 2, 2, "normal", "minor_with_guardian",
        guardian_present=True, guardian_verified=True),
    Row("17 with a verified guardian, R3 with C2", "17", 2, 3, "refused", "minor_above_assessment",
        guardian_present=True, guardian_verified=True),
    Row("17 with a verified guardian, R3 with C2, insisting", "17", 2, 3, "refused", "minor_above_assessment",
        guardian_present=True, guardian_verified=True, insists=True),
    Row("18th birthday without a guardian", "18th", 2, 2, "normal", "within_assessment"),
    Row("18th birthday, above and insisting", "18th", 2, 3, "declaration_witness", "above_assessment_declared",
        insists=True),
    # lines 7–9: 18–64
    Row("40, R3 with C2", "40", 2, 3, "refused", "above_assessment"),
    Row("40, R3 with C2, insisting", "40", 2, 3, "declaration_witness", "above_assessment_declared", insists=True),
    Row("40, R3 with C3", "40", 3, 3, "normal", "within_assessment"),
    Row("40, R3 with C4", "40", 4, 3, "normal", "within_assessment"),
    Row("64, R4 with C3, insisting", "64", 3, 4, "declaration_witness", "above_assessment_declared", insists=True),
]


def _customer(row: Row, day: dt.date):
    return make_customer(birth=born(row.age, day), level=row.level, expires=day + dt.timedelta(days=row.expires),
                         guardian=row.guardian_verified or row.guardian_present, verified=row.guardian_verified)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_the_table_decides_each_line_of_spec_5(row: Row) -> None:
    day = clock.today()
    customer, product = _customer(row, day), make_product(row.rating)
    inputs = suitability.decision_inputs(customer, product, day, purpose=row.purpose, customer_insists=row.insists,
                                         guardian_present=row.guardian_present)
    assert inputs["age"] == {"17": 17, "18th": 18, "64": 64, "65th": 65}.get(row.age, inputs["age"])
    decided = evaluate(BUILT, suitability.RULE_TASK, inputs)  # the file's table, through SpiffWorkflow
    assert (decided.outputs["outcome"], decided.outputs["reason"]) == (row.outcome, row.reason)
    assert len(decided.rules) == 1 and decided.rules[0]["id"].startswith("Rule_")

    # the same facts through a real case start: the deployed diagram runs the deployed table
    case = start_sale(customer, product, purpose=row.purpose, insists=row.insists, guardian=row.guardian_present)
    data = commands.instance_data(case)
    assert (data["outcome"], data["reason"]) == (row.outcome, row.reason)
    if row.outcome == "refused":
        register = record_of(case)
        assert (case.status, register.status, register.refusal_reason) == ("completed", "refused", row.reason)
        assert register.decision_rule == decided.rules[0]["id"] and register.decision_row == decided.rules[0]["row"]
    else:
        assert case.status == "running"


def test_every_rule_has_a_description_in_both_languages_and_one_outcome() -> None:
    from lxml import etree

    root = etree.fromstring(TABLE.encode("utf-8"))
    ns = {"d": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
    inputs = root.findall(".//d:input", ns)
    assert [i.find("d:inputExpression", ns).findtext("d:text", namespaces=ns) for i in inputs] == list(
        suitability.INPUTS)
    assert all(i.find("d:inputExpression", ns).get("typeRef") for i in inputs)
    for rule in root.findall(".//d:rule", ns):
        description = rule.findtext("d:description", namespaces=ns) or ""
        assert " / " in description and any("\u4e00" <= ch <= "\u9fff" for ch in description), rule.get("id")
        outcome = rule.findall("d:outputEntry", ns)[0].findtext("d:text", namespaces=ns)
        assert outcome.strip("'") in ("refused", "normal", "witness", "declaration_witness")


@pytest.mark.parametrize(("birth", "day", "age"), [
    (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),  # born on 29 February: a year older on 1 March
    (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),
    (dt.date(1961, 11, 25), dt.date(2026, 11, 25), 65),
    (dt.date(1961, 11, 26), dt.date(2026, 11, 25), 64),
])
def test_age_counts_whole_years_and_the_birthday_itself(birth: dt.date, day: dt.date, age: int) -> None:
    assert suitability.age_on(birth, day) == age


def test_the_table_file_is_the_one_deployed_beside_the_diagram() -> None:
    from workflows.cases import definitions

    pinned = definitions.latest("high_risk_sale").decisions
    assert [d.key for d in pinned] == ["suitability.dmn"] and Path(ROOT / "bpmn" / "suitability.dmn").exists()
