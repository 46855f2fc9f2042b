"""Characters no stored text may hold, refused before any view sees the request.

A path or query string with NUL used to reach a query (a 500 on PostgreSQL) or the
security log's detail column; search boxes, filters and ids in URLs all pass here.
Form fields and JSON bodies are checked where they are read, with a message per field.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from werkzeug.exceptions import NotFound

from workflows.cases import access
from workflows.cases.forms import CONTROL_CHARACTERS, escaped, has_control_characters
from workflows.errors import Invalid


def register(app: Flask) -> None:
    @app.before_request
    def _no_control_characters_in_url() -> None:
        bad: dict[str, str] = {}
        if has_control_characters(request.path) and not isinstance(request.routing_exception, NotFound):
            bad["path"] = CONTROL_CHARACTERS  # a route's text parameter; a path no route takes stays a 404
        for key, value in request.args.items(multi=True):
            if has_control_characters(key) or has_control_characters(value):
                bad[escaped(key, 40) or "(empty)"] = CONTROL_CHARACTERS
        if not bad and not has_control_characters(request.path):
            return
        user = current_user if current_user.is_authenticated else None
        access.log_event("refused_input", user=user, ip=request.remote_addr,
                         detail=escaped(f"{request.method} {request.full_path}", 500))
        if bad:
            raise Invalid("please correct the highlighted fields", bad)
