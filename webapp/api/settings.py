"""Every family's settings, for administrators: read, change, their history."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from workflows.branch import settings as branch_settings
from workflows.cases import access
from workflows.cases.forms import REQUIRED
from workflows.errors import Invalid

from ..i18n import tr
from ..security import requires
from . import inputs, shapes
from .auth import api_user, token_required
from .blueprint import VIA, bp
from .schema import NULL_STR, SECURED, errors, json_response, ref


def _setting_json(view: branch_settings.SettingView) -> dict[str, Any]:
    s = view.setting
    return {"key": s.key, "family": view.family, "label": tr(s.label), "type": s.type,
            "value": shapes.plain(view.value), "default": shapes.plain(s.default), "is_default": view.is_default,
            "updated_at": shapes.iso(view.updated_at), "updated_by": view.updated_by,
            "history": [{"at": shapes.iso(c.changed_at), "by": c.changed_by.username if c.changed_by else None,
                         "old": c.old_value, "new": c.new_value, "via": c.via} for c in view.history]}


def _setting_view(key: str) -> branch_settings.SettingView:
    branch_settings.find(key)
    return next(v for v in branch_settings.overview(with_history=50) if v.setting.key == key)


@bp.get("/settings")
@token_required
@requires(access.ADMINISTER)
def settings_list():
    return jsonify({"items": [_setting_json(v) for v in branch_settings.overview(with_history=0)]})


@bp.get("/settings/<key>")
@token_required
@requires(access.ADMINISTER)
def setting_detail(key: str):
    return jsonify(_setting_json(_setting_view(key[:80])))


@bp.put("/settings/<key>")
@token_required
@requires(access.ADMINISTER)
def setting_change(key: str):
    value = inputs.payload().get("value")
    if value is None or isinstance(value, (dict, list)):
        raise Invalid("please correct the highlighted fields", {"value": REQUIRED})
    branch_settings.save(key[:80], value, api_user(), via=VIA)
    return jsonify(_setting_json(_setting_view(key[:80])))



SCHEMAS: dict[str, Any] = {
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
        "history": {"type": "array", "items": ref("SettingChange"), "description": "newest first"}}},
    "SettingList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": ref("Setting")}}},
    "SettingBody": {"type": "object", "required": ["value"], "properties": {
        "value": {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}}},
}

PATHS: dict[str, Any] = {
    "/api/v1/settings": {"get": {"operationId": "listSettings",
        "summary": "Every family's settings (administrators only)", "security": SECURED,
        "responses": {"200": json_response(ref("SettingList"), "Settings"),
                      **errors("401", "403", "422", "429")}}},
    "/api/v1/settings/{key}": {
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {"operationId": "getSetting",
                "summary": "One setting with its change history (administrators only)", "security": SECURED,
                "responses": {"200": json_response(ref("Setting"), "The setting"),
                              **errors("401", "403", "404", "422", "429")}},
        "put": {"operationId": "changeSetting",
                "summary": "Change a setting; the change is kept with who and when (administrators only)",
                "security": SECURED,
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("SettingBody")}}},
                "responses": {"200": json_response(ref("Setting"), "The setting as now in force"),
                              **errors("400", "401", "403", "404", "422", "429")}}},
}
