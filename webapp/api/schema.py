"""Building blocks of the OpenAPI document: each view module describes its own operations
with these (``PATHS`` and ``SCHEMAS`` beside its views); ``openapi.spec`` puts them together."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": json_response(ref("Error"), "The request was not understood"),
    "401": json_response(ref("Error"), "No token, or a bad, revoked or expired one"),
    "403": json_response(ref("Error"), "Not yours"),
    "404": json_response(ref("Error"), "Unknown"),
    "405": json_response(ref("Error"), "Method not allowed"),
    "409": json_response(ref("Error"), "Already done, or changed by someone else"),
    "422": json_response(ref("Error"), "Invalid data; `fields` names each field. `refused`: a business rule said "
                                       "no before anything was written (`figures` holds its numbers)"),
    "429": json_response(ref("Error"), "Too many requests"),
    "503": json_response(ref("Error"), "The database is busy (`busy`); nothing was saved, retry after "
                                       "`Retry-After`"),
}


def errors(*codes: str) -> dict[str, Any]:
    return {code: ERRORS[code] for code in (*codes, "503")}


SECURED = [{"bearer": []}]
NULL_STR = {"type": "string", "nullable": True}
ID_PATH = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
BODY = {"required": False, "content": {"application/json": {"schema": ref("DataBody")}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string", "description": "stable code: unauthorized, forbidden, not_found, conflict, "
                                                   "invalid, refused (a business rule, e.g. a start check), "
                                                   "too_many_requests, bad_request, busy, …"},
        "message": {"type": "string", "description": "for people, in the request's language"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "figures": {"type": "object", "additionalProperties": True,
                    "description": "`refused` only: the figures behind the refusal (e.g. the days left)"}}},
    "DataBody": {"type": "object", "properties": {
        "data": {"type": "object", "additionalProperties": True,
                 "description": "form field id → value; a `file` field takes "
                                "{\"filename\", \"content_type\", \"content_base64\"}"}}},
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
