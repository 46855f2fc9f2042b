"""Business records: one's notices, and the files of a case (their list, and each file itself)."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import jsonify, request, send_file, url_for

from workflows.cases import notices, reading

from ..template_helpers import notice_text
from . import inputs, listing, shapes
from .auth import api_user, token_required
from .blueprint import QUERY_PARAMS, bp
from .schema import ID_PATH, NULL_STR, SECURED, errors, json_response, ref

QUERY_PARAMS["api.notice_list"] = {"unread", "page", "per_page"}
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")


def _notice(n: Any, openable: set[int]) -> dict[str, Any]:
    case_id = n.instance_id if n.instance_id in openable else None
    return {"id": n.id, "at": shapes.iso(n.at), "text": notice_text(n), "read": n.read_at is not None,
            "read_at": shapes.iso(n.read_at), "instance_id": case_id,
            "link": url_for("api.instance_detail", instance_id=case_id) if case_id else None}


@bp.get("/notices")
@token_required
def notice_list():
    raw = request.args.get("unread")
    unread = inputs.bool_arg("unread") if raw not in (None, "") else None
    page, per_page = inputs.int_arg("page", 1, 1, 100_000), inputs.int_arg("per_page", 50, 1, inputs.MAX_PER_PAGE)
    found = notices.page(api_user(), unread, page, per_page)
    return jsonify(listing.page_json([_notice(n, found.openable) for n in found.rows], found.total, page, per_page))


@bp.post("/notices/<int:notice_id>/read")
@token_required
def notice_read(notice_id: int):
    n = notices.mark_read(api_user(), notice_id)
    return jsonify(_notice(n, reading.openable(api_user(), [n.instance_id])))


@bp.post("/notices/read")
@token_required
def notice_read_all():
    return jsonify({"marked": notices.mark_all_read(api_user())})


def _attachment(a: Any) -> dict[str, Any]:
    return {"id": a.id, "instance_id": a.instance_id, "task_id": a.human_task_id, "field": a.field,
            "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
            "uploaded_by": a.uploaded_by.username if a.uploaded_by else None, "uploaded_at": shapes.iso(a.uploaded_at),
            "link": url_for("api.attachment_file", attachment_id=a.id)}


@bp.get("/instances/<int:instance_id>/attachments")
@token_required
def attachment_list(instance_id: int):
    return jsonify({"items": [_attachment(a) for a in reading.case_attachments(instance_id, api_user(),
                                                                                 request.remote_addr)]})


@bp.get("/attachments/<int:attachment_id>")
@token_required
def attachment_file(attachment_id: int):
    """The file as uploaded: its bytes, its name (UTF-8 names too, RFC 6266) and its type. Always
    a download, never shown inline, and sandboxed should a browser open it anyway."""
    att = reading.attachment(attachment_id, api_user(), request.remote_addr)  # each look is logged
    mimetype = att.content_type if _MEDIA_TYPE.match(att.content_type or "") else "application/octet-stream"
    response = send_file(io.BytesIO(att.content), mimetype=mimetype, as_attachment=True,
                         download_name=att.filename or f"attachment-{att.id}", max_age=0, etag=False,
                         conditional=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Checksum-SHA256"] = att.sha256
    return response


SCHEMAS: dict[str, Any] = {
    "Notice": {"type": "object", "required": ["id", "at", "text", "read", "instance_id", "link"], "properties": {
        "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
        "text": {"type": "string", "description": "in the request's language, as the notices page shows it"},
        "read": {"type": "boolean"}, "read_at": {"type": "string", "format": "date-time", "nullable": True},
        "instance_id": {"type": "integer", "nullable": True,
                        "description": "the case it is about, only when you may open that case"},
        "link": {**NULL_STR, "description": "the case in the API, only when you may open it"}}},
    "NoticePage": listing.page_schema("Notice"),
    "NoticesMarked": {"type": "object", "required": ["marked"], "properties": {
        "marked": {"type": "integer", "description": "how many were unread"}}},
    "AttachmentInfo": {"type": "object", "required": ["id", "instance_id", "filename", "content_type", "size",
                                                      "sha256", "uploaded_at", "link"], "properties": {
        "id": {"type": "integer"}, "instance_id": {"type": "integer"},
        "task_id": {"type": "integer", "nullable": True, "description": "the step it was uploaded at"},
        "field": {**NULL_STR, "description": "the form field it was uploaded in"},
        "filename": {"type": "string"}, "content_type": {"type": "string"}, "size": {"type": "integer"},
        "sha256": {"type": "string"}, "uploaded_by": NULL_STR,
        "uploaded_at": {"type": "string", "format": "date-time"},
        "link": {"type": "string", "description": "GET it for the file"}}},
    "AttachmentList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": ref("AttachmentInfo")}}},
}

_FILE = {"schema": {"type": "string", "format": "binary"}}
_CASE_RULE = "For the case's participants and auditors; the admin role gives no access (403)."

PATHS: dict[str, Any] = {
    "/api/v1/notices": {"get": {"operationId": "listNotices",
        "summary": "My notices, newest first", "security": SECURED,
        "parameters": [{"name": "unread", "in": "query", "schema": {"type": "boolean"},
                        "description": "true: only unread ones; false: only read ones; absent: all"},
                       *listing.PAGE_PARAMS],
        "responses": {"200": json_response(ref("NoticePage"), "A page of notices"),
                      **errors("401", "422", "429")}}},
    "/api/v1/notices/{notice_id}/read": {"post": {"operationId": "markNoticeRead",
        "summary": "Mark one of my notices read", "security": SECURED,
        "description": "Another person's notice answers 404, like one that does not exist.",
        "parameters": [{"name": "notice_id", **ID_PATH}],
        "responses": {"200": json_response(ref("Notice"), "The notice, read"),
                      **errors("401", "404", "422", "429")}}},
    "/api/v1/notices/read": {"post": {"operationId": "markAllNoticesRead",
        "summary": "Mark all my notices read", "security": SECURED,
        "responses": {"200": json_response(ref("NoticesMarked"), "Done"), **errors("401", "422", "429")}}},
    "/api/v1/instances/{instance_id}/attachments": {"get": {"operationId": "listInstanceAttachments",
        "summary": "The files of a case (their metadata)", "security": SECURED, "description": _CASE_RULE,
        "parameters": [{"name": "instance_id", **ID_PATH}],
        "responses": {"200": json_response(ref("AttachmentList"), "Files, oldest first"),
                      **errors("401", "403", "404", "422", "429")}}},
    "/api/v1/attachments/{attachment_id}": {"get": {"operationId": "getAttachment",
        "summary": "Download a file of a case", "security": SECURED,
        "description": f"{_CASE_RULE} Every download is written to the security log. The answer carries the "
                       "file's own content type and its name in Content-Disposition (`filename*` in UTF-8).",
        "parameters": [{"name": "attachment_id", **ID_PATH}],
        "responses": {"200": {"description": "The file", "headers": {
            "Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=…"}},
            "content": {"application/pdf": _FILE, "image/png": _FILE, "image/jpeg": _FILE,
                        "application/octet-stream": _FILE, "*/*": _FILE}},
                      **errors("401", "403", "404", "422", "429")}}},
}
