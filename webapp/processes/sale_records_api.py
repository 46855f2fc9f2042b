"""Customers, products and advisors' qualifications in the API (/api/v1/customers, /api/v1/products,
/api/v1/qualifications), under the pages' rules and with their codes: the counter system and CRM keep
the records here, and import them as CSV (a bad file refused whole, each error's line and column)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from workflows.cases.forms import Upload
from workflows.errors import Invalid, Msg
from workflows.processes.sale import customers, imports, products, qualifications, records_history

from ..api import inputs, listing, shapes
from ..api.auth import api_user, token_required
from ..api.blueprint import QUERY_PARAMS, VIA, bp
from ..api.schema import ID_PATH, NULL_STR, SECURED, errors, json_response, ref
from . import sale_records_present as present

QUERY_PARAMS["api.wealth_customers"] = {"q", "page", "per_page"}
QUERY_PARAMS["api.wealth_customer"] = {"whole"}
QUERY_PARAMS["api.wealth_products"] = {"q", "page", "per_page"}
UNKNOWN = Msg("unknown member", code="unknown_field")


def _body(allowed: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object, every member a field of the record (a misspelt one is refused, not dropped)."""
    body = inputs.payload()
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise Invalid("please correct the highlighted fields", {k[:60]: UNKNOWN for k in unknown})
    return body


def _iso_day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _customer(c: Any, whole: bool = False) -> dict[str, Any]:
    guardian = None
    if c.guardian_name is not None:
        guardian = {"name": c.guardian_name, "id_number": present.shown("guardian_id_number", c.guardian_id_number,
                                                                         whole),
                    "relation": c.guardian_relation, "verified": customers.guardian_verified(c),
                    "verified_by": c.guardian_verified_by.username if c.guardian_verified_by else None,
                    "verified_at": shapes.iso(c.guardian_verified_at)}
    return {"id": c.id, "name": c.name, "id_number": present.shown("id_number", c.id_number, whole),
            "birth_date": c.birth_date.isoformat(), "minor": customers.is_minor(c.birth_date),
            "phone": present.shown("phone", c.phone, whole), "risk_level": present.level(c.risk_level, "C") or None,
            "assessed_on": _iso_day(c.assessed_on), "assessment_expires_on": _iso_day(c.assessment_expires_on),
            "assessment_status": customers.assessment_status(c), "guardian": guardian, "active": c.active,
            "created_at": shapes.iso(c.created_at), "updated_at": shapes.iso(c.updated_at),
            "link": url_for("api.wealth_customer", customer_id=c.id)}


def _document(d: Any) -> dict[str, Any]:
    return {"id": d.id, "kind": d.kind, "filename": d.filename, "content_type": d.content_type, "size": d.size,
            "sha256": d.sha256, "uploaded_at": shapes.iso(d.uploaded_at),
            "link": url_for("api.wealth_customer_document", customer_id=d.customer_id, document_id=d.id)}


def _customer_detail(c: Any, whole: bool) -> dict[str, Any]:
    rows = records_history.of("customer", c.id)
    return {**_customer(c, whole), "whole": whole, "documents": [_document(d) for d in customers.documents(c.id)],
            "history": present.history_json(rows, records_history.people(rows), whole)}


def _product(p: Any, history: bool = False) -> dict[str, Any]:
    out = {"id": p.id, "code": p.code, "name": p.name, "risk_rating": present.level(p.risk_rating, "R"),
           "term_months": p.term_months, "active": p.active, "created_at": shapes.iso(p.created_at),
           "updated_at": shapes.iso(p.updated_at), "link": url_for("api.wealth_product", product_id=p.id)}
    if history:
        rows = records_history.of("product", p.id)
        out["history"] = present.history_json(rows, records_history.people(rows), True)
    return out


def _qualification(q: Any) -> dict[str, Any]:
    return {"id": q.id, "user": {"username": q.user.username, "name": q.user.full_name},
            "certificate_no": q.certificate_no, "qualified_on": q.qualified_on.isoformat(),
            "expires_on": q.expires_on.isoformat(), "status": qualifications.status(q),
            "revoked_at": shapes.iso(q.revoked_at), "recorded_at": shapes.iso(q.recorded_at)}


def _imported(result: imports.Result) -> dict[str, Any]:
    return {"rows": result.rows, "created": result.created, "updated": result.updated,
            "unchanged": result.unchanged}


