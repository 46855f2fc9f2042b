"""Building blocks of the OpenAPI document: each view module describes its own operations
with these (``PATHS`` and ``SCHEMAS`` beside its views); ``openapi.spec`` puts them together."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# Every code the body's `error` may hold, and what a program may do about it (stable: never renamed).
ERROR_CODES: dict[str, str] = {
    "unauthorized": "401: no token, or a bad, revoked or expired one",
    "forbidden": "403: your roles do not open this area (administrators, auditors, designers; the calendar: the "
                 "office and administrators)",
    "no_part": "403: you have no part in this case or task",
    "may_not_start": "403: your roles may not start this process",
    "segregation_of_duties": "403: you started this case, it concerns you, or you already decided an earlier step",
    "not_a_candidate": "403: the task is not for your groups, or is assigned to someone else",
    "not_bulk": "403: the diagram does not mark this task for bulk completion",
    "own_roles": "403: nobody may change their own roles",
    "not_found": "404: no such case, task, process, setting…",
    "already_completed": "409: the task is no longer open (completed, or ended with its case)",
    "claimed_by_other": "409: someone else holds (claimed) the task",
    "changed_by_other": "409: someone else acted on the case first; nothing was saved, reload and retry",
    "assigned_directly": "409: the task is assigned to you directly: there is nothing to claim",
    "not_held": "409: you do not hold this task, so you cannot release it",
    "confirmation_required": "409: warnings to read first; send `confirm_warnings` to go on",
    "conflict": "409: another conflict (e.g. two deployments at once)",
    "invalid": "422: the data is wrong; `fields` and `field_codes` name each field",
    "refused": "422: a business rule refused the request; `figures` holds its numbers",
    "invalid_table": "422: the DMN decision table has errors; `problems` names each rule (row, id) and column",
    "process_failed": "422: the process could not run with this data (a diagram's expression failed)",
    "bad_request": "400: the request was not understood",
    "csrf": "400: (pages only) the form expired",
    "method_not_allowed": "405: this method is not allowed here",
    "request_entity_too_large": "413: the body is too large",
    "rate_limited": "429: too many requests from this token; retry after `Retry-After` seconds",
    "idempotency_key_reused": "422: this Idempotency-Key was used for another request",
    "idempotency_in_progress": "409: the first request with this Idempotency-Key is still running; retry soon",
    "busy": "503: the database is busy; nothing was saved, retry after `Retry-After`",
    "server_error": "500: a fault on our side; nothing was saved",
}

# Every code a field may have in `field_codes` (the message in `fields` says it for people).
FIELD_CODES: dict[str, str] = {
    "required": "a value is needed (also when the field's conditional requirement, `requiredWhen`, holds)",
    "file_required": "a file is needed",
    "too_long": "more characters than the field allows",
    "too_short": "fewer characters than the field needs",
    "pattern": "not in the field's format",
    "not_an_option": "not one of the field's options",
    "not_a_number": "not a number",
    "not_a_whole_number": "not a whole number",
    "too_small": "below the field's minimum",
    "too_large": "above the field's maximum",
    "number_too_large": "beyond what any number field holds (15 digits)",
    "too_many_decimals": "more decimal places than allowed (10)",
    "not_a_date": "not a date (YYYY-MM-DD)",
    "date_out_of_range": "a date before 1900 or after 2200",
    "not_yes_or_no": "not true/false (yes/no)",
    "single_value": "a list or object (or a file) where one value belongs",
    "control_characters": "holds control characters or direction overrides",
    "file_type": "a file type the field does not accept",
    "file_too_large": "larger than the field's maximum size",
    "file_empty": "an empty file",
    "file_content_mismatch": "the content is not what the file name's type says",
    "not_a_file": "not a file value ({filename, content_type, content_base64} with valid base64)",
    "unknown_field": "`data` holds a key that is no field of this form",
    "read_only": "`data` holds a field this step shows but may not change",
    "unknown_parameter": "a query parameter this operation does not take",
    "unknown_user": "no active user has this username",
    "not_found": "no such record (a unit, a user)",
    "taken": "already used by someone else (a username)",
    "separate_duties": "roles that must be given to two people",
    "wrong_parent": "a unit cannot sit there in the organisation tree",
    "too_many": "more than allowed",
    "out_of_range": "outside the allowed range",
    "wrong_type": "a value of the wrong JSON type",
    "not_an_object": "must be a JSON object",
    "not_json": "the body is not valid JSON",
    "too_deep": "the JSON body is nested too deeply",
    "not_a_weekday": "a public holiday on a Saturday or Sunday (the calendar: weekends are days off anyway)",
    "not_a_weekend": "a make-up working day on a weekday (the calendar: weekdays are working days anyway)",
    "duplicate": "the same value listed more than once (a date in a calendar year)",
    "invalid": "any other problem: read the message",
}


def _code_list(codes: dict[str, str]) -> str:
    return "; ".join(f"`{code}` ({meaning})" for code, meaning in codes.items())


ERRORS = {
    "400": json_response(ref("Error"), "The request was not understood"),
    "401": json_response(ref("Error"), "No token, or a bad, revoked or expired one"),
    "403": json_response(ref("Error"), "Not yours: `no_part`, `not_a_candidate`, `segregation_of_duties`, "
                                       "`may_not_start`, `not_bulk`, `forbidden`"),
    "404": json_response(ref("Error"), "Unknown"),
    "405": json_response(ref("Error"), "Method not allowed"),
    "409": json_response(ref("Error"), "Already done, or changed by someone else: `already_completed`, "
                                       "`claimed_by_other`, `changed_by_other`, `assigned_directly`, `not_held`"),
    "422": json_response(ref("Error"), "Invalid data; `fields` names each field, `field_codes` gives its code "
                                       "(unknown keys in `data`: `unknown_field`). `refused`: a business rule said "
                                       "no before anything was written (`figures` holds its numbers)"),
    "429": {**json_response(ref("Error"), "`rate_limited`: too many requests from this token (`API_RATE_LIMIT`, "
                                          "counted across all workers); `figures.retry_after` = `Retry-After`"),
            "headers": {"Retry-After": {"required": True, "description": "seconds until the limit lets you in again",
                                        "schema": {"type": "integer", "minimum": 1}}}},
    "503": json_response(ref("Error"), "The database is busy (`busy`); nothing was saved, retry after "
                                       "`Retry-After`"),
}


def error_codes() -> dict[str, str]:
    """The platform's error codes and those each process family declares (``Family.error_codes``)."""
    from workflows import processes

    return {**ERROR_CODES, **{k: v for f in processes.families() for k, v in f.error_codes.items()}}


