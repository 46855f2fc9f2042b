"""Schemathesis explores the API from its OpenAPI document against the running
server: no 500s, and every response matches what the document promises."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import registration
from webapp.api.openapi import spec
from workflows.branch import tokens
from workflows.cases import commands as cases
from workflows.db import db


@pytest.fixture(scope="module")
def api_token(app) -> str:
    with app.app_context():
        # something to find: a few cases and open tasks for this person
        for _ in range(2):
            cases.start_case("client_ownership", user("staff12"), registration(unique_id_number()))
        clear, _row = tokens.issue(user("support2"), "schemathesis")
        db.session.commit()
    return clear


@pytest.fixture(scope="module")
def base_url(live_server: str, app) -> str:
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    return live_server


# The document the server serves (test_api checks they are the same); requests go to the live server.
schema = schemathesis.openapi.from_dict(spec("http://127.0.0.1"))


@schema.parametrize()
@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, api_token: str, base_url: str) -> None:
    # Every response check (no 5xx, documented status codes and content types, bodies matching
    # their schemas, Allow on 405, …). Left out are the two judgements about requests: "a
    # schema-valid request must succeed" (a valid request for someone else's task is rightly 403)
    # and "an invalid request must fail" (it also counts junk headers we rightly ignore).
    case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {api_token}"},
                           excluded_checks=[positive_data_acceptance, negative_data_rejection])
