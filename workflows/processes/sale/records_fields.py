"""Reading one field of a record from what a form, a JSON body or a CSV cell gave: each reader returns
the typed value or raises :class:`Bad` with the field's message (its stable code), so the form, the API
and the import all say the same thing about the same value."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from workflows.cases.forms import CONTROL_CHARACTERS, FIRST_DAY, LAST_DAY, REQUIRED, has_control_characters
from workflows.errors import Invalid, Msg

CORRECT = "please correct the highlighted fields"
NOT_A_DATE = Msg("must be a date (YYYY-MM-DD)", code="not_a_date")
DATE_RANGE = Msg("a date between 1900 and 2200", code="date_out_of_range")
NOT_A_WHOLE_NUMBER = Msg("must be a whole number", code="not_a_whole_number")
NOT_YES_OR_NO = Msg("must be yes or no", code="not_yes_or_no")
SINGLE_VALUE = Msg("one value is expected here", code="single_value")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]*")
TRUE, FALSE = {"true", "1", "yes", "y", "on", "是"}, {"false", "0", "no", "n", "off", "否", ""}


class Bad(Exception):
    """One field's value is wrong: ``message`` says why (a Msg with its code)."""

    def __init__(self, message: Msg) -> None:
        super().__init__(str(message))
        self.message = message


def invalid(errors: dict[str, Msg]) -> Invalid:
    return Invalid(CORRECT, dict(errors))


def scalar(value: Any) -> str:
    """What was given as text: a JSON number or boolean as written, a list or object refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        raise Bad(SINGLE_VALUE)
    return str(value).strip()


def text(value: Any, size: int, *, required: bool = False) -> str | None:
    raw = scalar(value)
    if has_control_characters(raw):
        raise Bad(CONTROL_CHARACTERS)
    if not raw:
        if required:
            raise Bad(REQUIRED)
        return None
    if len(raw) > size:
        raise Bad(Msg("at most %(n)s characters", code="too_long", n=size))
    return raw


def date(value: Any, *, required: bool = False) -> dt.date | None:
    raw = scalar(value)
    if not raw:
        if required:
            raise Bad(REQUIRED)
        return None
    raw = raw.replace("/", "-")
    try:
        parts = [int(p) for p in raw.split("-")]
        day = dt.date(*parts) if len(parts) == 3 and len(raw) <= 10 else None
    except (ValueError, TypeError):
        day = None
    if day is None:
        raise Bad(NOT_A_DATE)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Bad(DATE_RANGE)
    return day


def whole(value: Any, low: int, high: int, *, required: bool = False) -> int | None:
    raw = scalar(value)
    if not raw:
        if required:
            raise Bad(REQUIRED)
        return None
    if not re.fullmatch(r"[+-]?\d{1,9}", raw):
        raise Bad(NOT_A_WHOLE_NUMBER)
    number = int(raw)
    if not low <= number <= high:
        raise Bad(Msg("must be between %(low)s and %(high)s", code="out_of_range", low=low, high=high))
    return number


def level(value: Any, letter: str, *, required: bool = False) -> int | None:
    """A risk level 'C3' / rating 'R3' (or just 3) as 1–5."""
    raw = scalar(value).upper()
    if not raw:
        if required:
            raise Bad(REQUIRED)
        return None
    digits = raw[1:] if raw.startswith(letter) else raw
    if digits not in ("1", "2", "3", "4", "5"):
        raise Bad(Msg("must be one of %(letter)s1 to %(letter)s5", code="not_a_level", letter=letter))
    return int(digits)


def yes_no(value: Any, default: bool) -> bool:
    raw = scalar(value).lower()
    if raw in TRUE:
        return True
    if raw in FALSE:
        return default if raw == "" else False
    raise Bad(NOT_YES_OR_NO)


def phone(value: Any) -> str | None:
    raw = text(value, 40)
    if raw is None:
        return None
    digits = sum(c.isdigit() for c in raw)
    if not _PHONE.fullmatch(raw) or not 6 <= digits <= 20:
        raise Bad(Msg("not a phone number", code="not_a_phone"))
    return " ".join(raw.split())
