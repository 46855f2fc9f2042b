"""The working-day calendar: any token reads a year; the office and administrators replace a year's
exceptions (HR loads each year's official schedule), under the same rules as the calendar page."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from workflows.branch import calendar_admin
from workflows.cases import access
from workflows.errors import Invalid, Msg

from ..security import requires
from . import inputs, shapes
from .auth import api_user, token_required
from .blueprint import VIA, bp
from .schema import NULL_STR, SECURED, errors, json_response, ref

UNKNOWN_MEMBER = Msg("unknown member", code="unknown_field")


def year_json(year: int) -> dict[str, Any]:
    entries = calendar_admin.year_entries(year)
    counts = calendar_admin.month_counts(year)
    last = calendar_admin.history(year, limit=1)
    change = last[0] if last else None
    return {"year": year, "days": [e.as_json() for e in entries],
            "months": [{"month": m, "working_days": n} for m, n in enumerate(counts, start=1)],
            "working_days": sum(counts),
            "last_change": {"at": shapes.iso(change.at), "by": change.username, "via": change.via}
            if change else None}


@bp.get("/calendar/<int:year>")
@token_required
def calendar_year(year: int):
    return jsonify(year_json(calendar_admin.check_year(year)))


@bp.put("/calendar/<int:year>")
@token_required
@requires(access.KEEP_CALENDAR)
def calendar_replace(year: int):
    calendar_admin.check_year(year)
    body = inputs.payload()
    unknown = sorted(set(body) - {"days"})
    if unknown:
        raise Invalid("please correct the highlighted fields", {name[:60] or "(empty)": UNKNOWN_MEMBER
                                                                 for name in unknown[:10]})
    if "days" not in body:
        raise Invalid("please correct the highlighted fields", {"days": Msg("this field is required",
                                                                            code="required")})
    change = calendar_admin.replace_year(year, body["days"], api_user(), via=VIA)
    return jsonify({**year_json(year), "changed": change is not None})


_DAY = {"type": "object", "required": ["date", "working"], "properties": {
    "date": {"type": "string", "format": "date", "description": "a date in the year"},
    "working": {"type": "boolean", "description": "false: a public holiday, on a weekday; true: a make-up working "
                                                  "day (调休), on a Saturday or Sunday"},
    "name": {"type": "string", "maxLength": 60, "description": "e.g. 国庆节 National Day"}}}

SCHEMAS: dict[str, Any] = {
    "CalendarDay": _DAY,
    "CalendarMonth": {"type": "object", "required": ["month", "working_days"], "properties": {
        "month": {"type": "integer", "minimum": 1, "maximum": 12}, "working_days": {"type": "integer"}}},
    "CalendarChangeRef": {"type": "object", "required": ["at", "by", "via"], "properties": {
        "at": {"type": "string", "format": "date-time"}, "by": {**NULL_STR, "description": "null: the system (CLI)"},
        "via": {"type": "string", "enum": list(calendar_admin.VIAS)}}},
    "CalendarYear": {"type": "object", "required": ["year", "days", "months", "working_days", "last_change"],
                     "properties": {
        "year": {"type": "integer"},
        "days": {"type": "array", "items": ref("CalendarDay"),
                 "description": "the exceptions to Monday–Friday, by date; every other day follows the rule"},
        "months": {"type": "array", "items": ref("CalendarMonth"), "description": "January first"},
        "working_days": {"type": "integer", "description": "in the whole year"},
        "last_change": {"allOf": [ref("CalendarChangeRef")], "nullable": True},
        "changed": {"type": "boolean", "description": "PUT only: false when the year already read so"}}},
    "CalendarBody": {"type": "object", "required": ["days"], "additionalProperties": False, "properties": {
        "days": {"type": "array", "maxItems": calendar_admin.MAX_ENTRIES, "items": _DAY}}},
}

_YEAR = {"name": "year", "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": calendar_admin.FIRST_YEAR, "maximum": calendar_admin.LAST_YEAR}}
_RULES = ("A year's exceptions are replaced as a whole, in one transaction, and the change is kept (who, when, "
          "old and new, `via: api`). Each entry is checked: a date in that year (`out_of_range`), a holiday on a "
          "weekday (`not_a_weekday`), a make-up working day on a Saturday or Sunday (`not_a_weekend`), each date "
          "once (`duplicate`), a name of at most 60 characters (`too_long`); at most 366 entries (`too_many`). "
          "A refusal names each entry's member as `days[i].date`, `days[i].working`, `days[i].name`; nothing is "
          "written. Only the office and administrators may (else 403 `forbidden`).")

PATHS: dict[str, Any] = {
    "/api/v1/calendar/{year}": {
        "parameters": [_YEAR],
        "get": {"operationId": "getCalendarYear",
                "summary": "A year of the working-day calendar: its holidays and make-up working days, and the "
                           "working days of each month", "security": SECURED,
                "responses": {"200": json_response(ref("CalendarYear"), "The year"),
                              **errors("401", "404", "422", "429")}},
        "put": {"operationId": "replaceCalendarYear",
                "summary": "Replace a year's holidays and make-up working days (the office and administrators)",
                "description": _RULES, "security": SECURED,
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("CalendarBody")}}},
                "responses": {"200": json_response(ref("CalendarYear"), "The year as now in force"),
                              **errors("400", "401", "403", "404", "409", "422", "429")}}},
}
