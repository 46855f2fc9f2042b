"""The case page shows each decision the case took: the table of the version it was pinned to, the rows that
fired marked, for the auditor tracing why a case went the way it did."""

from __future__ import annotations

import re

from tests.conftest import TEST_BPMN, Browserless, user
from tests.processes.ownership.steps import complete
from workflows.cases import commands as cases
from workflows.cases import decision_view, definitions
from workflows.db import db

DIAGRAM = (TEST_BPMN / "dmn_after_task.bpmn").read_text("utf-8").replace('id="test_dmn_pin"', 'id="test_dmn_view"')
TABLE = (TEST_BPMN / "suitability_test.dmn").read_text("utf-8")
DIAGRAM = DIAGRAM.replace("test_pin_suitability", "test_view_suitability")
TABLE = TABLE.replace('id="test_suitability"', 'id="test_view_suitability"')
STRICTER = TABLE.replace("&gt;= 65", "&gt;= 60")


def _fired_rows(page: str) -> list[str]:
    section = page.split('id="case-decisions"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<tr class="fired" aria-current="true" data-rule="([^"]+)"', section)


def test_the_case_page_shows_the_pinned_table_with_the_fired_row(web: Browserless) -> None:
    definitions.deploy(DIAGRAM, {"view_suitability.dmn": TABLE}, filename="view.bpmn")
    db.session.commit()
    old = cases.start_case("test_dmn_view", user("staff04"), {})
    definitions.deploy(DIAGRAM, {"view_suitability.dmn": STRICTER}, filename="view.bpmn")
    db.session.commit()
    new = cases.start_case("test_dmn_view", user("staff04"), {})
    for case in (old, new):
        complete(case, "Task_Enter", user("staff04"), {"age": "62", "risk": "3"})

    shown = decision_view.case_decisions(db.session.merge(old))
    assert [(d.document, d.version, d.fired) for d in shown] == [("view_suitability.dmn", 1, {"Rule_default"})]
    assert [r.id for r in shown[0].table.rules] == ["Rule_old_high", "Rule_old_mid", "Rule_default"]
    assert shown[0].table.rules[0].inputs == (">= 65", ">= 4")  # the old case keeps the table it ran

    web.login("auditor")
    old_page = web.client.get(f"/cases/{old.id}").get_data(as_text=True)
    new_page = web.client.get(f"/cases/{new.id}").get_data(as_text=True)
    assert _fired_rows(old_page) == ["Rule_default"]  # 62 < 65: the catch-all row
    assert _fired_rows(new_page) == ["Rule_old_mid"]  # the stricter table: 62 >= 60 into R3
    assert "view_suitability.dmn v1" in old_page and "view_suitability.dmn v2" in new_page
    assert "<code>&gt;= 60</code>" in new_page and "<code>&gt;= 60</code>" not in old_page
    assert "<code>age = 62</code>" in new_page and "<code>risk = 3</code>" in new_page  # what the table read
    assert decision_view.case_decisions(db.session.merge(new))[0].inputs == {"age": 62, "risk": 3}


def test_a_case_without_decisions_has_no_decision_section(web: Browserless) -> None:
    definitions.deploy(DIAGRAM, {"view_suitability.dmn": TABLE}, filename="view.bpmn")
    db.session.commit()
    case = cases.start_case("test_dmn_view", user("staff04"), {})  # the table runs after the first step
    web.login("auditor")
    page = web.client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"#{case.id}" in page and 'id="case-decisions"' not in page
    assert decision_view.case_decisions(db.session.merge(case)) == []


def test_a_rule_description_written_chinese_slash_english_shows_the_readers_half() -> None:
    from webapp.template_helpers import _label_parts

    zh, en = "SPEC §5 第4行：65周岁以上购买R3须见证", "SPEC §5 line 4: age 65 or over into R3: witness"
    assert _label_parts(f"{zh} / {en}") == (zh, en)
    assert _label_parts("a / b") == ("a / b", "a / b")  # no Chinese half: shown as written
    assert _label_parts("审批 Approval") == ("审批", "Approval")