def _page() -> tuple[int, int]:
    return inputs.int_arg("page", 1, 1, 100_000), inputs.int_arg("per_page", 50, 1, inputs.MAX_PER_PAGE)


# --- customers -----------------------------------------------------------------------------------------


@bp.get("/customers", endpoint="wealth_customers")
@token_required
def customer_list():
    page, per_page = _page()
    found = customers.search(api_user(), listing.text_arg("q", 100), page, per_page, ip=request.remote_addr,
                             path=request.path)
    return jsonify(listing.page_json([_customer(c) for c in found.rows], found.total, page, per_page))


@bp.post("/customers", endpoint="wealth_customer_create")
@token_required
def customer_create():
    body = _body(customers.FIELDS)
    c = customers.create(api_user(), body, via=VIA, ip=request.remote_addr, path=request.path)
    return jsonify(_customer_detail(c, False)), 201


@bp.get("/customers/<int:customer_id>", endpoint="wealth_customer")
@token_required
def customer_read(customer_id: int):
    whole = inputs.bool_arg("whole")
    c = customers.read(api_user(), customer_id, whole=whole, ip=request.remote_addr, path=request.path)
    return jsonify(_customer_detail(c, whole))


@bp.patch("/customers/<int:customer_id>", endpoint="wealth_customer_update")
@token_required
def customer_update(customer_id: int):
    body = _body(customers.FIELDS)
    c = customers.update(api_user(), customer_id, body, via=VIA, ip=request.remote_addr, path=request.path)
    return jsonify(_customer_detail(c, False))


@bp.post("/customers/import", endpoint="wealth_customer_import")
@token_required
def customer_import():
    result = imports.import_customers(api_user(), request.get_data(), via=VIA, ip=request.remote_addr,
                                      path=request.path)
    return jsonify(_imported(result))


@bp.post("/customers/<int:customer_id>/guardian-document", endpoint="wealth_guardian_document")
@token_required
def guardian_document(customer_id: int):
    """The scan as multipart (field ``file``) or as JSON {"file": {filename, content_type, content_base64}}."""
    sent = request.files.get("file")
    if sent is not None:
        upload: Upload | None = Upload((sent.filename or "")[:200], sent.mimetype or "", sent.read())
    else:
        body = _body(("file",))
        upload = inputs.uploads(body).get("file")
        if upload is None and "file" in body:
            raise Invalid("please correct the highlighted fields", {"file": Msg("not a valid file", code="not_a_file")})
    doc = customers.verify_guardian(api_user(), customer_id, upload, via=VIA, ip=request.remote_addr,
                                    path=request.path)
    return jsonify(_document(doc)), 201


@bp.get("/customers/<int:customer_id>/documents/<int:document_id>", endpoint="wealth_customer_document")
@token_required
def customer_document(customer_id: int, document_id: int):
    doc = customers.document(api_user(), customer_id, document_id, ip=request.remote_addr, path=request.path)
    return present.download(doc)


# --- products ------------------------------------------------------------------------------------------


@bp.get("/products", endpoint="wealth_products")
@token_required
def product_list():
    page, per_page = _page()
    rows, total = products.listing(api_user(), listing.text_arg("q", 100), page=page, per_page=per_page,
                                   ip=request.remote_addr, path=request.path)
    return jsonify(listing.page_json([_product(p) for p in rows], total, page, per_page))


@bp.post("/products", endpoint="wealth_product_create")
@token_required
def product_create():
    p = products.create(api_user(), _body(products.FIELDS), via=VIA, ip=request.remote_addr, path=request.path)
    return jsonify(_product(p, history=True)), 201


@bp.get("/products/<int:product_id>", endpoint="wealth_product")
@token_required
def product_read(product_id: int):
    return jsonify(_product(products.read(api_user(), product_id, ip=request.remote_addr, path=request.path), True))


@bp.patch("/products/<int:product_id>", endpoint="wealth_product_update")
@token_required
def product_update(product_id: int):
    p = products.update(api_user(), product_id, _body(products.FIELDS), via=VIA, ip=request.remote_addr,
                        path=request.path)
    return jsonify(_product(p, history=True))


@bp.post("/products/import", endpoint="wealth_product_import")
@token_required
def product_import():
    result = imports.import_products(api_user(), request.get_data(), via=VIA, ip=request.remote_addr,
                                     path=request.path)
    return jsonify(_imported(result))


# --- qualifications ------------------------------------------------------------------------------------


