"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json(_ref("Error"), "The request was not understood"),
    "401": _json(_ref("Error"), "No token, or a bad, revoked or expired one"),
    "403": _json(_ref("Error"), "Not yours"),
    "404": _json(_ref("Error"), "Unknown"),
    "405": _json(_ref("Error"), "Method not allowed"),
    "409": _json(_ref("Error"), "Already done, or changed by someone else"),
    "422": _json(_ref("Error"), "Invalid data; `fields` names each field. `refused`: a business rule said no "
                                "before anything was written (`figures` holds its numbers)"),
    "429": _json(_ref("Error"), "Too many requests"),
    "503": _json(_ref("Error"), "The database is busy (`busy`); nothing was saved, retry after `Retry-After`"),
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: ERRORS[code] for code in (*codes, "503")}


NULL_STR = {"type": "string", "nullable": True}
ID_PATH = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
BODY = {"required": False, "content": {"application/json": {"schema": _ref("DataBody")}}}

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
        "options": {"type": "array", "items": _ref("Option"),
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
    "StartBody": {"type": "object", "properties": {
        "data": {"type": "object", "additionalProperties": True, "description": "start-form field id → value"},
        "confirm_warnings": {"oneOf": [{"type": "string"}, {"type": "boolean"}],
                             "description": "go on despite the start warnings: the `confirm_warnings` value "
                                            "of the 409 answer (exactly those warnings), or true (any)"}}},
    "WarningsToConfirm": {"type": "object", "required": ["error", "message", "warnings", "confirm_warnings"],
                          "properties": {
        "error": {"type": "string", "enum": ["confirmation_required"]}, "message": {"type": "string"},
        "warnings": {"type": "array", "items": _ref("Warning")},
        "confirm_warnings": {"type": "string", "description": "send this back to start the case anyway"}}},
    "ProcessVersion": {"type": "object", "required": ["version", "deployed_at"], "properties": {
        "version": {"type": "integer"}, "deployed_at": {"type": "string", "format": "date-time"}}},
    "Process": {"type": "object", "required": ["key", "name", "latest_version", "versions", "can_start",
                                               "start_form"], "properties": {
        "key": {"type": "string"}, "name": {"type": "string"}, "latest_version": {"type": "integer"},
        "versions": {"type": "array", "items": _ref("ProcessVersion")}, "can_start": {"type": "boolean"},
        "start_form": {"type": "array", "items": _ref("FormField")}}},
    "ProcessList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": _ref("Process")}}},
    "Task": {"type": "object", "required": ["id", "name", "task_key", "state", "instance_id", "form"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "task_key": {"type": "string"},
        "state": {"type": "string", "enum": ["open", "completed", "cancelled"]},
        "instance_id": {"type": "integer"}, "case_title": {"type": "string"}, "process_key": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time", "nullable": True},
        "overdue": {"type": "boolean"}, "bulk": {"type": "boolean"},
        "form": {"type": "array", "items": _ref("FormField")},
        "data": {"type": "object", "additionalProperties": True,
                 "description": "single task only: case data, masked except the fields the step reveals "
                                "(task property `reveal`) to the one who may act on it"},
        "warnings": {"type": "array", "items": _ref("Warning"),
                     "description": "single task only: facts to decide with (task property `warnings`)"}}},
    "TaskList": {"type": "object", "required": ["items", "total", "page", "per_page"], "properties": {
        "items": {"type": "array", "items": _ref("Task")}, "total": {"type": "integer"},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
    "TaskRef": {"type": "object", "required": ["id", "name", "task_key"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "task_key": {"type": "string"}}},
    "Instance": {"type": "object", "required": ["id", "process_key", "version", "title", "status", "data",
                                                "open_tasks"], "properties": {
        "id": {"type": "integer"}, "process_key": {"type": "string"}, "version": {"type": "integer"},
        "title": {"type": "string"}, "status": {"type": "string", "enum": ["running", "completed"]},
        "outcome": NULL_STR, "started_by": NULL_STR,
        "origin": {**NULL_STR, "description": "what started the case when no person did (job:<key>, case:<id>)"},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": "string", "format": "date-time", "nullable": True},
        "data": {"type": "object", "additionalProperties": True,
                 "description": "case data; ID and phone numbers masked unless you audit"},
        "open_tasks": {"type": "array", "items": _ref("TaskRef")}}},
    "Completion": {"type": "object", "required": ["task_id", "status", "instance"], "properties": {
        "task_id": {"type": "integer"}, "status": {"type": "string", "enum": ["completed"]},
        "instance": _ref("Instance")}},
    "Change": {"type": "object", "required": ["field"], "properties": {
        "field": {"type": "string"}, "old": {"nullable": True}, "new": {"nullable": True}}},
    "HistoryEvent": {"type": "object", "required": ["seq", "at", "actor", "type", "via", "changes", "hash"],
                     "properties": {
        "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
        "type": {"type": "string"}, "via": {"type": "string"}, "task_key": NULL_STR, "task_name": NULL_STR,
        "changes": {"type": "array", "items": _ref("Change")}, "comment": NULL_STR,
        "hash": {"type": "string", "description": "SHA-256 chaining this event to the previous one"}}},
    "SettingChange": {"type": "object", "required": ["at", "old", "new", "via"], "properties": {
        "at": {"type": "string", "format": "date-time"}, "by": NULL_STR,
        "old": {**NULL_STR, "description": "null: the declared default was in force"}, "new": {"type": "string"},
        "via": {"type": "string"}}},
    "Setting": {"type": "object", "required": ["key", "family", "label", "type", "value", "default", "is_default"],
                "properties": {
        "key": {"type": "string", "description": "<family>.<name>"}, "family": {"type": "string"},
        "label": {"type": "string"},
        "type": {"type": "string", "enum": ["long", "decimal", "boolean", "string", "enum"]},
        "value": {"nullable": True}, "default": {"nullable": True}, "is_default": {"type": "boolean"},
        "updated_at": {"type": "string", "format": "date-time", "nullable": True}, "updated_by": NULL_STR,
        "history": {"type": "array", "items": _ref("SettingChange"), "description": "newest first"}}},
    "SettingList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": _ref("Setting")}}},
    "SettingBody": {"type": "object", "required": ["value"], "properties": {
        "value": {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}}},
    "History": {"type": "object", "required": ["instance_id", "items"], "properties": {
        "instance_id": {"type": "integer"}, "items": {"type": "array", "items": _ref("HistoryEvent")}}},
}


