"""One clock for the engine and the app, so timers can be tested and demoed.

SpiffWorkflow's timers read ``datetime.now`` inside their own module; we point
that module at this clock. In production the offset is zero.
"""

from __future__ import annotations

import datetime as _dt

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

_offset = _dt.timedelta(0)


def now() -> _dt.datetime:
    """Naive UTC 'now' (the database stores naive UTC)."""
    return (_dt.datetime.now(_dt.UTC) + _offset).replace(tzinfo=None)


def travel(delta: _dt.timedelta) -> None:
    """Move the clock forward (tests, demos)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = _dt.timedelta(0)


class _ClockDatetime(_dt.datetime):
    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        return _dt.datetime.now(tz) + _offset


_timer_module.datetime = _ClockDatetime  # type: ignore[misc]
