"""The timer sweep: fire due timers of running cases, once each (the loop also runs the
families' scheduled jobs, workflows.cases.jobs).

Several sweepers (and app processes) may share one PostgreSQL database; due
instances are claimed with FOR UPDATE SKIP LOCKED so each timer fires once.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from workflows.cases import audit, projection
from workflows.cases.commands import lock_for_write
from workflows.cases.context import CaseContext
from workflows.cases.definitions import built_for
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.engine.clock import now
from workflows.errors import Conflict

log = logging.getLogger(__name__)


def sweep(limit: int = 100) -> int:
    """Fire every due timer; returns the number of cases advanced."""
    advanced = 0
    while True:
        query = (select(ProcessInstance.id)
                 .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now())
                 .order_by(ProcessInstance.next_timer_at).limit(limit))
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(query))
        if not ids:
            db.session.rollback()
            return advanced
        for instance_id in ids:
            if _fire(instance_id):
                advanced += 1
        if len(ids) < limit:
            return advanced


def _fire(instance_id: int) -> bool:
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        return False
    try:
        lock_for_write(instance)
        built = built_for(instance.definition)
        ctx = CaseContext(instance, None, "timer")
        inst = projection.load(ctx, built)
        fired = inst.refresh_timers()
        for spec_id, name in fired:
            audit.record(instance, "timer_fired", None, task_spec=spec_id, task_name=name, via="timer")
        projection.advance(ctx, inst)
        if not fired and instance.next_timer_at is not None and instance.next_timer_at <= now():
            instance.next_timer_at = None  # nothing fired although due: do not spin on it
        db.session.commit()
        return bool(fired)
    except (StaleDataError, Conflict):
        db.session.rollback()
        return False
    except Exception:  # noqa: BLE001 - one broken case must not stop the sweep
        db.session.rollback()
        log.exception("timer sweep failed for case %s", instance_id)
        failed = db.session.get(ProcessInstance, instance_id)
        if failed is not None:
            failed.next_timer_at = None
            audit.record(failed, "timer_error", None, via="timer", comment="timer could not fire; see server log")
            db.session.commit()
        return False


def loop(interval: float = 30.0, checkpoint_every: float | None = None,
         verify_every: float | None = None) -> None:  # pragma: no cover - main loop
    """Sweep every ``interval`` seconds (timers, then the families' due jobs); also write an
    audit checkpoint every ``checkpoint_every`` seconds and run a full audit verify every
    ``verify_every`` seconds (the first one a checkpoint interval after start)."""
    from workflows import gate
    from workflows.cases import checkpoints, integrity, jobs

    next_checkpoint = time.monotonic()
    next_verify = time.monotonic() + (checkpoint_every or interval)
    while True:
        count = sweep()
        if count:
            log.info("timer sweep advanced %d case(s)", count)
        for job, period, result in jobs.run_due():
            log.info("job %s fired for %s: %d", job, period, result)
        try:
            gate.sweep()
        except Exception:  # noqa: BLE001 - stale keys and counters can wait; the timers cannot
            db.session.rollback()
            log.exception("dropping expired idempotency keys and rate windows failed")
        if checkpoint_every and time.monotonic() >= next_checkpoint:
            try:
                checkpoints.write()
            except Exception:  # noqa: BLE001 - a full disk must not stop the timers; the log says why
                db.session.rollback()
                log.exception("audit checkpoint failed")
            next_checkpoint = time.monotonic() + checkpoint_every
        if verify_every and time.monotonic() >= next_verify:
            try:
                integrity.scheduled_full_run()
            except Exception:  # noqa: BLE001 - as above: the timers go on, the log says why
                db.session.rollback()
                log.exception("audit verify failed to run")
            next_verify = time.monotonic() + verify_every
        pause = interval if not checkpoint_every else min(interval, max(0.5, next_checkpoint - time.monotonic()))
        time.sleep(pause)
