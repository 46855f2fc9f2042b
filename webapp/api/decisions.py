"""DMN decision tables for designers: the deployed documents and their versions, a version's
XML, validating a changed table (problems naming rule and column), the what-if replay of past
decisions under it, and deploying it — the designer's DMN pages' rules (view: designers and
administrators; deploy: designers)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from workflows.cases import access, dmn_tables
from workflows.errors import Invalid, Msg

from ..dmn_shapes import check_and_replay, deploy_table
from ..i18n import tr
from ..security import requires
from . import inputs, shapes
from .auth import token_required
from .blueprint import bp
from .schema import SECURED, errors, json_response, ref

HAS_ERRORS = Msg("the decision table has errors")
NO_XML = Msg("send the table as a JSON object: {\"xml\": \"...\"}", code="required")


def _version(v: Any, *, xml: bool = False) -> dict[str, Any]:
    """One DecisionDefinition as the API gives it."""
    found = {"version": v.version, "decision_ids": list(v.decision_ids or []), "sha256": v.sha256,
             "deployed_at": shapes.iso(v.deployed_at),
             "deployed_by": v.deployed_by.username if v.deployed_by else None}
    if xml:
        found["xml"] = v.dmn_xml
    return found


def _document(doc: dmn_tables.Document) -> dict[str, Any]:
    return {"key": doc.key, "latest_version": doc.latest.version, "versions": [_version(v) for v in doc.versions],
            "processes": [{"key": p.key, "version": p.version} for p in doc.processes]}


def _xml() -> str:
    xml = inputs.payload().get("xml")
    if not isinstance(xml, str) or not xml.strip():
        raise Invalid("please correct the highlighted fields", {"xml": NO_XML})
    return xml


@bp.get("/decision-tables")
@token_required
@requires(access.DESIGN)
def decision_tables():
    return jsonify({"items": [_document(d) for d in dmn_tables.documents()]})


@bp.get("/decision-tables/<key>")
@token_required
@requires(access.DESIGN)
def decision_table(key: str):
    return jsonify(_document(dmn_tables.document(key[:120])))


@bp.get("/decision-tables/<key>/versions/<int:version>")
@token_required
@requires(access.DESIGN)
def decision_table_version(key: str, version: int):
    return jsonify({"key": key, **_version(dmn_tables.get_version(key[:120], version), xml=True)})


@bp.post("/decision-tables/<key>/validate")
@token_required
@requires(access.DESIGN)
def decision_table_validate(key: str):
    status, body = check_and_replay(key[:120], _xml(), pages=False)
    if status != 200:
        body = {"error": "invalid_table", "message": tr(HAS_ERRORS), **body}
    return jsonify(body), status


@bp.post("/decision-tables/<key>/replay")
@token_required
@requires(access.DESIGN)
def decision_table_replay(key: str):
    status, body = check_and_replay(key[:120], _xml(), pages=False)
    if status != 200:
        return jsonify({"error": "invalid_table", "message": tr(HAS_ERRORS), **body}), status
    return jsonify(body["replay"])


@bp.post("/decision-tables/<key>/deploy")
@token_required
@requires(access.DEPLOY)
def decision_table_deploy(key: str):
    xml = _xml()
    dmn_tables.document(key[:120])  # NotFound: a new document comes with the process that uses it
    status, body = deploy_table(key[:120], xml)
    return jsonify(body), (201 if status == 200 and body.get("created") else status)


_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "the document's name, e.g. `suitability.dmn`"}
_XML_BODY = {"required": True, "content": {"application/json": {"schema": ref("DecisionTableBody")}}}

SCHEMAS: dict[str, Any] = {
    "DecisionTableBody": {"type": "object", "required": ["xml"], "properties": {
        "xml": {"type": "string", "description": "the whole DMN document (one decision, one decision table)"}}},
    "DecisionTableVersion": {"type": "object", "required": ["version", "decision_ids", "sha256", "deployed_at"],
                             "properties": {
        "version": {"type": "integer"}, "decision_ids": {"type": "array", "items": {"type": "string"}},
        "sha256": {"type": "string"}, "deployed_at": {"type": "string", "format": "date-time"},
        "deployed_by": {"type": "string", "nullable": True, "description": "username; null: the system"},
        "xml": {"type": "string", "description": "only when one version is asked for"}}},
    "DecisionTable": {"type": "object", "required": ["key", "latest_version", "versions", "processes"],
                      "properties": {
        "key": {"type": "string"}, "latest_version": {"type": "integer"},
        "versions": {"type": "array", "items": ref("DecisionTableVersion")},
        "processes": {"type": "array", "description": "the processes whose latest version uses the document",
                      "items": {"type": "object", "properties": {"key": {"type": "string"},
                                                                 "version": {"type": "integer"}}}}}},
    "DecisionTableList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": ref("DecisionTable")}}},
    "TableProblem": {"type": "object", "required": ["code", "severity", "message"], "properties": {
        "code": {"type": "string", "enum": ["xml", "structure", "hit_policy", "type_missing", "expression", "unsafe",
                                            "entry_count", "overlap", "gap", "no_rules", "process"],
                 "description": "stable: `expression` an entry or expression that is no valid expression; `unsafe` "
                                "one the sandbox refuses; `type_missing` an input without typeRef; `entry_count` a "
                                "rule with the wrong number of entries; `overlap` two rules matching the same "
                                "inputs where the hit policy forbids it; `gap` inputs no rule matches; `process` a "
                                "process using the document would break"},
        "severity": {"type": "string", "enum": ["error", "warning"],
                     "description": "errors block deploying; warnings do not"},
        "message": {"type": "string", "description": "in the caller's language"},
        "row": {"type": "integer", "nullable": True, "description": "the rule's row, from 1"},
        "rule_id": {"type": "string", "nullable": True},
        "column": {"type": "string", "nullable": True, "description": "the input's label or output's name"},
        "column_kind": {"type": "string", "nullable": True, "enum": ["input", "output"]},
        "element_id": {"type": "string", "nullable": True, "description": "the XML element (entry, input, rule)"},
        "other_row": {"type": "integer", "nullable": True, "description": "an overlap's other rule"},
        "other_rule_id": {"type": "string", "nullable": True}}},
    "Replay": {"type": "object", "required": ["decision_id", "total", "unchanged", "changed", "not_replayable",
                                              "changes", "affected", "truncated"], "properties": {
        "decision_id": {"type": "string"},
        "total": {"type": "integer", "description": "past decisions of this table"},
        "unchanged": {"type": "integer"}, "changed": {"type": "integer"},
        "not_replayable": {"type": "integer", "description": "values not recorded (older decisions) or the new "
                                                             "table failed on them; see `failures`"},
        "failures": {"type": "array", "items": {"type": "object", "properties": {
            "reason": {"type": "string"}, "count": {"type": "integer"}}}},
        "changes": {"type": "array", "description": "per output and change of value, e.g. outcome normal → witness",
                    "items": {"type": "object", "properties": {
                        "output": {"type": "string"},
                        "old": {"type": "string", "nullable": True, "description": "null: no rule matched"},
                        "new": {"type": "string", "nullable": True, "description": "null: no rule matches"},
                        "count": {"type": "integer"}}}},
        "affected": {"type": "array", "description": "the cases whose decision would change (the first 500)",
                     "items": {"type": "object", "properties": {
                         "instance_id": {"type": "integer"}, "title": {"type": "string"},
                         "at": {"type": "string", "format": "date-time"},
                         "old": {"type": "object", "additionalProperties": {"type": "string"}},
                         "new": {"type": "object", "additionalProperties": {"type": "string"}},
                         "old_rules": {"type": "array", "items": {"type": "integer"}},
                         "new_rules": {"type": "array", "items": {"type": "integer"}}}}},
        "truncated": {"type": "boolean"}}},
    "TableCheck": {"type": "object", "required": ["ok", "problems"], "properties": {
        "ok": {"type": "boolean"}, "problems": {"type": "array", "items": ref("TableProblem")},
        "replay": ref("Replay")}},
    "TableRefusal": {"type": "object", "required": ["error", "message", "problems"], "properties": {
        "error": {"type": "string", "enum": ["invalid_table"]}, "message": {"type": "string"},
        "problems": {"type": "array", "items": ref("TableProblem")}}},
    "TableDeployed": {"type": "object", "required": ["ok", "key", "version", "created", "processes"], "properties": {
        "ok": {"type": "boolean"}, "key": {"type": "string"}, "version": {"type": "integer"},
        "created": {"type": "boolean", "description": "false: identical to the latest version, nothing stored"},
        "processes": {"type": "array", "description": "the new process versions pinned to the table",
                      "items": {"type": "object", "properties": {"key": {"type": "string"},
                                                                 "version": {"type": "integer"}}}}}},
}

_REFUSED = {"422": json_response({"anyOf": [ref("TableRefusal"), ref("Error")]},
                                 "The table has errors (`invalid_table`, each problem naming rule and column), "
                                 "or no `xml` (`invalid`)")}

PATHS: dict[str, Any] = {
    "/api/v1/decision-tables": {"get": {
        "operationId": "listDecisionTables", "summary": "Deployed DMN documents, their versions and the processes "
        "using them (designers, administrators)", "security": SECURED,
        "responses": {"200": json_response(ref("DecisionTableList"), "Documents"),
                      **errors("401", "403", "422", "429")}}},
    "/api/v1/decision-tables/{key}": {"get": {
        "operationId": "getDecisionTable", "summary": "One DMN document's versions and the processes using it",
        "security": SECURED, "parameters": [_KEY],
        "responses": {"200": json_response(ref("DecisionTable"), "The document"),
                      **errors("401", "403", "404", "422", "429")}}},
    "/api/v1/decision-tables/{key}/versions/{version}": {"get": {
        "operationId": "getDecisionTableVersion", "summary": "One version of a DMN document, with its XML",
        "security": SECURED,
        "parameters": [_KEY, {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": json_response(ref("DecisionTableVersion"), "The version"),
                      **errors("401", "403", "404", "422", "429")}}},
    "/api/v1/decision-tables/{key}/validate": {"post": {
        "operationId": "validateDecisionTable", "summary": "Check a changed table (problems naming rule and "
        "column) and, when it has no error, replay past decisions under it", "security": SECURED,
        "parameters": [_KEY], "requestBody": _XML_BODY,
        "responses": {"200": json_response(ref("TableCheck"), "No error (warnings may be listed); the replay"),
                      **errors("401", "403", "404", "429"), **_REFUSED}}},
    "/api/v1/decision-tables/{key}/replay": {"post": {
        "operationId": "replayDecisionTable", "summary": "What-if replay: how the decisions already taken would "
        "come out under the changed table (nothing is stored; running cases keep their version)",
        "security": SECURED, "parameters": [_KEY], "requestBody": _XML_BODY,
        "responses": {"200": json_response(ref("Replay"), "Counts per change of outcome, and the cases"),
                      **errors("401", "403", "404", "429"), **_REFUSED}}},
    "/api/v1/decision-tables/{key}/deploy": {"post": {
        "operationId": "deployDecisionTable", "summary": "Deploy a changed table: its next version, and a new "
        "version of every process using it (new cases use it; running cases keep theirs). Designers only",
        "security": SECURED, "parameters": [_KEY], "requestBody": _XML_BODY,
        "responses": {"201": json_response(ref("TableDeployed"), "Deployed"),
                      "200": json_response(ref("TableDeployed"), "Identical to the latest version: nothing stored"),
                      **errors("401", "403", "404", "409", "429"), **_REFUSED}}},
}
