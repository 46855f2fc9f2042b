"""Plugs the test family in, the way a real family is: one registration, its diagram deployed
with the decision table it uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.family_demo import FAMILY
from workflows import processes
from workflows.cases import definitions
from workflows.db import db

HERE = Path(__file__).resolve().parent
DIAGRAM = "family_demo_request.bpmn"
ROUTE = "family_demo_route.dmn"  # the decision table's file name is its key among deployed tables


def deploy_family(route_xml: str | None = None) -> definitions.DeployResult:
    """Deploy the family's diagram with its route table (the file's, unless another text is given)."""
    table = route_xml if route_xml is not None else (HERE / ROUTE).read_text("utf-8")
    return definitions.deploy((HERE / DIAGRAM).read_text("utf-8"), {ROUTE: table}, filename=DIAGRAM)


@pytest.fixture(scope="session")
def family_demo(app: Flask) -> Iterator[processes.Family]:
    """Registered for the rest of the session once used: its diagram stays deployed, so its
    functions must stay callable for whatever test lists or starts processes later."""
    if FAMILY not in processes.families():
        processes.register(FAMILY)
    with app.app_context():
        deploy_family()
        db.session.commit()
    yield FAMILY
