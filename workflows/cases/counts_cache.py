"""The header's inbox counts, kept per person for a few seconds (issue 9: the counts run on every
page for every user; a person moving between pages asks for the same numbers again and again).

What this process commits that touches tasks (or who holds which role) makes every kept count
stale at once, so a person who just completed, claimed or released a task sees it counted on the
next page. Work done by another server process shows within :data:`FRESH_FOR`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from workflows.engine.clock import now

FRESH_FOR = dt.timedelta(seconds=5)
_MAX_PEOPLE = 5000  # a bound on what is kept; beyond it the oldest half is dropped

_kept: dict[int, tuple[int, dt.datetime, dict[str, int]]] = {}
_generation = 0
_WATCHED = frozenset({"human_task", "task_candidate", "task_exclusion", "user_role"})


def counts_for(user_id: int, compute: Callable[[], dict[str, int]]) -> dict[str, int]:
    """The kept counts of ``user_id`` while fresh and nothing changed since; else ``compute()``."""
    at = now()
    kept = _kept.get(user_id)
    if kept is not None and kept[0] == _generation and dt.timedelta(0) <= at - kept[1] < FRESH_FOR:
        return dict(kept[2])
    generation = _generation
    found = compute()
    if len(_kept) >= _MAX_PEOPLE:
        for key in sorted(_kept, key=lambda k: _kept[k][1])[: _MAX_PEOPLE // 2]:
            del _kept[key]
    _kept[user_id] = (generation, at, dict(found))
    return found


def forget() -> None:
    """Make every kept count stale (a task or a role changed)."""
    global _generation
    _generation += 1


def _tables_of(objects: Any) -> set[str]:
    return {getattr(getattr(o, "__table__", None), "name", "") for o in objects}


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    if (_tables_of(session.new) | _tables_of(session.dirty) | _tables_of(session.deleted)) & _WATCHED:
        session.info["tasks_changed"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: Any) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _WATCHED:
            state.session.info["tasks_changed"] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("tasks_changed", False):
        forget()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop("tasks_changed", None)
