"""The API rate limit: every request counted per token (per address without one) where every
worker counts (:mod:`workflows.gate.ratelimit`); over the limit a 429 ``rate_limited`` with
``Retry-After``."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import gettext as _

from workflows.cases import access
from workflows.gate import ratelimit

from ..errors import respond
from .auth import rate_key


def check() -> Any:
    """None to go on, or the 429 answer. The first refusal of a window goes to the security log."""
    verdict = ratelimit.hit(rate_key(), current_app.config["API_RATE_LIMIT"],
                            current_app.config.get("API_RATE_LIMIT_STORAGE") or ratelimit.DATABASE)
    if verdict.allowed:
        return None
    if verdict.first_refusal:
        access.log_event("api_rate_limited", ip=request.remote_addr, detail=f"{request.method} {request.path}"[:300])
    seconds = verdict.retry_after
    body, status = respond(429, "rate_limited", _("Too many requests; please retry in %(seconds)s seconds.",
                                                  seconds=seconds), figures={"retry_after": seconds})
    return body, status, {"Retry-After": str(seconds)}
