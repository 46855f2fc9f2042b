"""Forms a client can render and check: one process with its start form, and any form
(a process's start form, a task's form) as JSON Schema."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from workflows.cases import definitions, reading

from ..template_helpers import bilingual, label_context
from . import form_schema, shapes
from .auth import api_user, token_required
from .blueprint import bp
from .schema import ID_PATH, SECURED, errors, json_response, ref


@bp.get("/processes/<key>")
@token_required
def process_detail(key: str):
    return jsonify(shapes.process(definitions.latest(key[:80])))


@bp.get("/processes/<key>/form-schema")
@token_required
def start_form_schema(key: str):
    d = definitions.latest(key[:80])
    built = definitions.built_for(d)
    return jsonify(form_schema.form_schema(built.meta.start_form, bilingual(d.name)))


@bp.get("/tasks/<int:task_id>/form-schema")
@token_required
def task_form_schema(task_id: int):
    view = reading.task_view(task_id, api_user(), request.remote_addr, with_history=False)
    ctx = label_context(view.task.instance, view.data)
    return jsonify(form_schema.form_schema(view.meta.form, bilingual(view.task.name), ctx))


SCHEMAS: dict[str, Any] = {
    "JsonSchema": {"type": "object", "additionalProperties": True, "required": ["$schema", "type", "properties"],
                   "description": "JSON Schema draft 2020-12 of a form: each field with its constraints "
                                  "(pattern anchored, minLength/maxLength, minimum/maximum, enum options as "
                                  "oneOf const/title, files as {filename, content_type, content_base64} with "
                                  "x-accept and x-maxSize), `required`, and each requiredWhen as if/then. The "
                                  "server's check stays the authority (it trims values, reads \"300000\" as a "
                                  "number, and evaluates requiredWhen over the case's data too)",
                   "properties": {"$schema": {"type": "string"}, "title": {"type": "string"},
                                  "type": {"type": "string", "enum": ["object"]},
                                  "properties": {"type": "object", "additionalProperties": True},
                                  "required": {"type": "array", "items": {"type": "string"}}}},
}

_KEY = [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}]

PATHS: dict[str, Any] = {
    "/api/v1/processes/{key}": {"get": {"operationId": "getProcess",
        "summary": "One process (its latest version) with its start form", "security": SECURED,
        "parameters": _KEY,
        "responses": {"200": json_response(ref("Process"), "The process"),
                      **errors("401", "404", "422", "429")}}},
    "/api/v1/processes/{key}/form-schema": {"get": {"operationId": "getStartFormSchema",
        "summary": "The start form as JSON Schema", "security": SECURED, "parameters": _KEY,
        "responses": {"200": json_response(ref("JsonSchema"), "JSON Schema of the start form"),
                      **errors("401", "404", "422", "429")}}},
    "/api/v1/tasks/{task_id}/form-schema": {"get": {"operationId": "getTaskFormSchema",
        "summary": "A task's form as JSON Schema", "security": SECURED,
        "parameters": [{"name": "task_id", **ID_PATH}],
        "responses": {"200": json_response(ref("JsonSchema"), "JSON Schema of the task's form"),
                      **errors("401", "403", "404", "422", "429")}}},
}
