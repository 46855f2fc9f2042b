"""The attendance ledger in the API: the leave family's part of /api/v1 (plugged in by its page
declaration, ``Page.api``), under the ledger page's rules. HR systems read the ledger and
record absences here."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from workflows.processes.leave import absences, ledger

from ..api import inputs, shapes
from ..api.auth import api_user, token_required
from ..api.blueprint import QUERY_PARAMS, VIA, bp
from ..api.schema import NULL_STR, SECURED, errors, json_response, ref

QUERY_PARAMS["api.attendance"] = {"user", "unit", "year", "month"}
TAG = "attendance"


def _days(value: Any) -> float:
    return float(value)


def _entry(view: ledger.EntryView) -> dict[str, Any]:
    e, c = view.entry, view.cancellation
    return {"id": e.id, "user": {"username": e.user.username, "name": e.user.full_name}, "kind": e.kind,
            "start_date": e.start_date.isoformat(), "end_date": e.end_date.isoformat(), "half_day": e.half_day,
            "days": _days(e.days), "days_in_period": _days(view.days_in_period),
            "pay_deduction_days": _days(e.pay_deduction_days), "month_pay": e.month_pay, "score": _days(e.score),
            "late": e.late, "instance_id": e.instance_id, "review_id": view.review_id,
            "case_link": url_for("api.instance_detail", instance_id=e.instance_id) if e.instance_id else None,
            "recorded_by": e.recorded_by.username if e.recorded_by else None,
            "recorded_at": shapes.iso(e.recorded_at), "via": e.via, "note": e.note,
            "cancelled": None if c is None else {"reason": c.reason, "by": c.cancelled_by.username,
                                                 "at": shapes.iso(c.cancelled_at), "via": c.via}}


def _totals(t: ledger.Totals) -> dict[str, Any]:
    return {"days": {kind: _days(days) for kind, days in t.days.items()}, "total_days": _days(t.total_days),
            "pay_deduction_days": _days(t.pay_deduction_days), "month_pay_months": list(t.month_pay_months),
            "score": _days(t.score), "entries": t.entries, "cancelled": t.cancelled, "late": t.late}


def _picture(picture: ledger.MonthPicture | None) -> dict[str, Any] | None:
    if picture is None:
        return None
    return {"days": [{"date": d.day.isoformat(), "working": d.working, "weekend": d.weekend,
                      "holiday": d.holiday, "make_up": d.make_up, "name": d.name} for d in picture.days],
            "rows": [{"username": row.person.username,
                      "absent": [{"date": picture.days[i].day.isoformat(), "kind": m.kind, "half_day": m.half,
                                  "entry_id": m.entry_id} for i, marks in enumerate(row.cells) for m in marks]}
                     for row in picture.rows]}


@bp.get("/attendance")
@token_required
def attendance():
    period = ledger.parse_period(request.args.get("year"), request.args.get("month"), default_month=False)
    view = ledger.ledger_for(api_user(), user=request.args.get("user") or None,
                             unit=(request.args.get("unit") or "")[:12] or None, period=period,
                             ip=request.remote_addr, path=request.path)
    return jsonify({
        "year": period.year, "month": period.month,
        "user": view.people[0].person.username if view.unit is None else None,
        "unit": {"id": view.unit.id, "name": view.unit.name, "kind": view.unit.kind} if view.unit else None,
        "items": [_entry(v) for v in view.entries], "totals": _totals(view.totals),
        "people": [{"username": row.person.username, "name": row.person.full_name, "totals": _totals(row.totals)}
                   for row in view.people],
        "picture": _picture(view.picture)})


@bp.post("/attendance/absences")
@token_required
def record_absence():
    body = inputs.payload()
    done = absences.record_absence(api_user(), body, via=VIA, ip=request.remote_addr, path=request.path)
    started = ledger.reviews_started([e.id for e in done.entries])
    return jsonify({"items": [_entry(ledger.EntryView(e, None, e.days, started.get(e.id))) for e in done.entries],
                    "reviews": [{"id": r.id, "link": url_for("api.instance_detail", instance_id=r.id)}
                                for r in done.reviews]}), 201


@bp.post("/attendance/absences/<int:entry_id>/cancel")
@token_required
def cancel_absence(entry_id: int):
    row = absences.cancel_absence(api_user(), entry_id, inputs.payload().get("reason"), via=VIA,
                                  ip=request.remote_addr, path=request.path)
    return jsonify(_entry(ledger.EntryView(row.entry, row, row.entry.days,
                                           ledger.reviews_started([row.entry.id]).get(row.entry.id))))


_DAYS = {"type": "number", "multipleOf": 0.5}
_KIND = {"type": "string", "enum": ["personal", "sick", "work_injury", "absence"]}
_HALF = {"type": "string", "enum": ["none", "am", "pm"]}
_TOTALS_REQUIRED = ["days", "total_days", "pay_deduction_days", "month_pay_months", "score", "entries", "cancelled",
                    "late"]

SCHEMAS: dict[str, Any] = {
    "AttendanceEntry": {"type": "object", "required": [
        "id", "user", "kind", "start_date", "end_date", "half_day", "days", "days_in_period", "pay_deduction_days",
        "month_pay", "score", "late", "instance_id", "recorded_by", "recorded_at", "via", "cancelled"], "properties": {
        "id": {"type": "integer"}, "user": ref("PersonRef"), "kind": _KIND,
        "start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"},
        "half_day": _HALF, "days": {**_DAYS, "description": "working days (a half day 0.5)"},
        "days_in_period": {**_DAYS, "description": "of those, the days inside the period asked for"},
        "pay_deduction_days": {**_DAYS, "description": "days' pay the entry alone costs (personal leave: each day; "
                                                       "sick leave over 3 days: each day; an absence: 2 per half "
                                                       "day, 5 per day)"},
        "month_pay": {"type": "boolean", "description": "the month's absences reached two days with this entry or "
                                                        "before it: the month's deduction is its fixed pay"},
        "score": {"type": "number", "description": "management-score effect (第三十条), 0 or less; −2.5 for "
                                                    "half a sick day"},
        "late": {"type": "boolean", "description": "sick leave filed on or after its first day"},
        "instance_id": {"type": "integer", "nullable": True, "description": "the leave case (null: an absence)"},
        "review_id": {"type": "integer", "nullable": True,
                      "description": "the separation review this absence started (第二十九条), if it did"},
        "case_link": NULL_STR, "recorded_by": {**NULL_STR, "description": "who recorded an absence"},
        "recorded_at": {"type": "string", "format": "date-time"}, "via": {"type": "string"}, "note": NULL_STR,
        "cancelled": {"type": "object", "nullable": True, "required": ["reason", "by", "at", "via"],
                      "description": "the office withdrew this absence (it stays, outside the totals)",
                      "properties": {"reason": {"type": "string"}, "by": {"type": "string"},
                                     "at": {"type": "string", "format": "date-time"}, "via": {"type": "string"}}}}},
    "AttendanceTotals": {"type": "object", "required": _TOTALS_REQUIRED, "properties": {
        "days": {"type": "object", "description": "kind → working days in the period",
                 "additionalProperties": _DAYS},
        "total_days": _DAYS,
        "pay_deduction_days": {**_DAYS, "description": "days' pay deducted in the months that do not cost their "
                                                       "fixed pay"},
        "month_pay_months": {"type": "array", "items": {"type": "string"},
                             "description": "months (YYYY-MM) whose absences reached two days: the deduction is "
                                            "the month's fixed pay, standing for every deduction of that month"},
        "score": {"type": "number"}, "entries": {"type": "integer", "description": "in force"},
        "cancelled": {"type": "integer"}, "late": {"type": "integer"}}},
    "AttendancePicture": {"type": "object", "required": ["days", "rows"], "properties": {
        "days": {"type": "array", "items": {"type": "object", "required": ["date", "working", "weekend", "holiday",
                                                                           "make_up", "name"], "properties": {
            "date": {"type": "string", "format": "date"}, "working": {"type": "boolean"},
            "weekend": {"type": "boolean"}, "holiday": {"type": "boolean", "description": "a weekday off"},
            "make_up": {"type": "boolean", "description": "a weekend day worked (调休)"},
            "name": {"type": "string"}}}},
        "rows": {"type": "array", "items": {"type": "object", "required": ["username", "absent"], "properties": {
            "username": {"type": "string"},
            "absent": {"type": "array", "items": {"type": "object", "required": ["date", "kind", "half_day",
                                                                                 "entry_id"], "properties": {
                "date": {"type": "string", "format": "date"}, "kind": _KIND, "half_day": _HALF,
                "entry_id": {"type": "integer"}}}}}}}}},
    "AttendanceLedger": {"type": "object", "required": ["year", "month", "user", "unit", "items", "totals", "people",
                                                        "picture"], "properties": {
        "year": {"type": "integer"}, "month": {"type": "integer", "nullable": True},
        "user": {**NULL_STR, "description": "the person asked for (null for a team)"},
        "unit": {"type": "object", "nullable": True, "required": ["id", "name", "kind"], "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}}},
        "items": {"type": "array", "items": ref("AttendanceEntry"),
                  "description": "entries touching the period, by first day"},
        "totals": ref("AttendanceTotals"),
        "people": {"type": "array", "items": {"type": "object", "required": ["username", "name", "totals"],
                                              "properties": {"username": {"type": "string"},
                                                             "name": {"type": "string"},
                                                             "totals": ref("AttendanceTotals")}}},
        "picture": {"allOf": [ref("AttendancePicture")], "nullable": True,
                    "description": "a month only: each working day someone is away, by kind"}}},
    "AbsenceBody": {"type": "object", "required": ["user", "start_date"], "properties": {
        "user": {"type": "string", "description": "the absent person's username"},
        "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date",
                     "description": "for several whole working days (at most 31 calendar days); default start_date"},
        "half_day": {**_HALF, "description": "am / pm: half of start_date (end_date empty or the same)"},
        "note": {"type": "string", "maxLength": 500}}},
    "AbsenceRecorded": {"type": "object", "required": ["items", "reviews"], "properties": {
        "items": {"type": "array", "items": ref("AttendanceEntry"), "description": "one entry per calendar month"},
        "reviews": {"type": "array", "items": {"type": "object", "required": ["id", "link"], "properties": {
            "id": {"type": "integer"}, "link": {"type": "string"}}},
            "description": "the separation review this recording started (第二十九条), if it crossed a threshold"}}},
    "CancelBody": {"type": "object", "required": ["reason"], "properties": {
        "reason": {"type": "string", "maxLength": 500}}},
}

_VISIBILITY = ("The person themselves, their managers up the organisation (leaders of their unit and the units "
               "above), the office, the GM and auditors; anyone else is refused (403 `forbidden`, logged).")
_CODES = ("Field codes: `required`, `not_a_date`, `out_of_range` (last day before the first), `too_many` "
          "(more than 31 days), `not_an_option`, `invalid` (a half day over several days), `too_long`, "
          "`control_characters`, `wrong_type`, `unknown_user`; refusals (422 `refused`, nothing written): "
          "`not_a_working_day`, `future_day`, `already_covered` (approved leave or an absence in force covers "
          "that half or day; `figures.day` names it).")

PATHS: dict[str, Any] = {
    "/api/v1/attendance": {"get": {"operationId": "getAttendance",
        "summary": "The attendance ledger (考勤台账) of a person or a team, for a month or a year", "security": SECURED,
        "description": f"As on the attendance pages. {_VISIBILITY} Without `user` and `unit`: your own. An entry "
                       "that spans the period's edge counts with its working days inside (deduction and score in "
                       "proportion). Cancelled absences are listed with `cancelled` and left out of the totals.",
        "parameters": [
            {"name": "user", "in": "query", "schema": {"type": "string", "maxLength": 60},
             "description": "a person's username (422 `unknown_user` when no one has it)"},
            {"name": "unit", "in": "query", "schema": {"type": "integer", "minimum": 1},
             "description": "an organisation unit: everyone in it and below (not with `user`)"},
            {"name": "year", "in": "query", "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
             "description": "default: this year"},
            {"name": "month", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 12},
             "description": "absent: the whole year (and no picture)"}],
        "responses": {"200": json_response(ref("AttendanceLedger"), "Entries, totals and the month's picture"),
                      **errors("401", "403", "422", "429")}}},
    "/api/v1/attendance/absences": {"post": {"operationId": "recordAbsence",
        "summary": "Record an absence without approved leave (旷工, 第二十九条)", "security": SECURED,
        "description": "For the person's regional manager (else their direct superior: station manager, project "
                       "director, GM) and the office; never for oneself (403 `forbidden`, logged). A working day "
                       "that has come, not already covered. Half a day costs 2 days' pay, a day 5; when the "
                       "month's absences reach two days the entry carries `month_pay`. 3 consecutive working days "
                       "in a month, or the 5th day in a calendar year, start one separation review per threshold "
                       f"(`reviews`). {_CODES}",
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("AbsenceBody")}}},
        "responses": {"201": json_response(ref("AbsenceRecorded"), "Recorded"),
                      **errors("400", "401", "403", "422", "429")}}},
    "/api/v1/attendance/absences/{entry_id}/cancel": {"post": {"operationId": "cancelAbsence",
        "summary": "Withdraw an absence recorded in error (the office, with a reason)", "security": SECURED,
        "description": "The entry stays as written, marked cancelled, and leaves the totals; a separation review "
                       "it started runs on. Only absences (leave changes through its case): 422 `refused`; "
                       "already cancelled: 409 `already_cancelled`; not the office, or one's own: 403.",
        "parameters": [{"name": "entry_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("CancelBody")}}},
        "responses": {"200": json_response(ref("AttendanceEntry"), "The entry, cancelled"),
                      **errors("400", "401", "403", "404", "409", "422", "429")}}},
}
