"""Cases: one case, its history."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from workflows.cases import access, reading

from ..presenter import history_rows
from ..template_helpers import bilingual
from . import shapes
from .auth import api_user, token_required
from .blueprint import bp
from .schema import ID_PATH, NULL_STR, SECURED, errors, json_response, ref


@bp.get("/instances/<int:instance_id>")
@token_required
def instance_detail(instance_id: int):
    return jsonify(shapes.instance(access.case_for(api_user(), instance_id, request.remote_addr)))


@bp.get("/instances/<int:instance_id>/history")
@token_required
def history(instance_id: int):
    trail = reading.history(instance_id, api_user(), request.remote_addr)
    items = []
    for row in history_rows(trail.instance, trail.events, trail.whole, trail.data):
        ev = row.event
        items.append({"seq": ev.seq, "at": shapes.iso(ev.at), "actor": ev.actor_name, "type": ev.type,
                      "via": ev.via, "task_key": ev.task_spec,
                      "task_name": bilingual(ev.task_name) if ev.task_name else None,
                      "changes": [{"field": str(label), "old": shapes.plain(old), "new": shapes.plain(new)}
                                  for label, old, new in row.changes],
                      "comment": ev.comment, "hash": ev.hash})
    return jsonify({"instance_id": trail.instance.id, "items": items})


SCHEMAS: dict[str, Any] = {
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
        "open_tasks": {"type": "array", "items": ref("TaskRef")}}},
    "Change": {"type": "object", "required": ["field"], "properties": {
        "field": {"type": "string"}, "old": {"nullable": True}, "new": {"nullable": True}}},
    "HistoryEvent": {"type": "object", "required": ["seq", "at", "actor", "type", "via", "changes", "hash"],
                     "properties": {
        "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
        "type": {"type": "string"}, "via": {"type": "string"}, "task_key": NULL_STR, "task_name": NULL_STR,
        "changes": {"type": "array", "items": ref("Change")}, "comment": NULL_STR,
        "hash": {"type": "string", "description": "SHA-256 chaining this event to the previous one"}}},
    "History": {"type": "object", "required": ["instance_id", "items"], "properties": {
        "instance_id": {"type": "integer"}, "items": {"type": "array", "items": ref("HistoryEvent")}}},
}

PATHS: dict[str, Any] = {
    "/api/v1/instances/{instance_id}": {"get": {
        "summary": "A case: status, data, open tasks", "security": SECURED,
        "description": "For the case's participants and auditors; the admin role gives no access (403).",
        "parameters": [{"name": "instance_id", **ID_PATH}],
        "responses": {"200": json_response(ref("Instance"), "The case"),
                      **errors("401", "403", "404", "422", "429")}}},
    "/api/v1/instances/{instance_id}/history": {"get": {
        "summary": "The case's audit trail", "security": SECURED,
        "description": "For the case's participants and auditors; the admin role gives no access (403).",
        "parameters": [{"name": "instance_id", **ID_PATH}],
        "responses": {"200": json_response(ref("History"), "Events, oldest first"),
                      **errors("401", "403", "404", "422", "429")}}},
}
