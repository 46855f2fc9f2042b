"""One clock for the engine and the app, so timers can be tested and demoed.

``now()`` is naive UTC (what the database stores) and the default of every timestamp column;
``today()`` is the branch's calendar date in its own time zone, which is what every date rule
means ("at least one day in advance", "effective today"), whatever the server's zone is.
SpiffWorkflow's timers read ``datetime.now`` inside their own module; we point that module at
this clock. In production the offset is zero. No other module reads the system clock
(tests/test_architecture.py checks it).
"""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

try:
    BRANCH_TZ: _dt.tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database on the host: Shanghai has kept UTC+8 without DST since 1991
    BRANCH_TZ = _dt.timezone(_dt.timedelta(hours=8), "CST")

_offset = _dt.timedelta(0)


def now() -> _dt.datetime:
    """Naive UTC 'now' (the database stores naive UTC)."""
    return (_dt.datetime.now(_dt.UTC) + _offset).replace(tzinfo=None)


def now_utc() -> _dt.datetime:
    """The same moment as ``now()``, with its time zone (for comparing with aware values)."""
    return now().replace(tzinfo=_dt.UTC)


def today() -> _dt.date:
    """The branch's date now: at 01:00 in Shanghai it is already tomorrow in UTC terms."""
    return local(now()).date()


def local(moment: _dt.datetime) -> _dt.datetime:
    """A stored naive-UTC moment in the branch's time zone."""
    return moment.replace(tzinfo=_dt.UTC).astimezone(BRANCH_TZ)


def day_start(day: _dt.date) -> _dt.datetime:
    """The stored (naive UTC) moment a branch calendar day begins: a filter "from 1 March"
    means from midnight in Shanghai, 16:00 UTC the day before."""
    midnight = _dt.datetime.combine(day, _dt.time(0), tzinfo=BRANCH_TZ)
    return midnight.astimezone(_dt.UTC).replace(tzinfo=None)


def travel(delta: _dt.timedelta) -> None:
    """Move the clock forward (tests, demos)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = _dt.timedelta(0)


class _ClockDatetime(_dt.datetime):
    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:
        return _dt.datetime.now(tz) + _offset


_timer_module.datetime = _ClockDatetime
