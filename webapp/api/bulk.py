"""Bulk: completing many routine tasks (those the diagram marks ``bulk``) with one answer, as
the inbox's bulk bar does; one outcome per task, each task in its own transaction."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from workflows.cases import commands
from workflows.errors import Invalid, WorkflowError, field_code

from ..i18n import tr, tr_fields
from . import inputs
from .auth import api_user, token_required
from .blueprint import VIA, bp
from .idempotent import PARAMETER as IDEMPOTENCY_KEY
from .idempotent import idempotent
from .schema import SECURED, errors, json_response, ref

MAX_TASKS = 500
MAX_ID = 2**31 - 1


@bp.post("/tasks/bulk-complete")
@token_required
@idempotent
def bulk_complete():
    body = inputs.payload()
    unknown = sorted(set(body) - {"task_ids", "data"})
    if unknown:
        raise Invalid("please correct the highlighted fields", {name[:60] or "(empty)": "unknown member"
                                                                 for name in unknown})
    task_ids = _task_ids(body.get("task_ids"))
    results = commands.bulk_complete(task_ids, api_user(), inputs.data(), via=VIA, ip=request.remote_addr,
                                     known_only=True)
    items = [_outcome(task_id, refusal) for task_id, refusal in results.items()]
    done = sum(1 for item in items if item["status"] == "completed")
    return jsonify({"results": items, "completed": done, "refused": len(items) - done, "total": len(items)})


def _task_ids(value: Any) -> list[int]:
    """1..500 distinct task ids, in the order given (the answers keep it)."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_TASKS:
        raise Invalid("please correct the highlighted fields", {"task_ids": "a list of 1 to 500 task ids"})
    if any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_ID for v in value):
        raise Invalid("please correct the highlighted fields", {"task_ids": "each must be a positive whole number"})
    if len(set(value)) != len(value):
        raise Invalid("please correct the highlighted fields", {"task_ids": "each task may be listed only once"})
    return value


def _outcome(task_id: int, refusal: WorkflowError | None) -> dict[str, Any]:
    if refusal is None:
        return {"task_id": task_id, "status": "completed"}
    out: dict[str, Any] = {"task_id": task_id, "status": "refused", "error": refusal.code,
                           "message": tr(refusal.message)}
    if refusal.fields:
        out["fields"] = tr_fields(refusal)
        out["field_codes"] = {key: field_code(value) for key, value in refusal.fields.items()}
    return out


SCHEMAS: dict[str, Any] = {
    "BulkBody": {"type": "object", "required": ["task_ids"], "additionalProperties": False, "properties": {
        "task_ids": {"type": "array", "minItems": 1, "maxItems": MAX_TASKS, "uniqueItems": True,
                     "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
        "data": {"type": "object", "additionalProperties": True,
                 "description": "form field id → value, the same for every task"}}},
    "BulkOutcome": {"type": "object", "required": ["task_id", "status"], "properties": {
        "task_id": {"type": "integer"}, "status": {"type": "string", "enum": ["completed", "refused"]},
        "error": {"type": "string", "description": "refused only: the stable code a single complete would answer"},
        "message": {"type": "string", "description": "refused only: for people, in the request's language"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "field_codes": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "refused for a field: its code, as `field_codes` of an error"}}},
    "BulkResult": {"type": "object", "required": ["results", "completed", "refused", "total"], "properties": {
        "results": {"type": "array", "items": ref("BulkOutcome"),
                    "description": "one per task, in the request's order"},
        "completed": {"type": "integer"}, "refused": {"type": "integer"}, "total": {"type": "integer"}}},
}

PATHS: dict[str, Any] = {
    "/api/v1/tasks/bulk-complete": {"post": {"operationId": "bulkCompleteTasks",
        "summary": "Complete many bulk tasks with one answer",
        "description": "For tasks the diagram marks `bulk` (routine confirmations, aggregation). Each task is "
                       "completed in its own transaction under the same rules as a single complete; one refusal "
                       "undoes nothing of the others. The answer is 200 with one outcome per task, also when "
                       "some or all were refused.",
        "security": SECURED, "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("BulkBody")}}},
        "responses": {"200": json_response(ref("BulkResult"), "One outcome per task"),
                      **errors("400", "401", "409", "422", "429")}}},
}
