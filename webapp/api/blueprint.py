"""The API blueprint and what every API request goes through first."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from workflows.errors import Invalid, Msg

from . import throttle

bp = Blueprint("api", __name__, url_prefix="/api/v1")

VIA = "api"

# endpoint → the query parameters it reads; each view module declares its own.
QUERY_PARAMS: dict[str, set[str]] = {}
OPEN_ENDPOINTS = {"api.openapi", "api.docs"}
UNKNOWN_PARAMETER = Msg("unknown parameter", code="unknown_parameter")


@bp.before_request
def _rate_limit() -> Any:
    """First: every request counts, also those refused later."""
    return throttle.check()


@bp.before_request
def _known_query_parameters_only() -> None:
    """A misspelt filter should fail loudly, not be ignored."""
    allowed = QUERY_PARAMS.get(request.endpoint or "", set())
    unknown = sorted(set(request.args) - allowed)
    if unknown and request.endpoint not in OPEN_ENDPOINTS:
        raise Invalid("please correct the highlighted fields", {name or "(empty)": UNKNOWN_PARAMETER
                                                                 for name in unknown})
