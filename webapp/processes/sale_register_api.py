"""The sale register in the API (/api/v1/sales): the register page's rows, filters and rules."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from workflows.processes.sale import register_list
from workflows.processes.sale.register import STATUSES, masked_name

from ..api import shapes
from ..api.auth import api_user, token_required
from ..api.blueprint import QUERY_PARAMS, bp
from ..api.listing import PAGE_PARAMS, date_param, page_json, page_schema
from ..api.schema import ID_PATH, NULL_STR, SECURED, errors, json_response, ref
from ..template_helpers import mask

QUERY_PARAMS["api.sales"] = {"from", "to", "outcome", "status", "advisor", "product", "page", "per_page"}
TAG = "sales"
_OUTCOMES = list(register_list.OUTCOMES)


def _person(user: Any) -> dict[str, str] | None:
    return None if user is None else {"username": user.username, "name": user.full_name}


def sale(row: Any) -> dict[str, Any]:
    """One register row as the API gives it (the customer masked)."""
    return {
        "id": row.id, "instance_id": row.instance_id,
        "case_link": url_for("api.instance_detail", instance_id=row.instance_id),
        "customer": {"name": masked_name(row.customer.name), "id_number": mask(row.customer.id_number, "id")},
        "product": {"code": row.product.code, "name": row.product.name, "risk_rating": row.product.risk_rating,
                    "term_months": row.product.term_months},
        "amount": str(row.amount), "purpose": row.purpose, "horizon_months": row.horizon_months,
        "outcome": row.outcome, "status": row.status, "reason": row.refusal_reason,
        "decision": {"key": row.decision_key, "version": row.decision_version, "rule": row.decision_rule,
                     "row": row.decision_row, "inputs": row.decision_inputs or {}},
        "suitable_products": list(row.suitable_products or []),
        "term_warning": row.term_warning, "disclosure": row.disclosure, "customer_confirmed": row.customer_confirmed,
        "declaration_text": row.declaration_text, "declaration_attachment_id": row.declaration_attachment_id,
        "advisor": _person(row.advisor), "witness": _person(row.witness), "witness_warning": row.witness_warning,
        "witness_statement": row.witness_statement, "witnessed_at": shapes.iso(row.witnessed_at),
        "declined_reason": row.declined_reason, "recording_ref": row.recording_ref,
        "started_at": shapes.iso(row.started_at), "finished_at": shapes.iso(row.finished_at),
    }


@bp.get("/sales")
@token_required
def sales():
    f = register_list.parse_filter(request.args)
    rows, total = register_list.register_page(api_user(), f, request.remote_addr, request.path)
    return jsonify(page_json([sale(r) for r in rows], total, f.page, f.per_page))


@bp.get("/sales/<int:record_id>")
@token_required
def sale_detail(record_id: int):
    return jsonify(sale(register_list.record_for(api_user(), record_id, request.remote_addr)))


_PERSON = {"type": "object", "nullable": True, "required": ["username", "name"],
           "properties": {"username": {"type": "string"}, "name": {"type": "string"}}}
_TEXT = NULL_STR

SCHEMAS: dict[str, Any] = {
    "SaleRecord": {"type": "object", "required": [
        "id", "instance_id", "customer", "product", "amount", "purpose", "outcome", "status", "reason", "decision",
        "advisor", "started_at", "finished_at"], "properties": {
        "id": {"type": "integer"}, "instance_id": {"type": "integer"}, "case_link": {"type": "string"},
        "customer": {"type": "object", "required": ["name", "id_number"], "description": "masked for every reader",
                     "properties": {"name": {"type": "string"}, "id_number": {"type": "string"}}},
        "product": {"type": "object", "required": ["code", "name", "risk_rating", "term_months"], "properties": {
            "code": {"type": "string"}, "name": {"type": "string"},
            "risk_rating": {"type": "integer", "minimum": 1, "maximum": 5}, "term_months": {"type": "integer"}}},
        "amount": {"type": "string", "description": "yuan, a decimal as text"},
        "purpose": {"type": "string", "enum": list(register_list.PURPOSES)},
        "horizon_months": {"type": "integer", "nullable": True},
        "outcome": {"type": "string", "enum": _OUTCOMES, "description": "what the suitability table decided"},
        "status": {"type": "string", "enum": list(STATUSES),
                   "description": "completed; refused (by the table); declined (by the witness)"},
        "reason": {**NULL_STR, "description": "the table's reason code (e.g. elderly_high_risk, above_assessment)"},
        "decision": {"type": "object", "required": ["key", "version", "rule", "row", "inputs"],
                     "description": "the DMN rule that fired, in the table version the case's process version pins",
                     "properties": {"key": NULL_STR, "version": {"type": "integer", "nullable": True},
                                    "rule": NULL_STR, "row": {"type": "integer", "nullable": True},
                                    "inputs": {"type": "object", "additionalProperties": True}}},
        "suitable_products": {"type": "array", "items": {"type": "string"},
                              "description": "codes of the active products the same table did not refuse"},
        "term_warning": _TEXT, "disclosure": _TEXT, "customer_confirmed": {"type": "boolean", "nullable": True},
        "declaration_text": _TEXT, "declaration_attachment_id": {"type": "integer", "nullable": True},
        "advisor": _PERSON, "witness": _PERSON, "witness_warning": _TEXT, "witness_statement": _TEXT,
        "witnessed_at": {"type": "string", "format": "date-time", "nullable": True}, "declined_reason": _TEXT,
        "recording_ref": {**NULL_STR, "description": "the double-recording (双录) reference of a witnessed or "
                                                      "declared sale"},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time"}}},
    "SalePage": page_schema("SaleRecord"),
}

_ACCESS = ("The retail head, the GM and auditors read every sale; an advisor reads their own; anyone else is "
           "refused (403, in the security log).")

PATHS: dict[str, Any] = {
    "/api/v1/sales": {"get": {"operationId": "listSales", "tags": [TAG], "summary": "The sale register",
        "description": "Finished high-risk sales, newest first. " + _ACCESS, "security": SECURED,
        "parameters": [date_param("from", "finished on or after this day"),
                       date_param("to", "finished on or before this day"),
                       {"name": "outcome", "in": "query", "schema": {"type": "string", "enum": _OUTCOMES}},
                       {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(STATUSES)}},
                       {"name": "advisor", "in": "query", "description": "the advisor's username",
                        "schema": {"type": "string", "maxLength": 50}},
                       {"name": "product", "in": "query", "description": "a product code",
                        "schema": {"type": "string", "maxLength": 40}}, *PAGE_PARAMS],
        "responses": {"200": json_response(ref("SalePage"), "A page of register rows"),
                      **errors("401", "403", "422", "429")}}},
    "/api/v1/sales/{record_id}": {"get": {"operationId": "getSale", "tags": [TAG], "summary": "One register row",
        "description": _ACCESS + " Another advisor's sale is refused (403, no_part).", "security": SECURED,
        "parameters": [{"name": "record_id", **ID_PATH}],
        "responses": {"200": json_response(ref("SaleRecord"), "The register row"),
                      **errors("401", "403", "404", "422", "429")}}},
}
