"""Two people completing the same task at the same moment: one wins, one gets 409."""

from __future__ import annotations

import threading

from sqlalchemy import select

from tests.conftest import HttpUser, unique_id_number, user
from tests.processes.ownership.steps import open_specs, open_task, registration
from workflows.cases import audit
from workflows.cases import commands as cases
from workflows.cases.models import AuditEvent, HumanTask
from workflows.db import db


def test_concurrent_completions_one_success_one_409(live_server: str) -> None:
    for _round in range(3):
        instance = cases.start_case("client_ownership", user("staff02"), registration(unique_id_number()))
        task_id = open_task(instance, "Task_ConfirmReservation").id
        db.session.commit()
        people = [HttpUser(live_server, "support1"), HttpUser(live_server, "support1b")]
        tokens = [p.token() for p in people]
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def act(i: int, barrier: threading.Barrier, people: list[HttpUser], tokens: list[str], task_id: int,
                statuses: list[int]) -> None:
            barrier.wait()
            resp = people[i].post(f"/tasks/{task_id}", {"decision": "approve"}, tokens[i])
            statuses.append(resp.status_code)

        threads = [threading.Thread(target=act, args=(i, barrier, people, tokens, task_id, statuses))
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(statuses) == [302, 409], statuses
        db.session.commit()
        db.session.expire_all()
        completed = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                                AuditEvent.type == "task_completed")).all()
        assert len(completed) == 1
        assert open_specs(instance) == ["Task_CounterOpening"]
        assert db.session.get(HumanTask, task_id).state == "completed"
        assert audit.verify(instance.id) == []