def spec(server: str) -> dict[str, Any]:
    secured = [{"bearer": []}]
    task_op = {"parameters": [{"name": "task_id", **ID_PATH}], "security": secured}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Branch approvals API", "version": "1.0",
                 "description": "Token-authenticated access to processes, tasks and cases. Tokens are issued on "
                                "the profile page or with `flask tokens issue`. Actions go through the same rules "
                                "and audit trail as the web pages, marked `via: api`."},
        "servers": [{"url": server}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": SCHEMAS},
        "paths": {
            "/api/v1/processes": {"get": {
                "summary": "Deployed processes and their versions", "security": secured,
                "responses": {"200": _json(_ref("ProcessList"), "Processes"), **_errors("401", "422", "429")}}},
            "/api/v1/processes/{key}/instances": {"post": {
                "summary": "Start a case with its start-form data", "security": secured,
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": _ref("StartBody")}}},
                "responses": {"201": _json(_ref("Instance"), "The new case"),
                              **_errors("400", "401", "403", "404", "422", "429"),
                              "409": _json(_ref("WarningsToConfirm"),
                                           "Warnings to read first (e.g. the client is already owned or "
                                           "reserved): nothing was started")}}},
            "/api/v1/tasks": {"get": {
                "summary": "My tasks and my groups' tasks", "security": secured,
                "parameters": [
                    {"name": "view", "in": "query", "schema": {"type": "string",
                                                              "enum": ["mine", "groups", "escalated", "done"]}},
                    {"name": "process", "in": "query", "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
                    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                  "maximum": 200}}],
                "responses": {"200": _json(_ref("TaskList"), "A page of tasks"),
                              **_errors("401", "422", "429")}}},
            "/api/v1/tasks/{task_id}": {"get": {
                **task_op, "summary": "One task with its form",
                "responses": {"200": _json(_ref("Task"), "The task"), **_errors("401", "403", "404", "422", "429")}}},
            "/api/v1/tasks/{task_id}/claim": {"post": {
                **task_op, "summary": "Claim a group task",
                "responses": {"200": _json(_ref("Task"), "Claimed"),
                              **_errors("401", "403", "404", "409", "422", "429")}}},
            "/api/v1/tasks/{task_id}/release": {"post": {
                **task_op, "summary": "Give a claimed task back to the group",
                "responses": {"200": _json(_ref("Task"), "Released"),
                              **_errors("401", "403", "404", "409", "422", "429")}}},
            "/api/v1/tasks/{task_id}/complete": {"post": {
                **task_op, "summary": "Complete a task with its form data", "requestBody": BODY,
                "responses": {"200": _json(_ref("Completion"), "Completed"),
                              **_errors("400", "401", "403", "404", "409", "422", "429")}}},
            "/api/v1/instances/{instance_id}": {"get": {
                "summary": "A case: status, data, open tasks", "security": secured,
                "description": "For the case's participants and auditors; the admin role gives no access (403).",
                "parameters": [{"name": "instance_id", **ID_PATH}],
                "responses": {"200": _json(_ref("Instance"), "The case"),
                              **_errors("401", "403", "404", "422", "429")}}},
            "/api/v1/instances/{instance_id}/history": {"get": {
                "summary": "The case's audit trail", "security": secured,
                "description": "For the case's participants and auditors; the admin role gives no access (403).",
                "parameters": [{"name": "instance_id", **ID_PATH}],
                "responses": {"200": _json(_ref("History"), "Events, oldest first"),
                              **_errors("401", "403", "404", "422", "429")}}},
            "/api/v1/settings": {"get": {
                "summary": "Every family's settings (administrators only)", "security": secured,
                "responses": {"200": _json(_ref("SettingList"), "Settings"), **_errors("401", "403", "422", "429")}}},
            "/api/v1/settings/{key}": {
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {"summary": "One setting with its change history (administrators only)", "security": secured,
                        "responses": {"200": _json(_ref("Setting"), "The setting"),
                                      **_errors("401", "403", "404", "422", "429")}},
                "put": {"summary": "Change a setting; the change is kept with who and when (administrators only)",
                        "security": secured,
                        "requestBody": {"required": True, "content": {"application/json": {
                            "schema": _ref("SettingBody")}}},
                        "responses": {"200": _json(_ref("Setting"), "The setting as now in force"),
                                      **_errors("400", "401", "403", "404", "422", "429")}}},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {
                    "schema": {"type": "object"}}}}}}},
            "/api/v1/docs": {"get": {
                "summary": "Browsable documentation", "security": [],
                "responses": {"200": {"description": "HTML", "content": {"text/html": {
                    "schema": {"type": "string"}}}}}}},
        },
    }
