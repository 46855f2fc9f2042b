"""Bearer-token authentication for the API (no cookies: nothing to forge)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from workflows.branch import tokens
from workflows.cases import access
from workflows.errors import WorkflowError


class Unauthorized(WorkflowError):
    status = 401
    code = "unauthorized"


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        clear = bearer()
        if clear is None:
            raise Unauthorized("an API token is required (Authorization: Bearer …)")
        user, reason = tokens.authenticate(clear)
        if user is None:
            reason = reason or tokens.INVALID
            access.log_event("api_token_refused", ip=request.remote_addr, detail=f"{request.path}: {reason.message}")
            raise Unauthorized(reason.message)
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def api_user() -> Any:
    """The user the request's token stands for."""
    return g.api_user


def rate_key() -> str:
    """Requests are counted per token (per address when there is none); the counters keep a
    digest of the token, never the token."""
    clear = bearer()
    if clear:
        return "token:" + hashlib.sha256(b"rate:" + clear.encode("utf-8", "replace")).hexdigest()[:40]
    return f"ip:{request.remote_addr}"
