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
    "429": {**json_response(ref("Error"), "`rate_limited`: too many requests from this token (`API_RATE_LIMIT`, "
                                          "counted across all workers); `figures.retry_after` = `Retry-After`"),
            "headers": {"Retry-After": {"required": True, "description": "seconds until the limit lets you in again",
                                        "schema": {"type": "integer", "minimum": 1}}}},
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
    "FormField": {"type": "object", "required": ["id", "label", "type", "required", "options"], "properties": {
        "id": {"type": "string"}, "label": {"type": "string"},
        "type": {"type": "string", "enum": ["string", "text", "long", "decimal", "boolean", "date", "enum", "file"]},
        "required": {"type": "boolean"},
        "options": {"type": "array", "items": ref("Option"),
                    "description": "labels may name the case's people (filled in on a single task)"},
        "value": {"nullable": True,
                  "description": "single task only: the value this step's form starts from — what this same "
                                 "step submitted in an earlier round, else the field's default; never another "
                                 "step's answer (fields a revising step edits start from the case's data)"}}},
    "Warning": {"type": "object", "required": ["kind", "message", "details"], "properties": {
        "kind": {"type": "string", "description": "e.g. ownership_owned, ownership_reserved"},
        "message": {"type": "string", "description": "for people, in the request's language"},
        "details": {"type": "object", "additionalProperties": True,
                    "description": "staff_name, unit, since (ISO date), registry_entry_id, case_id"},
        "link": {"type": "string", "nullable": True,
                 "description": "page of the other case, only when you may open it"}}},
}
