"""Every failure answers a clear page or JSON body, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from workflows.cases import access
from workflows.db import is_busy, recover
from workflows.errors import WorkflowError, field_code

from .i18n import tr, tr_fields

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def respond(status: int, code: str, message: str, fields: dict[str, str] | None = None,
            figures: dict[str, Any] | None = None, field_codes: dict[str, str] | None = None):
    if wants_json():
        body: dict[str, Any] = {"error": code, "message": message}
        if fields:
            body["fields"] = fields
            body["field_codes"] = field_codes or {key: "invalid" for key in fields}
        if figures:  # the numbers behind a refusal, for programs
            body["figures"] = figures
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def _exists(exc: MethodNotAllowed) -> bool:
    """Whether the path matches a route for one of the methods Werkzeug says it allows: Werkzeug checks the
    method before the converters, so a PUT to /calendar/41459322596 would be "not allowed" where a GET is 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in exc.valid_methods or ():
        try:
            adapter.match(request.path, method=method)
            return True
        except RequestRedirect:
            return True
        except HTTPException:
            continue
    return False


def register(app: Flask) -> None:
    @app.errorhandler(WorkflowError)
    def _workflow_error(exc: WorkflowError):
        recover()  # a refusal saves nothing: what it logged was committed before it was raised
        fields = tr_fields(exc)
        figures = getattr(exc, "figures", None)
        plain = {k: v if isinstance(v, (int, float, bool)) or v is None else str(v) for k, v in (figures or {}).items()}
        codes = {key: field_code(value) for key, value in exc.fields.items()}
        return respond(exc.status, exc.code, tr(exc.message), fields, plain, codes)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        recover()
        user = current_user if current_user.is_authenticated else None
        access.log_event("csrf_refused", user=user, ip=request.remote_addr, detail=f"{request.method} {request.path}")
        return respond(400, "csrf", _("The form expired or was not sent by this site. Please reload and try again."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        messages = {
            400: _("The request was not understood."),
            403: _("You are not allowed to do this."),
            404: _("This page does not exist."),
            405: _("This action is not allowed here."),
            413: _("The upload is too large."),
            429: _("Too many requests; please slow down."),
        }
        if isinstance(exc, MethodNotAllowed) and not _exists(exc):
            exc = NotFound()  # an id no route accepts (too large for its column) is not there for any method
        code = exc.code or 500
        body, status = respond(code, (exc.name or "error").lower().replace(" ", "_"),
                               messages.get(code, exc.description or ""))
        # Keep the protocol headers the exception carries (Allow on 405, Retry-After on 429).
        extra = [(k, v) for k, v in exc.get_headers() if k.lower() not in ("content-type", "content-length")]
        return body, status, extra

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        recover()
        if is_busy(exc):
            log.warning("database busy on %s %s: %s", request.method, request.path, getattr(exc, "orig", exc))
            body, status = respond(503, "busy",
                                   _("The system is busy; nothing was saved. Please try again in a moment."))
            return body, status, [("Retry-After", "2")]
        log.exception("unexpected error on %s %s", request.method, request.path)
        return respond(500, "server_error", _("Something went wrong on our side; nothing was saved."))