@bp.get("/qualifications", endpoint="wealth_qualifications")
@token_required
def qualification_list():
    people = qualifications.advisors(api_user(), ip=request.remote_addr, path=request.path)
    return jsonify({"items": [{"user": {"username": a.person.username, "name": a.person.full_name},
                               "status": a.state, "current": a.now.id if a.now else None,
                               "qualifications": [_qualification(r) for r in a.rows]} for a in people]})


@bp.post("/qualifications", endpoint="wealth_qualification_create")
@token_required
def qualification_create():
    body = _body(("username", "certificate_no", "qualified_on", "expires_on"))
    row = qualifications.record(api_user(), body, via=VIA, ip=request.remote_addr, path=request.path)
    return jsonify(_qualification(row)), 201


@bp.post("/qualifications/<int:qualification_id>/revoke", endpoint="wealth_qualification_revoke")
@token_required
def qualification_revoke(qualification_id: int):
    body = _body(("reason",))
    row = qualifications.revoke(api_user(), qualification_id, body.get("reason"), via=VIA, ip=request.remote_addr,
                                path=request.path)
    return jsonify(_qualification(row))


# --- the OpenAPI description ---------------------------------------------------------------------------

_DAY = {"type": "string", "format": "date"}
_NULL_DAY = {"type": "string", "format": "date", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}
_NULL_TIME = {"type": "string", "format": "date-time", "nullable": True}
_LEVEL = {"type": "string", "nullable": True, "enum": ["C1", "C2", "C3", "C4", "C5", None]}
_RATING = {"type": "string", "enum": ["R1", "R2", "R3", "R4", "R5"]}
_RELATION = {"type": "string", "enum": list(customers.RELATIONS)}
_CHANGE = {"type": "object", "required": ["at", "action", "via", "by", "changes"], "properties": {
    "at": _TIME, "action": {"type": "string", "enum": ["created", "updated", "imported", "verified", "revoked"]},
    "via": {"type": "string"}, "by": NULL_STR,
    "changes": {"type": "object", "additionalProperties": {"type": "array", "items": {}},
                "description": "field → [old, new]; ID and phone numbers masked unless the record is read whole"}}}
_CUSTOMER_PROPS: dict[str, Any] = {
    "id": {"type": "integer"}, "name": {"type": "string"},
    "id_number": {"type": "string", "description": "masked unless `whole=true` (retail head, GM, auditors; logged)"},
    "birth_date": _DAY, "minor": {"type": "boolean", "description": "under 18 today"},
    "phone": {**NULL_STR, "description": "masked unless whole"}, "risk_level": _LEVEL,
    "assessed_on": _NULL_DAY, "assessment_expires_on": {**_NULL_DAY, "description": "valid up to and including it"},
    "assessment_status": {"type": "string", "enum": ["none", "expired", "expiring", "valid"],
                          "description": f"today; `expiring`: within {customers.EXPIRING_DAYS} days"},
    "guardian": {"type": "object", "nullable": True, "required": ["name", "id_number", "relation", "verified",
                                                                   "verified_by", "verified_at"], "properties": {
        "name": {"type": "string"}, "id_number": {"type": "string"}, "relation": _RELATION,
        "verified": {"type": "boolean", "description": "the identity document was checked and its copy kept"},
        "verified_by": NULL_STR, "verified_at": _NULL_TIME}},
    "active": {"type": "boolean"}, "created_at": _TIME, "updated_at": _TIME, "link": {"type": "string"}}
_CUSTOMER_REQUIRED = ["id", "name", "id_number", "birth_date", "minor", "phone", "risk_level", "assessed_on",
                      "assessment_expires_on", "assessment_status", "guardian", "active", "link"]
_DOCUMENT = {"type": "object", "required": ["id", "kind", "filename", "content_type", "size", "sha256", "link"],
             "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}, "filename": {"type": "string"},
                            "content_type": {"type": "string"}, "size": {"type": "integer"},
                            "sha256": {"type": "string"}, "uploaded_at": _TIME, "link": {"type": "string"}}}
