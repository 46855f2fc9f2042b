"""Tasks: the inbox, one task with its form, claim, release, complete."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from workflows.cases import commands, inbox, reading
from workflows.cases.forms import NOT_AN_OPTION
from workflows.errors import Invalid

from . import inputs, shapes
from .auth import api_user, token_required
from .blueprint import QUERY_PARAMS, VIA, bp
from .idempotent import PARAMETER as IDEMPOTENCY_KEY
from .idempotent import idempotent
from .schema import BODY, ID_PATH, NULL_STR, SECURED, errors, json_response, ref

QUERY_PARAMS["api.task_list"] = {"view", "process", "q", "overdue", "page", "per_page"}


@bp.get("/tasks")
@token_required
def task_list():
    view = request.args.get("view", "mine")
    if view not in ("mine", "groups", "escalated", "done"):
        raise Invalid("please correct the highlighted fields", {"view": NOT_AN_OPTION})
    f = inbox.InboxFilter(view=view, process_key=(request.args.get("process") or None),
                          overdue=inputs.bool_arg("overdue"), text=(request.args.get("q") or "")[:50] or None,
                          page=inputs.int_arg("page", 1, 1, 100_000),
                          per_page=inputs.int_arg("per_page", 50, 1, inputs.MAX_PER_PAGE))
    rows, total = inbox.tasks(api_user(), f)  # each row carries its case's title, process and version
    forms: dict[tuple[int, str], list[dict]] = {}
    return jsonify({"items": [shapes.task(r, None, forms) for r in rows], "total": total,
                    "page": f.page, "per_page": f.per_page})


@bp.get("/tasks/<int:task_id>")
@token_required
def task_detail(task_id: int):
    return jsonify(shapes.task_detail(reading.task_view(task_id, api_user(), request.remote_addr,
                                                        with_history=False)))


@bp.post("/tasks/<int:task_id>/claim")
@token_required
def claim(task_id: int):
    task = commands.claim(task_id, api_user(), via=VIA, ip=request.remote_addr)
    return jsonify(shapes.task(task, task.instance))


@bp.post("/tasks/<int:task_id>/release")
@token_required
def release(task_id: int):
    task = commands.release(task_id, api_user(), via=VIA, ip=request.remote_addr)
    return jsonify(shapes.task(task, task.instance))


@bp.post("/tasks/<int:task_id>/complete")
@token_required
@idempotent
def complete(task_id: int):
    data = inputs.data()
    uploads = inputs.uploads(data)
    done = commands.complete_task(task_id, api_user(), data, via=VIA, ip=request.remote_addr, uploads=uploads,
                                   known_only=True, commit=False)  # @idempotent commits, with the key's answer
    return jsonify({"task_id": done.task_id, "status": "completed",
                    "instance": shapes.instance(reading.case(done.instance_id))})


SCHEMAS: dict[str, Any] = {
    "Task": {"type": "object", "required": ["id", "name", "task_key", "state", "instance_id", "form"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "task_key": {"type": "string"},
        "state": {"type": "string", "enum": ["open", "completed", "cancelled"]},
        "instance_id": {"type": "integer"}, "case_title": {"type": "string"}, "process_key": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time", "nullable": True},
        "overdue": {"type": "boolean"}, "bulk": {"type": "boolean"},
        "form": {"type": "array", "items": ref("FormField")},
        "data": {"type": "object", "additionalProperties": True,
                 "description": "single task only: case data, masked except the fields the step reveals "
                                "(task property `reveal`) to the one who may act on it"},
        "warnings": {"type": "array", "items": ref("Warning"),
                     "description": "single task only: facts to decide with (task property `warnings`)"},
        "context": ref("TaskContext")}},
    "CandidateGroup": {"type": "object", "required": ["role", "role_name", "unit_id", "unit_name"], "properties": {
        "role": {"type": "string"}, "role_name": {"type": "string"},
        "unit_id": {"type": "integer", "nullable": True, "description": "the unit the group is limited to"},
        "unit_name": NULL_STR}},
    "SummaryField": {"type": "object", "required": ["id", "label", "value"], "properties": {
        "id": {"type": "string"}, "label": {"type": "string"},
        "value": {"nullable": True, "description": "as stored; masked as the case data is"}}},
    "TaskContext": {"type": "object", "description": "single task only: what the step is about and who holds it",
                    "required": ["case_id", "case_title", "process_key", "process_name", "version", "started_by",
                                 "summary", "assigned_to", "claimed_by", "candidate_groups", "may_act",
                                 "created_at", "due_at"], "properties": {
        "case_id": {"type": "integer"}, "case_title": {"type": "string"}, "process_key": {"type": "string"},
        "process_name": {"type": "string"}, "version": {"type": "integer"},
        "started_by": {"allOf": [ref("PersonRef")], "nullable": True, "description": "null: the system"},
        "summary": {"type": "array", "items": ref("SummaryField"),
                    "description": "the process's summary fields (property `summaryFields`), in order"},
        "assigned_to": {"allOf": [ref("PersonRef")], "nullable": True},
        "claimed_by": {"allOf": [ref("PersonRef")], "nullable": True},
        "candidate_groups": {"type": "array", "items": ref("CandidateGroup")},
        "may_act": {"type": "boolean", "description": "you may complete it now (claiming it first if a group's)"},
        "created_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time", "nullable": True},
        "escalated_to": {"allOf": [ref("PersonRef")], "nullable": True},
        "completed_by": {"allOf": [ref("PersonRef")], "nullable": True},
        "completed_at": {"type": "string", "format": "date-time", "nullable": True}}},
    "TaskList": {"type": "object", "required": ["items", "total", "page", "per_page"], "properties": {
        "items": {"type": "array", "items": ref("Task")}, "total": {"type": "integer"},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
    "Completion": {"type": "object", "required": ["task_id", "status", "instance"], "properties": {
        "task_id": {"type": "integer"}, "status": {"type": "string", "enum": ["completed"]},
        "instance": ref("Instance")}},
}

_TASK_OP = {"parameters": [{"name": "task_id", **ID_PATH}], "security": SECURED}

PATHS: dict[str, Any] = {
    "/api/v1/tasks": {"get": {"operationId": "listTasks",
        "summary": "My tasks and my groups' tasks", "security": SECURED,
        "parameters": [
            {"name": "view", "in": "query", "schema": {"type": "string",
                                                      "enum": ["mine", "groups", "escalated", "done"]}},
            {"name": "process", "in": "query", "schema": {"type": "string"}},
            {"name": "q", "in": "query", "schema": {"type": "string"}},
            {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
            {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
        "responses": {"200": json_response(ref("TaskList"), "A page of tasks"), **errors("401", "422", "429")}}},
    "/api/v1/tasks/{task_id}": {"get": {"operationId": "getTask",
        **_TASK_OP, "summary": "One task with its form",
        "responses": {"200": json_response(ref("Task"), "The task"),
                      **errors("401", "403", "404", "422", "429")}}},
    "/api/v1/tasks/{task_id}/claim": {"post": {"operationId": "claimTask",
        **_TASK_OP, "summary": "Claim a group task",
        "responses": {"200": json_response(ref("Task"), "Claimed"),
                      **errors("401", "403", "404", "409", "422", "429")}}},
    "/api/v1/tasks/{task_id}/release": {"post": {"operationId": "releaseTask",
        **_TASK_OP, "summary": "Give a claimed task back to the group",
        "responses": {"200": json_response(ref("Task"), "Released"),
                      **errors("401", "403", "404", "409", "422", "429")}}},
    "/api/v1/tasks/{task_id}/complete": {"post": {"operationId": "completeTask",
        **_TASK_OP, "summary": "Complete a task with its form data", "requestBody": BODY,
        "parameters": [*_TASK_OP["parameters"], IDEMPOTENCY_KEY],
        "responses": {"200": json_response(ref("Completion"), "Completed"),
                      **errors("400", "401", "403", "404", "409", "422", "429")}}},
}
