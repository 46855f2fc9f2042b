"""The client registry in the API (``GET /api/v1/registry``): the ownership family's own part of
/api/v1, plugged in by its page declaration (``Page.api``), under the registry page's rules."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from workflows.processes.ownership.reading import registry_entries

from ..api import inputs, listing, shapes
from ..api.auth import api_user, token_required
from ..api.blueprint import QUERY_PARAMS, bp
from ..api.schema import NULL_STR, SECURED, errors, json_response, ref
from ..template_helpers import mask

QUERY_PARAMS["api.registry"] = {"staff", "client_id_number", "include_superseded", "page", "per_page"}


def _entry(e: Any, whole: bool) -> dict[str, Any]:
    return {"id": e.id, "client_name": e.client_name,
            "client_id_number": e.client_id_number if whole else mask(e.client_id_number, "id"),
            "institutional": e.institutional, "account_no": e.account_no,
            "staff": {"username": e.staff.username, "name": e.staff.full_name},
            "effective_date": e.effective_date.isoformat(), "status": e.status, "archive_ref": e.archive_ref,
            "instance_id": e.instance_id, "recorded_at": shapes.iso(e.recorded_at), "note": e.note,
            "case_link": url_for("api.instance_detail", instance_id=e.instance_id) if e.instance_id else None}


@bp.get("/registry")
@token_required
def registry():
    page, per_page = inputs.int_arg("page", 1, 1, 100_000), inputs.int_arg("per_page", 50, 1, inputs.MAX_PER_PAGE)
    found = registry_entries(api_user(), staff=listing.text_arg("staff", 60),
                             client_id_number=listing.text_arg("client_id_number", 40),
                             include_superseded=inputs.bool_arg("include_superseded"), page=page,
                             per_page=per_page, ip=request.remote_addr, path=request.path)
    items = []
    for row in found.entries:
        item = _entry(row.entry, found.whole)
        item["previous_owners"] = ([_entry(e, found.whole) for e in row.previous] if row.previous is not None
                                   else None)
        items.append(item)
    return jsonify(listing.page_json(items, found.total, page, per_page))


_ENTRY_PROPS: dict[str, Any] = {
    "id": {"type": "integer"}, "client_name": {"type": "string"},
    "client_id_number": {"type": "string", "description": "masked unless you audit"},
    "institutional": {"type": "boolean"}, "account_no": NULL_STR, "staff": ref("PersonRef"),
    "effective_date": {"type": "string", "format": "date"},
    "status": {"type": "string", "description": "active, or superseded (a later case gave the client to "
                                                "another owner; `note` names it)"},
    "archive_ref": NULL_STR, "instance_id": {"type": "integer", "nullable": True,
                                             "description": "the case that registered it"},
    "recorded_at": {"type": "string", "format": "date-time"}, "note": NULL_STR,
    "case_link": {**NULL_STR, "description": "the case in the API (opened under the case rules)"}}
_ENTRY_REQUIRED = ["id", "client_name", "client_id_number", "staff", "effective_date", "status"]

SCHEMAS: dict[str, Any] = {
    "RegistryOwner": {"type": "object", "required": _ENTRY_REQUIRED, "properties": _ENTRY_PROPS},
    "RegistryEntry": {"type": "object", "required": [*_ENTRY_REQUIRED, "previous_owners"], "properties": {
        **_ENTRY_PROPS,
        "previous_owners": {"type": "array", "nullable": True, "items": ref("RegistryOwner"),
                            "description": "the client's earlier entries, oldest first, whose owners this one "
                                           "superseded; registry readers only (null for a staff member)"}}},
    "RegistryPage": listing.page_schema("RegistryEntry"),
}

TAG = "client registry"  # its group in the API documentation

PATHS: dict[str, Any] = {
    "/api/v1/registry": {"get": {"operationId": "listRegistryEntries",
        "summary": "The client registry (客户归属): who owns which client, and the owners before", "security": SECURED,
        "description": "As on the registry page: its readers (trading and finance managers, the GM, auditors, "
                       "project directors, support) see every entry; a staff member sees their own clients only; "
                       "anyone else is refused (403, logged). ID numbers are masked unless you audit.",
        "parameters": [
            {"name": "staff", "in": "query", "schema": {"type": "string"}, "description": "owner's username"},
            {"name": "client_id_number", "in": "query", "schema": {"type": "string"},
             "description": "the client's whole ID number (spaces and case do not matter); a part finds nothing"},
            {"name": "include_superseded", "in": "query", "schema": {"type": "boolean"},
             "description": "also list entries a later case superseded (default: only the owners now)"},
            *listing.PAGE_PARAMS],
        "responses": {"200": json_response(ref("RegistryPage"), "A page of entries, by client ID number"),
                      **errors("401", "403", "422", "429")}}},
}
