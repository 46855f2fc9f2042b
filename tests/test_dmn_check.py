"""Checking a DMN table: each kind of problem names the rule (row and id) and the column."""

from __future__ import annotations

import pytest

from tests.dmn_helpers import TABLE
from workflows.engine.dmn_check import Problem, check_dmn, errors

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def table(rules: list[tuple[list[str], list[str]]], policy: str = "UNIQUE",
          inputs: tuple[tuple[str, str, str], ...] = (("Age", "age", "integer"), ("Purpose", "purpose", "string")),
          outputs: tuple[str, ...] = ("outcome",)) -> str:
    """A table: inputs as (label, expression, typeRef), rules as ([input entries], [output entries])."""
    typed = [(label, expr, f' typeRef="{t}"' if t else "") for label, expr, t in inputs]
    cols = "".join(f'<input id="In{i}" label="{label}"><inputExpression id="IE{i}"{t}>'
                   f"<text>{expr}</text></inputExpression></input>" for i, (label, expr, t) in enumerate(typed, 1))
    cols += "".join(f'<output id="Out{i}" name="{n}" typeRef="string"/>' for i, n in enumerate(outputs, 1))
    body = ""
    for r, (ins, outs) in enumerate(rules, 1):
        body += f'<rule id="R{r}">' + "".join(
            f'<inputEntry id="R{r}I{i}"><text>{t}</text></inputEntry>' for i, t in enumerate(ins, 1)) + "".join(
            f'<outputEntry id="R{r}O{i}"><text>{t}</text></outputEntry>' for i, t in enumerate(outs, 1)) + "</rule>"
    return (f'<definitions xmlns="{NS}" id="D" name="d" namespace="x"><decision id="dec" name="Dec">'
            f'<decisionTable id="T" hitPolicy="{policy}">{cols}{body}</decisionTable></decision></definitions>')


def one(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p.message) for p in problems]
    return problems[0]


def test_a_sound_table_has_no_problem() -> None:
    assert check_dmn(TABLE) == []
    assert check_dmn(table([(["&lt; 18", "-"], ["'refused'"]), (["&gt;= 18", "in ['pension', 'education']"],
                                                                    ["'witness'"]),
                            (["&gt;= 18", "not in ['pension', 'education']"], ["'normal'"])])) == []


def test_an_input_entry_that_is_no_expression_names_rule_and_column() -> None:
    p = one(check_dmn(table([(["[18..65]", "-"], ["'normal'"])], policy="FIRST")))
    assert (p.code, p.row, p.rule_id, p.column, p.column_kind, p.element_id) == (
        "expression", 1, "R1", "Age", "input", "R1I1")
    assert "rule 1, Age" in str(p.message) and "'[18..65]'" in str(p.message)


@pytest.mark.parametrize("entry", ["__import__('os')", "? > __import__('os').getpid()", "in [x.__class__]"])
def test_an_unsafe_entry_is_refused_like_a_bpmn_condition(entry: str) -> None:
    p = one(check_dmn(table([(["-", entry], ["'normal'"])], policy="FIRST")))
    assert p.code in ("unsafe", "expression") and (p.row, p.column) == (1, "Purpose")


def test_a_bad_output_entry_names_its_output() -> None:
    p = one(check_dmn(table([(["-", "-"], ["'normal' +"])], policy="FIRST")))
    assert (p.code, p.row, p.column, p.column_kind, p.element_id) == ("expression", 1, "outcome", "output", "R1O1")
    p = one(check_dmn(table([(["-", "-"], ["open('x')"])], policy="FIRST")))
    assert (p.code, p.column) == ("unsafe", "outcome") and "call not allowed: open" in str(p.message)


def test_an_input_without_type_or_expression() -> None:
    p = one(check_dmn(table([(["-"], ["'normal'"])], policy="FIRST", inputs=(("Age", "age", ""),))))
    assert (p.code, p.column, p.column_kind, p.element_id) == ("type_missing", "Age", "input", "In1")
    p = one(check_dmn(table([(["-"], ["'normal'"])], policy="FIRST", inputs=(("Age", "age +", "integer"),))))
    assert (p.code, p.column, p.row) == ("expression", "Age", None)


def test_a_rule_with_the_wrong_number_of_entries() -> None:
    p = one(check_dmn(table([(["-"], ["'normal'"])], policy="FIRST")))
    assert (p.code, p.row, p.rule_id) == ("entry_count", 1, "R1")
    assert "1 input entries for 2 input columns" in str(p.message)
    p = one(check_dmn(table([(["-", "-"], ["'a'", "'b'"])], policy="FIRST")))
    assert p.code == "entry_count" and "output" in str(p.message)


