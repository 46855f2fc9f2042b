"""The inbox's process filter reads the deployed processes once per few seconds per server process, and a
deploy shows in it at once."""

from __future__ import annotations

from tests.conftest import TEST_BPMN, Browserless
from tests.test_query_cost import counting
from workflows.cases import definitions
from workflows.db import db

REWORK = (TEST_BPMN / "rework.bpmn").read_text("utf-8")


def test_the_filter_list_is_kept_and_a_deploy_refreshes_it(web: Browserless) -> None:
    definitions.forget_choices()
    first = definitions.process_choices()
    assert ("client_ownership", definitions.latest("client_ownership").name) in first
    with counting() as counter:
        again = definitions.process_choices()
    assert again == first and counter.statements == []  # kept: no statement

    renamed = REWORK.replace('id="test_rework" name="', 'id="test_choices" name="Choices ')
    assert renamed != REWORK
    definitions.deploy(renamed, filename="choices.bpmn")
    db.session.commit()
    keys = [key for key, _ in definitions.process_choices()]
    assert "test_choices" in keys and keys == sorted(keys)  # the deploy shows at once

    web.login("gm")
    page = web.client.get("/?view=groups").get_data(as_text=True)
    assert '<option value="test_choices"' in page
