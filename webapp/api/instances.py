"""Cases: one case, its history."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from workflows.cases import access, feed, reading

from ..presenter import history_rows
from ..template_helpers import bilingual, event_label
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
    """The audit trail as a feed: stable event types, usernames, field ids and stored values
    beside the labels and texts the history page shows (masked exactly as there)."""
    trail = reading.history(instance_id, api_user(), request.remote_addr)
    names = feed.usernames(ev.actor_id for ev in trail.events)
    recipients = feed.notice_recipients(trail.instance, trail.events)
    items = []
    for row in history_rows(trail.instance, trail.events, trail.whole, trail.data):
        ev = row.event
        items.append({"seq": ev.seq, "at": shapes.iso(ev.at), "type": ev.type, "type_label": event_label(ev.type),
                      "actor": ev.actor_name, "actor_username": names.get(ev.actor_id) if ev.actor_id else None,
                      "via": ev.via, "task_key": ev.task_spec,
                      "task_name": bilingual(ev.task_name) if ev.task_name else None,
                      "human_task_id": ev.human_task_id,
                      "changes": [{"field_id": c.key, "field": str(c.label), "label": str(c.label),
                                   "old": shapes.plain(c.old), "new": shapes.plain(c.new),
                                   "old_text": _text(c.shown_old), "new_text": _text(c.shown_new)}
                                  for c in row.entries],
                      "recipients": recipients.get(ev.seq) if ev.type in feed.NOTICE_EVENTS else None,
                      "comment": ev.comment, "hash": ev.hash})
    return jsonify({"instance_id": trail.instance.id, "items": items})


def _text(shown: Any) -> str | None:
    return None if shown is None else str(shown)


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
    "Change": {"type": "object", "required": ["field_id", "field", "label", "old", "new", "old_text", "new_text"],
               "properties": {
        "field_id": {"type": "string", "description": "the form field id, or a system change key (path, outcome, "
                                                      "assignee, groups, to, to_user_id, escalated_to, warnings, …)"},
        "field": {"type": "string", "description": "the label in the request's language (kept for older clients)"},
        "label": {"type": "string", "description": "the label in the request's language"},
        "old": {"nullable": True, "description": "as stored (option id, true/false, number, ISO date, a file's "
                                                 "record); a sensitive field masked unless you audit"},
        "new": {"nullable": True, "description": "as stored, masked like `old`"},
        "old_text": {**NULL_STR, "description": "as the history page shows it (option label, yes/no, names)"},
        "new_text": {**NULL_STR, "description": "as the history page shows it"}}},
    "HistoryEvent": {"type": "object", "required": ["seq", "at", "type", "type_label", "actor", "actor_username",
                                                    "via", "changes", "recipients", "hash"], "properties": {
        "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
        "type": {"type": "string", "description": "stable event type: " + ", ".join(feed.EVENT_TYPES)
                 + "; and a family's own (e.g. ownership_registered)"},
        "type_label": {"type": "string", "description": "the event type in the request's language"},
        "actor": {"type": "string", "description": "the actor's name as recorded; `system` for the engine"},
        "actor_username": {**NULL_STR, "description": "null: the system (engine, timer, job)"},
        "via": {"type": "string", "description": "web, api, timer, system, …"},
        "task_key": NULL_STR, "task_name": NULL_STR,
        "human_task_id": {"type": "integer", "nullable": True, "description": "the task the event is about"},
        "changes": {"type": "array", "items": ref("Change")},
        "recipients": {"type": "array", "nullable": True, "items": {"type": "string"},
                       "description": "notice events (notice_sent, task_escalated): usernames the notice went to; "
                                      "null for other events"},
        "comment": NULL_STR,
        "hash": {"type": "string", "description": "SHA-256 chaining this event to the previous one"}}},
    "History": {"type": "object", "required": ["instance_id", "items"], "properties": {
        "instance_id": {"type": "integer"}, "items": {"type": "array", "items": ref("HistoryEvent")}}},
}

PATHS: dict[str, Any] = {
    "/api/v1/instances/{instance_id}": {"get": {"operationId": "getInstance",
        "summary": "A case: status, data, open tasks", "security": SECURED,
        "description": "For the case's participants and auditors; the admin role gives no access (403).",
        "parameters": [{"name": "instance_id", **ID_PATH}],
        "responses": {"200": json_response(ref("Instance"), "The case"),
                      **errors("401", "403", "404", "422", "429")}}},
    "/api/v1/instances/{instance_id}/history": {"get": {"operationId": "getInstanceHistory",
        "summary": "The case's audit trail", "security": SECURED,
        "description": "For the case's participants and auditors; the admin role gives no access (403).",
        "parameters": [{"name": "instance_id", **ID_PATH}],
        "responses": {"200": json_response(ref("History"), "Events, oldest first"),
                      **errors("401", "403", "404", "422", "429")}}},
}
