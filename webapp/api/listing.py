"""What the API's lists share: date and choice filters, and the link to the next page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request, url_for

from workflows.errors import Invalid, Msg


def date_arg(name: str) -> dt.date | None:
    """An ISO day (YYYY-MM-DD) or None; anything else is a 422 naming the parameter."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return dt.date.fromisoformat(raw) if len(raw) == 10 else _not_a_date(name)
    except ValueError:
        return _not_a_date(name)


def _not_a_date(name: str) -> dt.date:
    raise Invalid("please correct the highlighted fields", {name: "must be a date (YYYY-MM-DD)"})


def choice_arg(name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise Invalid("please correct the highlighted fields", {name: "not one of the allowed options"})
    return raw


def text_arg(name: str, size: int) -> str | None:
    """A filter's text, or None when empty; longer than its column can hold finds nothing, so it is a 422."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > size:
        raise Invalid("please correct the highlighted fields", {name: Msg("at most %(n)s characters", n=size)})
    return raw


def next_link(page: int, per_page: int, total: int) -> str | None:
    """The same request for the following page (a URL relative to the server), or None on the last."""
    if page * per_page >= total:
        return None
    args: dict[str, Any] = request.args.to_dict()
    args.update(page=page + 1, per_page=per_page)
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)


def page_json(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "per_page": per_page,
            "next": next_link(page, per_page, total)}


def page_schema(item: str) -> dict[str, Any]:
    """The OpenAPI schema of a page of ``item``s."""
    return {"type": "object", "required": ["items", "total", "page", "per_page", "next"], "properties": {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
        "total": {"type": "integer", "description": "how many match, on all pages"},
        "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "next": {"type": "string", "nullable": True, "format": "uri-reference",
                 "description": "the same request for the next page; null on the last"}}}


PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}]


def date_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": "string", "format": "date"}}