def test_overlapping_rules_under_unique_name_both_rows_and_an_example() -> None:
    p, q = check_dmn(table([(["&gt;= 65", "-"], ["'witness'"]), (["&lt; 65", "-"], ["'normal'"]),
                            (["60 &lt;= ? &lt; 70", "'pension'"], ["'refused'"])]))
    assert (p.code, p.row, p.rule_id, p.other_row, p.other_rule_id) == ("overlap", 3, "R3", 1, "R1")
    assert "rules 3 and 1" in str(p.message) and "Age = 65, Purpose = 'pension'" in str(p.message)
    assert (q.code, q.row, q.other_row) == ("overlap", 3, 2) and "Age = 60, Purpose = 'pension'" in str(q.message)
    # the first sound table above is FIRST: overlapping rows are its point
    assert not [p for p in check_dmn(TABLE) if p.code == "overlap"]


def test_any_allows_overlaps_that_agree() -> None:
    rows = [(["&gt;= 65", "-"], ["'witness'"]), (["&gt;= 70", "-"], ["'witness'"]), (["&lt; 65", "-"], ["'normal'"])]
    assert check_dmn(table(rows, policy="ANY")) == []
    rows[1] = (["&gt;= 70", "-"], ["'refused'"])
    assert one(check_dmn(table(rows, policy="ANY"))).code == "overlap"


def test_whole_numbers_do_not_overlap_between_17_and_18() -> None:
    rows = [(["&lt;= 17", "-"], ["'refused'"]), (["&gt;= 18", "-"], ["'normal'"])]
    assert check_dmn(table(rows)) == []
    decimal = (("Age", "age", "double"), ("Purpose", "purpose", "string"))
    p = one(check_dmn(table(rows, inputs=decimal)))  # 17.5 matches no rule
    assert p.code == "gap" and "Age = 17.5" in str(p.message)


def test_a_missing_row_is_an_error_under_unique_and_a_warning_under_first() -> None:
    rows = [(["&lt; 18", "-"], ["'refused'"]), (["&gt;= 18", "in ['pension', 'education']"], ["'witness'"]),
            (["&gt;= 18", "'general'"], ["'normal'"])]
    found = check_dmn(table(rows))  # an adult with any other purpose: at 18 and above
    assert [(p.code, p.severity, str(p.message)) for p in found] == [
        ("gap", "error", "no rule matches Age = 18, Purpose ∉ {'education', 'general', 'pension'} (hit policy UNIQUE)"),
        ("gap", "error", "no rule matches Age = 19, Purpose ∉ {'education', 'general', 'pension'} (hit policy UNIQUE)")]
    found = check_dmn(table(rows, policy="FIRST"))
    assert {(p.code, p.severity) for p in found} == {("gap", "warning")} and errors(found) == []


def test_an_entry_over_case_data_is_left_out_of_the_analysis() -> None:
    rows = [(["&gt;= limit", "-"], ["'refused'"]), (["&lt; 65", "-"], ["'normal'"])]
    assert check_dmn(table(rows)) == []  # cannot tell: said nothing


def test_hit_policies_spiffworkflow_would_misread_are_refused() -> None:
    for policy in ("PRIORITY", "RULE ORDER", "OUTPUT ORDER", "SOMETIMES"):
        p = one(check_dmn(table([(["-", "-"], ["'normal'"])], policy=policy)))
        assert p.code == "hit_policy" and policy in str(p.message)
    aggregated = table([(["-", "-"], ["'normal'"])], policy="COLLECT").replace('hitPolicy="COLLECT"',
                                                                               'hitPolicy="COLLECT" aggregation="SUM"')
    assert one(check_dmn(aggregated)).code == "hit_policy"


@pytest.mark.parametrize("xml", [
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><definitions>&e;</definitions>',
    "<definitions",
    TABLE.replace("<description>otherwise normal</description>",
                  '<description><script xmlns="http://www.w3.org/1999/xhtml">alert(1)</script></description>'),
])
def test_hostile_or_broken_xml_is_refused(xml: str) -> None:
    assert one(check_dmn(xml)).code == "xml"


def test_a_document_spiffworkflow_cannot_run() -> None:
    two = TABLE.replace("</definitions>", '<decision id="other"><decisionTable id="T2"/></decision></definitions>')
    assert one(check_dmn(two)).code == "structure"
    assert one(check_dmn(TABLE.replace("definitions", "defs"))).code == "structure"


def test_a_deeply_nested_expression_is_a_problem_not_a_crash() -> None:
    nested = "(" * 3000 + "4" + ")" * 3000
    p = one(check_dmn(TABLE.replace("&gt;= 4</text>", f"&gt;= {nested}</text>")))
    assert (p.code, p.row, p.column) == ("expression", 1, "Risk")
    p = one(check_dmn(TABLE.replace("<text>age</text>", f"<text>{nested}</text>")))
    assert (p.code, p.column, p.column_kind) == ("expression", "Age", "input")
