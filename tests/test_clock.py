"""One clock: timestamps, timers and the branch's date all follow ``workflows.engine.clock``."""

from __future__ import annotations

import datetime as dt

from tests.conftest import user
from workflows.branch.models import Violation
from workflows.db import db
from workflows.engine import clock


def test_the_branch_date_is_shanghai_time_not_utc() -> None:
    assert clock.local(dt.datetime(2026, 12, 31, 15, 59)).date() == dt.date(2026, 12, 31)
    assert clock.local(dt.datetime(2026, 12, 31, 16, 0)).date() == dt.date(2027, 1, 1)  # midnight in Shanghai
    assert clock.local(dt.datetime(2026, 7, 1, 12, 0)).utcoffset() == dt.timedelta(hours=8)  # no summer time
    assert clock.today() == (clock.now() + dt.timedelta(hours=8)).date()


def test_travel_moves_now_today_and_the_column_defaults() -> None:
    before_now, before_today = clock.now(), clock.today()
    clock.travel(dt.timedelta(days=40))
    assert clock.now() - before_now >= dt.timedelta(days=40)
    assert clock.today() - before_today in (dt.timedelta(days=40), dt.timedelta(days=41))
    assert clock.now_utc().tzinfo is dt.UTC
    row = Violation(kind="clock_test", staff_id=user("staff01").id)  # ``at`` left to the column default
    db.session.add(row)
    db.session.flush()
    assert row.at - before_now >= dt.timedelta(days=40)
    db.session.rollback()
