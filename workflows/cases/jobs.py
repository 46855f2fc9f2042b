"""Scheduled jobs a family declares (e.g. a month-end review), run by the sweeper.

Each job fires once per period of its schedule. The firing inserts a unique
(job, period) row in the same transaction as the job's work: with several
sweepers on one database, the second insert waits for the first transaction
and then fails, so the work is done once; if the work fails, the row goes with
it and the next sweep tries again.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from workflows.cases.models import JobRun
from workflows.db import db
from workflows.engine.clock import now

if TYPE_CHECKING:
    from workflows.cases.models import ProcessInstance

log = logging.getLogger(__name__)

SCHEDULES = ("daily", "month_end")
BRANCH_UTC_OFFSET = dt.timedelta(hours=8)  # China Standard Time, no daylight saving


def branch_today() -> dt.date:
    """The branch's calendar date (the database keeps naive UTC)."""
    return (now() + BRANCH_UTC_OFFSET).date()


@dataclass(frozen=True)
class Job:
    key: str  # "<family>.<name>"
    schedule: str  # one of SCHEDULES
    run: Callable[[JobContext], int]  # does the work in the caller's transaction; returns a count
    label: str = ""  # an English msgid


@dataclass
class JobContext:
    """What a running job knows, and how it starts cases: by the system, not by a person."""

    job: Job
    period: str
    today: dt.date

    def start(self, process_key: str, data: dict[str, Any]) -> ProcessInstance:
        from workflows.cases import commands

        return commands.start_case(process_key, None, data, via="job", origin=f"job:{self.job.key}", commit=False)


def due_period(schedule: str, today: dt.date) -> str | None:
    """The period a job of this schedule should have fired for by ``today``.

    ``daily``: today. ``month_end``: the month whose last day is today, else the
    previous month (a sweeper down on the last day catches up the next days).
    """
    if schedule == "daily":
        return today.isoformat()
    if schedule == "month_end":
        last = calendar.monthrange(today.year, today.month)[1]
        month = today if today.day == last else today.replace(day=1) - dt.timedelta(days=1)
        return f"{month.year:04d}-{month.month:02d}"
    raise ValueError(f"unknown schedule '{schedule}'")


def declared() -> list[Job]:
    from workflows import processes

    return [job for family in processes.families() for job in family.jobs]


def fire(job: Job, period: str, today: dt.date | None = None) -> int | None:
    """Run the job for the period unless it already ran; returns its count, or None if it did not run here."""
    if db.session.scalar(select(JobRun.id).where(JobRun.job == job.key, JobRun.period == period)) is not None:
        db.session.rollback()
        return None
    try:
        run = JobRun(job=job.key, period=period, started_at=now())
        db.session.add(run)
        db.session.flush()  # waits here for a sweeper firing the same period, then fails
        run.result = int(job.run(JobContext(job, period, today or branch_today())) or 0)
        db.session.commit()
        return run.result
    except IntegrityError:
        db.session.rollback()
        return None  # another sweeper fired it
    except OperationalError as exc:
        db.session.rollback()
        log.warning("job %s for %s not run (database busy: %s); next sweep tries again", job.key, period, exc.orig)
        return None
    except Exception:  # noqa: BLE001 - one broken job must not stop the sweep; it runs again next sweep
        db.session.rollback()
        log.exception("job %s for %s failed; nothing of it was saved", job.key, period)
        return None


def run_due(today: dt.date | None = None) -> list[tuple[str, str, int]]:
    """Fire every family job due by today; (job, period, count) of those fired here."""
    day = today or branch_today()
    fired = []
    for job in declared():
        period = due_period(job.schedule, day)
        if period is None:
            continue
        result = fire(job, period, day)
        if result is not None:
            fired.append((job.key, period, result))
    return fired


def runs(job_key: str | None = None, limit: int = 50) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_key is not None:
        query = query.where(JobRun.job == job_key)
    return list(db.session.scalars(query))
