"""Bounded timer durations and due dates.

SpiffWorkflow turns an ISO 8601 duration into a timedelta by walking it month by
month, so ``P99999999Y`` loops over 1.2 billion months and spins a worker until
gunicorn kills it. Nothing here needs more than ten years; every duration is
checked before it is walked: at deploy (constant durations, due dates), and at
run time for durations computed from case data, through the functions
SpiffWorkflow calls for every timer, replaced when this module is imported
(workflows.parser imports it, so no spec is built without them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import WorkflowException

from workflows.engine import clock

MAX_YEARS = 10
MAX_DAYS = MAX_YEARS * 366
MAX_TEXT = 100

# Days per designator, rounded up, so the bound holds whatever the calendar.
_DAYS = {"years": 366, "months": 31, "weeks": 7, "days": 1, "hours": 1 / 24, "minutes": 1 / 1440,
         "seconds": 1 / 86400}


class DurationError(WorkflowException):
    """A timer duration or due date that is malformed or longer than :data:`MAX_YEARS` years."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def check_span(parsed: dict[str, Any], text: str = "") -> None:
    """Refuse a parsed duration longer than the bound, before anything walks it."""
    days = sum(float(parsed.get(name, 0)) * per for name, per in _DAYS.items())
    if days > MAX_DAYS:
        raise DurationError(f"duration '{text[:40]}' is longer than {MAX_YEARS} years" if text
                            else f"duration longer than {MAX_YEARS} years")


def parse_duration(text: Any) -> dict[str, Any]:
    """An ISO 8601 duration (``P1D``, ``PT4H``) as SpiffWorkflow's parts, bounded."""
    if not isinstance(text, str) or not text.strip().upper().startswith("P") or len(text) > MAX_TEXT:
        raise DurationError(f"'{str(text)[:40]}' is not an ISO 8601 duration such as P1D or PT4H")
    try:
        parsed = _parse_duration(text.strip())
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception for bad text
        raise DurationError(f"'{text[:40]}' is not an ISO 8601 duration such as P1D or PT4H") from None
    check_span(parsed, text)
    return parsed


def due_after(text: str, start: dt.datetime) -> dt.datetime:
    """``start`` plus a bounded duration (a task's due date)."""
    return start + TimerEventDefinition.get_timedelta_from_start(parse_duration(text), start)


def check_timer_value(kind: str, value: Any) -> None:
    """Deploy-time check of a constant timer: a duration, a date, or a cycle ``R3/PT1H``."""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise DurationError(f"timer value must be a quoted ISO 8601 text, e.g. \"PT1H\", not {str(value)[:40]!r}")
    text = value.strip()
    if kind == "timeDuration":
        TimerEventDefinition.get_timedelta_from_start(parse_duration(text))
        return
    try:
        if kind == "timeDate":
            moment = TimerEventDefinition.parse_time_or_duration(text)
            if not isinstance(moment, dt.datetime):
                raise ValueError(text)
            if moment - clock.now_utc() > dt.timedelta(days=MAX_DAYS):
                raise DurationError(f"date '{text[:40]}' is more than {MAX_YEARS} years away")
        else:
            TimerEventDefinition.parse_iso_recurring_interval(text)
    except DurationError:
        raise
    except Exception:  # noqa: BLE001 - SpiffWorkflow's parsers raise bare exceptions
        example = "2027-01-31T09:00:00" if kind == "timeDate" else "R3/PT1H"
        raise DurationError(f"'{text[:40]}' is not a valid ISO 8601 value such as {example}") from None


_from_start = TimerEventDefinition.get_timedelta_from_start
_from_end = TimerEventDefinition.get_timedelta_from_end
_parse_duration = TimerEventDefinition.parse_iso_duration
_parse_date = TimerEventDefinition.get_datetime
_parse_cycle = TimerEventDefinition.parse_iso_recurring_interval


def _bounded_from_start(parsed_duration: dict[str, Any], start: dt.datetime | None = None) -> dt.timedelta:
    check_span(parsed_duration)
    return _from_start(parsed_duration, start)


def _bounded_from_end(parsed_duration: dict[str, Any], end: dt.datetime) -> dt.timedelta:
    check_span(parsed_duration)
    return _from_end(parsed_duration, end)


def _refusing(parse: Any, what: str) -> Any:
    """SpiffWorkflow's parser, raising DurationError (a 422 for the caller) instead of a bare
    Exception, ValueError or AttributeError (a 500) for a value computed from case data."""

    def parse_or_refuse(expression: Any) -> Any:
        if not isinstance(expression, str) or len(expression) > MAX_TEXT:
            raise DurationError(f"timer value {str(expression)[:40]!r} is not {what}")
        try:
            return parse(expression)
        except DurationError:
            raise
        except Exception:  # noqa: BLE001 - bare exceptions from the library's parsers
            raise DurationError(f"timer value {expression[:40]!r} is not {what}") from None

    return staticmethod(parse_or_refuse)


TimerEventDefinition.get_timedelta_from_start = staticmethod(_bounded_from_start)
TimerEventDefinition.get_timedelta_from_end = staticmethod(_bounded_from_end)
TimerEventDefinition.parse_iso_duration = _refusing(_parse_duration, "an ISO 8601 duration")
TimerEventDefinition.get_datetime = _refusing(_parse_date, "an ISO 8601 date")
TimerEventDefinition.parse_iso_recurring_interval = _refusing(_parse_cycle, "an ISO 8601 cycle")
