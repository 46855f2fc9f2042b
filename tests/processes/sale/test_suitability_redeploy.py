"""The table decides: a row changed in the DMN file and deployed gives new cases the new outcome, while a
case already running keeps the table version its process version pinned."""

from __future__ import annotations

import pytest

from tests.conftest import user
from tests.processes.sale.sale_steps import (  # noqa: F401 - restore_table is a fixture
    DIAGRAM,
    TABLE,
    disclose,
    make_customer,
    make_product,
    record_of,
    restore_table,
    start_sale,
)
from workflows.cases import commands, definitions
from workflows.db import db

# The branch lowers the elderly age to 60: the four "65 and over" rows read ">= 60".
SIXTY = TABLE.replace("<text>&gt;= 65</text>", "<text>&gt;= 60</text>").replace(
    "<text>18 &lt;= ? &lt;= 64</text>", "<text>18 &lt;= ? &lt;= 59</text>")


@pytest.mark.usefixtures("restore_table")
def test_a_changed_row_decides_new_cases_and_running_ones_keep_their_version() -> None:
    assert SIXTY.count("&gt;= 60") == 4 and SIXTY != TABLE
    customer, product = make_customer(age=62, level=3), make_product(3)
    before = definitions.latest("high_risk_sale")
    running = start_sale(customer, product)
    assert commands.instance_data(running)["outcome"] == "normal"  # 62 is under 65

    changed = definitions.deploy(DIAGRAM, {"suitability.dmn": SIXTY}, filename="high_risk_sale.bpmn")
    db.session.commit()
    assert changed.created and changed.definition.version == before.version + 1
    new_table = changed.definition.decisions[0]
    assert new_table.key == "suitability.dmn" and new_table.version == before.decisions[0].version + 1
    definitions.ENGINE.forget()  # as after a restart: specs are built again from what the database pins

    later = start_sale(customer, product)
    assert later.definition_id == changed.definition.id
    assert (commands.instance_data(later)["outcome"], commands.instance_data(later)["reason"]) == (
        "witness", "elderly_r3_witness")

    disclose(running)  # the running case goes on under its own version and completes as a normal sale
    assert running.status == "completed" and running.definition_id == before.id
    row = record_of(running)
    assert (row.outcome, row.decision_rule, row.decision_version) == (
        "normal", "Rule_WithinAssessment", before.decisions[0].version)
    assert row.decision_inputs["age"] == 62 and row.advisor_id == user("advisor1").id
