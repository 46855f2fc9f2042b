"""DMN tables are versioned definitions in the database, pinned by each process version."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tests.conftest import ROOT, TEST_AUDIT_KEY, TEST_BPMN, Browserless, user
from tests.processes.ownership.steps import complete
from webapp import create_app
from webapp.migrations_cli import downgrade, upgrade
from workflows.cases import commands as cases
from workflows.cases import compare, decisions, definitions
from workflows.cases.models import DecisionDefinition
from workflows.db import db
from workflows.engine.xml import DefinitionError

DIAGRAM = (TEST_BPMN / "dmn_after_task.bpmn").read_text("utf-8")
TABLE = (TEST_BPMN / "suitability_test.dmn").read_text("utf-8").replace(
    'id="test_suitability"', 'id="test_pin_suitability"')
STRICTER = TABLE.replace("&gt;= 65", "&gt;= 60")  # the branch lowers the age limit


def _decision_rows(key: str) -> list[DecisionDefinition]:
    return list(db.session.scalars(select(DecisionDefinition).where(DecisionDefinition.key == key)
                                   .order_by(DecisionDefinition.version)))


def _forget_built_specs() -> None:
    """As after a restart: every spec is built again from what the database pins."""
    definitions.ENGINE.forget()


def test_a_changed_table_is_a_new_decision_version_and_old_cases_keep_theirs(web: Browserless) -> None:
    first = definitions.deploy(DIAGRAM, {"pin_suitability.dmn": TABLE}, filename="dmn_after_task.bpmn")
    db.session.commit()
    old_case = cases.start_case("test_dmn_pin", user("staff04"), {})
    again = definitions.deploy(DIAGRAM, {"pin_suitability.dmn": TABLE}, filename="dmn_after_task.bpmn")
    assert not again.created and again.definition.id == first.definition.id
    assert [d.version for d in _decision_rows("pin_suitability.dmn")] == [1]  # unchanged: stored once

    second = definitions.deploy(DIAGRAM, {"pin_suitability.dmn": STRICTER}, filename="dmn_after_task.bpmn")
    db.session.commit()
    assert second.created and second.definition.version == first.definition.version + 1
    rows = _decision_rows("pin_suitability.dmn")
    assert [d.version for d in rows] == [1, 2] and rows[1].decision_ids == ["test_pin_suitability"]
    assert [d.id for d in first.definition.decisions] == [rows[0].id]
    assert [d.id for d in second.definition.decisions] == [rows[1].id]
    new_case = cases.start_case("test_dmn_pin", user("staff04"), {})

    _forget_built_specs()
    for case in (old_case, new_case):
        complete(case, "Task_Enter", user("staff04"), {"age": "62", "risk": "5"})
        db.session.refresh(case)
    assert old_case.definition_id == first.definition.id and old_case.outcome == "End_Normal"  # 62 < 65
    assert new_case.definition_id == second.definition.id and new_case.outcome == "End_Refused"  # 62 >= 60
    web.login("designer")
    for result, version in ((first, 1), (second, 2)):
        page = web.client.get(f"/designer/test_dmn_pin/v{result.definition.version}").get_data(as_text=True)
        assert f"pin_suitability.dmn v{version}</p>" in page


def test_a_diagram_deployed_alone_pins_the_deployed_tables_it_names() -> None:
    table = TABLE.replace('id="test_pin_suitability"', 'id="test_alone_suitability"')
    diagram = DIAGRAM.replace("test_pin_suitability", "test_alone_suitability").replace(
        'id="test_dmn_pin"', 'id="test_dmn_alone"')
    definitions.deploy(diagram, {"alone.dmn": table, "unrelated.dmn": STRICTER.replace("test_pin", "test_other")},
                       filename="alone.bpmn")
    assert _decision_rows("unrelated.dmn") == []  # offered but not named by the diagram: not stored, not pinned
    moved = diagram.replace('name="Enter the facts"', 'name="Enter the facts again"')
    assert definitions.validate(moved, None, "alone.bpmn").key == "test_dmn_alone"  # checked with the same tables
    result = definitions.deploy(moved, None, filename="alone.bpmn")  # the designer's case: no DMN sent
    db.session.commit()
    assert result.created and [d.key for d in result.definition.decisions] == ["alone.dmn"]
    assert result.definition.dmn_xml == {"alone.dmn": table}


def test_one_rule_says_which_tables_a_diagram_uses(tmp_path: Path) -> None:
    assert decisions.referenced_ids(DIAGRAM) == {"test_pin_suitability"}
    assert decisions.defined_ids(TABLE, "t.dmn") == ["test_pin_suitability"]
    offered = {"a.dmn": TABLE, "b.dmn": TABLE.replace("test_pin_suitability", "something_else")}
    assert decisions.used_by(DIAGRAM, offered) == {"a.dmn": TABLE}
    # the designer's library folder goes through the same rule
    for name, text in offered.items():
        (tmp_path / name).write_text(text, "utf-8")
    assert compare.referenced_dmn(DIAGRAM, tmp_path) == {"a.dmn": TABLE}
    assert compare.referenced_dmn("<bpmn:definitions", tmp_path) == {}  # validate() names the broken file
    with pytest.raises(DefinitionError, match="^mine.bpmn: not well-formed"):
        definitions.validate("<bpmn:definitions", compare.referenced_dmn("<bpmn:definitions", tmp_path), "mine.bpmn")
    with pytest.raises(DefinitionError, match="defined in both a.dmn and c.dmn"):
        decisions.used_by(DIAGRAM, {"a.dmn": TABLE, "c.dmn": TABLE})
    with pytest.raises(DefinitionError, match="broken.dmn"):
        decisions.used_by(DIAGRAM, {"broken.dmn": "<definitions"})


def test_a_diagram_naming_a_table_nobody_deployed_is_refused() -> None:
    diagram = DIAGRAM.replace("test_pin_suitability", "test_nowhere").replace('id="test_dmn_pin"',
                                                                             'id="test_dmn_nowhere"')
    before = db.session.scalar(select(func.count(DecisionDefinition.id)))
    with pytest.raises(DefinitionError):
        definitions.deploy(diagram, {"a.dmn": TABLE}, filename="nowhere.bpmn")
    db.session.rollback()
    assert db.session.scalar(select(func.count(DecisionDefinition.id))) == before


def _scratch_database(tmp_path: Path) -> Iterator[str]:
    """A database of the suite's kind apart from the shared one: a SQLite file, or a schema of its
    own on the PostgreSQL server."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS migration_scratch CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA migration_scratch"))
    try:
        yield sa.make_url(url).update_query_dict({"options": "-csearch_path=migration_scratch"}).render_as_string(
            hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA migration_scratch CASCADE"))
        engine.dispose()


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    yield from _scratch_database(tmp_path)


def test_the_migration_moves_inline_tables_into_versions_and_back(scratch_url: str) -> None:
    """On a database of its own: versions deployed before this change keep their tables."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True,
                        "SECRET_KEY": "t", "AUDIT_KEY": TEST_AUDIT_KEY, "AUDIT_KEYS_OLD": ""})
    migrations = str(ROOT / "migrations")
    with other.app_context():
        upgrade(directory=migrations, revision="7a1f0c2d9e4b")
        process = sa.table("process_definition", sa.column("id", sa.Integer), sa.column("key", sa.String),
                           sa.column("version", sa.Integer), sa.column("name", sa.String),
                           sa.column("bpmn_xml", sa.Text), sa.column("dmn_xml", sa.JSON),
                           sa.column("sha256", sa.String), sa.column("deployed_at", sa.DateTime))
        with db.engine.begin() as conn:
            for number, table in ((1, TABLE), (2, TABLE), (3, STRICTER)):
                conn.execute(process.insert().values(id=number, key="p", version=number, name="p", bpmn_xml=DIAGRAM,
                                                     dmn_xml={"t.dmn": table}, sha256=f"{number:064d}",
                                                     deployed_at=sa.func.current_timestamp()))
        upgrade(directory=migrations, revision="b5d9e3a7c1f2")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, key, version, decision_ids, sha256 FROM decision_definition "
                                        "ORDER BY version")).all()
            pins = conn.execute(sa.text("SELECT process_definition_id, decision_definition_id FROM process_decision "
                                        "ORDER BY process_definition_id")).all()
        assert [(r.key, r.version, r.sha256 == decisions.sha256(t)) for r, t in zip(rows, (TABLE, STRICTER),
                                                                                      strict=True)] == [
            ("t.dmn", 1, True), ("t.dmn", 2, True)]
        assert "test_pin_suitability" in rows[0].decision_ids
        assert [tuple(p) for p in pins] == [(1, rows[0].id), (2, rows[0].id), (3, rows[1].id)]
        downgrade(directory=migrations, revision="7a1f0c2d9e4b")
        with db.engine.connect() as conn:
            inline = conn.execute(sa.select(process.c.id, process.c.dmn_xml).order_by(process.c.id)).all()
        assert [(i, d) for i, d in inline] == [(1, {"t.dmn": TABLE}), (2, {"t.dmn": TABLE}), (3, {"t.dmn": STRICTER})]
        db.session.remove()
        db.engine.dispose()


def test_a_diagram_deployed_with_a_broken_table_is_refused_naming_rule_and_column() -> None:
    """The DMN designer's table checks run at every deploy (a library folder, `processes deploy`, the BPMN
    designer), not only when the table is edited on its own: a bad entry never reaches a running case."""
    broken = TABLE.replace('<inputExpression id="IE_age" typeRef="integer">', '<inputExpression id="IE_age">').replace(
        'id="test_pin_suitability"', 'id="test_broken_suitability"')
    assert "IE_age\">" in broken  # an input without a type: SpiffWorkflow would run it, the checks refuse it
    diagram = DIAGRAM.replace("test_pin_suitability", "test_broken_suitability").replace(
        'id="test_dmn_pin"', 'id="test_dmn_broken"')
    with pytest.raises(DefinitionError) as refused:
        definitions.deploy(diagram, {"broken.dmn": broken}, filename="broken.bpmn")
    db.session.rollback()
    assert refused.value.filename == "broken.dmn" and "Age" in str(refused.value) and "type" in str(refused.value)
    assert _decision_rows("broken.dmn") == [] and definitions.latest("test_dmn_broken", required=False) is None
