"""Plugs the test family in, the way a real family is: one registration, its diagram deployed."""

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


@pytest.fixture(scope="session")
def family_demo(app: Flask) -> Iterator[processes.Family]:
    """Registered for the rest of the session once used: its diagram stays deployed, so its
    functions must stay callable for whatever test lists or starts processes later."""
    if FAMILY not in processes.families():
        processes.register(FAMILY)
    with app.app_context():
        definitions.deploy((HERE / "family_demo_request.bpmn").read_text("utf-8"),
                           filename="family_demo_request.bpmn")
        db.session.commit()
    yield FAMILY
