"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json: each view module
describes its own operations (``PATHS``, ``SCHEMAS``); this puts them together."""

from __future__ import annotations

from typing import Any

from ..processes import api_modules
from . import bulk, directory, docs, forms, instances, processes, records, schema, search, settings, tasks

MODULES = (processes, forms, tasks, bulk, instances, search, records, directory, settings, docs)

# The group each area's operations are listed under in the documentation page.
TAGS = {"processes": "processes", "forms": "processes", "tasks": "tasks", "bulk": "tasks", "instances": "cases",
        "search": "cases", "records": "records", "directory": "people", "settings": "settings", "docs": "docs"}


def _tagged(module: Any) -> dict[str, Any]:
    """The module's paths with each operation tagged by its area (a family's module: its own TAG)."""
    name = module.__name__.rsplit(".", 1)[-1]
    tag = getattr(module, "TAG", None) or TAGS.get(name, name)
    out: dict[str, Any] = {}
    for path, item in module.PATHS.items():
        out[path] = {method: {"tags": [tag], **op} if isinstance(op, dict) and "responses" in op else op
                     for method, op in item.items()}
    return out


def spec(server: str) -> dict[str, Any]:
    schemas: dict[str, Any] = dict(schema.SCHEMAS)
    paths: dict[str, Any] = {}
    for module in (*MODULES, *api_modules()):  # the platform's areas, then each family's
        schemas.update(module.SCHEMAS)
        paths.update(_tagged(module))
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
