"""Tampering tools for the audit tests: run the CLI, write SQL behind the app's back, clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from sqlalchemy import text

from workflows.cases import checkpoints
from workflows.db import db

# Every table that points at a case, children first.
_CASE_TABLES = ("attachment", "audit_event", "client_ownership", "violation", "notice")


def cli(app: Flask, *args: str) -> tuple[int, str]:
    db.session.commit()  # the command sees what the test wrote
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.expire_all()
    return result.exit_code, result.output


def sql(statement: str, **params: Any) -> int:
    """One statement straight to the database, committed: what an intruder with database access does."""
    done = db.session.execute(text(statement), params)
    db.session.commit()
    db.session.expire_all()
    return done.rowcount


def delete_case(case_id: int) -> None:
    """Remove a case and every row that points at it."""
    for table in _CASE_TABLES:
        db.session.execute(text(f"DELETE FROM {table} WHERE instance_id = :i"), {"i": case_id})  # noqa: S608
    for table in ("task_candidate", "task_exclusion"):
        db.session.execute(text(f"DELETE FROM {table} WHERE task_id IN "  # noqa: S608
                                "(SELECT id FROM human_task WHERE instance_id = :i)"), {"i": case_id})
    db.session.execute(text("DELETE FROM human_task WHERE instance_id = :i"), {"i": case_id})
    db.session.execute(text("DELETE FROM process_instance WHERE id = :i"), {"i": case_id})
    db.session.commit()
    db.session.expire_all()


def discard_cases(case_ids: list[int]) -> None:
    """Leave the database as if these (tampered) cases never existed, and checkpoint that state.

    The checkpoint is marked verified: the rest of the test database is untouched, and the next
    incremental verify must neither miss the deleted cases nor re-read what the tests left as it was.
    """
    db.session.rollback()
    for case_id in case_ids:
        delete_case(case_id)
    checkpoints.write(verified=True)


def counter_step_cases() -> Iterator[Callable[[], Any]]:
    """Yields a maker of cases waiting at the counter step (its task can be claimed, which appends
    events); the cases are discarded afterwards. A fixture body: ``yield from counter_step_cases()``."""
    from tests.conftest import unique_id_number, user
    from tests.processes.ownership.steps import complete, registration
    from workflows.cases import commands as cases

    made: list[int] = []

    def make() -> Any:
        instance = cases.start_case("client_ownership", user("staff05"), registration(unique_id_number()))
        made.append(instance.id)
        complete(instance, "Task_ConfirmReservation", user("support1"), {"decision": "approve"})
        db.session.refresh(instance)
        return instance

    yield make
    discard_cases(made)
