"""Deployed processes and starting a case."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from workflows.cases import commands, definitions
from workflows.errors import Unconfirmed

from ..i18n import tr
from . import inputs, shapes
from .auth import api_user, token_required
from .blueprint import VIA, bp
from .idempotent import PARAMETER as IDEMPOTENCY_KEY
from .idempotent import idempotent
from .schema import SECURED, errors, json_response, ref


@bp.get("/processes")
@token_required
def processes():
    return jsonify({"items": [shapes.process(d) for d in definitions.latest_all()]})


@bp.post("/processes/<key>/instances")
@token_required
@idempotent
def start(key: str):
    data = inputs.data()
    uploads = inputs.uploads(data)
    try:  # commit=False: @idempotent commits, with the key's answer
        instance = commands.start_case(key[:80], api_user(), data, via=VIA, ip=request.remote_addr,
                                       uploads=uploads, confirmed=inputs.confirmation(), known_only=True,
                                       commit=False)
    except Unconfirmed as exc:  # like the start page: the warnings, and the value that confirms them
        return jsonify({"error": exc.code, "message": tr(exc.message), "warnings": shapes.warnings(exc.alerts),
                        "confirm_warnings": exc.fingerprint}), 409
    return jsonify(shapes.instance(instance)), 201


SCHEMAS: dict[str, Any] = {
    "StartBody": {"type": "object", "properties": {
        "data": {"type": "object", "additionalProperties": True,
                 "description": "start-form field id → value; a key that is no field of the start form is "
                                "refused (422, `unknown_field`)"},
        "confirm_warnings": {"oneOf": [{"type": "string"}, {"type": "boolean"}],
                             "description": "go on despite the start warnings: the `confirm_warnings` value "
                                            "of the 409 answer (exactly those warnings), or true (any)"}}},
    "WarningsToConfirm": {"type": "object", "required": ["error", "message", "warnings", "confirm_warnings"],
                          "properties": {
        "error": {"type": "string", "enum": ["confirmation_required"]}, "message": {"type": "string"},
        "warnings": {"type": "array", "items": ref("Warning")},
        "confirm_warnings": {"type": "string", "description": "send this back to start the case anyway"}}},
    "ProcessVersion": {"type": "object", "required": ["version", "deployed_at"], "properties": {
        "version": {"type": "integer"}, "deployed_at": {"type": "string", "format": "date-time"}}},
    "Process": {"type": "object", "required": ["key", "name", "latest_version", "versions", "can_start",
                                               "start_form", "start_info"], "properties": {
        "key": {"type": "string"}, "name": {"type": "string"}, "latest_version": {"type": "integer"},
        "versions": {"type": "array", "items": ref("ProcessVersion")}, "can_start": {"type": "boolean"},
        "start_form": {"type": "array", "items": ref("FormField")},
        "start_info": {"type": "array", "items": ref("Warning"),
                       "description": "facts for the person about to start (process property `startInfo`), "
                                      "e.g. `leave_balance` with details year, limit, approved, pending, "
                                      "remaining"}}},
    "ProcessList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": ref("Process")}}},
}

PATHS: dict[str, Any] = {
    "/api/v1/processes": {"get": {"operationId": "listProcesses",
        "summary": "Deployed processes and their versions", "security": SECURED,
        "responses": {"200": json_response(ref("ProcessList"), "Processes"), **errors("401", "422", "429")}}},
    "/api/v1/processes/{key}/instances": {"post": {"operationId": "startInstance",
        "summary": "Start a case with its start-form data", "security": SECURED,
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                       IDEMPOTENCY_KEY],
        "requestBody": {"required": False, "content": {"application/json": {"schema": ref("StartBody")}}},
        "responses": {"201": json_response(ref("Instance"), "The new case"),
                      **errors("400", "401", "403", "404", "422", "429"),
                      "409": json_response({"anyOf": [ref("WarningsToConfirm"), ref("Error")]},
                                           "Warnings to read first (e.g. the client is already owned or "
                                           "reserved): nothing was started. Or `idempotency_in_progress`: "
                                           "an attempt with this Idempotency-Key still runs")}}},
}
