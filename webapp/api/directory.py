"""People and the organisation tree, as far as the caller may see them (as on the pages)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from workflows.branch import directory

from ..template_helpers import role_name, unit_kind
from . import inputs, listing
from .auth import api_user, token_required
from .blueprint import QUERY_PARAMS, bp
from .schema import SECURED, errors, json_response, ref

QUERY_PARAMS["api.people"] = {"username", "active"}

_RULE = ("Administrators see everyone and the whole tree (as on the users and organisation pages); anyone else "
         "sees what their profile shows: themselves, and the units from the branch down to their own.")


def _person(u: Any) -> dict[str, Any]:
    return {"username": u.username, "name": u.full_name, "active": u.active,
            "unit": {"id": u.unit.id, "name": u.unit.name} if u.unit else None,
            "roles": [{"key": r, "name": role_name(r)} for r in sorted(u.roles)]}


@bp.get("/people")
@token_required
def people():
    raw = request.args.get("active")
    active = inputs.bool_arg("active") if raw not in (None, "") else None
    found = directory.people(api_user(), username=listing.text_arg("username", 60), active=active)
    return jsonify({"items": [_person(u) for u in found]})


@bp.get("/org")
@token_required
def org():
    rows = directory.org(api_user())
    return jsonify({"items": [{"id": r.unit.id, "name": r.unit.name, "kind": r.unit.kind,
                               "kind_name": str(unit_kind(r.unit.kind)), "parent_id": r.unit.parent_id,
                               "depth": r.depth,
                               "leader": ({"username": r.unit.leader.username, "name": r.unit.leader.full_name}
                                          if r.unit.leader else None)} for r in rows]})


SCHEMAS: dict[str, Any] = {
    "RoleRef": {"type": "object", "required": ["key", "name"], "properties": {
        "key": {"type": "string"}, "name": {"type": "string", "description": "in the request's language"}}},
    "UnitRef": {"type": "object", "required": ["id", "name"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}}},
    "PersonRef": {"type": "object", "required": ["username", "name"], "properties": {
        "username": {"type": "string"}, "name": {"type": "string"}}},
    "Person": {"type": "object", "required": ["username", "name", "active", "unit", "roles"], "properties": {
        "username": {"type": "string"}, "name": {"type": "string"}, "active": {"type": "boolean"},
        "unit": {"allOf": [ref("UnitRef")], "nullable": True},
        "roles": {"type": "array", "items": ref("RoleRef")}}},
    "PersonList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": ref("Person")}}},
    "Unit": {"type": "object", "required": ["id", "name", "kind", "kind_name", "parent_id", "depth", "leader"],
             "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["branch", "department", "region", "outlet", "team"]},
        "kind_name": {"type": "string"}, "parent_id": {"type": "integer", "nullable": True},
        "depth": {"type": "integer", "description": "0 for the branch"},
        "leader": {"allOf": [ref("PersonRef")], "nullable": True}}},
    "UnitList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": ref("Unit"), "description": "in tree order: a unit, then the units "
                                                                       "under it"}}},
}

PATHS: dict[str, Any] = {
    "/api/v1/people": {"get": {"operationId": "listPeople",
        "summary": "People, as far as you may see them", "security": SECURED, "description": _RULE,
        "parameters": [{"name": "username", "in": "query", "schema": {"type": "string"}},
                       {"name": "active", "in": "query", "schema": {"type": "boolean"}}],
        "responses": {"200": json_response(ref("PersonList"), "People, by username"),
                      **errors("401", "422", "429")}}},
    "/api/v1/org": {"get": {"operationId": "getOrganisation",
        "summary": "The organisation tree with its leaders, as far as you may see it", "security": SECURED,
        "description": _RULE,
        "responses": {"200": json_response(ref("UnitList"), "Units"), **errors("401", "422", "429")}}},
}