_CUSTOMER_BODY = {"type": "object", "additionalProperties": False, "properties": {
    "name": {"type": "string", "maxLength": 100}, "id_number": {"type": "string", "maxLength": 40},
    "birth_date": {**_DAY, "description": "may be left out for a resident ID card (read from the number); "
                                          "given, it must agree (`birth_date_mismatch`)"},
    "phone": {"type": "string", "maxLength": 40}, "risk_level": {"type": "string", "description": "C1–C5 or 1–5"},
    "assessed_on": _DAY, "assessment_expires_on": _DAY, "guardian_name": {"type": "string", "maxLength": 100},
    "guardian_id_number": {"type": "string", "maxLength": 40}, "guardian_relation": _RELATION,
    "active": {"type": "boolean"}}}
_PRODUCT_PROPS: dict[str, Any] = {
    "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}, "risk_rating": _RATING,
    "term_months": {"type": "integer", "minimum": 1, "maximum": products.MAX_TERM}, "active": {"type": "boolean"},
    "created_at": _TIME, "updated_at": _TIME, "link": {"type": "string"}}
_PRODUCT_REQUIRED = ["id", "code", "name", "risk_rating", "term_months", "active", "link"]
_QUALIFICATION = {"type": "object", "required": ["id", "user", "certificate_no", "qualified_on", "expires_on",
                                                 "status", "revoked_at"], "properties": {
    "id": {"type": "integer"}, "user": ref("PersonRef"), "certificate_no": {"type": "string"},
    "qualified_on": _DAY, "expires_on": {**_DAY, "description": "valid up to and including it"},
    "status": {"type": "string", "enum": ["valid", "expiring", "expired", "revoked", "not_yet"]},
    "revoked_at": _NULL_TIME, "recorded_at": _TIME}}

SCHEMAS: dict[str, Any] = {
    "WealthCustomer": {"type": "object", "required": _CUSTOMER_REQUIRED, "properties": _CUSTOMER_PROPS},
    "WealthCustomerDetail": {"type": "object", "required": [*_CUSTOMER_REQUIRED, "whole", "documents", "history"],
                             "properties": {**_CUSTOMER_PROPS, "whole": {"type": "boolean"},
                                            "documents": {"type": "array", "items": ref("WealthDocument")},
                                            "history": {"type": "array", "items": ref("WealthRecordChange"),
                                                        "description": "newest first"}}},
    "WealthCustomerPage": listing.page_schema("WealthCustomer"),
    "WealthCustomerBody": _CUSTOMER_BODY,
    "WealthDocument": _DOCUMENT,
    "WealthRecordChange": _CHANGE,
    "WealthProduct": {"type": "object", "required": _PRODUCT_REQUIRED, "properties": {
        **_PRODUCT_PROPS, "history": {"type": "array", "items": ref("WealthRecordChange")}}},
    "WealthProductPage": listing.page_schema("WealthProduct"),
    "WealthProductBody": {"type": "object", "additionalProperties": False, "properties": {
        "code": {"type": "string", "maxLength": 40}, "name": {"type": "string", "maxLength": 200},
        "risk_rating": {"type": "string", "description": "R1–R5 or 1–5"},
        "term_months": {"type": "integer", "minimum": 1, "maximum": products.MAX_TERM},
        "active": {"type": "boolean"}}},
    "WealthImportResult": {"type": "object", "required": ["rows", "created", "updated", "unchanged"], "properties": {
        "rows": {"type": "integer"}, "created": {"type": "array", "items": {"type": "integer"}},
        "updated": {"type": "array", "items": {"type": "integer"}},
        "unchanged": {"type": "array", "items": {"type": "integer"}}}},
    "AdvisorQualification": _QUALIFICATION,
    "AdvisorQualificationList": {"type": "object", "required": ["items"], "properties": {"items": {
        "type": "array", "items": {"type": "object", "required": ["user", "status", "current", "qualifications"],
                                   "properties": {
            "user": ref("PersonRef"),
            "status": {"type": "string", "enum": ["valid", "expiring", "expired", "revoked", "not_yet", "none"]},
            "current": {"type": "integer", "nullable": True, "description": "the qualification covering today"},
            "qualifications": {"type": "array", "items": ref("AdvisorQualification")}}}}}},
    "AdvisorQualificationBody": {"type": "object", "additionalProperties": False,
                                 "required": ["username", "certificate_no", "qualified_on", "expires_on"],
                                 "properties": {"username": {"type": "string"},
                                                "certificate_no": {"type": "string", "maxLength": 60},
                                                "qualified_on": _DAY, "expires_on": _DAY}},
    "RevokeBody": {"type": "object", "additionalProperties": False, "required": ["reason"],
                   "properties": {"reason": {"type": "string", "maxLength": 500}}},
}

