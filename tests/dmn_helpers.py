"""A decision table and the diagrams that run it, renamed per test so tests sharing the session's
database never see each other's tables, processes or past decisions."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import TEST_BPMN
from workflows.cases import definitions
from workflows.db import db

TABLE = (TEST_BPMN / "suitability_test.dmn").read_text("utf-8")
AT_START = (TEST_BPMN / "dmn_route.bpmn").read_text("utf-8")  # the decision runs as the case starts
AFTER_TASK = (TEST_BPMN / "dmn_after_task.bpmn").read_text("utf-8")  # ... after a first user task


@dataclass
class Variant:
    tag: str

    @property
    def key(self) -> str:
        return f"{self.tag}.dmn"

    @property
    def decision(self) -> str:
        return f"{self.tag}_suitability"

    @property
    def process(self) -> str:
        return f"test_{self.tag}"

    def table(self, xml: str = TABLE) -> str:
        return xml.replace('id="test_suitability"', f'id="{self.decision}"')

    def diagram(self, after_task: bool = False) -> str:
        if after_task:
            return AFTER_TASK.replace('"test_pin_suitability"', f'"{self.decision}"').replace(
                'id="test_dmn_pin"', f'id="{self.process}"')
        return AT_START.replace('"test_suitability"', f'"{self.decision}"').replace(
            'id="test_dmn"', f'id="{self.process}"')

    def deploy(self, after_task: bool = False, table: str = TABLE) -> definitions.DeployResult:
        result = definitions.deploy(self.diagram(after_task), {self.key: self.table(table)},
                                    filename=f"{self.process}.bpmn")
        db.session.commit()
        return result


def lower_age_limit(xml: str = TABLE) -> str:
    """The branch lowers the age limit of both old-age rows from 65 to 60."""
    return xml.replace("&gt;= 65", "&gt;= 60")
