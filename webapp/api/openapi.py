"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json: each view module
describes its own operations (``PATHS``, ``SCHEMAS``); this puts them together."""

from __future__ import annotations

from typing import Any

from ..processes import api_modules
from . import (
    bulk,
    calendar,
    decisions,
    directory,
    docs,
    forms,
    instances,
    processes,
    records,
    schema,
    search,
    settings,
    tasks,
)

MODULES = (processes, forms, tasks, bulk, instances, search, records, directory, settings, calendar, decisions, docs)

# The group each area's operations are listed under in the documentation page.
TAGS = {"processes": "processes", "forms": "processes", "tasks": "tasks", "bulk": "tasks", "instances": "cases",
        "search": "cases", "records": "records", "directory": "people", "settings": "settings", "calendar": "calendar",
        "decisions": "decision tables", "docs": "docs"}


def _tagged(module: Any) -> dict[str, Any]:
    """The module's paths with each operation tagged by its area (a family's module: its own TAG)."""
    name = module.__name__.rsplit(".", 1)[-1]
    tag = getattr(module, "TAG", None) or TAGS.get(name, name)
    out: dict[str, Any] = {}
    for path, item in module.PATHS.items():
        out[path] = {method: {"tags": [tag], **op} if isinstance(op, dict) and "responses" in op else op
                     for method, op in item.items()}
    return out


def _nullable_refs(node: Any, schemas: dict[str, Any]) -> Any:
    """``{"allOf": [ref(X)], "nullable": true}`` becomes a reference to ``XOrNull`` (X with
    ``nullable``): in OpenAPI 3.0 ``nullable`` does not reach into ``allOf``, so validators refuse
    the null the API rightly sends."""
    if isinstance(node, list):
        return [_nullable_refs(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    all_of = node.get("allOf")
    if node.get("nullable") and isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
        name = all_of[0]["$ref"].rsplit("/", 1)[-1]
        schemas.setdefault(f"{name}OrNull", {**schemas[name], "nullable": True})
        return {"$ref": f"#/components/schemas/{name}OrNull"}
    return {key: _nullable_refs(value, schemas) for key, value in node.items()}


def spec(server: str) -> dict[str, Any]:
    schemas: dict[str, Any] = dict(schema.SCHEMAS)
    paths: dict[str, Any] = {}
    for module in (*MODULES, *api_modules()):  # the platform's areas, then each family's
        for name, value in module.SCHEMAS.items():
            if schemas.setdefault(name, value) != value:  # two areas naming different things alike
                raise ValueError(f"OpenAPI schema {name!r} is defined twice, differently ({module.__name__})")
        paths.update(_tagged(module))
    paths = _nullable_refs(paths, schemas)
    done: set[str] = set()
    while todo := [name for name in schemas if name not in done]:  # an XOrNull added on the way too
        for name in todo:
            schemas[name] = _nullable_refs(schemas[name], schemas)
            done.add(name)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Branch approvals API", "version": "1.0",
                 "description": "Token-authenticated access to processes, tasks and cases. Tokens are issued on "
                                "the profile page or with `flask tokens issue`. Actions go through the same rules "
                                "and audit trail as the web pages, marked `via: api`."},
        "servers": [{"url": server}],
        "tags": [{"name": name} for name in dict.fromkeys(
            [*TAGS.values(), *(getattr(m, "TAG", None) or m.__name__.rsplit(".", 1)[-1] for m in api_modules())])],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
        "paths": paths,
    }