_WHO = ("Readers: the retail head, the GM, advisors, the counter and auditors; changes: the retail head and the "
        "GM only. Anyone else is refused (403 `forbidden`, logged).")
_CODES = ("Field codes: `required`, `too_long`, `id_format`, `id_checksum`, `id_birth_date`, "
          "`birth_date_mismatch`, `taken`, `not_a_date`, `future_date`, `expiry_before_assessment`, "
          "`assessment_incomplete`, `guardian_required`, `guardian_incomplete`, `guardian_is_minor`, "
          "`guardian_is_customer`, `not_a_level`, `not_a_phone`, `not_an_option`, `unknown_field`.")
_CSV = ("The body is the CSV file itself (`Content-Type: text/csv`): UTF-8 with or without a byte-order mark, "
        "comma separated, a header line naming the columns (keys or Chinese headers, as on the import page). "
        f"At most {imports.MAX_ROWS} lines and {imports.MAX_BYTES // 1024 // 1024} MB (`import_too_large`). The "
        "whole file is checked first: any error refuses it whole (422 `import_refused`, nothing written) and "
        "`fields` names each error `line L, column C (field)` with its code in `field_codes`; else every line is "
        "written in one transaction, its history row marked `imported`.")
_CSV_BODY = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}


def _op(op_id: str, summary: str, description: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"operationId": op_id, "summary": summary, "description": description, "security": SECURED,
            "responses": responses, **extra}


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


_CUSTOMER_ID = {"name": "customer_id", **ID_PATH}
_PRODUCT_ID = {"name": "product_id", **ID_PATH}

