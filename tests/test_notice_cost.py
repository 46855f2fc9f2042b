"""The notices page (抄送我的) costs the same few statements however many notices a person has,
and links exactly the cases its reader may open (issue 9).

Which notices link to their case was asked case by case (``may_view_case``: two or three
statements each, 400 for a page of 200 notices); ``access.viewable`` asks for all of them at
once. It must answer what ``may_view_case`` answers, for every kind of taking part.
"""

from __future__ import annotations

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import complete, counter_pass, registration, through_to_registry
from tests.test_query_cost import counting
from workflows.cases import access, notices
from workflows.cases import commands as cases
from workflows.cases.models import Notice, ProcessInstance
from workflows.db import db

READERS = ("trading", "gm", "staff01", "staff02", "support1", "auditor", "finance", "retail")


def _mixed_cases() -> list[ProcessInstance]:
    """Cases each reader takes a different part in: started, worked, waiting in a group, none."""
    done = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    through_to_registry(done)  # support, counter, trading, finance and the GM worked it
    queued = cases.start_case("client_ownership", user("staff02"), registration(unique_id_number()))
    complete(queued, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
    counter_pass(queued, user("counter1"))
    complete(queued, "Task_Aggregate", user("support1"), {"decision": "approve", "batch_ref": "B-9"})
    fresh = cases.start_case("client_ownership", user("staff03"), registration(unique_id_number()))
    return [done, queued, fresh]


def _notify(reader: str, instances: list[ProcessInstance]) -> None:
    person = user(reader)
    for instance in instances:
        db.session.add(Notice(user_id=person.id, instance_id=instance.id, text=f"case {instance.id}", params={}))
    db.session.commit()


def test_viewable_answers_what_may_view_case_answers() -> None:
    instances = _mixed_cases()
    for reader in READERS:
        person = user(reader)
        one_by_one = {c.id for c in instances if access.may_view_case(person, c)}
        assert access.viewable(person, instances) == one_by_one, reader
    assert access.viewable(user("staff01"), instances) >= {instances[0].id}  # its starter
    assert instances[2].id not in access.viewable(user("staff05"), instances)  # no part at all


def test_the_notices_page_costs_the_same_with_ten_times_the_notices(web) -> None:
    reader = "trading"
    _notify(reader, _mixed_cases())
    web.login(reader)
    assert web.client.get("/notices").status_code == 200  # warm, as a running server is
    with counting() as few:
        page = web.client.get("/notices")
    assert page.status_code == 200
    for _ in range(9):
        _notify(reader, _mixed_cases())
    assert web.client.get("/notices").status_code == 200  # the new work made the header's counts stale
    with counting() as many:
        page = web.client.get("/notices")
    assert page.status_code == 200
    shown = [s[:160] for s in [*few.statements, "-- then --", *many.statements]]
    assert len(many.statements) == len(few.statements), "\n\n".join(shown)
    found = notices.newest(user(reader))
    assert len([r for r in found.page.rows if r.instance_id]) >= 30 and found.openable  # the links are there
