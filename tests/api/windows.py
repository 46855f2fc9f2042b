"""Rate-limit tests count in fixed windows of the app's clock: start them at a window's start,
so that no test straddles two windows however slowly it runs (within the window's length)."""

from __future__ import annotations

import datetime as dt

from workflows.engine import clock


def fresh_window(period: int = 3600) -> None:
    """Move the clock to one second into the next window of ``period`` seconds (the autouse
    fixture sets the clock back after the test)."""
    second = int((clock.now() - dt.datetime(1970, 1, 1)).total_seconds())
    clock.travel(dt.timedelta(seconds=period - second % period + 1))