PATHS: dict[str, Any] = {
    "/api/v1/customers": {
        "get": _op("listWealthCustomers", "Wealth customers, by name", f"{_WHO} ID and phone numbers are masked. "
                   "`q`: a part of the name, or a whole ID number (a part of a number finds nothing).",
                   {"200": json_response(ref("WealthCustomerPage"), "A page of customers"),
                    **errors("401", "403", "422", "429")},
                   parameters=[{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                               *listing.PAGE_PARAMS]),
        "post": _op("createWealthCustomer", "Record a wealth customer",
                    f"Name and ID number are required; a resident ID card number is checked (checksum, birth date). "
                    f"A customer under 18 needs the guardian (name, ID number, relation). {_WHO} {_CODES}",
                    {"201": json_response(ref("WealthCustomerDetail"), "Recorded (numbers masked)"),
                     **errors("400", "401", "403", "422", "429")}, requestBody=_json_body("WealthCustomerBody"))},
    "/api/v1/customers/{customer_id}": {
        "get": _op("getWealthCustomer", "One wealth customer with documents and history",
                   "Masked by default. `whole=true` shows ID and phone numbers whole: the retail head, the GM and "
                   "auditors only (anyone else 403, logged), and each such look is written to the security log.",
                   {"200": json_response(ref("WealthCustomerDetail"), "The customer"),
                    **errors("401", "403", "404", "422", "429")},
                   parameters=[_CUSTOMER_ID, {"name": "whole", "in": "query", "schema": {"type": "boolean"}}]),
        "patch": _op("updateWealthCustomer", "Change a wealth customer",
                     f"Only the members given change. Changing the guardian clears their verification. {_WHO} "
                     f"{_CODES}", {"200": json_response(ref("WealthCustomerDetail"), "Changed (numbers masked)"),
                                   **errors("400", "401", "403", "404", "405", "422", "429")},
                     parameters=[_CUSTOMER_ID], requestBody=_json_body("WealthCustomerBody"))},
    "/api/v1/customers/import": {
        "post": _op("importWealthCustomers", "Import wealth customers from CSV (created or updated by ID number)",
                    f"{_CSV} {_WHO}", {"200": json_response(ref("WealthImportResult"), "Imported: the ids"),
                                       **errors("401", "403", "422", "429")}, requestBody=_CSV_BODY)},
    "/api/v1/customers/{customer_id}/guardian-document": {
        "post": _op("verifyWealthGuardian", "Verify the guardian's identity document: its scan is kept",
                    "The scan (PDF, PNG, JPG; at most 5 MB, content matching the type: the case attachments' "
                    "rules) as multipart field `file`, or JSON {\"file\": {filename, content_type, "
                    "content_base64}}. Records who verified it and when. The retail head and the GM only. Codes: "
                    "`file_required`, `file_type`, `file_too_large`, `file_empty`, `file_content_mismatch`, "
                    "`guardian_required` (no guardian recorded).",
                    {"201": json_response(ref("WealthDocument"), "Verified; the copy kept"),
                     **errors("400", "401", "403", "404", "422", "429")}, parameters=[_CUSTOMER_ID],
                    requestBody={"required": True, "content": {
                        "application/json": {"schema": {"type": "object", "properties": {"file": {
                            "type": "object", "properties": {"filename": {"type": "string"},
                                                             "content_type": {"type": "string"},
                                                             "content_base64": {"type": "string"}}}}}},
                        "multipart/form-data": {"schema": {"type": "object", "properties": {
                            "file": {"type": "string", "format": "binary"}}}}}})},
    "/api/v1/customers/{customer_id}/documents/{document_id}": {
        "get": _op("getWealthCustomerDocument", "A kept scan (download)",
                   "The retail head, the GM and auditors; each opening is in the security log.",
                   {"200": {"description": "The file", "content": {"application/octet-stream": {
                       "schema": {"type": "string", "format": "binary"}}}},
                    **errors("401", "403", "404", "429")},
                   parameters=[_CUSTOMER_ID, {"name": "document_id", **ID_PATH}])},
    "/api/v1/products": {
        "get": _op("listWealthProducts", "Wealth products, by code", f"{_WHO} `q`: a part of the code or name.",
                   {"200": json_response(ref("WealthProductPage"), "A page of products"),
                    **errors("401", "403", "422", "429")},
                   parameters=[{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                               *listing.PAGE_PARAMS]),
        "post": _op("createWealthProduct", "Record a wealth product",
                    f"Code (unique, `taken`), name, risk rating R1–R5, term 1–600 months. {_WHO}",
                    {"201": json_response(ref("WealthProduct"), "Recorded"),
                     **errors("400", "401", "403", "422", "429")}, requestBody=_json_body("WealthProductBody"))},
    "/api/v1/products/{product_id}": {
        "get": _op("getWealthProduct", "One wealth product with its history", _WHO,
                   {"200": json_response(ref("WealthProduct"), "The product"),
                    **errors("401", "403", "404", "429")}, parameters=[_PRODUCT_ID]),
        "patch": _op("updateWealthProduct", "Change a wealth product", f"Only the members given change. {_WHO}",
                     {"200": json_response(ref("WealthProduct"), "Changed"),
                      **errors("400", "401", "403", "404", "405", "422", "429")}, parameters=[_PRODUCT_ID],
                     requestBody=_json_body("WealthProductBody"))},
    "/api/v1/products/import": {
        "post": _op("importWealthProducts", "Import wealth products from CSV (created or updated by code)",
                    f"{_CSV} {_WHO}", {"200": json_response(ref("WealthImportResult"), "Imported: the ids"),
                                       **errors("401", "403", "422", "429")}, requestBody=_CSV_BODY)},
    "/api/v1/qualifications": {
        "get": _op("listAdvisorQualifications", "Advisors and their 个人理财业务资格",
                   "Everyone with the advisor role or a recorded qualification; the retail head, the GM and "
                   "auditors see all, an advisor their own; others 403 (logged). An advisor without a current "
                   "qualification cannot start a sale (`advisor_unqualified`, logged).",
                   {"200": json_response(ref("AdvisorQualificationList"), "Advisors"),
                    **errors("401", "403", "429")}),
        "post": _op("recordAdvisorQualification", "Record a qualification for a person",
                    "The retail head and the GM. Codes: `unknown_user`, `taken` (another person holds the "
                    "certificate), `future_date`, `expiry_before_assessment` (expires before it was obtained).",
                    {"201": json_response(ref("AdvisorQualification"), "Recorded"),
                     **errors("400", "401", "403", "422", "429")}, requestBody=_json_body("AdvisorQualificationBody"))},
    "/api/v1/qualifications/{qualification_id}/revoke": {
        "post": _op("revokeAdvisorQualification", "Revoke a qualification (kept, marked, with the reason)",
                    "The retail head and the GM; already revoked: 409 `already_revoked`.",
                    {"200": json_response(ref("AdvisorQualification"), "Revoked"),
                     **errors("400", "401", "403", "404", "409", "422", "429")},
                    parameters=[{"name": "qualification_id", **ID_PATH}], requestBody=_json_body("RevokeBody"))},
}