def field_codes() -> dict[str, str]:
    """The platform's field codes and those each process family declares (``Family.field_codes``)."""
    from workflows import processes

    return {**FIELD_CODES, **{k: v for f in processes.families() for k, v in f.field_codes.items()}}


def errors(*codes: str) -> dict[str, Any]:
    return {code: ERRORS[code] for code in (*codes, "503")}


SECURED = [{"bearer": []}]
NULL_STR = {"type": "string", "nullable": True}
ID_PATH = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
BODY = {"required": False, "content": {"application/json": {"schema": ref("DataBody")}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string", "description": "stable code to branch on (never translated, never renamed): "
                                                   + _code_list(error_codes())},
        "message": {"type": "string", "description": "for people, in the request's language"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "field (or parameter) → message for people, in the request's language"},
        "field_codes": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "the same fields → stable code: " + _code_list(field_codes())},
        "figures": {"type": "object", "additionalProperties": True,
                    "description": "`refused` only: the figures behind the refusal (e.g. the days left)"}}},
    "DataBody": {"type": "object", "properties": {
        "data": {"type": "object", "additionalProperties": True,
                 "description": "form field id → value; a `file` field takes "
                                "{\"filename\", \"content_type\", \"content_base64\"}. A key that is no "
                                "field of the step's form is refused (422, `unknown_field`), a read-only "
                                "field too (`read_only`)"}}},
    "FileValue": {"type": "object", "required": ["filename", "content_base64"], "properties": {
        "filename": {"type": "string"}, "content_type": {"type": "string"},
        "content_base64": {"type": "string", "format": "byte"}}},
    "Option": {"type": "object", "required": ["id", "label"], "properties": {
        "id": {"type": "string"}, "label": {"type": "string"}}},
    "Constraints": {"type": "object", "additionalProperties": False, "description": (
        "What the server checks, implicit limits included (the same values its check reads), only "
        "those of the field's type. Text: the value is trimmed first; a string without maxlength in the "
        "diagram takes 500 characters, a text 4000; `pattern` (Python `re`) must match the whole value; "
        "no control characters (a multiline text keeps tab and line breaks). Numbers: within ±10^15 "
        "unless narrower; `long` whole, `decimal` with at most `max_decimal_places`. Dates: "
        "YYYY-MM-DD between `minimum` and `maximum`. Files: the extension one of `accept` and the content "
        "matching it, at most `max_size` bytes, not empty"), "properties": {
        "min_length": {"type": "integer", "nullable": True}, "max_length": {"type": "integer"},
        "pattern": {"type": "string", "nullable": True}, "multiline": {"type": "boolean"},
        "minimum": {"oneOf": [{"type": "number"}, {"type": "string", "format": "date"}]},
        "maximum": {"oneOf": [{"type": "number"}, {"type": "string", "format": "date"}]},
        "max_decimal_places": {"type": "integer"},
        "accept": {"type": "array", "items": {"type": "string"}, "description": "file extensions, with the dot"},
        "max_size": {"type": "integer", "description": "bytes"}}},
    "Condition": {"type": "object", "additionalProperties": True, "description": (
        "A requiredWhen as data: {field, op, value} with op one of ==, !=, <, <=, >, >=, in, not in "
        "(value a list), truthy (no value); or {all: [...]}, {any: [...]}, {not: {...}}"), "properties": {
        "field": {"type": "string"},
        "op": {"type": "string", "enum": ["==", "!=", "<", "<=", ">", ">=", "in", "not in", "truthy"]},
        "value": {"nullable": True}, "all": {"type": "array", "items": {"type": "object"}},
        "any": {"type": "array", "items": {"type": "object"}}, "not": {"type": "object"}}},
    "RequiredWhen": {"type": "object", "required": ["expression", "condition"], "properties": {
        "expression": {"type": "string", "description": "as the diagram writes it, over the case's data with "
                                                        "this form's values; a field with no value makes a "
                                                        "condition that cannot be evaluated false"},
        "condition": {"allOf": [ref("Condition")], "nullable": True,
                      "description": "the same as a tree, when it is a comparison of fields with constants or "
                                     "and/or/not of them; null otherwise"}}},
    "FormField": {"type": "object", "required": ["id", "label", "type", "required", "readonly", "default", "options",
                                                 "constraints", "required_when"], "properties": {
        "id": {"type": "string"}, "label": {"type": "string", "description": "in the request's language"},
        "type": {"type": "string", "enum": ["string", "text", "long", "decimal", "boolean", "date", "enum", "file"]},
        "required": {"type": "boolean"},
        "readonly": {"type": "boolean", "description": "shown, never taken from a submission"},
        "default": {**NULL_STR, "description": "the diagram's defaultValue, as written"},
        "options": {"type": "array", "items": ref("Option"),
                    "description": "labels may name the case's people (filled in on a single task)"},
        "constraints": ref("Constraints"),
        "required_when": {"allOf": [ref("RequiredWhen")], "nullable": True,
                          "description": "required only when this holds (refused with \"this field is required "
                                         "here\")"},
        "value": {"nullable": True,
                  "description": "single task only: the value this step's form starts from — what this same "
                                 "step submitted in an earlier round, else the field's default; never another "
                                 "step's answer (fields a revising step edits start from the case's data); "
                                 "a sensitive value masked unless you may act on the step or audit"}}},
    "Warning": {"type": "object", "required": ["kind", "message", "details"], "properties": {
        "kind": {"type": "string", "description": "e.g. ownership_owned, ownership_reserved"},
        "message": {"type": "string", "description": "for people, in the request's language"},
        "details": {"type": "object", "additionalProperties": True,
                    "description": "staff_name, unit, since (ISO date), registry_entry_id, case_id"},
        "link": {"type": "string", "nullable": True,
                 "description": "page of the other case, only when you may open it"}}},
}
