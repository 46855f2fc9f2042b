"""Verify's registry check reads the entries of a batch of cases as plain rows, and still names the owner
of an entry whose event predates owners recorded by id (by their name)."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import registration, through_to_registry
from workflows.cases import commands as cases
from workflows.cases.integrity import Report
from workflows.cases.models import AuditEvent
from workflows.db import db
from workflows.processes.ownership.integrity import check_registry, registry_rows
from workflows.processes.ownership.models import ClientOwnership


def _registered():
    instance = cases.start_case("client_ownership", user("staff01"), registration(unique_id_number()))
    through_to_registry(instance)
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                     .order_by(AuditEvent.seq)))
    return instance, events


def _legacy(events: list[AuditEvent], owner: str) -> list[SimpleNamespace]:
    """The history as an older version wrote it: the owner by name only."""
    out = []
    for ev in events:
        changes = dict(ev.changes or {})
        if ev.type == "ownership_registered":
            changes.pop("_owner_id", None)
            changes["owner"] = [None, owner]
        out.append(SimpleNamespace(type=ev.type, seq=ev.seq, changes=changes))
    return out


def test_a_batch_of_entries_checks_as_the_single_case_read_does() -> None:
    instance, events = _registered()
    rows = registry_rows(db.session, [instance.id])
    assert [r.staff_id for r in rows[instance.id]] == [user("staff01").id]
    batch, alone = Report(checkpoint=None), Report(checkpoint=None)
    check_registry(db.session, instance, events, batch, rows[instance.id])
    check_registry(db.session, instance, events, alone)  # reads its own entries
    assert (batch.problem_count, alone.problem_count, batch.registry) == (0, 0, 1)


def test_an_old_event_names_the_owner_by_name() -> None:
    instance, events = _registered()
    rows = registry_rows(db.session, [instance.id])[instance.id]
    right, wrong = Report(checkpoint=None), Report(checkpoint=None)
    check_registry(db.session, instance, _legacy(events, user("staff01").full_name), right, rows)
    check_registry(db.session, instance, _legacy(events, "别人"), wrong, rows)
    assert right.problem_count == 0
    assert wrong.problem_count == 1 and "names staff" in wrong.problems[0].message


def test_a_batch_of_entries_is_found_through_the_case_index() -> None:
    """Not a scan of the whole registry per batch of cases (quadratic over a branch's years)."""
    statement = select(ClientOwnership.id).where(ClientOwnership.instance_id.in_([1, 2, 3]))
    compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert "SEARCH client_ownership USING" in plan and "instance_id" in plan, plan
        else:  # a test database is tiny: ask what the query allows when a scan is the last resort
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
            conn.rollback()
            assert "ix_client_ownership_instance_id" in plan and "Seq Scan" not in plan, plan
