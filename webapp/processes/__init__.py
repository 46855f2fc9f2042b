"""Each process family's own pages, one module each, listed once in PAGES.

A page module declares ``PAGE = Page(bp, nav=(…), api=…)``; the factory registers the
blueprints, the navigation (base.html) shows the entries a user may open, and the
family's API module (its views on the API blueprint, its ``PATHS`` and ``SCHEMAS``)
joins /api/v1 and its OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from . import leave, ownership, sale
from .page import NavEntry, Page

__all__ = ["PAGES", "NavEntry", "Page", "api_modules", "nav_for", "register"]

PAGES: tuple[Page, ...] = (ownership.PAGE, leave.PAGE, sale.PAGE)


def nav_for(user: Any) -> list[NavEntry]:
    """The families' navigation entries this user may open."""
    return [entry for page in PAGES for entry in page.nav if entry.visible(user)]


def api_modules() -> tuple[Any, ...]:
    """The families' API modules (``Page.api``), for the OpenAPI document."""
    return tuple(page.api for page in PAGES if page.api is not None)


def register(app: Flask) -> None:
    for page in PAGES:
        app.register_blueprint(page.bp)
    app.jinja_env.globals["family_nav"] = nav_for
