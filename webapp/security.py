"""One way a page or an API route says what right it needs: ``@requires(access.AUDIT)``.

The rules (who holds a right, what a refused person reads) are data in
``workflows.cases.access``; this module applies them to the signed-in user (or the
API token's user), and a refusal is logged once, in the security log, by ``access.refuse``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, request
from flask_login import current_user, login_required

from workflows.cases import access
from workflows.cases.access import Permission


def acting_user() -> Any:
    """Who the request acts for: the API token's user, else the signed-in user."""
    return g.get("api_user") or current_user


def check(permission: Permission) -> None:
    """Go on if the acting user holds ``permission``; else refuse (403, logged once)."""
    access.require(permission, acting_user(), request.path, request.remote_addr)


def requires(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view (below ``@login_required`` or ``@token_required``) that needs ``permission``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check(permission)
            return view(*args, **kwargs)

        wrapper.permission = permission
        return wrapper

    return decorate


def protect(bp: Blueprint, permission: Permission) -> None:
    """Every view of ``bp`` needs a signed-in user holding ``permission``."""

    def _nothing_else() -> None:
        return None

    bp.before_request(login_required(requires(permission)(_nothing_else)))
